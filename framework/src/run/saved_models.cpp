#include "run/saved_models.hpp"

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "core/json_io.hpp"
#include "plugin/instances.hpp"
#include "results/result_store.hpp"
#include "run/cell_runner.hpp"
#include "run/grid_runner.hpp"
#include "train/trainer.hpp"

#include <omp.h>

#include <cmath>
#include <limits>

namespace recprune::run {
namespace {

// Largest difference allowed between a recorded metric and the one recomputed from a saved
// dense or pruned model. The file holds the weights the row evaluated, so the values are equal
// when the thread count is the row's; another count may reorder oneDNN's sums.
constexpr double kSameModelTolerance = 1e-6;

// The per-field remap of a saved JSON object {"<field>": [old row -> row read]}.
std::vector<std::vector<uint32_t>> read_remap(const boost::json::value& fields,
                                              size_t field_count,
                                              const std::filesystem::path& source) {
    std::vector<std::vector<uint32_t>> remap(field_count);
    if (!fields.is_object()) return remap;
    for (const auto& [key, rows] : fields.as_object()) {
        const std::string name(key);
        const bool numeric = !name.empty() && name.find_first_not_of("0123456789") == name.npos;
        const size_t field = numeric && name.size() < 10 ? std::stoul(name) : field_count;
        if (field >= field_count || !rows.is_array()) {
            throw ConfigError("invalid saved file: " + source.string() + ": field " +
                              std::string(key) + " is not a field of the cell's data; the file "
                              "belongs to another run, so rerun the cell with --save-models");
        }
        for (const auto& row : rows.as_array()) {
            remap[field].push_back(static_cast<uint32_t>(row.to_number<uint64_t>()));
        }
    }
    return remap;
}

double difference_of(const boost::json::value& recorded, const boost::json::value& recomputed) {
    const auto* a = recorded.is_object() ? &recorded.as_object() : nullptr;
    const auto* b = recomputed.is_object() ? &recomputed.as_object() : nullptr;
    if (a == nullptr || b == nullptr) return std::numeric_limits<double>::infinity();
    if (a->at("status") != b->at("status")) return std::numeric_limits<double>::infinity();
    const auto& x = a->at("value");
    const auto& y = b->at("value");
    if (x.is_null() && y.is_null()) return 0.0;
    if (x.is_null() || y.is_null()) return std::numeric_limits<double>::infinity();
    return std::fabs(x.to_number<double>() - y.to_number<double>());
}

}  // namespace

bool SavedModelEvaluation::agrees() const {
    for (const auto& metric : metrics) {
        if (!metric.agrees()) return false;
    }
    return !metrics.empty();
}

SavedModelEvaluation evaluate_saved_models(grid::Grid& grid,
                                           const plugin::PluginRegistry& registry,
                                           const std::filesystem::path& output,
                                           const std::string& cell_id,
                                           const std::vector<std::string>& models,
                                           const std::filesystem::path& cache_dir,
                                           int cell_threads) {
    // Cell ids include the dataset fingerprint, so they are final only once the data is read.
    std::vector<DatasetSlot> datasets = prepare_datasets(grid, cache_dir);
    const grid::Cell* cell = nullptr;
    for (const auto& candidate : grid.cells) {
        if (candidate.id == cell_id) cell = &candidate;
    }
    if (cell == nullptr) {
        throw ConfigError("invalid cell: " + cell_id + " is not a cell of the grid with its "
                          "current data; the ids of a run are in " +
                          (output / "cells.json").string());
    }
    const DatasetSlot& dataset = datasets.at(cell->dataset);
    const data::PreparedData& data = dataset.data;

    const boost::json::object* row = nullptr;
    const std::vector<boost::json::object> rows =
        results::read_rows(output / "results.jsonl");
    for (const auto& candidate : rows) {
        if (candidate.at("cell_id").as_string() == cell_id) row = &candidate;
    }
    if (row == nullptr) {
        throw ConfigError("missing row: " + (output / "results.jsonl").string() +
                          " has no row of cell " + cell_id + "; run the grid into " +
                          output.string() + " with --save-models first");
    }
    const auto* saved = row->if_contains("saved_models");
    if (saved == nullptr || !saved->is_object()) {
        throw ConfigError("missing model files: the row of cell " + cell_id + " in " +
                          output.string() + " lists no saved models; rerun the cell with "
                          "--save-models (delete its row or use a new output folder)");
    }

    SavedModelEvaluation evaluation;
    evaluation.cell_id = cell_id;
    evaluation.cell = describe_cell(*cell, dataset);
    std::vector<std::string> chosen = models;
    if (chosen.empty()) {
        for (const char* name : {"dense", "pruned", "compacted"}) {
            if (saved->as_object().contains(name)) chosen.emplace_back(name);
        }
    }
    omp_set_num_threads(cell_threads);
    const auto library = cell->model.library;
    const size_t field_count = data.fields.size();
    for (const std::string& name : chosen) {
        const auto* file = saved->as_object().if_contains(name);
        if (file == nullptr || !file->is_string()) {
            throw ConfigError("missing model file: the row of cell " + cell_id + " has no " +
                              name + " model; it lists " + json_io::serialize(*saved) +
                              " (a compacted model exists only when compaction.status is ok)");
        }
        const std::filesystem::path path = output / std::string(file->as_string());
        std::unique_ptr<plugin::ModelInstance> model;
        try {
            model = plugin::ModelInstance::load(library, path.string());
        } catch (const CellError& e) {
            // The plugin's message names the file and the problem. The way to a new file is
            // the host's: run the cell again.
            throw DataError("cannot load the saved " + name + " model of cell " + cell_id +
                            ": " + e.what() + " (to write it again, rerun the cell with "
                            "--save-models into a new output folder)");
        }

        // The remap the row's evaluation used: pruned rows read row 0 in the pruned model,
        // and the compacted model reads the renumbered rows of the compaction plan.
        std::vector<std::vector<uint32_t>> remap;
        double tolerance = kSameModelTolerance;
        if (name == "pruned" && saved->as_object().contains("row_remap")) {
            const auto path = output / std::string(saved->at("row_remap").as_string());
            remap = read_remap(json_io::parse_file(path), field_count, path);
        }
        if (name == "compacted") {
            const auto path = output / std::string(saved->at("compaction_plan").as_string());
            const boost::json::value plan = json_io::parse_file(path);
            if (const auto* rows_kept = plan.as_object().if_contains("row_remap")) {
                remap = read_remap(*rows_kept, field_count, path);
            }
            // The compaction check lets compacted logits differ by this much relative to the
            // masked ones. As an estimate, a metric moves by about as much.
            tolerance = row->at("compaction").at("logit_tolerance").to_number<double>();
        }

        train::Trainer trainer(*model, data, cell->training, cell->metrics.front(),
                               derive_seed(cell->seed, "evaluate"), cell->seed);
        if (!remap.empty()) trainer.set_row_remap(remap);
        const boost::json::object& recorded_metrics = row->at("metrics").as_object();
        for (const char* part_name : {"validation", "test"}) {
            const data::Part& part = std::string(part_name) == "test" ? data.test : data.validation;
            const boost::json::object recomputed =
                train::to_json(trainer.evaluate(part, cell->metrics));
            const auto* recorded = recorded_metrics.if_contains(part_name);
            for (const auto& [metric, value] : recomputed) {
                RecomputedMetric entry;
                entry.model = name;
                entry.part = part_name;
                entry.metric = std::string(metric);
                entry.recomputed = value;
                if (recorded != nullptr && recorded->as_object().contains(metric)) {
                    entry.recorded = recorded->as_object().at(metric);
                }
                entry.difference = difference_of(entry.recorded, entry.recomputed);
                entry.tolerance = tolerance;
                evaluation.metrics.push_back(std::move(entry));
            }
        }
    }
    return evaluation;
}

}  // namespace recprune::run
