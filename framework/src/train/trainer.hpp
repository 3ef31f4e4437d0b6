// The training loop the host runs for every model: batches, loss and its gradient per task,
// optimizer steps with masks kept, early stopping on a validation metric, and evaluation.
#pragma once

#include "data/batch_builder.hpp"
#include "data/prepare.hpp"
#include "grid/grid.hpp"
#include "metrics/metric_value.hpp"
#include "plugin/instances.hpp"
#include "train/optimizer.hpp"
#include "train/topk_task.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace recprune::prune {
class MaskSet;
}

namespace recprune::train {

/// Weights of every tensor, for early stopping, lottery rewinding and sharing dense models.
using WeightSnapshot = std::vector<std::vector<float>>;
WeightSnapshot snapshot(std::span<const recprune_tensor_t> tensors);
void restore(std::span<const recprune_tensor_t> tensors, const WeightSnapshot& weights);

struct EpochRecord {
    int epoch = 0;
    double train_loss = 0.0;
    double validation_score = 0.0;  ///< the validation metric, as reported (not negated)
};

struct TrainResult {
    int epochs_run = 0;
    int best_epoch = 0;
    double best_validation_score = 0.0;
    bool stopped_early = false;
    std::vector<EpochRecord> epochs;
    double seconds = 0.0;

    boost::json::object to_json() const;
};

/// Metric name -> value, for one part of the data.
using Evaluation = std::map<std::string, metrics::MetricValue>;
boost::json::object to_json(const Evaluation& evaluation);

class Trainer {
public:
    /// `validation_metric` decides early stopping and the stop rule; `seed` drives shuffling
    /// and, for the "topk" task, the sampled training negatives of each epoch.
    /// `evaluation_seed` drives the sampled negatives of top-K evaluation only: give the cell's
    /// seed, so that every cell of a dense group ranks the same candidates. Throws DataError
    /// when the task is "topk" and the data has no user or item ids.
    Trainer(plugin::ModelInstance& model, const data::PreparedData& data,
            const grid::TrainingSettings& settings, std::string validation_metric,
            uint64_t seed, uint64_t evaluation_seed);

    /// Masks applied after every optimizer step (nullptr for none). Not owned.
    void set_masks(const prune::MaskSet* masks);
    /// A pruner whose regularizer is added to the grads after every backward pass. Not owned.
    void set_regularizer(plugin::PrunerInstance* pruner) { regularizer_ = pruner; }
    /// Row remap per field applied to every batch (pruned embedding rows -> row 0).
    void set_row_remap(std::vector<std::vector<uint32_t>> remap);
    /// Called after every optimizer step with the global step count (gradual schedules).
    void set_step_callback(std::function<void(uint64_t)> callback) {
        step_callback_ = std::move(callback);
    }

    /// Trains up to `epochs` epochs. With `early_stopping`, stops after `patience` epochs
    /// without improvement and restores the best weights. Throws CellError naming the epoch,
    /// step and tensor when the loss or a gradient (of embedding tensors, the touched rows) is
    /// NaN or infinite. Epochs and steps count from the trainer's creation.
    TrainResult train(int epochs, bool early_stopping);

    /// Training batches of one epoch count, for gradual schedules. For "topk" an epoch contains
    /// the training rows and their sampled negatives.
    uint64_t steps_per_epoch() const;

    /// Evaluates `metric_names` on a part. For "topk", ranks candidates by the settings'
    /// protocol (TopKTask::evaluate). Throws CellError naming the epoch and step when a
    /// prediction or a metric is NaN or infinite, and std::invalid_argument from the metric
    /// functions for inputs they reject.
    Evaluation evaluate(const data::Part& part, const std::vector<std::string>& metric_names);

    /// The validation metric on the validation part, as reported (not negated).
    double validation_score();

    /// Runs forward and backward on `batch_count` training batches drawn from `seed` (with
    /// sampled negatives for "topk") and calls `visitor(batch)` after each backward pass,
    /// without an optimizer step.
    void gradient_pass(uint32_t batch_count, uint64_t seed,
                       const std::function<void(const recprune_batch_t&)>& visitor);

    /// The validation metric with field `field` permuted across rows (for permutation
    /// importance); RECPRUNE_NO_FIELD evaluates unpermuted. Higher is better (loss negated).
    /// For "topk", the field's values are permuted across the users (items) whose rows feed
    /// it, and a context field, which ranking never reads, leaves the metric unchanged.
    double evaluate_permuted(uint32_t field, uint64_t permutation_seed);

    /// Predictions (probabilities for ctr/topk, values for rating) on a part.
    std::vector<float> predict(const data::Part& part);

    plugin::ModelInstance& model() { return model_; }
    const std::string& validation_metric() const { return validation_metric_; }
    /// The top-K training and evaluation, or nullptr when the task is not "topk".
    TopKTask* topk() { return topk_.get(); }

private:
    double train_epoch(int epoch, uint64_t& step);
    std::vector<float> logits(const data::Part& part);
    /// The validation part with `field` shuffled across its rows.
    data::Part permuted_validation(uint32_t field, uint64_t permutation_seed) const;
    /// Top-K evaluation, with `permuted_field` (unless RECPRUNE_NO_FIELD) permuted.
    Evaluation evaluate_topk(const data::Part& part, const std::vector<std::string>& names,
                             uint32_t permuted_field, uint64_t permutation_seed);
    void check_grads(int epoch);
    /// "train", "validation" or "test" for the parts of the data, for messages.
    std::string part_name(const data::Part& part) const;

    plugin::ModelInstance& model_;
    const data::PreparedData& data_;
    grid::TrainingSettings settings_;
    std::string validation_metric_;
    uint64_t seed_;
    std::unique_ptr<TopKTask> topk_;
    Optimizer optimizer_;
    const prune::MaskSet* masks_ = nullptr;
    plugin::PrunerInstance* regularizer_ = nullptr;
    std::vector<std::vector<uint32_t>> row_remap_;
    std::function<void(uint64_t)> step_callback_;
    uint64_t global_step_ = 0;
    int epochs_done_ = 0;
};

}  // namespace recprune::train
