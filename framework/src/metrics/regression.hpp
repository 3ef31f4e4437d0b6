// Metrics of rating prediction: RMSE and MAE.
#pragma once

#include "metrics/metric_value.hpp"

#include <span>

namespace recprune::metrics {

/// Root mean squared error sqrt(mean((prediction - target)^2)), in the units of the rating.
/// @returns "undefined_empty" for zero rows.
/// @throws std::invalid_argument on NaN in either input or lengths that differ.
MetricValue rmse(std::span<const float> predictions, std::span<const float> targets);

/// Mean absolute error mean(|prediction - target|), in the units of the rating.
/// @returns "undefined_empty" for zero rows.
/// @throws std::invalid_argument on NaN in either input or lengths that differ.
MetricValue mae(std::span<const float> predictions, std::span<const float> targets);

}  // namespace recprune::metrics
