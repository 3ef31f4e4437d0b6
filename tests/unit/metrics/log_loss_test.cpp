#include "metrics/classification.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

using recprune::metrics::log_loss;
using recprune::metrics::MetricValue;

namespace {

// Labels [1,0,0,0] and p(positive) [1,1,0,0]: the probability of the true class is
// q = [1, 0, 1, 1], so only row 1 costs anything, -ln(max(eps, 0)) = -ln(eps).
const std::vector<float> kLabels{1.0f, 0.0f, 0.0f, 0.0f};
const std::vector<float> kProbabilities{1.0f, 1.0f, 0.0f, 0.0f};

// 1e-9 is far below the 2e-4 gap between the right value and the p-clip trap, and far above
// the rounding of one log and one division (about 1e-15 relative).
constexpr double kTolerance = 1e-9;

}  // namespace

TEST_CASE("log_loss: default eps clips a confident wrong prediction") {
    // -ln(1e-15) / 4 = 34.538776 / 4 = 8.634694098727671, the value computed by hand and the
    // one scikit-learn reported for the same input with eps = 1e-15.
    MetricValue result = log_loss(kProbabilities, kLabels);

    REQUIRE(result.value.has_value());
    CHECK(std::abs(*result.value - 8.634694098727671) <= kTolerance);
    CHECK(result.status == "ok");
}

TEST_CASE("log_loss: eps 1e-7 clips at -ln(1e-7)") {
    // -ln(1e-7) / 4 = 16.118096 / 4 = 4.02952391273958, by hand.
    MetricValue result = log_loss(kProbabilities, kLabels, 1e-7);

    REQUIRE(result.value.has_value());
    CHECK(std::abs(*result.value - 4.02952391273958) <= kTolerance);
}

TEST_CASE("log_loss: q-clip avoids the 1-(1-eps) trap") {
    // Clipping p into [eps, 1 - eps] and taking ln(1 - p) in double loses ln(eps): 1 - (1 -
    // 1e-15) is 9.992007221626409e-16, so that form gives 8.63489399808522 (differs at the
    // 4th decimal). The q-clip form must give 8.634694098727671 at 1e-9.
    double trap = -std::log(1.0 - (1.0 - 1e-15)) / 4.0;
    REQUIRE(std::abs(trap - 8.63489399808522) <= kTolerance);

    MetricValue result = log_loss(kProbabilities, kLabels, 1e-15);

    REQUIRE(result.value.has_value());
    CHECK(std::abs(*result.value - 8.634694098727671) <= kTolerance);
    CHECK(std::abs(*result.value - trap) > 1e-4);
}

TEST_CASE("log_loss: eps 0 with a confident wrong prediction is infinite") {
    // Without clipping, row 1 costs -ln(0) = +inf; JSON cannot represent it, so the value is null.
    MetricValue result = log_loss(kProbabilities, kLabels, 0.0);

    CHECK_FALSE(result.value.has_value());
    CHECK(result.status == "infinite");
    CHECK(result.reason.find("row 1") != std::string::npos);
    boost::json::object json = to_json(result);
    CHECK(json.at("value").is_null());
    CHECK(json.at("status").as_string() == "infinite");
}

TEST_CASE("log_loss: eps 0 leaves finite losses unclipped") {
    // Labels [1,0,1], p [0.75,0.25,0.5] (exact in float): q = [0.75, 0.75, 0.5], so the loss is
    // (2 * -ln 0.75 - ln 0.5) / 3 = 0.4228371084878357 by hand, with or without clipping.
    std::vector<float> probabilities{0.75f, 0.25f, 0.5f};
    std::vector<float> labels{1.0f, 0.0f, 1.0f};

    MetricValue unclipped = log_loss(probabilities, labels, 0.0);
    MetricValue clipped = log_loss(probabilities, labels);

    REQUIRE(unclipped.value.has_value());
    REQUIRE(clipped.value.has_value());
    CHECK(std::abs(*unclipped.value - 0.4228371084878357) <= kTolerance);
    CHECK(*clipped.value == *unclipped.value);
}

TEST_CASE("log_loss: probability outside [0, 1] is rejected") {
    std::vector<float> probabilities{0.5f, 1.5f};
    std::vector<float> labels{1.0f, 0.0f};

    CHECK_THROWS_WITH_AS(log_loss(probabilities, labels),
                         doctest::Contains("probability at row 1 is 1.5"), std::invalid_argument);
}

TEST_CASE("log_loss: NaN probability is rejected") {
    std::vector<float> probabilities{std::nanf("")};
    std::vector<float> labels{1.0f};

    CHECK_THROWS_AS(log_loss(probabilities, labels), std::invalid_argument);
}

TEST_CASE("log_loss: eps of 0.5 or more is rejected") {
    CHECK_THROWS_AS(log_loss(kProbabilities, kLabels, -1e-15), std::invalid_argument);
    CHECK_THROWS_AS(log_loss(kProbabilities, kLabels, 0.5), std::invalid_argument);
    CHECK_THROWS_AS(log_loss(kProbabilities, kLabels, std::nan("")), std::invalid_argument);
}
