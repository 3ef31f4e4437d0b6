#include "metrics/regression.hpp"

#include "metrics/input_checks.hpp"

#include <cmath>
#include <string>
#include <string_view>

namespace recprune::metrics {
namespace {

void check_regression_input(std::string_view metric, std::span<const float> predictions,
                            std::span<const float> targets) {
    detail::check_same_length(metric, "predictions", predictions.size(), "targets",
                              targets.size());
    detail::check_no_nan(metric, "prediction", predictions);
    detail::check_no_nan(metric, "target", targets);
}

}  // namespace

MetricValue rmse(std::span<const float> predictions, std::span<const float> targets) {
    check_regression_input("rmse", predictions, targets);
    if (predictions.empty()) {
        return MetricValue::undefined(kStatusUndefinedEmpty, "rmse over zero rows");
    }

    // Differences, squares and the sum in double, so that millions of rows keep their precision.
    double sum_squares = 0.0;
    for (size_t row = 0; row < predictions.size(); ++row) {
        double error = static_cast<double>(predictions[row]) - static_cast<double>(targets[row]);
        sum_squares += error * error;
    }
    // An infinite prediction gives an infinite error; from_double() reports it as "infinite".
    return MetricValue::from_double(
        std::sqrt(sum_squares / static_cast<double>(predictions.size())));
}

MetricValue mae(std::span<const float> predictions, std::span<const float> targets) {
    check_regression_input("mae", predictions, targets);
    if (predictions.empty()) {
        return MetricValue::undefined(kStatusUndefinedEmpty, "mae over zero rows");
    }

    double sum_abs = 0.0;
    for (size_t row = 0; row < predictions.size(); ++row) {
        sum_abs += std::abs(static_cast<double>(predictions[row]) -
                            static_cast<double>(targets[row]));
    }
    return MetricValue::from_double(sum_abs / static_cast<double>(predictions.size()));
}

}  // namespace recprune::metrics
