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

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <limits>
#include <sstream>

namespace recprune::run {
namespace {

// Largest difference allowed between a recorded metric and the one recomputed from a saved
// dense or pruned model. The file contains the weights the row evaluated, so the values are
// equal at the row's thread count. Another count may reorder oneDNN's sums.
constexpr double kSameModelTolerance = 1e-6;

const char* const kRerun = "rerun the cell with --save-models into a new output folder";

// Throws ConfigError (exit 2) when a file the row lists is missing, as for every missing input.
void require_saved_file(const std::filesystem::path& path) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
        throw ConfigError("missing saved file: " + path.string() + " is listed in the row's "
                          "saved_models but is not a file; " + kRerun);
    }
}

// Reads a JSON file the row lists. A missing file is a ConfigError (exit 2) and a file that
// does not parse a DataError (exit 3), each naming the file and the way to a new one.
boost::json::value read_saved_json(const std::filesystem::path& path) {
    require_saved_file(path);
    try {
        return json_io::parse_file(path);
    } catch (const std::exception& e) {
        throw DataError("invalid saved file: " + std::string(e.what()) + " (" + kRerun + ")");
    }
}

std::string shape_text(const recprune_tensor_t& tensor) {
    std::string text = "[";
    for (uint32_t axis = 0; axis < tensor.rank; ++axis) {
        text += (axis == 0 ? "" : ", ") + std::to_string(tensor.shape[axis]);
    }
    return text + "]";
}

// Loads a model file the row lists. A missing file is a ConfigError (exit 2). A file the plugin
// rejects, or one with a NaN or infinite weight, is a DataError (exit 3).
std::unique_ptr<plugin::ModelInstance> load_saved_model(
    const std::shared_ptr<const plugin::PluginLibrary>& library,
    const std::filesystem::path& path, const std::string& name, const std::string& cell_id) {
    require_saved_file(path);
    std::unique_ptr<plugin::ModelInstance> model;
    try {
        model = plugin::ModelInstance::load(library, path.string());
    } catch (const CellError& e) {
        // The plugin's message names the file and the problem. Only the host knows how to get
        // a new file, which is to run the cell again.
        throw DataError("cannot load the saved " + name + " model of cell " + cell_id + ": " +
                        e.what() + "; " + kRerun);
    }
    // The run fails a cell whose predictions stop being finite, and a failed cell keeps no
    // model, so such a weight means damage. Evaluating it would fail later with a training
    // message that does not name the file.
    for (const recprune_tensor_t& tensor : model->tensors()) {
        for (uint64_t i = 0; i < tensor.element_count; ++i) {
            if (std::isfinite(tensor.data[i])) continue;
            const char* value = std::isnan(tensor.data[i]) ? "NaN" : "an infinite value";
            throw DataError("invalid saved file: " + path.string() + ": tensor " + tensor.name +
                            " contains " + value + " at index " + std::to_string(i) +
                            ", so the file is damaged; " + kRerun);
        }
    }
    return model;
}

// Compacts the saved pruned model with the saved plan, as the run did, and requires the result
// to equal the saved compacted model in tensor names, shapes and bytes. Throws DataError
// (exit 3) naming the plan otherwise, even where its row remap alone gives the row's metrics.
void check_compaction_plan(plugin::ModelInstance& pruned,
                           const std::filesystem::path& pruned_path,
                           const plugin::ModelInstance& compacted,
                           const std::filesystem::path& compacted_path,
                           const boost::json::value& plan,
                           const std::filesystem::path& plan_path) {
    auto plan_error = [&](const std::string& what) {
        return DataError("invalid saved file: " + plan_path.string() + ": " + what +
                         "; the plan and the models do not belong together, so " + kRerun);
    };
    std::unique_ptr<plugin::ModelInstance> recompacted;
    try {
        recompacted = pruned.compact(json_io::serialize(plan));
    } catch (const CellError& e) {
        throw plan_error("model " + pruned.library().name() + " rejects it as a plan for " +
                         pruned_path.string() + " (" + e.what() + ")");
    }
    const auto built_tensors = recompacted->tensors();
    const auto saved_tensors = compacted.tensors();
    const std::string outcome = "compacting " + pruned_path.string() + " with it gives ";
    if (built_tensors.size() != saved_tensors.size()) {
        throw plan_error(outcome + std::to_string(built_tensors.size()) + " tensors, but " +
                         compacted_path.string() + " has " +
                         std::to_string(saved_tensors.size()));
    }
    for (size_t t = 0; t < built_tensors.size(); ++t) {
        const recprune_tensor_t& built = built_tensors[t];
        const recprune_tensor_t& saved = saved_tensors[t];
        if (std::string(built.name) != saved.name || shape_text(built) != shape_text(saved)) {
            throw plan_error(outcome + "tensor " + std::to_string(t) + " " + built.name +
                             " of shape " + shape_text(built) + ", but " +
                             compacted_path.string() + " has " + saved.name + " of shape " +
                             shape_text(saved));
        }
        const size_t bytes = built.element_count * sizeof(float);
        if (std::memcmp(built.data, saved.data, bytes) == 0) continue;

        uint64_t i = 0;
        while (std::memcmp(&built.data[i], &saved.data[i], sizeof(float)) == 0) ++i;
        std::ostringstream first;
        first << std::setprecision(9) << "first at index " << i << ": " << built.data[i]
              << " against " << saved.data[i];
        throw plan_error(outcome + "other values in tensor " + built.name + " than " +
                         compacted_path.string() + " (" + first.str() + ")");
    }
}

// The per-field remap of a saved JSON object {"<field>": [old row -> row read]}. Every field
// must be one of the data's, with one entry per row of its vocabulary, each a row of it.
std::vector<std::vector<uint32_t>> read_remap(const boost::json::value& fields,
                                              const data::PreparedData& data,
                                              const std::filesystem::path& source) {
    auto invalid = [&](const std::string& why) {
        return DataError("invalid saved file: " + source.string() + ": " + why +
                         "; the file does not belong to this cell's run, so " + kRerun);
    };
    if (!fields.is_object()) throw invalid("expected an object of fields");
    std::vector<std::vector<uint32_t>> remap(data.fields.size());
    for (const auto& [key, rows] : fields.as_object()) {
        const std::string name(key);
        const bool numeric = !name.empty() && name.size() < 10 &&
                             name.find_first_not_of("0123456789") == std::string::npos;
        const size_t field = numeric ? std::stoul(name) : data.fields.size();
        if (field >= data.fields.size()) {
            throw invalid("\"" + name + "\" is not a field of the cell's data");
        }
        const uint64_t vocabulary = data.fields[field].vocabulary_size;
        if (!rows.is_array() || rows.as_array().size() != vocabulary) {
            throw invalid("field " + name + " needs an array of " + std::to_string(vocabulary) +
                          " rows");
        }
        for (const auto& row : rows.as_array()) {
            if (!row.is_uint64() && !(row.is_int64() && row.as_int64() >= 0)) {
                throw invalid("field " + name + " contains " + json_io::serialize(row) +
                              ", not a row index");
            }
            const uint64_t target = row.to_number<uint64_t>();
            if (target >= vocabulary) {
                throw invalid("field " + name + " maps a row to " + std::to_string(target) +
                              ", past its " + std::to_string(vocabulary) + " rows");
            }
            remap[field].push_back(static_cast<uint32_t>(target));
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

const boost::json::object* find_row(const std::vector<boost::json::object>& rows,
                                    const std::string& cell_id) {
    for (const auto& row : rows) {
        if (row.at("cell_id").as_string() == cell_id) return &row;
    }
    return nullptr;
}

}  // namespace

bool SavedModelEvaluation::agrees() const {
    for (const auto& metric : metrics) {
        if (!metric.agrees()) return false;
    }
    return !metrics.empty();
}

SavedModelEvaluation evaluate_saved_models(grid::Grid& grid,
                                           const std::filesystem::path& output,
                                           const std::string& cell_id,
                                           const std::vector<std::string>& models,
                                           const std::filesystem::path& cache_dir,
                                           int cell_threads) {
    const std::filesystem::path rows_path = output / "results.jsonl";
    const std::vector<boost::json::object> rows = results::read_rows(rows_path);
    const boost::json::object* row = find_row(rows, cell_id);

    // Cell ids include the dataset fingerprint, so they are final only once the data is read.
    std::vector<DatasetSlot> datasets = prepare_datasets(grid, cache_dir);
    const grid::Cell* cell = nullptr;
    for (const auto& candidate : grid.cells) {
        if (candidate.id == cell_id) cell = &candidate;
    }
    if (cell == nullptr && row != nullptr) {
        throw ConfigError("invalid cell: " + rows_path.string() + " has a row of cell " +
                          cell_id + ", but the grid no longer produces it: its settings or "
                          "its data changed since the run; give the grid file and data the run "
                          "used");
    }
    if (cell == nullptr) {
        throw ConfigError("invalid cell: " + cell_id + " is not a cell of the grid; the ids "
                          "of the run in " + output.string() + " are in " +
                          (output / "cells.json").string());
    }
    if (row == nullptr) {
        throw ConfigError("missing row: " + rows_path.string() + " has no row of cell " +
                          cell_id + "; run the grid into " + output.string() +
                          " with --save-models first");
    }
    if (row->at("status") == "failed") {
        const auto* message = row->if_contains("message");
        throw ConfigError("no saved models: the row of cell " + cell_id + " has status failed" +
                          (message != nullptr && message->is_string()
                               ? " (" + std::string(message->as_string()) + ")"
                               : std::string()) +
                          ", so the cell kept no model to evaluate");
    }
    const auto* saved = row->if_contains("saved_models");
    if (saved == nullptr || !saved->is_object()) {
        throw ConfigError("missing model files: the row of cell " + cell_id + " in " +
                          output.string() + " lists no saved models; rerun the cell with "
                          "--save-models (delete its row or use a new output folder)");
    }
    const DatasetSlot& dataset = datasets.at(cell->dataset);
    const data::PreparedData& data = dataset.data;

    SavedModelEvaluation evaluation;
    evaluation.cell_id = cell_id;
    evaluation.cell = describe_cell(*cell, dataset);
    std::vector<std::string> chosen = models;
    if (chosen.empty()) {
        for (const char* name : {"dense", "pruned", "compacted"}) {
            if (saved->as_object().contains(name)) chosen.emplace_back(name);
        }
    }
    if (cell_threads <= 0) {
        // The row's thread count, so that oneDNN sums in the same order as the run did.
        const auto* threads = row->if_contains("threads");
        cell_threads = threads != nullptr && threads->is_number()
                           ? std::max(1, static_cast<int>(threads->to_number<int64_t>()))
                           : 1;
    }
    omp_set_num_threads(cell_threads);
    const auto library = cell->model.library;
    const boost::json::object& recorded_metrics = row->at("metrics").as_object();
    for (const std::string& name : chosen) {
        const auto* file = saved->as_object().if_contains(name);
        if (file == nullptr || !file->is_string()) {
            std::string hint = "a compacted model exists only when compaction.status is ok";
            if (name == "dense" && row->at("kind") == "pruned") {
                hint = "the dense model of this pruned cell's group is cell " +
                       std::string(row->at("group_id").as_string());
            } else if (name != "dense" && row->at("kind") == "dense") {
                hint = "a dense cell keeps only its dense model";
            }
            throw ConfigError("missing model file: the row of cell " + cell_id + " has no " +
                              name + " model (" + hint + ")");
        }
        const std::filesystem::path path = output / std::string(file->as_string());
        std::unique_ptr<plugin::ModelInstance> model =
            load_saved_model(library, path, name, cell_id);

        // The remap the row's evaluation used: pruned rows read row 0 in the pruned model,
        // and the compacted model reads the renumbered rows of the compaction plan.
        std::vector<std::vector<uint32_t>> remap;
        double tolerance = kSameModelTolerance;
        if (name == "pruned" && saved->as_object().contains("row_remap")) {
            const auto remap_path = output / std::string(saved->at("row_remap").as_string());
            remap = read_remap(read_saved_json(remap_path), data, remap_path);
        }
        if (name == "compacted") {
            const auto plan_path = output / std::string(saved->at("compaction_plan").as_string());
            const boost::json::value plan = read_saved_json(plan_path);
            if (!plan.is_object()) {
                throw DataError("invalid saved file: " + plan_path.string() +
                                ": expected an object; the file does not belong to this "
                                "cell's run, so " + std::string(kRerun));
            }
            if (const auto* rows_kept = plan.as_object().if_contains("row_remap")) {
                remap = read_remap(*rows_kept, data, plan_path);
            }
            const auto* pruned_file = saved->as_object().if_contains("pruned");
            if (pruned_file != nullptr && pruned_file->is_string()) {
                const auto pruned_path = output / std::string(pruned_file->as_string());
                auto pruned = load_saved_model(library, pruned_path, "pruned", cell_id);
                check_compaction_plan(*pruned, pruned_path, *model, path, plan, plan_path);
            }
            // The compacted model's logits differed from the masked one's by this much in the
            // run. A change of at most d in every logit or prediction moves log loss, RMSE and
            // MAE by at most d. Ranking metrics may move more on near ties, so this is an
            // estimate for them.
            const auto& compaction = row->at("compaction").as_object();
            const auto* recorded = compaction.if_contains("max_abs_logit_difference");
            const double logit_difference =
                recorded != nullptr && recorded->is_number() ? recorded->to_number<double>() : 0.0;
            tolerance = std::max(kSameModelTolerance, logit_difference);
        }

        train::Trainer trainer(*model, data, cell->training, cell->metrics.front(),
                               derive_seed(cell->seed, "evaluate"), cell->seed);
        if (!remap.empty()) trainer.set_row_remap(remap);
        for (const char* part_name : {"validation", "test"}) {
            const auto* recorded = recorded_metrics.if_contains(part_name);
            if (recorded == nullptr || !recorded->is_object()) continue;
            // The row's metrics, so that a metric added to the grid after the run is not
            // taken for a difference.
            std::vector<std::string> names;
            for (const auto& [metric, value] : recorded->as_object()) names.emplace_back(metric);
            const data::Part& part = std::string(part_name) == "test" ? data.test : data.validation;
            boost::json::object recomputed;
            try {
                recomputed = train::to_json(trainer.evaluate(part, names));
            } catch (const CellError& e) {
                throw DataError("cannot evaluate the saved " + name + " model of cell " +
                                cell_id + ": " + e.what() + "; its files may not belong to this "
                                "cell's run, so " + std::string(kRerun));
            }
            for (const auto& [metric, value] : recomputed) {
                RecomputedMetric entry;
                entry.model = name;
                entry.part = part_name;
                entry.metric = std::string(metric);
                entry.recomputed = value;
                entry.recorded = recorded->as_object().at(metric);
                entry.difference = difference_of(entry.recorded, entry.recomputed);
                entry.tolerance = tolerance;
                evaluation.metrics.push_back(std::move(entry));
            }
        }
    }
    for (const std::string& metric : cell->metrics) {
        const auto* test = recorded_metrics.if_contains("test");
        if (test != nullptr && test->is_object() && !test->as_object().contains(metric)) {
            evaluation.not_in_row.push_back(metric);
        }
    }
    return evaluation;
}

}  // namespace recprune::run
