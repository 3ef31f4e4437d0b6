// libsvm / libFM / FFM dataset plugin: sparse "label feature:value ..." lines, the form in
// which the Frappe and MovieLens-tag sets of the NFM and AFN papers are distributed.
//
//   libsvm/libFM: label feature:value feature:value ...
//   FFM:          label field:feature:value field:feature:value ...
// Tokens are separated by spaces or tabs. Labels are numbers (-1/1 or 0/1 for clicks), so the
// default positive threshold is 0.5. Each FFM field becomes a column; a field with at most one
// feature per row is categorical (absent = the missing key), otherwise multi-hot. Without
// fields, "position" mode makes the k-th token of every line field k (Frappe and ml-tag lines
// always list their features in the same field order), and "multi_hot" mode puts all features
// in one multi-hot column.
// Known limit: feature values other than 1 are not used, because raw columns carry keys, not
// weights. They are counted in the metadata as "non_unit_values" and logged.
#include "recprune/sdk.hpp"
#include "recprune/sdk/text.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

using recprune::json;
namespace text = recprune::text;

constexpr const char* kSchema = R"json({"parameters": {
  "path": {"type": "string", "format": "path", "help": "the libsvm, libFM or FFM text file"},
  "format": {"type": "string", "default": "auto", "enum": ["auto", "libsvm", "ffm"],
             "help": "token form; auto reads field:feature:value as ffm and feature:value as libsvm"},
  "libsvm_fields": {"type": "string", "default": "auto", "enum": ["auto", "position", "multi_hot"],
                    "help": "libsvm columns: position makes token k field k, multi_hot one column of all features; auto picks position when every line has the same token count"},
  "on_bad_line": {"type": "string", "default": "fail", "enum": ["fail", "skip"],
                  "help": "fail on the first malformed line, or skip such lines and count them"}
}})json";

// One parsed feature of a row: its field (FFM field id, or position) and its raw key.
struct Entry {
    uint64_t field;
    uint64_t key;
};

// Splits at runs of spaces and tabs (libsvm files are whitespace-separated, unlike CSV).
void split_whitespace(std::string_view line, std::vector<std::string_view>& tokens) {
    tokens.clear();
    size_t position = 0;
    while (position < line.size()) {
        while (position < line.size() && (line[position] == ' ' || line[position] == '\t'))
            ++position;
        size_t end = position;
        while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
        if (end > position) tokens.push_back(line.substr(position, end - position));
        position = end;
    }
}

uint64_t feature_key(std::string_view feature) {
    uint64_t key = 0;
    return text::try_parse_uint(feature, key) && key != RECPRUNE_MISSING_KEY
               ? key
               : text::hash_token(feature);
}

class Libsvm : public recprune::Dataset {
public:
    Libsvm(const recprune::Host& host, const json& params)
        : host_(host),
          path_(params.value("path", std::string())),
          format_(params.value("format", std::string("auto"))),
          libsvm_fields_(params.value("libsvm_fields", std::string("auto"))),
          bad_lines_(params.value("on_bad_line", std::string("fail"))) {
        if (path_.empty()) {
            throw recprune::InvalidArgument(
                "invalid parameter: libsvm.path: missing or empty; "
                "give the libsvm or FFM file");
        }
        path_ = std::filesystem::absolute(path_).lexically_normal().string();
    }

    std::vector<std::string> sources() const override { return {path_}; }

    recprune::Table load() override {
        // First pass: every row's label and entries, because a field's column type is known
        // only after every row is seen.
        std::vector<double> labels;
        std::vector<Entry> entries;
        std::vector<uint64_t> row_offsets = {0};
        std::vector<std::string_view> tokens;
        std::vector<Entry> row_entries;
        uint64_t non_unit_values = 0;
        bool same_count = true;
        text::LineReader reader(path_, "the libsvm file");
        std::string_view line;
        while (reader.next(line)) {
            const text::Location where = reader.location();
            try {
                split_whitespace(line, tokens);
                if (tokens.empty()) {
                    text::fail(where, "label", "expected a label, found an empty line",
                               text::or_skip_bad_lines("remove empty lines"));
                }
                double label = text::parse_double(tokens[0], where, "label");
                uint64_t non_unit = parse_entries(tokens, where, row_entries);
                labels.push_back(label);
                entries.insert(entries.end(), row_entries.begin(), row_entries.end());
                row_offsets.push_back(entries.size());
                non_unit_values += non_unit;
                if (labels.size() > 1) {
                    uint64_t rows = labels.size();
                    same_count &= row_offsets[rows] - row_offsets[rows - 1] ==
                                  row_offsets[1] - row_offsets[0];
                }
            } catch (const text::ParseError& error) {
                bad_lines_.record(error);
            }
        }

        if (resolved_format_.empty()) resolved_format_ = format_ == "auto" ? "libsvm" : format_;
        const bool by_position =
            resolved_format_ == "libsvm" &&
            (libsvm_fields_ == "position" || (libsvm_fields_ == "auto" && same_count));
        recprune::Table table = build_table(labels, entries, row_offsets, by_position);

        json metadata = json::object();
        metadata["task_hint"] = "ctr";
        metadata["positive_threshold"] = 0.5;
        metadata["format"] = resolved_format_;
        if (resolved_format_ == "libsvm")
            metadata["libsvm_fields"] = by_position ? "position" : "multi_hot";
        metadata["non_unit_values"] = non_unit_values;
        bad_lines_.write_metadata(metadata);
        table.metadata = std::move(metadata);
        if (non_unit_values > 0) {
            host_.warn(std::to_string(non_unit_values) +
                       " feature values other than 1 were read as 1; only categorical features "
                       "are supported");
        }
        if (bad_lines_.skipped() > 0) {
            host_.warn("skipped " + std::to_string(bad_lines_.skipped()) +
                       " malformed lines; first: " + bad_lines_.examples().front());
        }
        return table;
    }

private:
    // Parses the feature tokens of one line; returns how many values were not 1.
    uint64_t parse_entries(const std::vector<std::string_view>& tokens, const text::Location& where,
                           std::vector<Entry>& out) {
        out.clear();
        uint64_t non_unit = 0;
        for (size_t index = 1; index < tokens.size(); ++index) {
            std::string_view token = tokens[index];
            size_t colons = static_cast<size_t>(std::count(token.begin(), token.end(), ':'));
            if (resolved_format_.empty()) {
                // The first feature token of the file decides the form under "auto".
                resolved_format_ = format_ != "auto" ? format_ : (colons == 2 ? "ffm" : "libsvm");
            }
            const size_t expected = resolved_format_ == "ffm" ? 2 : 1;
            if (colons != expected) {
                text::fail(
                    where, "token " + std::to_string(index),
                    "expected " +
                        std::string(expected == 2 ? "field:feature:value" : "feature:value") +
                        ", found " + text::quote_value(token),
                    "use one token form for the whole file");
            }
            size_t first = token.find(':');
            size_t last = token.rfind(':');
            std::string_view value_text = token.substr(last + 1);
            double value = text::parse_double(value_text, where, "token " + std::to_string(index));
            non_unit += value != 1.0;
            if (expected == 2) {
                uint64_t field = text::parse_uint(token.substr(0, first), where,
                                                  "token " + std::to_string(index));
                out.push_back({field, feature_key(token.substr(first + 1, last - first - 1))});
            } else {
                out.push_back({index - 1, feature_key(token.substr(0, first))});
            }
        }
        return non_unit;
    }

    recprune::Table build_table(const std::vector<double>& labels,
                                const std::vector<Entry>& entries,
                                const std::vector<uint64_t>& row_offsets, bool by_position) const {
        recprune::Table table;
        table.row_count = labels.size();
        auto label = text::make_numeric("label", RECPRUNE_COLUMN_ROLE_LABEL);
        label.numeric = labels;

        if (resolved_format_ == "libsvm" && !by_position) {
            auto features = text::make_multi_hot("features");
            for (uint64_t row = 0; row < table.row_count; ++row) {
                for (uint64_t at = row_offsets[row]; at < row_offsets[row + 1]; ++at) {
                    features.keys.push_back(entries[at].key);
                }
                features.offsets.push_back(features.keys.size());
            }
            table.columns.push_back(std::move(features));
            table.columns.push_back(std::move(label));
            return table;
        }

        // Per field (in field order): the largest number of features one row has in it.
        std::map<uint64_t, uint64_t> max_per_row;
        std::map<uint64_t, uint64_t> in_row;
        for (uint64_t row = 0; row < table.row_count; ++row) {
            in_row.clear();
            for (uint64_t at = row_offsets[row]; at < row_offsets[row + 1]; ++at)
                ++in_row[entries[at].field];
            for (auto [field, count] : in_row)
                max_per_row[field] = std::max(max_per_row[field], count);
        }
        std::map<uint64_t, size_t> column_of;
        for (auto [field, maximum] : max_per_row) {
            column_of[field] = table.columns.size();
            std::string name = "f" + std::to_string(field);
            table.columns.push_back(maximum <= 1 ? text::make_categorical(name)
                                                 : text::make_multi_hot(name));
            if (maximum <= 1)
                table.columns.back().keys.assign(table.row_count, RECPRUNE_MISSING_KEY);
        }
        for (uint64_t row = 0; row < table.row_count; ++row) {
            for (uint64_t at = row_offsets[row]; at < row_offsets[row + 1]; ++at) {
                recprune::Column& column = table.columns[column_of[entries[at].field]];
                if (column.type == RECPRUNE_COLUMN_TYPE_CATEGORICAL) {
                    column.keys[row] = entries[at].key;
                } else {
                    column.keys.push_back(entries[at].key);
                }
            }
            for (auto& column : table.columns) {
                if (column.type == RECPRUNE_COLUMN_TYPE_MULTI_HOT)
                    column.offsets.push_back(column.keys.size());
            }
        }
        table.columns.push_back(std::move(label));
        return table;
    }

    recprune::Host host_;
    std::string path_;
    std::string format_;
    std::string libsvm_fields_;
    std::string resolved_format_;
    text::BadLines bad_lines_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(Libsvm, "libsvm", "1.0.0",
                         "sparse libsvm, libFM or FFM files (label feature:value or "
                         "field:feature:value)",
                         kSchema)
