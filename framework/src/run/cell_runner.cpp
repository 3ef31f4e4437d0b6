#include "run/cell_runner.hpp"

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"
#include "plugin/instances.hpp"
#include "prune/schedule.hpp"
#include "prune/sparsity.hpp"
#include "results/result_store.hpp"
#include "run/compaction.hpp"
#include "run/environment.hpp"

#include <omp.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <sstream>

namespace recprune::run {
namespace {

using Clock = std::chrono::steady_clock;

std::string json_io_params(const boost::json::object& params) {
    return json_io::serialize(params);
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string validation_metric_of(const grid::Cell& cell) { return cell.metrics.front(); }

boost::json::object cost_to_json(const recprune_model_cost_t& cost) {
    return boost::json::object{{"parameters", cost.parameter_count},
                               {"nonzero_parameters", cost.nonzero_parameter_count},
                               {"flops_per_sample_dense", cost.flops_per_sample_dense},
                               {"flops_per_sample_nonzero", cost.flops_per_sample_nonzero}};
}

boost::json::object base_row(const grid::Cell& cell, const DatasetSlot& dataset) {
    boost::json::object row;
    row["schema_version"] = results::kSchemaVersion;
    row["cell_id"] = cell.id;
    row["group_id"] = cell.group_id;
    row["kind"] = cell.dense ? "dense" : "pruned";
    row["status"] = "ok";
    row["dataset"] = cell.parameters.at("dataset");
    row["data"] = cell.parameters.at("data");
    row["dataset_fingerprint"] = dataset.data.fingerprint;
    row["model"] = cell.parameters.at("model");
    row["training"] = cell.parameters.at("training");
    row["seed"] = cell.seed;
    if (!cell.dense) {
        row["pruner"] = cell.parameters.at("pruner");
        row["schedule"] = cell.parameters.at("schedule");
        row["target_sparsity"] = cell.target_sparsity;
    } else {
        row["target_sparsity"] = 0.0;
    }
    return row;
}

// Copies the model's "compute" report ({"precision", "isa"}) into the row. "auto" in the
// parameters resolves per machine, so only this records whether bf16 or f32 ran, on which ISA.
void record_compute(boost::json::object& row, plugin::ModelInstance& model) {
    const boost::json::value structure = boost::json::parse(model.structure_json());
    if (!structure.is_object()) return;
    if (const auto* compute = structure.as_object().if_contains("compute")) {
        row["compute"] = *compute;
    }
}

boost::json::object failed_row(boost::json::object row, const grid::Cell& cell,
                               const DatasetSlot& dataset, const std::string& why) {
    row["status"] = "failed";
    row["message"] = "cell failed: " + describe_cell(cell, dataset) + ": " + why;
    RECPRUNE_WARN("sched", "{}", row.at("message").as_string().c_str());
    return row;
}

boost::json::object evaluation_json(train::Trainer& trainer, const data::Part& part,
                                    const std::vector<std::string>& metrics) {
    return train::to_json(trainer.evaluate(part, metrics));
}

// Files a cell keeps under <model folder>/<cell id>/ (run --save-models), listed in the row's
// "saved_models": each written file's path relative to the output folder under its key, and
// under "errors" one message per file that could not be written. A failure is recorded and
// logged, not thrown, because the cell's results stand without the file.
class SavedFiles {
public:
    SavedFiles(const CellSettings& settings, const grid::Cell& cell)
        : settings_(settings), cell_(cell) {}

    // Writes the file with `write(path)`, which must not leave a part of it under `path`.
    void save(const std::string& key, const std::string& file,
              const std::function<void(const std::filesystem::path&)>& write) {
        const std::filesystem::path folder = settings_.model_folder / cell_.id;
        std::error_code error;
        std::filesystem::create_directories(folder, error);
        if (error) {
            fail(file, "cannot create the folder " + folder.string() + ": " + error.message() +
                           "; make the output folder's models/ a writable folder and rerun "
                           "the cell");
            return;
        }
        try {
            write(folder / file);
        } catch (const std::exception& e) {
            fail(file, e.what());
            return;
        }
        saved_[key] = (settings_.model_folder.filename() / cell_.id / file).generic_string();
    }

    // Saves the model beside its final name and renames it, so a crash never leaves a
    // partial model under that name.
    void save_model(plugin::ModelInstance& model, const std::string& key,
                    const std::string& file) {
        if (!model.can_save()) {
            fail(file, "model " + cell_.model.name + " has no save function");
            return;
        }
        save(key, file, [&](const std::filesystem::path& path) {
            const std::filesystem::path partial = path.string() + ".partial";
            std::error_code error;
            try {
                model.save(partial.string());
            } catch (const std::exception&) {
                std::filesystem::remove(partial, error);
                throw;
            }
            std::filesystem::rename(partial, path, error);
            if (error) {
                std::filesystem::remove(partial, error);
                throw std::runtime_error("cannot rename the written file to " + path.string() +
                                         ": " + error.message() + "; move away what is at "
                                         "that path and rerun the cell");
            }
        });
    }

    void save_json(const boost::json::value& content, const std::string& key,
                   const std::string& file) {
        save(key, file, [&](const std::filesystem::path& path) {
            json_io::write_file_atomic(path, json_io::serialize(content) + "\n");
        });
    }

    boost::json::object& json() { return saved_; }

private:
    void fail(const std::string& file, const std::string& reason) {
        const std::string message = file + " not written: " + reason;
        if (!saved_.contains("errors")) saved_["errors"] = boost::json::array();
        saved_["errors"].as_array().push_back(boost::json::string(message));
        RECPRUNE_WARN("sched", "cell {}: {}", cell_.id.c_str(), message.c_str());
    }

    const CellSettings& settings_;
    const grid::Cell& cell_;
    boost::json::object saved_;
};

// The row remap of pruned embedding rows as a JSON object: batch field index -> old row ->
// row read (0, the out-of-vocabulary row, for pruned rows). Null when no row is pruned.
boost::json::value row_remap_json(const std::vector<std::vector<uint32_t>>& remap) {
    boost::json::object fields;
    for (size_t f = 0; f < remap.size(); ++f) {
        if (remap[f].empty()) continue;
        fields[std::to_string(f)] = boost::json::value_from(remap[f]);
    }
    if (fields.empty()) return nullptr;
    return fields;
}

boost::json::object data_json(const data::PreparedData& data) {
    return boost::json::object{{"train_rows", data.train.row_count},
                               {"validation_rows", data.validation.row_count},
                               {"test_rows", data.test.row_count},
                               {"fields", data.fields.size()},
                               {"metadata", data.metadata}};
}

}  // namespace

std::string describe_cell(const grid::Cell& cell, const DatasetSlot& dataset) {
    std::ostringstream out;
    out << "dataset=" << dataset.entry->plugin.name << " model=" << cell.model.name;
    if (cell.pruner) {
        out << " pruner=" << cell.pruner->name << " schedule=" << cell.schedule.name
            << " sparsity=" << cell.target_sparsity;
    } else {
        out << " dense";
    }
    out << " seed=" << cell.seed;
    return out.str();
}

CellOutput run_dense_cell(const grid::Cell& cell, const DatasetSlot& dataset,
                          const CellSettings& settings) {
    // Per thread: a worker thread created before main() set the mode would not have it.
    enable_flush_to_zero();
    const int cell_threads = settings.threads;
    omp_set_num_threads(cell_threads);
    CellOutput output;
    output.baseline = std::make_shared<DenseBaseline>();
    boost::json::object row = base_row(cell, dataset);
    auto start = Clock::now();
    try {
        const auto& data = dataset.data;
        plugin::ModelInstance model(cell.model.library, json_io_params(cell.model.params),
                                    data.schema_json(), derive_seed(cell.seed, "model"));
        train::Trainer trainer(model, data, cell.training, validation_metric_of(cell),
                               derive_seed(cell.seed, "train"), cell.seed);
        train::TrainResult trained = trainer.train(cell.training.epochs, true);

        auto evaluate_start = Clock::now();
        boost::json::object validation = evaluation_json(trainer, data.validation, cell.metrics);
        boost::json::object test = evaluation_json(trainer, data.test, cell.metrics);
        double evaluate_seconds = seconds_since(evaluate_start);
        recprune_model_cost_t cost = model.cost();

        DenseBaseline& baseline = *output.baseline;
        baseline.ok = true;
        baseline.weights = train::snapshot(model.tensors());
        baseline.validation_score = trained.best_validation_score;
        baseline.validation_metrics = validation;
        baseline.test_metrics = test;
        baseline.cost = cost_to_json(cost);

        row["metrics"] = boost::json::object{{"validation", validation}, {"test", test}};
        row["size"] = baseline.cost;
        record_compute(row, model);
        row["training_log"] = trained.to_json();
        row["data_summary"] = data_json(data);
        if (auto* topk = trainer.topk()) row["topk"] = topk->to_json();
        row["timings"] = boost::json::object{{"train_seconds", trained.seconds},
                                             {"evaluate_seconds", evaluate_seconds},
                                             {"total_seconds", seconds_since(start)}};
        row["threads"] = cell_threads;
        if (!settings.model_folder.empty()) {
            SavedFiles saved(settings, cell);
            saved.save_model(model, "dense", "dense.model");
            row["saved_models"] = saved.json();
        }
    } catch (const std::exception& e) {
        output.baseline->ok = false;
        output.baseline->message = e.what();
        row = failed_row(std::move(row), cell, dataset, e.what());
    }
    output.row = std::move(row);
    return output;
}

CellOutput run_pruned_cell(const grid::Cell& cell, const DatasetSlot& dataset,
                           const DenseBaseline& baseline, const CellSettings& settings) {
    enable_flush_to_zero();
    const int cell_threads = settings.threads;
    omp_set_num_threads(cell_threads);
    CellOutput output;
    boost::json::object row = base_row(cell, dataset);
    if (!baseline.ok) {
        output.row = failed_row(std::move(row), cell, dataset,
                                "the dense model of its group failed (" + baseline.message + ")");
        return output;
    }
    auto start = Clock::now();
    try {
        const auto& data = dataset.data;
        const uint64_t model_seed = derive_seed(cell.seed, "model");
        plugin::ModelInstance model(cell.model.library, json_io_params(cell.model.params),
                                    data.schema_json(), model_seed);
        // The initial weights (same seed) are the rewind point of lottery and retrain.
        train::WeightSnapshot initial = train::snapshot(model.tensors());
        train::restore(model.tensors(), baseline.weights);

        plugin::PrunerInstance pruner(cell.pruner->library, json_io_params(cell.pruner->params),
                                      derive_seed(cell.seed, "pruner"));
        train::Trainer trainer(model, data, cell.training, validation_metric_of(cell),
                               derive_seed(cell.seed, "finetune"), cell.seed);
        if (pruner.has_regularizer()) trainer.set_regularizer(&pruner);

        prune::ScheduleInputs inputs{model,
                                     trainer,
                                     pruner,
                                     data,
                                     cell.schedule,
                                     cell.training,
                                     cell.target_sparsity,
                                     baseline.validation_score,
                                     derive_seed(cell.seed, "schedule"),
                                     [&] {
                                         if (cell.schedule.rewind_epoch == 0) return initial;
                                         // Replays the dense run's first epochs: the same
                                         // seeds give the same weights.
                                         plugin::ModelInstance replay(
                                             cell.model.library,
                                             json_io_params(cell.model.params),
                                             data.schema_json(), model_seed);
                                         train::Trainer replay_trainer(
                                             replay, data, cell.training,
                                             validation_metric_of(cell),
                                             derive_seed(cell.seed, "train"), cell.seed);
                                         replay_trainer.train(cell.schedule.rewind_epoch, false);
                                         return train::snapshot(replay.tensors());
                                     }};
        prune::ScheduleOutcome outcome = prune::run_schedule(inputs);

        auto evaluate_start = Clock::now();
        boost::json::object validation = evaluation_json(trainer, data.validation, cell.metrics);
        boost::json::object test = evaluation_json(trainer, data.test, cell.metrics);
        double evaluate_seconds = seconds_since(evaluate_start);

        prune::SparsityReport sparsity = prune::measure_sparsity(model.tensors(), outcome.masks);
        boost::json::object sparsity_json = sparsity.to_json();
        sparsity_json["target"] = cell.target_sparsity;
        sparsity_json["granularity"] = std::string(prune::granularity_name(
            static_cast<recprune_granularity_t>(pruner.info().granularity)));
        const auto& last = outcome.steps.back().selection;
        sparsity_json["achieved_units"] = outcome.kept_unit_sparsity();
        sparsity_json["target_reached"] = outcome.target_reached;

        row["metrics"] = boost::json::object{{"validation", validation}, {"test", test}};
        row["dense_metrics"] = boost::json::object{{"validation", baseline.validation_metrics},
                                                   {"test", baseline.test_metrics}};
        row["sparsity"] = sparsity_json;
        row["size"] = boost::json::object{{"dense", baseline.cost},
                                          {"pruned", cost_to_json(model.cost())}};
        record_compute(row, model);
        row["schedule_log"] = outcome.to_json();
        if (auto* topk = trainer.topk()) row["topk"] = topk->to_json();

        // A dense twin, for size and latency next to the compacted model.
        plugin::ModelInstance dense(cell.model.library, json_io_params(cell.model.params),
                                    data.schema_json(), model_seed);
        train::restore(dense.tensors(), baseline.weights);
        SavedFiles saved(settings, cell);
        CompactedModelSink keep_compacted;
        if (!settings.model_folder.empty()) {
            saved.save_model(model, "pruned", "pruned.model");
            const boost::json::value remap = row_remap_json(
                outcome.masks.row_remap(static_cast<uint32_t>(data.fields.size())));
            if (!remap.is_null()) saved.save_json(remap, "row_remap", "row_remap.json");
            keep_compacted = [&](plugin::ModelInstance& compacted, const boost::json::object& plan) {
                saved.save_model(compacted, "compacted", "compacted.model");
                saved.save_json(plan, "compaction_plan", "compaction_plan.json");
            };
        }
        row["compaction"] = compact_and_measure(model, dense, outcome.masks, data, keep_compacted);
        if (!settings.model_folder.empty()) row["saved_models"] = saved.json();
        row["timings"] = boost::json::object{{"prune_seconds", outcome.prune_seconds},
                                             {"finetune_seconds", outcome.finetune_seconds},
                                             {"evaluate_seconds", evaluate_seconds},
                                             {"total_seconds", seconds_since(start)}};
        row["threads"] = cell_threads;
        if (!outcome.target_reached) {
            row["status"] = "target_not_reached";
            row["message"] = outcome.stopped_at_sparsity
                                 ? "stopped by the rule: " + outcome.stop_reason
                                 // The shortfall already starts "target not reached: ".
                                 : (last.shortfall.empty() ? std::string("target not reached")
                                                           : last.shortfall);
        }
    } catch (const std::exception& e) {
        row = failed_row(std::move(row), cell, dataset, e.what());
    }
    output.row = std::move(row);
    return output;
}

}  // namespace recprune::run
