#include "metrics/regression.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

using recprune::metrics::mae;
using recprune::metrics::MetricValue;
using recprune::metrics::rmse;

namespace {

// Hand-computed fixture, all values exact in float: errors = predictions - targets =
// [-0.5, 0, 2, -1]. RMSE = sqrt((0.25 + 0 + 4 + 1) / 4) = sqrt(1.3125) = 1.14564392373896;
// MAE = (0.5 + 0 + 2 + 1) / 4 = 0.875.
const std::vector<float> kPredictions{3.5f, 2.0f, 5.0f, 1.0f};
const std::vector<float> kTargets{4.0f, 2.0f, 3.0f, 2.0f};

}  // namespace

TEST_CASE("rmse: hand-computed fixture") {
    MetricValue result = rmse(kPredictions, kTargets);

    REQUIRE(result.value.has_value());
    // One sqrt of an exact 1.3125: the only error is the last-bit rounding of sqrt.
    CHECK(*result.value == std::sqrt(1.3125));
    CHECK(std::abs(*result.value - 1.14564392373896) <= 1e-14);
}

TEST_CASE("mae: hand-computed fixture") {
    MetricValue result = mae(kPredictions, kTargets);

    REQUIRE(result.value.has_value());
    // Every step is exact in double, so the value is exactly 0.875.
    CHECK(*result.value == 0.875);
}

TEST_CASE("rmse: perfect prediction is zero") {
    MetricValue result = rmse(kTargets, kTargets);

    REQUIRE(result.value.has_value());
    CHECK(*result.value == 0.0);
}

TEST_CASE("rmse and mae: zero rows give null") {
    MetricValue rmse_result = rmse({}, {});
    MetricValue mae_result = mae({}, {});

    CHECK_FALSE(rmse_result.value.has_value());
    CHECK(rmse_result.status == "undefined_empty");
    CHECK_FALSE(mae_result.value.has_value());
    CHECK(mae_result.status == "undefined_empty");
}

TEST_CASE("rmse and mae: NaN prediction is rejected") {
    std::vector<float> predictions{1.0f, std::numeric_limits<float>::quiet_NaN()};
    std::vector<float> targets{1.0f, 2.0f};

    CHECK_THROWS_WITH_AS(rmse(predictions, targets),
                         doctest::Contains("prediction at row 1 is NaN"), std::invalid_argument);
    CHECK_THROWS_AS(mae(predictions, targets), std::invalid_argument);
}

TEST_CASE("rmse: infinite prediction is infinite") {
    std::vector<float> predictions{std::numeric_limits<float>::infinity()};
    std::vector<float> targets{3.0f};

    MetricValue result = rmse(predictions, targets);

    CHECK_FALSE(result.value.has_value());
    CHECK(result.status == "infinite");
}

TEST_CASE("rmse: lengths that differ are rejected") {
    std::vector<float> predictions{1.0f};

    CHECK_THROWS_AS(rmse(predictions, kTargets), std::invalid_argument);
}
