// Experiment grids: parsing, validation against plugin schemas, and expansion into cells.
//
// A grid names datasets, models and pruners (each {"name", "params"}), target sparsities,
// schedules, training settings, seeds and metrics. Lists of those are axes of the product. Any
// other value can be swept in the explicit form "axes": {"<path>": [v1, v2, ...]}, where the
// path is a JSON path such as "models[0].params.hidden" or "training.lr"; because each axis
// value replaces the value at the path, a parameter that is itself a list stays one value.
#pragma once

#include "plugin/plugin_registry.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace recprune::grid {

struct PluginEntry {
    std::string name;
    boost::json::object params;  ///< resolved: defaults filled, paths absolute
    std::string json_path;       ///< where the entry sits, for messages
    std::shared_ptr<const plugin::PluginLibrary> library;

    boost::json::object to_json() const;
};

struct DatasetEntry {
    PluginEntry plugin;
    boost::json::object settings;  ///< data settings as written (task, split, ...)
    std::string key;               ///< stable id of plugin + params + settings
};

struct TrainingSettings {
    int epochs = 3;
    int batch_size = 1024;
    int eval_batch_size = 8192;
    std::string optimizer = "adam";
    double lr = 0.001;
    double momentum = 0.9;
    double weight_decay = 0.0;
    int early_stopping_patience = 2;  ///< epochs without improvement; 0 turns it off

    boost::json::object to_json() const;
};

struct ScheduleSettings {
    /// one_shot, iterative, gradual, lottery, retrain
    std::string name = "one_shot";
    int steps = 1;            ///< pruning steps (iterative, gradual)
    int finetune_epochs = 1;  ///< training after each pruning step
    int rewind_epoch = 0;     ///< lottery: epoch whose weights are restored (0 = initial)
    /// Epochs trained with a pruner's regularizer before its first pruning step.
    int regularize_epochs = 2;
    std::optional<double> max_metric_drop;  ///< stop rule against the dense validation metric

    boost::json::object to_json() const;
};

struct Cell {
    std::string id;        ///< stable hash of the resolved parameters (plus fingerprint, versions)
    std::string group_id;  ///< dense group: dataset x model x training x seed
    bool dense = false;    ///< the dense baseline of its group
    size_t dataset = 0;    ///< index into Grid::datasets
    PluginEntry model;
    std::optional<PluginEntry> pruner;
    double target_sparsity = 0.0;
    ScheduleSettings schedule;
    TrainingSettings training;
    uint64_t seed = 0;
    std::vector<std::string> metrics;
    /// The resolved parameters as written into the result row.
    boost::json::object parameters;
};

struct Grid {
    std::string name;
    std::filesystem::path source;
    boost::json::value document;  ///< as written
    std::vector<DatasetEntry> datasets;
    std::vector<Cell> cells;  ///< dense cells first, in group order, then pruned cells
    std::optional<std::string> output;  ///< "output" key, relative to the grid file
};

/// Parses, validates and expands a grid. Throws ConfigError listing every problem found, one
/// per line, each with its JSON path (or file:line:column for syntax errors).
Grid load_grid(const std::filesystem::path& path, const plugin::PluginRegistry& registry);
Grid load_grid_text(const std::string& text, const std::string& source_name,
                    const std::filesystem::path& base_dir,
                    const plugin::PluginRegistry& registry);

/// The metrics a grid without "metrics" computes for a task; the first is the default
/// validation metric.
std::vector<std::string> known_metrics(const std::string& task);

/// True when `metric` is a metric of `task`: one of known_metrics() for "ctr" and "rating",
/// any name metrics::parse_topk_metric_name() accepts for "topk" (such as "hr@5" or "mrr").
bool is_metric_of_task(const std::string& task, const std::string& metric);

/// The accepted metric names of a task, for messages ("one of auc, logloss, gauc").
std::string metric_forms(const std::string& task);

/// True when a higher value of `metric` is better.
bool higher_is_better(const std::string& metric);

}  // namespace recprune::grid
