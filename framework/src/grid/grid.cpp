#include "grid/grid.hpp"

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "core/join.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"
#include "data/settings.hpp"
#include "metrics/topk_metric_names.hpp"
#include "plugin/parameters.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <variant>

namespace recprune::grid {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

const std::set<std::string> kTopLevelKeys = {
    "name", "description", "datasets", "models", "pruners", "sparsities", "schedule",
    "schedules", "training", "seeds", "metrics", "axes", "output"};
const std::set<std::string> kScheduleNames = {"one_shot", "iterative", "gradual", "lottery",
                                              "retrain"};
const std::set<std::string> kOptimizers = {"sgd", "adagrad", "adam"};

// Collects problems; every check appends instead of throwing, so one run reports them all.
struct Problems {
    std::vector<std::string> list;
    void add(const std::string& path, const std::string& why) {
        list.push_back("invalid grid: " + path + ": " + why);
    }
};

// Boost.JSON reads a number beyond the range of a double (1e400) as infinity and writes it back
// as null, so such a value is named in words.
std::string describe(const value& v) {
    if (v.is_double() && !std::isfinite(v.as_double())) return "a number too large for a double";
    return json_io::serialize(v);
}

// ---- axes ------------------------------------------------------------------------------------

// Known limit: a grid keeps every cell in memory (a few KiB each), so grids are capped at
// kMaxCells cells. Each axis combination is a checked copy of the grid, so they are capped at
// kMaxAxisCombinations. Streaming the cells and the combinations would lift both caps.
constexpr size_t kMaxCells = 200000;
constexpr size_t kMaxAxisCombinations = 1000;

// Splits "models[0].params.hidden" into {"models", 0, "params", "hidden"}; a leading "$." is
// optional. Returns false on a malformed path.
bool split_path(const std::string& text, std::vector<std::variant<std::string, size_t>>& out) {
    std::string path = text.rfind("$.", 0) == 0 ? text.substr(2) : text;
    size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '[') {
            size_t close = path.find(']', i);
            if (close == std::string::npos || close == i + 1) return false;
            std::string digits = path.substr(i + 1, close - i - 1);
            if (!std::all_of(digits.begin(), digits.end(), ::isdigit)) return false;
            // An index too large for size_t is malformed, not an exception.
            size_t index = 0;
            const auto [end, error] =
                std::from_chars(digits.data(), digits.data() + digits.size(), index);
            if (error != std::errc() || end != digits.data() + digits.size()) return false;
            out.emplace_back(index);
            i = close + 1;
            if (i < path.size() && path[i] == '.') ++i;
        } else {
            size_t end = path.find_first_of(".[", i);
            if (end == std::string::npos) end = path.size();
            if (end == i) return false;
            out.emplace_back(path.substr(i, end - i));
            i = end;
            if (i < path.size() && path[i] == '.') ++i;
        }
    }
    return !out.empty();
}

// Sets the value at `path` inside `root`, creating missing object members (not array items).
bool set_at_path(value& root, const std::vector<std::variant<std::string, size_t>>& path,
                 const value& replacement) {
    value* node = &root;
    for (size_t k = 0; k < path.size(); ++k) {
        bool last = k + 1 == path.size();
        if (std::holds_alternative<std::string>(path[k])) {
            if (!node->is_object()) return false;
            auto& member = node->as_object()[std::get<std::string>(path[k])];
            if (last) {
                member = replacement;
                return true;
            }
            if (member.is_null()) member = object();
            node = &member;
        } else {
            size_t index = std::get<size_t>(path[k]);
            if (!node->is_array() || index >= node->as_array().size()) return false;
            if (last) {
                node->as_array()[index] = replacement;
                return true;
            }
            node = &node->as_array()[index];
        }
    }
    return false;
}

// Expands the "axes" object into one document per combination, in declaration order with the
// first axis varying slowest.
std::vector<value> expand_axes(const value& document, Problems& problems) {
    std::vector<value> variants{document};
    const auto* axes = document.as_object().if_contains("axes");
    if (axes == nullptr) return variants;
    if (!axes->is_object()) {
        problems.add("$.axes", "expected an object {\"<path>\": [values...]}, found " +
                                   describe(*axes));
        return variants;
    }
    for (const auto& [key, values] : axes->as_object()) {
        std::string axis_path = json_io::child_path("$.axes", key);
        std::vector<std::variant<std::string, size_t>> path;
        if (!split_path(std::string(key), path)) {
            problems.add(axis_path, "malformed path; write it like \"models[0].params.hidden\"");
            continue;
        }
        if (!values.is_array() || values.as_array().empty()) {
            problems.add(axis_path, "expected a non-empty list of values, found " +
                                        describe(values) + "; wrap a single value in [ ]");
            continue;
        }
        if (variants.size() * values.as_array().size() > kMaxAxisCombinations) {
            problems.add(axis_path, "the axes up to this one make " +
                                        std::to_string(variants.size() *
                                                       values.as_array().size()) +
                                        " combinations, more than " +
                                        std::to_string(kMaxAxisCombinations) +
                                        "; split the grid or list fewer values");
            return variants;
        }
        std::vector<value> next;
        bool path_found = true;
        for (const auto& variant : variants) {
            for (const auto& axis_value : values.as_array()) {
                value copy = variant;
                if (!set_at_path(copy, path, axis_value)) {
                    path_found = false;
                    break;
                }
                next.push_back(std::move(copy));
            }
            if (!path_found) break;
        }
        if (!path_found) {
            // Skip this axis only, so that the axes after it are checked too.
            problems.add(axis_path, "the path does not lead to a value in the grid; "
                                    "check the list index and the key names");
            continue;
        }
        variants = std::move(next);
    }
    return variants;
}

// ---- typed readers ---------------------------------------------------------------------------

// Upper bound of integer keys, such as batch sizes, that have no tighter limit.
constexpr int kMaxInteger = 1000000000;

// Upper bounds of the counts that make a cell loop, far above any sensible experiment. They
// catch typing slips such as steps 1e9, which would run a cell for days. Memory would grow too,
// because a schedule builds its list of step targets before its first step and keeps a record
// per step.
constexpr int kMaxPruneSteps = 1000;
constexpr int kMaxEpochs = 10000;

// Reads an integer key in [minimum, maximum]. `unit` names what the key counts, such as
// "pruning steps"; when set, a value above the maximum gets "give at most <maximum> <unit>".
std::optional<int> read_int(const object& o, const std::string& key, const std::string& path,
                            int minimum, Problems& problems, int maximum = kMaxInteger,
                            const std::string& unit = "") {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return std::nullopt;
    std::string where = json_io::child_path(path, key);
    bool integral = v->is_int64() || v->is_uint64() ||
                    (v->is_double() && std::floor(v->get_double()) == v->get_double());
    if (!integral) {
        problems.add(where, describe(*v) + " is not an integer; give a whole number");
        return std::nullopt;
    }
    double number = json_io::as_double(*v);
    if (number < minimum || number > maximum) {
        const std::string maximum_text =
            maximum == kMaxInteger ? "1e9" : std::to_string(maximum);
        const std::string fix = number > maximum && !unit.empty()
                                    ? "give at most " + maximum_text + " " + unit
                                    : "give a value in range";
        problems.add(where, describe(*v) + " is outside [" + std::to_string(minimum) + ", " +
                                maximum_text + "]; " + fix);
        return std::nullopt;
    }
    return static_cast<int>(number);
}

std::optional<double> read_number(const object& o, const std::string& key,
                                  const std::string& path, double minimum, double maximum,
                                  Problems& problems) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return std::nullopt;
    std::string where = json_io::child_path(path, key);
    if (!v->is_number()) {
        problems.add(where, describe(*v) + " is not a number; give a number");
        return std::nullopt;
    }
    double number = json_io::as_double(*v);
    if (!(number >= minimum && number <= maximum)) {
        std::ostringstream range;
        range << "[" << minimum << ", " << maximum << "]";
        problems.add(where, describe(*v) + " is outside " + range.str() +
                                "; give a value in range");
        return std::nullopt;
    }
    return number;
}

void reject_unknown_keys(const object& o, const std::string& path,
                         const std::set<std::string>& known, Problems& problems) {
    for (const auto& entry : o) {
        if (known.count(std::string(entry.key())) == 0) {
            problems.add(json_io::child_path(path, entry.key()),
                         "unknown key; known keys here: " + join(known));
        }
    }
}

TrainingSettings read_training(const value* v, Problems& problems) {
    TrainingSettings t;
    if (v == nullptr) return t;
    if (!v->is_object()) {
        problems.add("$.training", "expected an object, found " + describe(*v));
        return t;
    }
    const object& o = v->as_object();
    const std::string path = "$.training";
    reject_unknown_keys(o, path,
                        {"epochs", "batch_size", "eval_batch_size", "optimizer", "lr",
                         "momentum", "weight_decay", "early_stopping_patience"},
                        problems);
    t.epochs = read_int(o, "epochs", path, 1, problems, kMaxEpochs, "epochs").value_or(t.epochs);
    t.batch_size = read_int(o, "batch_size", path, 1, problems).value_or(t.batch_size);
    t.eval_batch_size =
        read_int(o, "eval_batch_size", path, 1, problems).value_or(t.eval_batch_size);
    t.early_stopping_patience = read_int(o, "early_stopping_patience", path, 0, problems)
                                    .value_or(t.early_stopping_patience);
    t.lr = read_number(o, "lr", path, 0.0, 100.0, problems).value_or(t.lr);
    t.momentum = read_number(o, "momentum", path, 0.0, 1.0, problems).value_or(t.momentum);
    t.weight_decay =
        read_number(o, "weight_decay", path, 0.0, 100.0, problems).value_or(t.weight_decay);
    if (const auto* optimizer = o.if_contains("optimizer")) {
        if (!optimizer->is_string() || kOptimizers.count(std::string(optimizer->as_string())) == 0) {
            problems.add(path + ".optimizer",
                         describe(*optimizer) + " is not one of sgd, adagrad, adam");
        } else {
            t.optimizer = std::string(optimizer->as_string());
        }
    }
    return t;
}

ScheduleSettings read_schedule(const value& v, const std::string& path, Problems& problems) {
    ScheduleSettings s;
    if (v.is_string()) {
        s.name = std::string(v.as_string());
    } else if (v.is_object()) {
        const object& o = v.as_object();
        reject_unknown_keys(o, path, {"name", "steps", "finetune_epochs", "rewind_epoch",
                                      "regularize_epochs", "max_metric_drop"},
                            problems);
        if (const auto* name = o.if_contains("name"); name != nullptr && name->is_string()) {
            s.name = std::string(name->as_string());
        } else {
            problems.add(path + ".name", "missing schedule name; use one of one_shot, "
                                         "iterative, gradual, lottery, retrain");
        }
        s.steps = read_int(o, "steps", path, 1, problems, kMaxPruneSteps, "pruning steps")
                      .value_or(s.steps);
        s.finetune_epochs = read_int(o, "finetune_epochs", path, 0, problems, kMaxEpochs, "epochs")
                                .value_or(s.finetune_epochs);
        // rewind_epoch is checked against training.epochs once both are read.
        s.rewind_epoch = read_int(o, "rewind_epoch", path, 0, problems, kMaxEpochs, "epochs")
                             .value_or(s.rewind_epoch);
        s.regularize_epochs =
            read_int(o, "regularize_epochs", path, 0, problems, kMaxEpochs, "epochs")
                .value_or(s.regularize_epochs);
        s.max_metric_drop = read_number(o, "max_metric_drop", path, 0.0, 1e9, problems);
    } else {
        problems.add(path, "expected a schedule object or name, found " + describe(v));
        return s;
    }
    if (kScheduleNames.count(s.name) == 0) {
        problems.add(path, "unknown schedule \"" + s.name +
                               "\"; use one of one_shot, iterative, gradual, lottery, retrain");
    }
    return s;
}

// Rejects a rewind_epoch past the dense training. The rewind point is rebuilt by replaying the
// dense run from its seed for rewind_epoch epochs, so a larger value would replay epochs the
// dense model never trained and restart every step from a longer-trained model than the
// baseline.
void check_rewind_epochs(const std::vector<ScheduleSettings>& schedules,
                         const std::vector<std::string>& schedule_paths,
                         const TrainingSettings& training, Problems& problems) {
    for (size_t i = 0; i < schedule_paths.size(); ++i) {
        if (schedules[i].rewind_epoch <= training.epochs) continue;
        const std::string epochs = std::to_string(training.epochs);
        problems.add(schedule_paths[i] + ".rewind_epoch",
                     std::to_string(schedules[i].rewind_epoch) +
                         " is past the end of the dense training, whose $.training.epochs is " +
                         epochs + "; give a rewind_epoch from 0 to " + epochs +
                         ", or raise $.training.epochs to " +
                         std::to_string(schedules[i].rewind_epoch));
    }
}

// Reads a list that may also be given as one value ("seeds": 1 is [1]).
std::vector<value> as_list(const value* v) {
    if (v == nullptr) return {};
    if (v->is_array()) return {v->as_array().begin(), v->as_array().end()};
    return {*v};
}

std::optional<PluginEntry> read_plugin_entry(const value& v, const std::string& path,
                                             recprune_kind_t kind,
                                             const std::filesystem::path& base_dir,
                                             const plugin::PluginRegistry& registry,
                                             Problems& problems, object* extra = nullptr) {
    PluginEntry entry;
    entry.json_path = path;
    object given_params;
    if (v.is_string()) {
        entry.name = std::string(v.as_string());
    } else if (v.is_object()) {
        const auto& o = v.as_object();
        const auto* name = o.if_contains("name");
        if (name == nullptr) {
            problems.add(path, std::string("missing \"name\" of the ") +
                                   plugin::kind_name(kind) + "; give {\"name\": ..., "
                                                             "\"params\": {...}}");
            return std::nullopt;
        }
        if (!name->is_string()) {
            problems.add(path + ".name", describe(*name) + " is not a string; give the " +
                                             plugin::kind_name(kind) + "'s name in quotes");
            return std::nullopt;
        }
        entry.name = std::string(name->as_string());
        if (const auto* params = o.if_contains("params")) {
            if (!params->is_object()) {
                problems.add(path + ".params", "expected an object, found " + describe(*params));
                return std::nullopt;
            }
            given_params = params->as_object();
        }
        for (const auto& [key, item] : o) {
            if (key == "name" || key == "params") continue;
            if (extra != nullptr) {
                (*extra)[key] = item;
            } else {
                problems.add(json_io::child_path(path, key),
                             "unknown key; a plugin entry has only \"name\" and \"params\"");
            }
        }
    } else {
        problems.add(path, "expected {\"name\": ..., \"params\": {...}}, found " + describe(v));
        return std::nullopt;
    }
    // Plugins load only from the search path, so a path here is a mistake, not a location.
    if (entry.name.find('/') != std::string::npos) {
        problems.add(path + ".name",
                     "\"" + entry.name + "\" is a path; a grid names plugins by name only, so "
                     "give the plugin's name and its folder with --plugin-dir");
        return std::nullopt;
    }
    try {
        entry.library = registry.find(kind, entry.name);
    } catch (const ConfigError& e) {
        problems.add(path + ".name", e.what());
        return std::nullopt;
    }
    size_t before = problems.list.size();
    entry.params = plugin::resolve_parameters(*entry.library, given_params, path + ".params",
                                              base_dir, problems.list);
    if (problems.list.size() != before) return std::nullopt;
    return entry;
}

// Reads one variant (after axes) and appends its cells to `grid`.
void expand_variant(const value& document, const std::filesystem::path& base_dir,
                    const plugin::PluginRegistry& registry, Grid& grid, Problems& problems,
                    std::vector<Cell>& dense_cells, std::vector<Cell>& pruned_cells,
                    size_t variants_left) {
    const object& root = document.as_object();
    for (const auto& entry : root) {
        if (kTopLevelKeys.count(std::string(entry.key())) == 0) {
            problems.add(json_io::child_path("$", entry.key()),
                         "unknown key; known top-level keys: " + join(kTopLevelKeys));
        }
    }

    // Datasets: plugin entry plus data settings; loaded once per distinct key.
    std::vector<size_t> dataset_indices;
    std::vector<std::string> dataset_tasks;
    auto datasets = as_list(root.if_contains("datasets"));
    if (datasets.empty()) {
        problems.add("$.datasets", root.contains("datasets")
                                       ? "empty list; name at least one dataset"
                                       : "missing; name at least one dataset");
    }
    for (size_t i = 0; i < datasets.size(); ++i) {
        std::string path = json_io::child_path("$.datasets", i);
        object settings;
        auto entry = read_plugin_entry(datasets[i], path, RECPRUNE_KIND_DATASET, base_dir,
                                       registry, problems, &settings);
        size_t before = problems.list.size();
        data::DataSettings parsed = data::parse_data_settings(settings, path, problems.list);
        // Every dataset plugin declares on_bad_line, but the host sets it from the entry (it is
        // part of the data's cache key), so a value in params would be overwritten unseen.
        const auto* written_params =
            datasets[i].is_object() ? datasets[i].as_object().if_contains("params") : nullptr;
        if (written_params != nullptr && written_params->is_object() &&
            written_params->as_object().contains("on_bad_line")) {
            problems.add(path + ".params.on_bad_line",
                         "set on the dataset entry, not in its params; move it to " + path +
                             ".on_bad_line");
        }
        if (!entry || problems.list.size() != before) continue;
        DatasetEntry dataset;
        dataset.plugin = *entry;
        dataset.settings = parsed.to_json();
        dataset.key = stable_id(object{{"plugin", dataset.plugin.to_json()},
                                       {"settings", dataset.settings}});
        auto found = std::find_if(grid.datasets.begin(), grid.datasets.end(),
                                  [&](const DatasetEntry& d) { return d.key == dataset.key; });
        dataset_indices.push_back(static_cast<size_t>(found - grid.datasets.begin()));
        if (found == grid.datasets.end()) grid.datasets.push_back(dataset);
        dataset_tasks.push_back(parsed.task.empty() ? "ctr" : parsed.task);
    }

    std::vector<PluginEntry> models;
    auto model_list = as_list(root.if_contains("models"));
    if (model_list.empty()) {
        problems.add("$.models", root.contains("models") ? "empty list; name at least one model"
                                                         : "missing; name at least one model");
    }
    for (size_t i = 0; i < model_list.size(); ++i) {
        if (auto entry = read_plugin_entry(model_list[i], json_io::child_path("$.models", i),
                                           RECPRUNE_KIND_MODEL, base_dir, registry, problems)) {
            models.push_back(*entry);
        }
    }

    std::vector<PluginEntry> pruners;
    auto pruner_list = as_list(root.if_contains("pruners"));
    for (size_t i = 0; i < pruner_list.size(); ++i) {
        if (auto entry = read_plugin_entry(pruner_list[i], json_io::child_path("$.pruners", i),
                                           RECPRUNE_KIND_PRUNER, base_dir, registry, problems)) {
            pruners.push_back(*entry);
        }
    }

    std::vector<double> sparsities;
    auto sparsity_list = as_list(root.if_contains("sparsities"));
    if (!pruner_list.empty() && sparsity_list.empty()) {
        problems.add("$.sparsities", std::string(root.contains("sparsities") ? "empty list"
                                                                             : "missing") +
                                         "; give target sparsities such as [0.5, 0.9]");
    }
    for (size_t i = 0; i < sparsity_list.size(); ++i) {
        std::string path = json_io::child_path("$.sparsities", i);
        const value& v = sparsity_list[i];
        if (!v.is_number()) {
            problems.add(path, describe(v) + " is not a number; give a fraction such as 0.9");
            continue;
        }
        double s = json_io::as_double(v);
        if (!(s >= 0.0 && s <= 1.0)) {
            problems.add(path, describe(v) + " is outside [0, 1]; give a fraction such as 0.9");
            continue;
        }
        sparsities.push_back(s);
    }

    std::vector<ScheduleSettings> schedules;
    std::vector<std::string> schedule_paths;
    const value* schedule_value = root.if_contains("schedules");
    std::string schedule_key = "$.schedules";
    if (schedule_value == nullptr) {
        schedule_value = root.if_contains("schedule");
        schedule_key = "$.schedule";
    }
    auto schedule_list = as_list(schedule_value);
    if (schedule_value != nullptr && schedule_list.empty()) {
        problems.add(schedule_key, "empty list; give a schedule such as {\"name\": \"one_shot\"}, "
                                   "or leave the key out for one_shot");
    }
    for (size_t i = 0; i < schedule_list.size(); ++i) {
        std::string path = schedule_value->is_array() ? json_io::child_path(schedule_key, i)
                                                      : schedule_key;
        schedules.push_back(read_schedule(schedule_list[i], path, problems));
        schedule_paths.push_back(path);
    }
    if (schedules.empty()) schedules.emplace_back();

    const size_t problems_before_training = problems.list.size();
    TrainingSettings training = read_training(root.if_contains("training"), problems);
    if (problems.list.size() == problems_before_training) {
        check_rewind_epochs(schedules, schedule_paths, training, problems);
    }

    std::vector<uint64_t> seeds;
    auto seed_list = as_list(root.if_contains("seeds"));
    if (root.contains("seeds") && seed_list.empty()) {
        problems.add("$.seeds", "empty list; give seeds like [1, 2, 3], or leave the key out for "
                                "seed 1");
    }
    for (size_t i = 0; i < seed_list.size(); ++i) {
        const value& v = seed_list[i];
        if (v.is_uint64()) {
            seeds.push_back(v.get_uint64());
        } else if (v.is_int64() && v.get_int64() >= 0) {
            seeds.push_back(static_cast<uint64_t>(v.get_int64()));
        } else {
            problems.add(json_io::child_path("$.seeds", i),
                         describe(v) + " is not a non-negative integer; give seeds like [1, 2, 3]");
        }
    }
    if (seed_list.empty()) seeds.push_back(1);

    std::vector<std::string> metrics;
    auto metric_list = as_list(root.if_contains("metrics"));
    for (size_t i = 0; i < metric_list.size(); ++i) {
        if (!metric_list[i].is_string()) {
            problems.add(json_io::child_path("$.metrics", i),
                         describe(metric_list[i]) + " is not a metric name");
            continue;
        }
        metrics.emplace_back(metric_list[i].as_string());
    }
    for (size_t d = 0; d < dataset_tasks.size(); ++d) {
        for (size_t i = 0; i < metrics.size(); ++i) {
            if (!is_metric_of_task(dataset_tasks[d], metrics[i])) {
                problems.add(json_io::child_path("$.metrics", i),
                             "\"" + metrics[i] + "\" is not a metric of the " + dataset_tasks[d] +
                                 " task; use " + metric_forms(dataset_tasks[d]));
            }
        }
    }
    if (!problems.list.empty()) return;

    // Counted before anything is built, so a grid of millions of cells is refused in
    // microseconds instead of filling memory.
    const double groups = static_cast<double>(dataset_indices.size()) *
                          static_cast<double>(models.size()) * static_cast<double>(seeds.size());
    // The axis combinations still to come are assumed to make as many cells as this one.
    const double variant_cells = groups * (1.0 + static_cast<double>(pruners.size()) *
                                                     static_cast<double>(schedules.size()) *
                                                     static_cast<double>(sparsities.size()));
    const double cell_count = static_cast<double>(dense_cells.size() + pruned_cells.size()) +
                              variant_cells * static_cast<double>(variants_left);
    if (cell_count > static_cast<double>(kMaxCells)) {
        const auto count_text = std::to_string(static_cast<uint64_t>(cell_count));
        problems.add("$", (variants_left > 1
                               ? "the grid makes about " + count_text + " cells (" +
                                     std::to_string(static_cast<uint64_t>(variant_cells)) +
                                     " per axis combination, " + std::to_string(variants_left) +
                                     " combinations to go)"
                               : "the grid makes " + count_text + " cells") +
                              ", more than " + std::to_string(kMaxCells) +
                              "; split it into several grids");
        return;
    }

    // The product: dataset x model x seed groups, each with its dense cell and pruned cells.
    for (size_t d = 0; d < dataset_indices.size(); ++d) {
        const DatasetEntry& dataset = grid.datasets[dataset_indices[d]];
        std::vector<std::string> cell_metrics =
            metrics.empty() ? known_metrics(dataset_tasks[d]) : metrics;
        for (const auto& model : models) {
            for (uint64_t seed : seeds) {
                Cell dense;
                dense.dense = true;
                dense.dataset = dataset_indices[d];
                dense.model = model;
                dense.training = training;
                dense.seed = seed;
                dense.metrics = cell_metrics;
                object group{{"dataset", dataset.key},
                             {"model", model.to_json()},
                             {"training", training.to_json()},
                             {"seed", seed}};
                dense.group_id = stable_id(group);
                dense.parameters = object{{"dataset", dataset.plugin.to_json()},
                                          {"data", dataset.settings},
                                          {"model", model.to_json()},
                                          {"training", training.to_json()},
                                          {"seed", seed}};
                dense.id = dense.group_id;
                dense_cells.push_back(dense);

                for (const auto& pruner : pruners) {
                    for (const auto& schedule : schedules) {
                        for (double sparsity : sparsities) {
                            Cell cell = dense;
                            cell.dense = false;
                            cell.pruner = pruner;
                            cell.schedule = schedule;
                            cell.target_sparsity = sparsity;
                            cell.parameters["pruner"] = pruner.to_json();
                            cell.parameters["schedule"] = schedule.to_json();
                            cell.parameters["target_sparsity"] = sparsity;
                            cell.id = stable_id(cell.parameters);
                            pruned_cells.push_back(std::move(cell));
                        }
                    }
                }
            }
        }
    }
}

Grid finish(const value& document, const std::string& source_name,
            const std::filesystem::path& base_dir, const plugin::PluginRegistry& registry) {
    Problems problems;
    Grid grid;
    grid.document = document;
    if (!document.is_object()) {
        throw ConfigError("invalid grid: " + source_name + ": $: expected a JSON object, found " +
                          describe(document));
    }
    if (const auto* name = document.as_object().if_contains("name");
        name != nullptr && name->is_string()) {
        grid.name = std::string(name->as_string());
    }
    if (const auto* output = document.as_object().if_contains("output")) {
        if (output->is_string()) {
            std::filesystem::path path(std::string(output->as_string()));
            grid.output = (path.is_relative() ? base_dir / path : path).lexically_normal().string();
        } else {
            problems.add("$.output", "expected a folder path, found " + describe(*output));
        }
    }

    std::vector<Cell> dense_cells;
    std::vector<Cell> pruned_cells;
    // A problem of "output" or of the axes does not stop the checks of the first variant, so
    // that one run reports every problem. Once a variant has problems, the other variants
    // would only repeat them.
    std::vector<value> variants = expand_axes(document, problems);
    const size_t problems_before_variants = problems.list.size();
    for (size_t v = 0; v < variants.size(); ++v) {
        if (problems.list.size() > problems_before_variants) break;
        expand_variant(variants[v], base_dir, registry, grid, problems, dense_cells,
                       pruned_cells, variants.size() - v);
    }

    // Axes that change nothing about a cell would give duplicates; keep the first of each id.
    std::set<std::string> seen;
    size_t duplicates = 0;
    for (auto* list : {&dense_cells, &pruned_cells}) {
        for (auto& cell : *list) {
            if (seen.insert(cell.id).second) {
                grid.cells.push_back(std::move(cell));
            } else {
                ++duplicates;
            }
        }
    }
    if (duplicates > 0) {
        RECPRUNE_WARN("grid", "{}: {} cells repeat another cell's parameters and run once (an "
                              "axis over one entry's parameter leaves the other entries' cells "
                              "alike, or a value is listed twice)",
                      source_name, duplicates);
    }

    if (!problems.list.empty()) {
        // Variants repeat the same problem; report each once, in order.
        std::vector<std::string> unique;
        std::set<std::string> reported;
        for (const auto& p : problems.list) {
            if (reported.insert(p).second) unique.push_back(p);
        }
        // Name the file after "invalid grid: " so that a message read alone still says where.
        const std::string prefix = "invalid grid: ";
        std::string text;
        for (const auto& p : unique) {
            std::string line = p.rfind(prefix, 0) == 0
                                   ? prefix + source_name + ": " + p.substr(prefix.size())
                                   : p;
            text += (text.empty() ? "" : "\n") + line;
        }
        throw ConfigError(text);
    }
    return grid;
}

}  // namespace

boost::json::object PluginEntry::to_json() const {
    return object{{"name", name}, {"version", library ? library->version() : ""},
                  {"params", params}};
}

boost::json::object TrainingSettings::to_json() const {
    return object{{"epochs", epochs},
                  {"batch_size", batch_size},
                  {"eval_batch_size", eval_batch_size},
                  {"optimizer", optimizer},
                  {"lr", lr},
                  {"momentum", momentum},
                  {"weight_decay", weight_decay},
                  {"early_stopping_patience", early_stopping_patience}};
}

boost::json::object ScheduleSettings::to_json() const {
    object o{{"name", name},
             {"steps", steps},
             {"finetune_epochs", finetune_epochs},
             {"rewind_epoch", rewind_epoch},
             {"regularize_epochs", regularize_epochs}};
    if (max_metric_drop) o["max_metric_drop"] = *max_metric_drop;
    return o;
}

std::vector<std::string> known_metrics(const std::string& task) {
    if (task == "rating") return {"rmse", "mae"};
    if (task == "topk") return {"ndcg@10", "hr@10", "recall@10", "mrr"};
    return {"auc", "logloss", "gauc"};
}

bool is_metric_of_task(const std::string& task, const std::string& metric) {
    if (task == "topk") return metrics::parse_topk_metric_name(metric).has_value();
    auto known = known_metrics(task);
    return std::find(known.begin(), known.end(), metric) != known.end();
}

std::string metric_forms(const std::string& task) {
    if (task == "topk") return metrics::topk_metric_name_forms();
    return "one of " + join(known_metrics(task));
}

bool higher_is_better(const std::string& metric) {
    return !(metric == "logloss" || metric == "rmse" || metric == "mae");
}

Grid load_grid_text(const std::string& text, const std::string& source_name,
                    const std::filesystem::path& base_dir,
                    const plugin::PluginRegistry& registry) {
    value document = json_io::parse(text, source_name);
    Grid grid = finish(document, source_name, base_dir, registry);
    grid.source = source_name;
    return grid;
}

Grid load_grid(const std::filesystem::path& path, const plugin::PluginRegistry& registry) {
    if (std::filesystem::is_directory(path)) {
        throw ConfigError("invalid grid: " + path.string() +
                          ": is a folder; give the grid's JSON file, such as " +
                          (path / "grid.json").string());
    }
    value document = json_io::parse_file(path);
    auto base_dir = std::filesystem::absolute(path).parent_path();
    Grid grid = finish(document, path.string(), base_dir, registry);
    grid.source = path;
    return grid;
}

}  // namespace recprune::grid
