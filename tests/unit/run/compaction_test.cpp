// The comparison behind the compaction check: compacted logits must match the masked model's
// within a relative tolerance, and a NaN on either side must fail it.
#include "run/compaction.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

using recprune::run::compare_logits;

TEST_CASE("compaction: equal logits compare as zero") {
    const std::vector<float> logits = {0.25f, -3.0f, 12.5f};

    const auto comparison = compare_logits(logits, logits);

    CHECK(comparison.max_abs_difference == 0.0);
    CHECK(comparison.max_relative_difference == 0.0);
}

TEST_CASE("compaction: relative difference scales with the logit") {
    // Row 0: |0.5| / (1 + 0) = 0.5. Row 1: |1.0| / (1 + 9) = 0.1. So row 0 is the worst even
    // though row 1 has the larger absolute difference.
    const std::vector<float> masked = {0.0f, 9.0f};
    const std::vector<float> compacted = {0.5f, 10.0f};

    const auto comparison = compare_logits(masked, compacted);

    CHECK(comparison.max_abs_difference == 1.0);
    CHECK(comparison.max_relative_difference == doctest::Approx(0.5));
    CHECK(comparison.worst_row == 0);
}

TEST_CASE("compaction: NaN logit is the worst row") {
    const std::vector<float> masked = {1.0f, 2.0f, 3.0f};
    const std::vector<float> compacted = {1.0f, std::numeric_limits<float>::quiet_NaN(), 3.5f};

    const auto comparison = compare_logits(masked, compacted);

    CHECK(std::isnan(comparison.max_relative_difference));
    CHECK(std::isnan(comparison.max_abs_difference));
    CHECK(comparison.worst_row == 1);
    // The check passes only when the maximum is <= the tolerance, which NaN never is.
    CHECK_FALSE(comparison.max_relative_difference <= 1e-4);
}
