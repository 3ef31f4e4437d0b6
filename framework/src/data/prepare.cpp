#include "data/prepare.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"
#include "data/key_table.hpp"
#include "data/split.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <span>
#include <tuple>

namespace recprune::data {
namespace {

constexpr const char* kPartNames[3] = {"train", "validation", "test"};

// Keys of one field for any row: the raw keys of a categorical or multi-hot column, or the
// tokens a numeric column was bucketed into.
struct KeySource {
    const RawColumn* column = nullptr;
    std::vector<uint64_t> tokens;  // numeric tokens, one per table row

    bool multi_hot() const { return column->type == RECPRUNE_COLUMN_TYPE_MULTI_HOT; }
    std::span<const uint64_t> keys_of(uint64_t row) const {
        if (!tokens.empty()) return {&tokens[row], 1};
        if (!multi_hot()) return {&column->keys[row], 1};
        const uint64_t begin = column->offsets[row];
        return {column->keys.data() + begin, column->offsets[row + 1] - begin};
    }
};

struct Vocabulary {
    KeyTable index{1024};
    uint32_t size = 1;  // row 0 is out-of-vocabulary
};

// Indices follow first appearance in the training rows, so the same training part always
// gives the same vocabulary. Keys seen fewer than min_count times map to 0, except the missing
// key, which keeps its own entry whenever training has it.
Vocabulary fit_vocabulary(const KeySource& source, const std::vector<uint64_t>& train_rows,
                          uint64_t min_count) {
    KeyTable counts(1024);
    std::vector<uint64_t> order;
    for (uint64_t row : train_rows) {
        for (uint64_t key : source.keys_of(row)) {
            uint32_t& count = counts.at(key);
            if (count == 0) order.push_back(key);
            if (count < UINT32_MAX) ++count;
        }
    }
    Vocabulary vocabulary;
    vocabulary.index = KeyTable(order.size());
    for (uint64_t key : order) {
        if (counts.get(key) >= min_count || key == RECPRUNE_MISSING_KEY) {
            if (vocabulary.size == UINT32_MAX) {
                throw DataError("vocabulary too large: field \"" + source.column->name +
                                "\" has more than 2^32 - 1 distinct values; raise min_count");
            }
            vocabulary.index.at(key) = vocabulary.size++;
        }
    }
    return vocabulary;
}

// Maps one part of one field; returns the number of values that fell out of vocabulary.
uint64_t map_field(const KeySource& source, const Vocabulary& vocabulary,
                   const std::vector<uint64_t>& rows, std::vector<uint32_t>& ids,
                   std::vector<uint64_t>& offsets) {
    uint64_t oov = 0;
    if (source.multi_hot() && source.tokens.empty()) {
        offsets.assign(1, 0);
        offsets.reserve(rows.size() + 1);
        for (uint64_t row : rows) {
            for (uint64_t key : source.keys_of(row)) {
                uint32_t id = vocabulary.index.get(key);
                oov += id == 0;
                ids.push_back(id);
            }
            offsets.push_back(ids.size());
        }
        return oov;
    }
    ids.resize(rows.size());
    for (size_t position = 0; position < rows.size(); ++position) {
        uint32_t id = vocabulary.index.get(source.keys_of(rows[position])[0]);
        oov += id == 0;
        ids[position] = id;
    }
    return oov;
}

// Criteo competition transform; the two token ranges are kept apart (values above 2 get their
// own key space) so that, say, v = 1 and v = 3 (floor(ln(3)^2) = 1) do not share a token.
uint64_t log_squared_token(double value) {
    if (std::isnan(value)) return RECPRUNE_MISSING_KEY;
    if (value > 2.0) {
        double logged = std::log(value);
        return (uint64_t{1} << 62) + static_cast<uint64_t>(std::floor(logged * logged));
    }
    // Shifted so that negative values never reach RECPRUNE_MISSING_KEY (-1 as uint64).
    double clamped = std::max(std::floor(value), -1e18);
    return (uint64_t{1} << 61) + static_cast<uint64_t>(static_cast<int64_t>(clamped));
}

// Bucket boundaries at the training quantiles k/buckets (duplicates removed); token = number
// of boundaries <= value, so equal values always share a bucket.
std::vector<double> quantile_boundaries(const RawColumn& column,
                                        const std::vector<uint64_t>& train_rows, uint32_t buckets) {
    std::vector<double> values;
    values.reserve(train_rows.size());
    for (uint64_t row : train_rows) {
        if (!std::isnan(column.numeric[row])) values.push_back(column.numeric[row]);
    }
    std::vector<double> boundaries;
    if (values.empty()) return boundaries;
    std::sort(values.begin(), values.end());
    for (uint32_t k = 1; k < buckets; ++k) {
        size_t position = static_cast<size_t>(static_cast<double>(k) * values.size() / buckets);
        double boundary = values[std::min(position, values.size() - 1)];
        if (boundary > values.front() && (boundaries.empty() || boundary > boundaries.back())) {
            boundaries.push_back(boundary);
        }
    }
    return boundaries;
}

struct DensePlan {
    const RawColumn* column = nullptr;
    std::string method;
    double mean = 0.0;
    double scale = 1.0;

    float transform(double value) const {
        if (std::isnan(value)) return 0.0f;
        if (method == "log1p") return static_cast<float>(std::log1p(std::max(value, 0.0)));
        return static_cast<float>((value - mean) / scale);
    }
};

DensePlan plan_dense(const RawColumn& column, const std::string& method,
                     const std::vector<uint64_t>& train_rows) {
    DensePlan plan{&column, method};
    if (method != "standardize") return plan;
    double sum = 0.0, sum_squares = 0.0;
    uint64_t count = 0;
    for (uint64_t row : train_rows) {
        double value = column.numeric[row];
        if (std::isnan(value)) continue;
        sum += value;
        sum_squares += value * value;
        ++count;
    }
    // A column with no value or no spread in training stays centred with scale 1, so no NaN
    // or infinity reaches the model.
    if (count > 0) plan.mean = sum / static_cast<double>(count);
    double variance =
        count > 0 ? std::max(0.0, sum_squares / static_cast<double>(count) - plan.mean * plan.mean)
                  : 0.0;
    plan.scale = variance > 0.0 ? std::sqrt(variance) : 1.0;
    return plan;
}

std::string resolve_task(const DataSettings& settings, const boost::json::object& plugin_meta) {
    if (!settings.task.empty()) return settings.task;
    if (const auto* hint = plugin_meta.if_contains("task_hint"); hint && hint->is_string()) {
        std::string task(hint->get_string());
        if (task == "ctr" || task == "rating" || task == "topk") return task;
    }
    return "ctr";
}

std::string resolve_numeric_method(const DataSettings& settings,
                                   const boost::json::object& plugin_meta) {
    if (settings.numeric.method != "auto") return settings.numeric.method;
    if (const auto* hint = plugin_meta.if_contains("numeric_hint"); hint && hint->is_string()) {
        std::string method(hint->get_string());
        if (method == "log_squared" || method == "quantile" || method == "log1p" ||
            method == "standardize") {
            return method;
        }
    }
    return "quantile";
}

// Labels for the task. Returns the threshold used (NaN for "rating").
double derive_labels(const RawTable& table, const std::string& task, const DataSettings& settings,
                     const boost::json::object& plugin_meta, const SplitRows& split,
                     PreparedData& out) {
    Part* parts[3] = {&out.train, &out.validation, &out.test};
    const std::vector<uint64_t>* rows[3] = {&split.train, &split.validation, &split.test};
    int label_index = table.find_role(RECPRUNE_COLUMN_ROLE_LABEL);
    if (label_index < 0) {
        if (task != "topk") {
            throw DataError(
                "no label column: the dataset has no column with the label role, "
                "which task \"" +
                task +
                "\" needs; use task \"topk\" for "
                "interaction-only data");
        }
        for (int part = 0; part < 3; ++part) parts[part]->labels.assign(rows[part]->size(), 1.0f);
        return std::nan("");
    }
    const RawColumn& labels = table.columns[static_cast<size_t>(label_index)];
    for (uint64_t row = 0; row < table.row_count; ++row) {
        if (std::isnan(labels.numeric[row])) {
            throw DataError("malformed data: label column \"" + labels.name +
                            "\" is missing at row " + std::to_string(row) +
                            "; every row needs a label");
        }
        // Labels train as float, so a value beyond float's range would become infinity.
        if (!(std::fabs(labels.numeric[row]) <= std::numeric_limits<float>::max())) {
            throw DataError("malformed data: label column \"" + labels.name + "\" contains " +
                            json_io::serialize(boost::json::value(labels.numeric[row])) +
                            " at row " + std::to_string(row) +
                            ", beyond the range of a float label; fix the value");
        }
    }

    double threshold = std::nan("");
    if (task != "rating") {
        if (settings.positive_threshold) {
            threshold = *settings.positive_threshold;
        } else if (const auto* given = plugin_meta.if_contains("positive_threshold");
                   given && given->is_number()) {
            threshold = json_io::as_double(*given);
        } else {
            for (uint64_t row = 0; row < table.row_count; ++row) {
                double value = labels.numeric[row];
                if (value != 0.0 && value != 1.0) {
                    throw DataError("no positive threshold: label column \"" + labels.name +
                                    "\" holds " + json_io::serialize(boost::json::value(value)) +
                                    " at row " + std::to_string(row) +
                                    ", not only 0 and 1; "
                                    "set positive_threshold in the grid's dataset entry");
                }
            }
            threshold = 0.5;
        }
    }
    for (int part = 0; part < 3; ++part) {
        auto& out_labels = parts[part]->labels;
        out_labels.resize(rows[part]->size());
        for (size_t position = 0; position < rows[part]->size(); ++position) {
            double value = labels.numeric[(*rows[part])[position]];
            out_labels[position] =
                task == "rating" ? static_cast<float>(value) : (value >= threshold ? 1.0f : 0.0f);
        }
    }
    return threshold;
}

// Per-row entity indices for the user or item column (see Part::users).
void index_entities(const RawColumn& column, const Vocabulary* feature_vocabulary,
                    const SplitRows& split, PreparedData& out, bool users,
                    boost::json::object& metadata, const char* count_key) {
    KeyTable index(1024);
    uint32_t next = feature_vocabulary != nullptr ? feature_vocabulary->size : 1;
    auto entity_of = [&](uint64_t key) -> uint32_t {
        if (feature_vocabulary != nullptr) {
            uint32_t id = feature_vocabulary->index.get(key);
            if (id != 0) return id;
        }
        uint32_t& id = index.at(key);
        if (id == 0) id = next++;
        return id;
    };
    Part* parts[3] = {&out.train, &out.validation, &out.test};
    const std::vector<uint64_t>* rows[3] = {&split.train, &split.validation, &split.test};
    for (int part = 0; part < 3; ++part) {
        auto& target = users ? parts[part]->users : parts[part]->items;
        target.resize(rows[part]->size());
        for (size_t position = 0; position < rows[part]->size(); ++position) {
            target[position] = entity_of(column.keys[(*rows[part])[position]]);
        }
    }
    metadata[count_key] = next;
}

boost::json::object parse_plugin_metadata(const std::string& text) {
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(text, error);
    if (error || !value.is_object()) {
        throw PluginError("invalid dataset metadata: " + text.substr(0, 80) +
                          ": not a JSON object; fix the dataset plugin");
    }
    return value.get_object();
}

}  // namespace

std::string PreparedData::schema_json() const {
    boost::json::object schema;
    schema["task"] = task;
    boost::json::array field_array;
    for (const FieldInfo& field : fields) {
        boost::json::object entry;
        entry["name"] = field.name;
        entry["vocabulary_size"] = field.vocabulary_size;
        entry["multi_hot"] = field.multi_hot;
        boost::json::array roles;
        if (field.roles & RECPRUNE_COLUMN_ROLE_FEATURE) roles.emplace_back("feature");
        if (field.roles & RECPRUNE_COLUMN_ROLE_USER) roles.emplace_back("user");
        if (field.roles & RECPRUNE_COLUMN_ROLE_ITEM) roles.emplace_back("item");
        entry["roles"] = std::move(roles);
        field_array.push_back(std::move(entry));
    }
    schema["fields"] = std::move(field_array);
    schema["dense_count"] = dense_count;
    return json_io::serialize(schema);
}

PreparedData prepare(const RawTable& table, const DataSettings& settings) {
    PreparedData out;
    out.settings = settings;
    boost::json::object plugin_meta = parse_plugin_metadata(table.metadata_json);
    out.task = resolve_task(settings, plugin_meta);
    const std::string numeric_method = resolve_numeric_method(settings, plugin_meta);
    const bool numeric_dense = numeric_method == "log1p" || numeric_method == "standardize";

    // Split first, so everything fitted below reads the training rows only.
    SplitRows split = split_rows(table, settings.split);
    const std::vector<uint64_t>* rows[3] = {&split.train, &split.validation, &split.test};
    Part* parts[3] = {&out.train, &out.validation, &out.test};
    for (int part = 0; part < 3; ++part) parts[part]->row_count = rows[part]->size();

    // Plan the fields and dense inputs in table order.
    std::vector<KeySource> sources;
    std::vector<DensePlan> dense_plans;
    boost::json::object numeric_meta;
    for (const RawColumn& column : table.columns) {
        if (!column.has_role(RECPRUNE_COLUMN_ROLE_FEATURE)) continue;
        if (column.type != RECPRUNE_COLUMN_TYPE_NUMERIC) {
            sources.push_back(KeySource{&column, {}});
            continue;
        }
        if (numeric_dense) {
            dense_plans.push_back(plan_dense(column, numeric_method, split.train));
            out.dense_names.push_back(column.name);
            continue;
        }
        KeySource source{&column, std::vector<uint64_t>(table.row_count)};
        if (numeric_method == "log_squared") {
            for (uint64_t row = 0; row < table.row_count; ++row) {
                source.tokens[row] = log_squared_token(column.numeric[row]);
            }
        } else {
            std::vector<double> boundaries =
                quantile_boundaries(column, split.train, settings.numeric.buckets);
            for (uint64_t row = 0; row < table.row_count; ++row) {
                double value = column.numeric[row];
                source.tokens[row] =
                    std::isnan(value)
                        ? RECPRUNE_MISSING_KEY
                        : static_cast<uint64_t>(
                              std::upper_bound(boundaries.begin(), boundaries.end(), value) -
                              boundaries.begin());
            }
            numeric_meta[column.name] =
                boost::json::object{{"boundaries", boost::json::value_from(boundaries)}};
        }
        sources.push_back(std::move(source));
    }

    // Vocabularies from the training part, then every part mapped through them. Fields are
    // independent, so they run in parallel; each writes only its own slots.
    boost::json::object oov[3];
    std::vector<Vocabulary> vocabularies(sources.size());
    std::vector<std::array<uint64_t, 3>> oov_counts(sources.size());
    out.fields.resize(sources.size());
    for (int part = 0; part < 3; ++part) {
        parts[part]->ids.resize(sources.size());
        parts[part]->offsets.resize(sources.size());
    }
    tbb::parallel_for(size_t{0}, sources.size(), [&](size_t field) {
        const KeySource& source = sources[field];
        vocabularies[field] = fit_vocabulary(source, split.train, settings.min_count);
        const bool multi_hot = source.multi_hot() && source.tokens.empty();
        out.fields[field] = FieldInfo{source.column->name, vocabularies[field].size, multi_hot,
                                      source.column->roles};
        for (int part = 0; part < 3; ++part) {
            oov_counts[field][part] = map_field(source, vocabularies[field], *rows[part],
                                                parts[part]->ids[field],
                                                parts[part]->offsets[field]);
        }
    });
    for (size_t field = 0; field < sources.size(); ++field) {
        for (int part = 0; part < 3; ++part) {
            oov[part][sources[field].column->name] = oov_counts[field][part];
        }
    }

    // Dense inputs, row-major.
    out.dense_count = static_cast<uint32_t>(dense_plans.size());
    for (int part = 0; part < 3; ++part) {
        auto& dense = parts[part]->dense;
        dense.resize(rows[part]->size() * dense_plans.size());
        for (size_t position = 0; position < rows[part]->size(); ++position) {
            uint64_t row = (*rows[part])[position];
            for (size_t input = 0; input < dense_plans.size(); ++input) {
                dense[position * dense_plans.size() + input] =
                    dense_plans[input].transform(dense_plans[input].column->numeric[row]);
            }
        }
    }

    double threshold = derive_labels(table, out.task, settings, plugin_meta, split, out);

    // Users and items, for per-user metrics and top-K protocols.
    boost::json::object& metadata = out.metadata;
    for (auto [role, is_users, key] :
         {std::tuple{RECPRUNE_COLUMN_ROLE_USER, true, "user_count"},
          std::tuple{RECPRUNE_COLUMN_ROLE_ITEM, false, "item_count"}}) {
        int index = table.find_role(role);
        if (index < 0) continue;
        const RawColumn& column = table.columns[static_cast<size_t>(index)];
        if (column.type != RECPRUNE_COLUMN_TYPE_CATEGORICAL) continue;
        const Vocabulary* vocabulary = nullptr;
        for (size_t field = 0; field < sources.size(); ++field) {
            if (sources[field].column == &column) vocabulary = &vocabularies[field];
        }
        index_entities(column, vocabulary, split, out, is_users, metadata, key);
    }

    // What was done, for the result rows.
    metadata["task"] = out.task;
    metadata["settings"] = settings.to_json();
    metadata["numeric_method"] = numeric_method;
    if (!numeric_meta.empty()) metadata["numeric"] = std::move(numeric_meta);
    metadata["positive_threshold"] =
        std::isnan(threshold) ? boost::json::value(nullptr) : boost::json::value(threshold);
    boost::json::object row_counts;
    boost::json::object oov_json;
    for (int part = 0; part < 3; ++part) {
        row_counts[kPartNames[part]] = parts[part]->row_count;
        oov_json[kPartNames[part]] = std::move(oov[part]);
    }
    metadata["row_counts"] = std::move(row_counts);
    metadata["oov_counts"] = std::move(oov_json);
    metadata["rows_dropped_by_user_filter"] = split.rows_dropped_by_user_filter;
    metadata["users_dropped_by_user_filter"] = split.users_dropped_by_user_filter;
    if (settings.split.method == "time") {
        auto time_value = [](double time) {
            return std::isnan(time) ? boost::json::value(nullptr) : boost::json::value(time);
        };
        metadata["validation_start_time"] = time_value(split.validation_start_time);
        metadata["test_start_time"] = time_value(split.test_start_time);
    }
    uint64_t skipped = 0;
    if (const auto* given = plugin_meta.if_contains("skipped_lines"); given && given->is_number()) {
        skipped = static_cast<uint64_t>(json_io::as_double(*given));
    }
    metadata["skipped_lines"] = skipped;
    metadata["plugin"] = std::move(plugin_meta);

    RECPRUNE_INFO("data", "prepared {} rows: train {}, validation {}, test {}; {} fields, {} dense",
                  table.row_count, out.train.row_count, out.validation.row_count,
                  out.test.row_count, out.fields.size(), out.dense_count);
    if (skipped > 0) RECPRUNE_WARN("data", "{} malformed lines were skipped", skipped);
    return out;
}

}  // namespace recprune::data
