// Checks that stop a cell when training or evaluation produces NaN or infinity, so that no such
// value reaches an optimizer step or a result row. Each throws CellError naming the epoch, the
// step and the tensor, part or metric at fault.
#pragma once

#include "metrics/metric_value.hpp"

#include "recprune/abi.h"

#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace recprune::train {

/// The point of training at which a check runs: epochs finished or running (1-based) and
/// optimizer steps taken.
struct TrainingPosition {
    int epoch = 0;
    uint64_t step = 0;

    std::string text() const;
};

/// Checks the grads a backward pass wrote. For EMBEDDING tensors of rank 2 only the rows that
/// `touched_rows` lists hold grads, and only those are read; a listed row beyond the table is
/// an error too, because the optimizer would write outside the tensor. Other tensors are read
/// whole.
void check_grads_finite(std::span<const recprune_tensor_t> tensors,
                        const std::function<std::span<const uint32_t>(uint32_t)>& touched_rows,
                        const TrainingPosition& position);

/// Checks the predictions of one part (`part_name` is "train", "validation" or "test").
void check_predictions_finite(std::span<const float> predictions, const std::string& part_name,
                              const TrainingPosition& position);

/// Checks one metric result. A value that is set but not finite stops the cell, and so does
/// the status of a computation that produced NaN ("undefined_nan") or infinity ("infinite").
void check_metric_finite(const std::string& metric, const metrics::MetricValue& value,
                         const std::string& part_name, const TrainingPosition& position);

}  // namespace recprune::train
