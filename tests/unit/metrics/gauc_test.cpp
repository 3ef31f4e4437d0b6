#include "metrics/classification.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

using recprune::metrics::gauc;
using recprune::metrics::GaucResult;

namespace {

// Hand-computed fixture, rows of four users interleaved:
// - user 1: scores [0.9, 0.4, 0.95], labels [1, 0, 0]. The positive beats 0.4 and loses to
//   0.95, so AUC_1 = 1/2; 3 impressions.
// - user 2: scores [0.3, 0.3, 0.8, 0.1], labels [1, 0, 1, 0]. Positive 0.3 ties 0.3 (1/2) and
//   beats 0.1 (1); positive 0.8 beats both (2); AUC_2 = 3.5 / 4 = 0.875; 4 impressions.
// - user 3: labels [1, 1] and user 4: label [0], one class each, so they are left out.
// GAUC = (3 * 0.5 + 4 * 0.875) / (3 + 4) = 5 / 7.
struct Fixture {
    std::vector<float> scores{0.9f, 0.3f, 0.7f, 0.4f, 0.3f, 0.2f, 0.95f, 0.8f, 0.6f, 0.1f};
    std::vector<float> labels{1.0f, 1.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 0.0f};
    std::vector<uint32_t> users{1, 2, 3, 1, 2, 4, 1, 2, 3, 2};
};

}  // namespace

TEST_CASE("gauc: weights user AUCs by impressions") {
    Fixture fixture;

    GaucResult result = gauc(fixture.scores, fixture.labels, fixture.users);

    REQUIRE(result.value.value.has_value());
    // 5/7 by hand (fixture comment); the tolerance covers the rounding of the two products.
    CHECK(*result.value.value == doctest::Approx(5.0 / 7.0).epsilon(1e-15));
    CHECK(result.users_used == 2);
    CHECK(result.users_left_out == 2);
    CHECK(result.weighting == "impressions");
}

TEST_CASE("gauc: row order does not change the bits") {
    Fixture fixture;
    GaucResult reference = gauc(fixture.scores, fixture.labels, fixture.users);
    REQUIRE(reference.value.value.has_value());
    std::vector<size_t> order(fixture.scores.size());
    for (size_t row = 0; row < order.size(); ++row) order[row] = row;
    std::mt19937 generator(7);

    for (int shuffle = 0; shuffle < 50; ++shuffle) {
        std::shuffle(order.begin(), order.end(), generator);
        Fixture permuted;
        for (size_t row = 0; row < order.size(); ++row) {
            permuted.scores[row] = fixture.scores[order[row]];
            permuted.labels[row] = fixture.labels[order[row]];
            permuted.users[row] = fixture.users[order[row]];
        }
        GaucResult result = gauc(permuted.scores, permuted.labels, permuted.users);
        REQUIRE(result.value.value.has_value());
        CHECK(*result.value.value == *reference.value.value);
    }
}

TEST_CASE("gauc: only single-class users give null") {
    std::vector<float> scores{0.1f, 0.2f, 0.3f};
    std::vector<float> labels{1.0f, 1.0f, 0.0f};
    std::vector<uint32_t> users{1, 1, 2};

    GaucResult result = gauc(scores, labels, users);

    CHECK_FALSE(result.value.value.has_value());
    CHECK(result.value.status == "undefined_single_class");
    CHECK(result.users_used == 0);
    CHECK(result.users_left_out == 2);
}

TEST_CASE("gauc: JSON names weighting and counts") {
    Fixture fixture;

    boost::json::object json = to_json(gauc(fixture.scores, fixture.labels, fixture.users));

    CHECK(json.at("weighting").as_string() == "impressions");
    CHECK(json.at("users_used").to_number<int>() == 2);
    CHECK(json.at("users_left_out").to_number<int>() == 2);
    CHECK(json.at("status").as_string() == "ok");
    CHECK(json.at("value").is_double());
}

TEST_CASE("gauc: users length mismatch is rejected") {
    std::vector<float> scores{0.1f, 0.2f};
    std::vector<float> labels{1.0f, 0.0f};
    std::vector<uint32_t> users{1};

    CHECK_THROWS_AS(gauc(scores, labels, users), std::invalid_argument);
}
