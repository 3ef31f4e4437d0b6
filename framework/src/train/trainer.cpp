#include "train/trainer.hpp"

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "metrics/classification.hpp"
#include "metrics/regression.hpp"
#include "prune/masks.hpp"
#include "train/candidate_rows.hpp"
#include "train/finite_checks.hpp"
#include "train/shuffle.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>

namespace recprune::train {
namespace {

float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

bool is_binary_task(const std::string& task) { return task != "rating"; }

// The training batches of one pass in shuffled order: rows of the training part, or for the
// "topk" task the (user, item) pairs of TopKTask::training_examples().
class TrainingBatches {
public:
    TrainingBatches(const data::PreparedData& data, const TopKTask* topk,
                    const std::vector<std::vector<uint32_t>>& row_remap, uint64_t shuffle_seed,
                    uint64_t negative_seed) {
        if (topk == nullptr) {
            rows_.emplace(data.train, static_cast<uint32_t>(data.fields.size()),
                          data.dense_count);
            if (!row_remap.empty()) rows_->set_row_remap(row_remap);
            order_ = shuffled_rows(data.train.row_count, shuffle_seed);
            return;
        }
        examples_ = topk->training_examples(negative_seed);
        pairs_.emplace(topk->rows());
        if (!row_remap.empty()) pairs_->set_row_remap(row_remap);
        order_ = shuffled_rows(examples_.size(), shuffle_seed);
    }

    uint64_t size() const { return order_.size(); }

    /// Builds the batch of positions [begin, end) of the shuffled order.
    const recprune_batch_t& build(uint64_t begin, uint64_t end) {
        std::span<const uint64_t> positions(order_.data() + begin, end - begin);
        if (rows_) return rows_->build(positions);
        users_.clear();
        items_.clear();
        labels_.clear();
        for (uint64_t example : positions) {
            users_.push_back(examples_.users[example]);
            items_.push_back(examples_.items[example]);
            labels_.push_back(examples_.labels[example]);
        }
        return pairs_->build(users_, items_, labels_);
    }

private:
    std::vector<uint64_t> order_;
    std::optional<data::BatchBuilder> rows_;
    PairExamples examples_;
    std::optional<CandidateBatchBuilder> pairs_;
    std::vector<uint32_t> users_;
    std::vector<uint32_t> items_;
    std::vector<float> labels_;
};

}  // namespace

WeightSnapshot snapshot(std::span<const recprune_tensor_t> tensors) {
    WeightSnapshot weights(tensors.size());
    for (size_t t = 0; t < tensors.size(); ++t) {
        weights[t].assign(tensors[t].data, tensors[t].data + tensors[t].element_count);
    }
    return weights;
}

void restore(std::span<const recprune_tensor_t> tensors, const WeightSnapshot& weights) {
    for (size_t t = 0; t < tensors.size(); ++t) {
        std::copy(weights[t].begin(), weights[t].end(), tensors[t].data);
    }
}

boost::json::object TrainResult::to_json() const {
    boost::json::array history;
    for (const auto& record : epochs) {
        history.push_back(boost::json::object{{"epoch", record.epoch},
                                              {"train_loss", record.train_loss},
                                              {"validation", record.validation_score}});
    }
    return boost::json::object{{"epochs_run", epochs_run},
                               {"best_epoch", best_epoch},
                               {"best_validation", best_validation_score},
                               {"stopped_early", stopped_early},
                               {"seconds", seconds},
                               {"history", history}};
}

boost::json::object to_json(const Evaluation& evaluation) {
    boost::json::object out;
    for (const auto& [name, value] : evaluation) out[name] = metrics::to_json(value);
    return out;
}

Trainer::Trainer(plugin::ModelInstance& model, const data::PreparedData& data,
                 const grid::TrainingSettings& settings, std::string validation_metric,
                 uint64_t seed, uint64_t evaluation_seed)
    : model_(model),
      data_(data),
      settings_(settings),
      validation_metric_(std::move(validation_metric)),
      seed_(seed),
      topk_(data.task == "topk" ? std::make_unique<TopKTask>(data, evaluation_seed) : nullptr),
      optimizer_(settings, model.tensors()) {}

void Trainer::set_masks(const prune::MaskSet* masks) {
    masks_ = masks;
    if (masks_ != nullptr) {
        masks_->apply(model_.tensors());
        optimizer_.apply_masks(*masks_);
    }
}

void Trainer::set_row_remap(std::vector<std::vector<uint32_t>> remap) {
    row_remap_ = std::move(remap);
}

uint64_t Trainer::steps_per_epoch() const {
    const uint64_t batch = static_cast<uint64_t>(settings_.batch_size);
    const uint64_t rows = topk_ ? topk_->training_example_count() : data_.train.row_count;
    return (rows + batch - 1) / batch;
}

void Trainer::check_grads(int epoch) {
    check_grads_finite(
        model_.tensors(), [&](uint32_t t) { return model_.touched_rows(t); },
        {epoch, global_step_});
}

double Trainer::train_epoch(int epoch, uint64_t& step) {
    TrainingBatches batches(data_, topk_.get(), row_remap_,
                            derive_seed(seed_, "shuffle:" + std::to_string(epoch)),
                            derive_seed(seed_, "negatives:" + std::to_string(epoch)));
    const uint64_t row_count = batches.size();

    const bool binary = is_binary_task(data_.task);
    const auto tensors = model_.tensors();
    std::vector<float> logits;
    std::vector<float> grads;
    double loss_sum = 0.0;
    uint64_t batch_size = static_cast<uint64_t>(settings_.batch_size);

    for (uint64_t begin = 0; begin < row_count; begin += batch_size) {
        const recprune_batch_t& batch =
            batches.build(begin, std::min(row_count, begin + batch_size));
        const uint64_t n = batch.row_count;
        logits.resize(n);
        grads.resize(n);

        model_.forward(batch, true, logits.data());

        // Loss and d(loss)/d(logit), averaged over the batch: binary cross-entropy on logits
        // for ctr and topk, half squared error for ratings.
        double batch_loss = 0.0;
        const float inverse_n = 1.0f / static_cast<float>(n);
        for (uint64_t i = 0; i < n; ++i) {
            float z = logits[i];
            float y = batch.labels[i];
            if (binary) {
                // log(1 + e^-|z|) + max(z, 0) - z*y is the stable form of the BCE.
                batch_loss += std::log1p(std::exp(-std::fabs(z))) + std::max(z, 0.0f) - z * y;
                grads[i] = (sigmoid(z) - y) * inverse_n;
            } else {
                float diff = z - y;
                batch_loss += 0.5 * diff * diff;
                grads[i] = diff * inverse_n;
            }
        }
        if (!std::isfinite(batch_loss)) {
            throw CellError(std::string("loss is ") +
                            (std::isnan(batch_loss) ? "NaN" : "infinite") + " at " +
                            TrainingPosition{epoch, global_step_}.text() +
                            "; lower the learning rate or check the input data");
        }
        loss_sum += batch_loss;

        // The grads are checked after the regularizer added its part, so the check covers
        // exactly what the optimizer reads.
        model_.backward(batch, grads.data());
        if (regularizer_ != nullptr) regularizer_->regularize(tensors, model_.structure_json());
        check_grads(epoch);
        optimizer_.step(
            tensors, [&](uint32_t t) { return model_.touched_rows(t); }, masks_);
        ++step;
        ++global_step_;
        if (step_callback_) step_callback_(global_step_);
    }
    return loss_sum / static_cast<double>(std::max<uint64_t>(1, row_count));
}

TrainResult Trainer::train(int epochs, bool early_stopping) {
    auto start = std::chrono::steady_clock::now();
    TrainResult result;
    const bool higher_better = grid::higher_is_better(validation_metric_);
    WeightSnapshot best_weights;
    double best = 0.0;
    int since_best = 0;
    uint64_t step = 0;

    for (int epoch = 1; epoch <= epochs; ++epoch) {
        ++epochs_done_;
        double loss = train_epoch(epochs_done_, step);
        double score = validation_score();
        result.epochs.push_back({epochs_done_, loss, score});
        result.epochs_run = epoch;
        RECPRUNE_DEBUG("train", "{} epoch {}: train loss {:.6f}, validation {} {:.6f}",
                       model_.library().name(), epochs_done_, loss, validation_metric_, score);

        bool improved = epoch == 1 || (higher_better ? score > best : score < best);
        if (improved) {
            best = score;
            result.best_epoch = epoch;
            since_best = 0;
            if (early_stopping) best_weights = snapshot(model_.tensors());
        } else if (early_stopping && settings_.early_stopping_patience > 0 &&
                   ++since_best >= settings_.early_stopping_patience) {
            result.stopped_early = true;
            break;
        }
    }
    if (early_stopping && !best_weights.empty() && result.best_epoch != result.epochs_run) {
        restore(model_.tensors(), best_weights);
        RECPRUNE_DEBUG("train", "restored the weights of epoch {}", result.best_epoch);
    }
    result.best_validation_score = best;
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

std::vector<float> Trainer::logits(const data::Part& part) {
    data::BatchBuilder builder(part, static_cast<uint32_t>(data_.fields.size()),
                               data_.dense_count);
    if (!row_remap_.empty()) builder.set_row_remap(row_remap_);
    std::vector<float> out(part.row_count);
    std::vector<uint64_t> rows;
    const uint64_t batch_size = static_cast<uint64_t>(settings_.eval_batch_size);
    for (uint64_t begin = 0; begin < part.row_count; begin += batch_size) {
        uint64_t end = std::min(part.row_count, begin + batch_size);
        rows.resize(end - begin);
        std::iota(rows.begin(), rows.end(), begin);
        const recprune_batch_t& batch = builder.build(rows);
        model_.forward(batch, false, out.data() + begin);
    }
    return out;
}

std::vector<float> Trainer::predict(const data::Part& part) {
    std::vector<float> out = logits(part);
    if (is_binary_task(data_.task)) {
        for (float& value : out) value = sigmoid(value);
    }
    return out;
}

std::string Trainer::part_name(const data::Part& part) const {
    if (&part == &data_.train) return "train";
    if (&part == &data_.validation) return "validation";
    if (&part == &data_.test) return "test";
    return "evaluated";
}

Evaluation Trainer::evaluate_topk(const data::Part& part, const std::vector<std::string>& names,
                                  uint32_t permuted_field, uint64_t permutation_seed) {
    CandidateBatchBuilder builder(topk_->rows());
    if (!row_remap_.empty()) builder.set_row_remap(row_remap_);
    if (permuted_field != RECPRUNE_NO_FIELD) {
        builder.set_field_permutation(
            permuted_field, topk_->rows().permuted_sources(permuted_field, permutation_seed));
    }
    const std::string name = part_name(part);
    const TrainingPosition position{epochs_done_, global_step_};
    auto score = [&](std::span<const uint32_t> users, std::span<const uint32_t> items,
                     std::span<float> logits) {
        model_.forward(builder.build(users, items, {}), false, logits.data());
        check_predictions_finite(logits, name, position);
    };
    Evaluation evaluation = topk_->evaluate(part, name, names, score,
                                            static_cast<uint64_t>(settings_.eval_batch_size));
    for (const auto& [metric, value] : evaluation) {
        check_metric_finite(metric, value, name, position);
    }
    return evaluation;
}

Evaluation Trainer::evaluate(const data::Part& part, const std::vector<std::string>& names) {
    if (topk_) return evaluate_topk(part, names, RECPRUNE_NO_FIELD, 0);
    std::vector<float> predictions = predict(part);
    const TrainingPosition position{epochs_done_, global_step_};
    check_predictions_finite(predictions, part_name(part), position);
    Evaluation evaluation;
    for (const auto& name : names) {
        if (name == "auc") {
            evaluation[name] = metrics::auc(predictions, part.labels);
        } else if (name == "logloss") {
            evaluation[name] = metrics::log_loss(predictions, part.labels);
        } else if (name == "gauc") {
            evaluation[name] = part.users.empty()
                                   ? metrics::MetricValue::undefined(
                                         "undefined_no_user_column",
                                         "the dataset has no user column")
                                   : metrics::with_user_counts(metrics::gauc(
                                         predictions, part.labels, part.users));
        } else if (name == "rmse") {
            evaluation[name] = metrics::rmse(predictions, part.labels);
        } else if (name == "mae") {
            evaluation[name] = metrics::mae(predictions, part.labels);
        } else {
            evaluation[name] = metrics::MetricValue::undefined(
                "undefined_not_implemented", "metric " + name + " is not computed for this task");
        }
        check_metric_finite(name, evaluation[name], part_name(part), position);
    }
    return evaluation;
}

double Trainer::validation_score() {
    Evaluation evaluation = evaluate(data_.validation, {validation_metric_});
    const metrics::MetricValue& value = evaluation.at(validation_metric_);
    if (!value.value) {
        throw CellError("validation " + validation_metric_ + " is undefined (" + value.status +
                        ": " + value.reason + "); use a larger validation split");
    }
    return *value.value;
}

void Trainer::gradient_pass(uint32_t batch_count, uint64_t seed,
                            const std::function<void(const recprune_batch_t&)>& visitor) {
    TrainingBatches batches(data_, topk_.get(), row_remap_, seed,
                            derive_seed(seed, "negatives"));
    const uint64_t row_count = batches.size();
    const bool binary = is_binary_task(data_.task);
    const uint64_t batch_size = static_cast<uint64_t>(settings_.batch_size);
    std::vector<float> logits;
    std::vector<float> grads;
    for (uint32_t b = 0; b < batch_count; ++b) {
        // Wrap around when more batches are asked than one epoch holds.
        uint64_t begin = (uint64_t{b} * batch_size) % std::max<uint64_t>(1, row_count);
        const recprune_batch_t& batch =
            batches.build(begin, std::min(row_count, begin + batch_size));
        logits.resize(batch.row_count);
        grads.resize(batch.row_count);
        model_.forward(batch, true, logits.data());
        const float inverse_n = 1.0f / static_cast<float>(batch.row_count);
        for (uint64_t i = 0; i < batch.row_count; ++i) {
            float target = batch.labels[i];
            grads[i] = (binary ? sigmoid(logits[i]) - target : logits[i] - target) * inverse_n;
        }
        model_.backward(batch, grads.data());
        visitor(batch);
    }
}

data::Part Trainer::permuted_validation(uint32_t field, uint64_t permutation_seed) const {
    // Shuffle whole rows of one field (all its values for multi-hot fields) across the part,
    // which breaks its link to the label and keeps its marginal distribution.
    data::Part permuted = data_.validation;
    const uint64_t n = permuted.row_count;
    auto order = shuffled_rows(n, permutation_seed);
    const auto& ids = data_.validation.ids[field];
    if (data_.validation.offsets[field].empty()) {
        for (uint64_t row = 0; row < n; ++row) permuted.ids[field][row] = ids[order[row]];
    } else {
        const auto& offsets = data_.validation.offsets[field];
        auto& new_ids = permuted.ids[field];
        auto& new_offsets = permuted.offsets[field];
        new_ids.clear();
        new_offsets.assign(1, 0);
        for (uint64_t row = 0; row < n; ++row) {
            uint64_t source = order[row];
            new_ids.insert(new_ids.end(), ids.begin() + static_cast<int64_t>(offsets[source]),
                           ids.begin() + static_cast<int64_t>(offsets[source + 1]));
            new_offsets.push_back(new_ids.size());
        }
    }
    return permuted;
}

double Trainer::evaluate_permuted(uint32_t field, uint64_t permutation_seed) {
    double sign = grid::higher_is_better(validation_metric_) ? 1.0 : -1.0;
    if (field == RECPRUNE_NO_FIELD) return sign * validation_score();
    if (field >= data_.fields.size()) {
        throw CellError("permuted evaluation failed: field " + std::to_string(field) +
                        " does not exist; the data has " + std::to_string(data_.fields.size()) +
                        " fields");
    }

    // Top-K ranks candidate rows, so the permutation applies to those (across users or items).
    Evaluation evaluation =
        topk_ ? evaluate_topk(data_.validation, {validation_metric_}, field, permutation_seed)
              : evaluate(permuted_validation(field, permutation_seed), {validation_metric_});
    const auto& value = evaluation.at(validation_metric_);
    if (!value.value) {
        throw CellError("permuted evaluation failed: validation " + validation_metric_ +
                        " is undefined (" + value.status + ")");
    }
    return sign * *value.value;
}

}  // namespace recprune::train
