#include "metrics/classification.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

using recprune::metrics::auc;
using recprune::metrics::MeanOverDefined;
using recprune::metrics::mean_over_defined;
using recprune::metrics::MetricValue;

namespace {

// Second implementation for cross-checks: 2U by comparing every positive with every negative,
// O(n^2), then the same final division as the library.
double brute_force_auc(const std::vector<float>& scores, const std::vector<float>& labels) {
    uint64_t twice_u = 0;
    uint64_t positives = 0;
    uint64_t negatives = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
        if (labels[i] == 1.0f) {
            ++positives;
        } else {
            ++negatives;
        }
        if (labels[i] != 1.0f) continue;
        for (size_t j = 0; j < scores.size(); ++j) {
            if (labels[j] != 0.0f) continue;
            if (scores[i] > scores[j]) twice_u += 2;
            if (scores[i] == scores[j]) twice_u += 1;
        }
    }
    return static_cast<double>(twice_u) /
           (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
}

// Bits of a double, so that "same result" means the same bits rather than approximately equal.
uint64_t bits_of(double value) {
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(bits));
    return bits;
}

}  // namespace

TEST_CASE("auc: single-class labels give null") {
    // Labels [1,1,1] and scores [0.2,0.5,0.9]: no positive-negative pair exists, so AUC is
    // undefined, and must be neither 0.0 nor 0.5 nor 1.0.
    std::vector<float> scores{0.2f, 0.5f, 0.9f};
    std::vector<float> labels{1.0f, 1.0f, 1.0f};

    MetricValue result = auc(scores, labels);

    CHECK_FALSE(result.value.has_value());
    CHECK(result.status == "undefined_single_class");
    CHECK_FALSE(result.reason.empty());
}

TEST_CASE("auc: all-negative labels give null") {
    std::vector<float> scores{0.2f, 0.5f};
    std::vector<float> labels{0.0f, 0.0f};

    MetricValue result = auc(scores, labels);

    CHECK_FALSE(result.value.has_value());
    CHECK(result.status == "undefined_single_class");
}

TEST_CASE("auc: mean over folds skips a single-class fold") {
    // Fold 1: labels [0,1,1], scores [0.5,0.5,0.9]; pairs (0.5 vs 0.5) = 0.5 and (0.9 vs 0.5)
    // = 1, so AUC = (0.5 + 1) / 2 = 0.75, computed by hand. Fold 2 contains one class only.
    std::vector<float> fold1_scores{0.5f, 0.5f, 0.9f};
    std::vector<float> fold1_labels{0.0f, 1.0f, 1.0f};
    std::vector<float> fold2_scores{0.2f, 0.5f, 0.9f};
    std::vector<float> fold2_labels{1.0f, 1.0f, 1.0f};
    std::array<MetricValue, 2> folds{auc(fold1_scores, fold1_labels),
                                     auc(fold2_scores, fold2_labels)};

    MeanOverDefined mean = mean_over_defined(folds);

    REQUIRE(mean.mean.value.has_value());
    CHECK(*mean.mean.value == 0.75);
    CHECK(mean.n_defined == 1);
    CHECK(mean.n_undefined == 1);
    // The wrong values when fold 2 is counted as 0, 0.5 or 1.
    CHECK(*mean.mean.value != 0.375);
    CHECK(*mean.mean.value != 0.625);
    CHECK(*mean.mean.value != 0.875);
}

TEST_CASE("auc: non-adjacent ties average their ranks") {
    // Labels [0,1,1], scores [0.5,0.9,0.5]: pairs (0.9 vs 0.5) = 1 and (0.5 vs 0.5) = 0.5, so
    // AUC = (1 + 0.5) / 2 = 0.75 by hand. Ranking by position without averaging gives 1.0 here
    // and 0.5 for the second order.
    std::vector<float> first_scores{0.5f, 0.9f, 0.5f};
    std::vector<float> first_labels{0.0f, 1.0f, 1.0f};
    std::vector<float> second_scores{0.5f, 0.5f, 0.9f};
    std::vector<float> second_labels{1.0f, 0.0f, 1.0f};

    MetricValue first = auc(first_scores, first_labels);
    MetricValue second = auc(second_scores, second_labels);

    REQUIRE(first.value.has_value());
    REQUIRE(second.value.has_value());
    CHECK(*first.value == 0.75);
    CHECK(*second.value == 0.75);
}

TEST_CASE("auc: every permutation of three rows gives the same bits") {
    // The three rows of the tie case above; all 3! orders must give 0.75 exactly.
    std::vector<float> scores{0.5f, 0.9f, 0.5f};
    std::vector<float> labels{0.0f, 1.0f, 1.0f};
    std::vector<size_t> order{0, 1, 2};
    size_t permutations = 0;

    do {
        std::vector<float> permuted_scores;
        std::vector<float> permuted_labels;
        for (size_t row : order) {
            permuted_scores.push_back(scores[row]);
            permuted_labels.push_back(labels[row]);
        }
        MetricValue result = auc(permuted_scores, permuted_labels);
        REQUIRE(result.value.has_value());
        CHECK(bits_of(*result.value) == bits_of(0.75));
        ++permutations;
    } while (std::next_permutation(order.begin(), order.end()));

    CHECK(permutations == 6);
}

TEST_CASE("auc: every permutation of eight tied rows gives the same bits") {
    // Three tie groups spread over the input; the expected value is the O(n^2) pair count
    // of brute_force_auc(), and all 8! = 40320 orders must match its bits.
    std::vector<float> scores{0.5f, 0.9f, 0.5f, 0.3f, 0.5f, 0.9f, 0.1f, 0.3f};
    std::vector<float> labels{0.0f, 1.0f, 1.0f, 0.0f, 1.0f, 0.0f, 1.0f, 1.0f};
    uint64_t expected_bits = bits_of(brute_force_auc(scores, labels));
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), size_t{0});
    size_t mismatches = 0;

    do {
        std::vector<float> permuted_scores;
        std::vector<float> permuted_labels;
        for (size_t row : order) {
            permuted_scores.push_back(scores[row]);
            permuted_labels.push_back(labels[row]);
        }
        MetricValue result = auc(permuted_scores, permuted_labels);
        if (!result.value.has_value() || bits_of(*result.value) != expected_bits) ++mismatches;
    } while (std::next_permutation(order.begin(), order.end()));

    CHECK(mismatches == 0);
}

TEST_CASE("auc: matches pair counting on tied data") {
    // 500 rows with scores on a 0.05 grid (many ties); the expected value comes from
    // brute_force_auc(), a second implementation, and must match to the bit. Shuffles with a
    // fixed seed must not change the bits either.
    std::mt19937 generator(20240611);
    std::uniform_int_distribution<int> grid(0, 20);
    std::bernoulli_distribution coin(0.3);
    std::vector<float> scores;
    std::vector<float> labels;
    for (int row = 0; row < 500; ++row) {
        scores.push_back(static_cast<float>(grid(generator)) * 0.05f);
        labels.push_back(coin(generator) ? 1.0f : 0.0f);
    }
    uint64_t expected_bits = bits_of(brute_force_auc(scores, labels));

    MetricValue result = auc(scores, labels);

    REQUIRE(result.value.has_value());
    CHECK(bits_of(*result.value) == expected_bits);
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), size_t{0});
    for (int shuffle = 0; shuffle < 20; ++shuffle) {
        std::shuffle(order.begin(), order.end(), generator);
        std::vector<float> permuted_scores;
        std::vector<float> permuted_labels;
        for (size_t row : order) {
            permuted_scores.push_back(scores[row]);
            permuted_labels.push_back(labels[row]);
        }
        MetricValue shuffled = auc(permuted_scores, permuted_labels);
        REQUIRE(shuffled.value.has_value());
        CHECK(bits_of(*shuffled.value) == expected_bits);
    }
}

TEST_CASE("auc: negative zero ties with zero") {
    // -0.0 == 0.0 in IEEE 754, so the pair is a tie worth 1/2: AUC = 0.5 by hand.
    std::vector<float> scores{-0.0f, 0.0f};
    std::vector<float> labels{1.0f, 0.0f};

    MetricValue result = auc(scores, labels);

    REQUIRE(result.value.has_value());
    CHECK(*result.value == 0.5);
}

TEST_CASE("auc: NaN score is rejected") {
    std::vector<float> scores{0.1f, std::numeric_limits<float>::quiet_NaN(), 0.3f};
    std::vector<float> labels{0.0f, 1.0f, 1.0f};

    CHECK_THROWS_WITH_AS(auc(scores, labels), doctest::Contains("score at row 1 is NaN"),
                         std::invalid_argument);
}

TEST_CASE("auc: label outside {0, 1} is rejected") {
    std::vector<float> scores{0.1f, 0.2f};
    std::vector<float> labels{0.0f, 4.0f};

    CHECK_THROWS_WITH_AS(auc(scores, labels), doctest::Contains("label at row 1 is 4"),
                         std::invalid_argument);
}

TEST_CASE("auc: lengths that differ are rejected") {
    std::vector<float> scores{0.1f, 0.2f};
    std::vector<float> labels{0.0f};

    CHECK_THROWS_AS(auc(scores, labels), std::invalid_argument);
}

TEST_CASE("auc: zero rows give null") {
    MetricValue result = auc({}, {});

    CHECK_FALSE(result.value.has_value());
    CHECK(result.status == "undefined_empty");
}
