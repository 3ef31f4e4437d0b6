// Gradient-based scores shared by the snip, taylor and field_gradient pruners.
//
// Every unit u gets, for each calibration batch b, the sensitivity
//     s_b(u) = sum over the weights e that u covers of w_e * dL_b/dw_e,
// which is the derivative of the batch loss with respect to a gate multiplying all of u's
// weights, taken at gate = 1. For a single weight this is the connection sensitivity of SNIP;
// for a field restricted to its embedding tables and sum pooling, it equals
// sum over rows of e_f . dL/de_f, the gradient of a field gate. The sensitivities of the batches
// are then combined as |sum_b s_b|, sum_b |s_b| or mean_b s_b^2.
#pragma once

#include "pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace recprune::pruners {

/// Rule that combines the per-batch sensitivities of a unit into its score.
enum class Accumulation {
    /// |sum_b s_b|: the sensitivity to the loss over all calibration batches together.
    SignedSum,
    /// sum_b |s_b|: batches whose gradients point in opposite directions do not cancel.
    AbsoluteSum,
    /// sum_b s_b^2 / B: the first-order Taylor estimate of the squared loss change.
    SquaredMean,
};

inline Accumulation parse_accumulation(const std::string& text) {
    if (text == "signed_sum") return Accumulation::SignedSum;
    if (text == "absolute_sum") return Accumulation::AbsoluteSum;
    if (text == "squared_mean") return Accumulation::SquaredMean;
    throw InvalidArgument("invalid parameter: accumulation: \"" + text +
                          "\" is not one of signed_sum, absolute_sum, squared_mean; pick one of "
                          "these");
}

/// Returns per embedding tensor one flag per row, 1 when the batch looks the row up, because
/// only those rows of an embedding gradient are valid after a backward pass. Non-embedding
/// tensors get an empty vector. An embedding tensor without a batch field counts every row as
/// valid.
inline std::vector<std::vector<uint8_t>> touched_rows(std::span<const recprune_tensor_t> tensors,
                                                      const recprune_batch_t& batch) {
    std::vector<std::vector<uint8_t>> touched(tensors.size());
    for (size_t index = 0; index < tensors.size(); ++index) {
        const recprune_tensor_t& tensor = tensors[index];
        if (tensor.role != RECPRUNE_TENSOR_ROLE_EMBEDDING || tensor.rank == 0) continue;
        uint64_t rows = tensor.shape[0];
        if (tensor.field >= batch.field_count || batch.ids == nullptr) {
            touched[index].assign(rows, 1);
            continue;
        }
        touched[index].assign(rows, 0);
        const uint32_t* ids = batch.ids[tensor.field];
        const uint64_t* offsets = batch.offsets != nullptr ? batch.offsets[tensor.field] : nullptr;
        uint64_t id_count = offsets != nullptr ? offsets[batch.row_count] : batch.row_count;
        for (uint64_t position = 0; position < id_count; ++position) {
            if (ids[position] < rows) touched[index][ids[position]] = 1;
        }
    }
    return touched;
}

/// Sums the per-batch sensitivities s_b(u) of every unit over calibration batches.
class SensitivityAccumulator {
public:
    /// `embedding_only` restricts a unit to its slices on EMBEDDING tensors (the field gate).
    SensitivityAccumulator(std::vector<Block> blocks, uint64_t unit_count, bool embedding_only)
        : blocks_(std::move(blocks)),
          embedding_only_(embedding_only),
          sum_(unit_count, 0.0),
          absolute_sum_(unit_count, 0.0),
          squared_sum_(unit_count, 0.0) {}

    /// Adds the sensitivities of one batch; the tensors' grads hold that batch's gradients.
    void add_batch(std::span<const recprune_tensor_t> tensors, const recprune_batch_t& batch) {
        std::vector<std::vector<uint8_t>> touched = touched_rows(tensors, batch);
        for (const Block& block : blocks_) {
            for (uint64_t unit = 0; unit < block.count; ++unit) {
                double sensitivity = unit_sensitivity(tensors, touched, block, unit);
                uint64_t index = block.offset + unit;
                sum_[index] += sensitivity;
                absolute_sum_[index] += std::fabs(sensitivity);
                squared_sum_[index] += sensitivity * sensitivity;
            }
        }
        ++batch_count_;
    }

    uint32_t batch_count() const { return batch_count_; }

    /// Writes the scores combined as `accumulation`.
    void write_scores(Accumulation accumulation, std::span<double> scores) const {
        for (size_t unit = 0; unit < scores.size(); ++unit) {
            switch (accumulation) {
            case Accumulation::SignedSum: scores[unit] = std::fabs(sum_[unit]); break;
            case Accumulation::AbsoluteSum: scores[unit] = absolute_sum_[unit]; break;
            case Accumulation::SquaredMean:
                scores[unit] = batch_count_ == 0 ? 0.0 : squared_sum_[unit] / batch_count_;
                break;
            }
        }
    }

private:
    double unit_sensitivity(std::span<const recprune_tensor_t> tensors,
                            const std::vector<std::vector<uint8_t>>& touched, const Block& block,
                            uint64_t unit) const {
        double sensitivity = 0.0;
        for (const Slice& slice : block.slices) {
            const recprune_tensor_t& tensor = tensors[slice.tensor];
            bool embedding = tensor.role == RECPRUNE_TENSOR_ROLE_EMBEDDING;
            if (embedding_only_ && !embedding) continue;
            const std::vector<uint8_t>& rows = touched[slice.tensor];
            uint64_t row_size = tensor.shape[0] == 0 ? 1 : tensor.element_count / tensor.shape[0];
            for_each_element(tensor, slice, unit, [&](uint64_t element) {
                if (embedding && !rows.empty() && rows[element / row_size] == 0) return;
                sensitivity += static_cast<double>(tensor.data[element]) * tensor.grad[element];
            });
        }
        return sensitivity;
    }

    std::vector<Block> blocks_;
    bool embedding_only_;
    std::vector<double> sum_;
    std::vector<double> absolute_sum_;
    std::vector<double> squared_sum_;
    uint32_t batch_count_ = 0;
};

/// Settings of one gradient-based pruner plugin.
struct GradientPrunerDefaults {
    const char* name;
    const char* granularity;
    const char* accumulation;
    bool embedding_only;
};

/// Base of the gradient-based pruners; a plugin fixes the defaults and the allowed values.
class GradientPruner : public recprune::Pruner {
public:
    GradientPruner(const json& params, const GradientPrunerDefaults& defaults)
        : name_(defaults.name),
          granularity_(parse_granularity(params.value("granularity", defaults.granularity))),
          per_tensor_(parse_per_tensor_scope(params.value("scope", "global"))),
          accumulation_(parse_accumulation(params.value("accumulation", defaults.accumulation))),
          calibration_batches_(params.value("calibration_batches", 8u)),
          embedding_only_(defaults.embedding_only) {
        if (calibration_batches_ == 0) {
            throw InvalidArgument("invalid parameter: calibration_batches: 0 is not positive; "
                                  "give at least 1");
        }
    }

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(granularity_, per_tensor_);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        check_granularity(context, granularity_);
        SensitivityAccumulator accumulator(parse_blocks(context.units()), scores.size(),
                                           embedding_only_);
        context.gradient_pass(calibration_batches_,
                              [&](const recprune_tensor_t* tensors, uint32_t count,
                                  const recprune_batch_t& batch) {
                                  accumulator.add_batch({tensors, count}, batch);
                              });
        accumulator.write_scores(accumulation_, scores);
        check_scores_finite(scores, name_.c_str());
    }

protected:
    recprune_granularity_t granularity() const { return granularity_; }

private:
    std::string name_;
    recprune_granularity_t granularity_;
    bool per_tensor_;
    Accumulation accumulation_;
    uint32_t calibration_batches_;
    bool embedding_only_;
};

}  // namespace recprune::pruners
