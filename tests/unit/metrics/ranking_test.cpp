#include "metrics/ranking.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

using recprune::metrics::hr_at_k;
using recprune::metrics::mean_over_defined;
using recprune::metrics::MeanOverDefined;
using recprune::metrics::MetricValue;
using recprune::metrics::mrr_at_k;
using recprune::metrics::ndcg_at_k;
using recprune::metrics::precision_at_k;
using recprune::metrics::rank_by_score;
using recprune::metrics::rank_by_score_relevant_last;
using recprune::metrics::ranking_scores_at_k;
using recprune::metrics::RankingScores;
using recprune::metrics::recall_at_k;
using recprune::metrics::RelevantItems;

namespace {

// Expected values below are given to 6 decimals by hand (discount 1/log2(rank + 1):
// 1, 0.630930, 0.5, 0.430677 for ranks 1 to 4), so 5e-7 covers their rounding.
constexpr double kSixDecimals = 5e-7;

// Item ids standing for letters in the hand computations.
constexpr uint32_t kA = 1;
constexpr uint32_t kB = 2;
constexpr uint32_t kC = 3;
constexpr uint32_t kD = 4;
constexpr uint32_t kW = 23;
constexpr uint32_t kX = 24;
constexpr uint32_t kY = 25;
constexpr uint32_t kZ = 26;

double value_of(const MetricValue& metric) {
    REQUIRE(metric.value.has_value());
    return *metric.value;
}

}  // namespace

TEST_CASE("ndcg: ideal list is cut at K") {
    // Truth {i1:3, i2:5, i3:4}, list [i1, i2], K = 2. DCG = 3 + 5 * 0.630930 = 6.154649 and
    // IDCG@2 = 5 + 4 * 0.630930 = 7.523719, so NDCG@2 = 0.818033 by hand. An IDCG over all
    // three items (9.023719) would give 0.682052.
    std::vector<std::pair<uint32_t, double>> gains{{1, 3.0}, {2, 5.0}, {3, 4.0}};
    RelevantItems relevant = RelevantItems::graded(gains);
    std::vector<uint32_t> ranked{1, 2};

    double ndcg = value_of(ndcg_at_k(ranked, relevant, 2));

    CHECK(std::abs(ndcg - 0.818033) <= kSixDecimals);
    CHECK(std::abs(ndcg - 0.682052) > 1e-3);
}

TEST_CASE("ndcg: recommended list is cut at K") {
    // Truth as above, list [i2, i3, i1], K = 2: DCG@2 = IDCG@2, so NDCG@2 = 1 by hand. Summing
    // DCG over the whole list gives 9.023719 / 7.523719 = 1.199369, above 1.
    std::vector<std::pair<uint32_t, double>> gains{{1, 3.0}, {2, 5.0}, {3, 4.0}};
    RelevantItems relevant = RelevantItems::graded(gains);
    std::vector<uint32_t> ranked{2, 3, 1};

    double ndcg = value_of(ndcg_at_k(ranked, relevant, 2));

    CHECK(ndcg == 1.0);
}

TEST_CASE("ndcg: IDCG uses the whole relevant set") {
    // Items 0..4 with relevance [10, 0, 0, 1, 5] and scores [0.1, 0.2, 0.3, 4, 70]. By score the
    // top 3 has relevances 5, 1, 0: DCG@3 = 5 + 0.630930 = 5.630930; IDCG@3 = 10 + 5 * 0.630930
    // + 0.5 = 13.654649; NDCG@3 = 0.412382 by hand. Building IDCG from the top 3's own labels
    // gives 1.0. With K = 5, DCG adds 10 * 0.386853 and NDCG@5 = 0.695694 by hand.
    std::vector<std::pair<uint32_t, double>> gains{{0, 10.0}, {1, 0.0}, {2, 0.0}, {3, 1.0},
                                                   {4, 5.0}};
    RelevantItems relevant = RelevantItems::graded(gains);
    std::vector<uint32_t> items{0, 1, 2, 3, 4};
    std::vector<float> scores{0.1f, 0.2f, 0.3f, 4.0f, 70.0f};

    std::vector<uint32_t> top3 = rank_by_score(items, scores, 3);
    std::vector<uint32_t> top5 = rank_by_score(items, scores, 5);

    CHECK(top3 == std::vector<uint32_t>{4, 3, 2});
    CHECK(relevant.size() == 3);
    CHECK(std::abs(value_of(ndcg_at_k(top3, relevant, 3)) - 0.412382) <= kSixDecimals);
    CHECK(std::abs(value_of(ndcg_at_k(top5, relevant, 5)) - 0.695694) <= kSixDecimals);
}

TEST_CASE("ndcg: binary relevance with a miss inside K") {
    // Relevant {a, b, c}, list [a, x, b], K = 2: DCG = 1 and IDCG@2 = 1.630930, so NDCG@2 =
    // 0.613147 by hand. Slip (a), IDCG over 3 items, gives 0.469279; slip (b), DCG over the
    // whole list, gives 0.919721.
    std::array<uint32_t, 3> relevant_items{kA, kB, kC};
    RelevantItems relevant = RelevantItems::binary(relevant_items);
    std::vector<uint32_t> ranked{kA, kX, kB};

    double ndcg = value_of(ndcg_at_k(ranked, relevant, 2));

    CHECK(std::abs(ndcg - 0.613147) <= kSixDecimals);
}

TEST_CASE("top-K: precision divides by K") {
    // Relevant {a}, list [x, y, a, z, w], K = 5: HR = 1, precision = 1/5, recall = 1/1, NDCG =
    // (1/log2 4) / 1 = 0.5, all by hand. Dividing by min(K, relevant) gives precision 1.0.
    std::array<uint32_t, 1> relevant_items{kA};
    RelevantItems relevant = RelevantItems::binary(relevant_items);
    std::vector<uint32_t> ranked{kX, kY, kA, kZ, kW};

    RankingScores scores = ranking_scores_at_k(ranked, relevant, 5);

    CHECK(value_of(scores.hr) == 1.0);
    CHECK(value_of(scores.precision) == 0.2);
    CHECK(value_of(scores.recall) == 1.0);
    CHECK(value_of(scores.ndcg) == 0.5);
    CHECK(value_of(scores.mrr) == doctest::Approx(1.0 / 3.0));
}

TEST_CASE("top-K: list shorter than K is not padded") {
    // Only 3 ranked items, relevant {a}, list [x, a, y], K = 10: HR@10 = 1 and NDCG@10 =
    // 0.630930 / 1 by hand; the metric reads only the 3 items given.
    std::array<uint32_t, 1> relevant_items{kA};
    RelevantItems relevant = RelevantItems::binary(relevant_items);
    std::vector<uint32_t> ranked{kX, kA, kY};

    RankingScores scores = ranking_scores_at_k(ranked, relevant, 10);

    CHECK(value_of(scores.hr) == 1.0);
    CHECK(std::abs(value_of(scores.ndcg) - 0.630930) <= kSixDecimals);
    // precision still divides by K = 10 (1/10), so a short list gains nothing.
    CHECK(value_of(scores.precision) == 0.1);
}

TEST_CASE("top-K: a repeated item is credited once") {
    // Relevant {a, b}, list [a, a, x], K = 3. Only the first a counts: recall = 1/2, precision
    // = 1/3, HR = 1, NDCG = 1 / (1 + 0.630930) = 0.613147, all by hand. Counting both copies
    // gives recall 1.0.
    std::array<uint32_t, 2> relevant_items{kA, kB};
    RelevantItems relevant = RelevantItems::binary(relevant_items);
    std::vector<uint32_t> ranked{kA, kA, kX};

    RankingScores scores = ranking_scores_at_k(ranked, relevant, 3);

    CHECK(value_of(scores.recall) == 0.5);
    CHECK(value_of(scores.precision) == doctest::Approx(1.0 / 3.0));
    CHECK(value_of(scores.hr) == 1.0);
    CHECK(std::abs(value_of(scores.ndcg) - 0.613147) <= kSixDecimals);
    CHECK(value_of(scores.ndcg) <= 1.0);
}

TEST_CASE("top-K: repeated copies keep their positions") {
    // Relevant {a, b}, list [a, a, b], K = 2: the second a takes rank 2, so b is outside the
    // top 2 and recall@2 = 1/2 by hand.
    std::array<uint32_t, 2> relevant_items{kA, kB};
    RelevantItems relevant = RelevantItems::binary(relevant_items);
    std::vector<uint32_t> ranked{kA, kA, kB};

    CHECK(value_of(recall_at_k(ranked, relevant, 2)) == 0.5);
}

TEST_CASE("mrr: reciprocal rank of the first hit") {
    // Relevant {b, d}, list [a, b, c, d]: the first relevant item is at rank 2, so MRR@4 = 1/2;
    // with K = 1 nothing relevant is in the top 1, so MRR@1 = 0. Both by hand.
    std::array<uint32_t, 2> relevant_items{kB, kD};
    RelevantItems relevant = RelevantItems::binary(relevant_items);
    std::vector<uint32_t> ranked{kA, kB, kC, kD};

    CHECK(value_of(mrr_at_k(ranked, relevant, 4)) == 0.5);
    CHECK(value_of(mrr_at_k(ranked, relevant, 1)) == 0.0);
}

TEST_CASE("mrr: mean over users leaves out a user without positives") {
    // User 1: list [x, a], relevant {a} -> 1/2. User 2: no relevant item -> null. User 3:
    // list [a], relevant {a} -> 1. Mean over the defined users = 0.75 by hand, not 0.5.
    std::array<uint32_t, 1> only_a{kA};
    RelevantItems relevant_a = RelevantItems::binary(only_a);
    RelevantItems nothing;
    std::vector<uint32_t> list1{kX, kA};
    std::vector<uint32_t> list2{kA, kB};
    std::vector<uint32_t> list3{kA};
    std::array<MetricValue, 3> per_user{mrr_at_k(list1, relevant_a, 10),
                                        mrr_at_k(list2, nothing, 10),
                                        mrr_at_k(list3, relevant_a, 10)};

    MeanOverDefined mean = mean_over_defined(per_user);

    CHECK(per_user[1].status == "undefined_no_positive");
    CHECK(value_of(mean.mean) == 0.75);
    CHECK(mean.n_defined == 2);
    CHECK(mean.n_undefined == 1);
}

TEST_CASE("top-K: no relevant item gives null for every metric") {
    RelevantItems nothing;
    std::vector<uint32_t> ranked{kA, kB};

    RankingScores scores = ranking_scores_at_k(ranked, nothing, 2);

    for (const MetricValue* metric :
         {&scores.hr, &scores.precision, &scores.recall, &scores.ndcg, &scores.mrr}) {
        CHECK_FALSE(metric->value.has_value());
        CHECK(metric->status == "undefined_no_positive");
    }
}

TEST_CASE("top-K: k of 0 is rejected") {
    std::array<uint32_t, 1> relevant_items{kA};
    RelevantItems relevant = RelevantItems::binary(relevant_items);
    std::vector<uint32_t> ranked{kA};

    CHECK_THROWS_AS(hr_at_k(ranked, relevant, 0), std::invalid_argument);
    CHECK_THROWS_AS(precision_at_k(ranked, relevant, 0), std::invalid_argument);
}

TEST_CASE("relevant items: repeats and bad gains are rejected") {
    std::array<uint32_t, 2> repeated{kA, kA};
    std::vector<std::pair<uint32_t, double>> negative_gain{{kA, -1.0}};
    std::vector<std::pair<uint32_t, double>> nan_gain{{kA, std::nan("")}};

    CHECK_THROWS_AS(RelevantItems::binary(repeated), std::invalid_argument);
    CHECK_THROWS_AS(RelevantItems::graded(negative_gain), std::invalid_argument);
    CHECK_THROWS_AS(RelevantItems::graded(nan_gain), std::invalid_argument);
}

TEST_CASE("rank by score: ties go by item id in any input order") {
    // Items 7, 3, 5 tie at 0.5 and item 9 leads with 0.9; ties are ordered by ascending id.
    std::vector<uint32_t> items{7, 9, 3, 5};
    std::vector<float> scores{0.5f, 0.9f, 0.5f, 0.5f};
    std::vector<uint32_t> reversed_items{5, 3, 9, 7};
    std::vector<float> reversed_scores{0.5f, 0.5f, 0.9f, 0.5f};

    std::vector<uint32_t> ranked = rank_by_score(items, scores, 10);
    std::vector<uint32_t> reversed = rank_by_score(reversed_items, reversed_scores, 10);

    CHECK(ranked == std::vector<uint32_t>{9, 3, 5, 7});
    CHECK(reversed == ranked);
    CHECK(rank_by_score(items, scores, 2) == std::vector<uint32_t>{9, 3});
}

TEST_CASE("rank by score: relevant items go last on ties") {
    // All scores equal, as from a fully pruned model: the relevant item 1 goes after the others,
    // so HR@3 = 0 rather than 1 (which ordering by id alone would give).
    std::vector<uint32_t> items{1, 2, 3, 4};
    std::vector<float> scores{0.5f, 0.5f, 0.5f, 0.5f};
    std::array<uint32_t, 1> relevant_items{1};
    RelevantItems relevant = RelevantItems::binary(relevant_items);

    std::vector<uint32_t> by_id = rank_by_score(items, scores, 3);
    std::vector<uint32_t> pessimistic = rank_by_score_relevant_last(items, scores, 3, relevant);

    CHECK(by_id == std::vector<uint32_t>{1, 2, 3});
    CHECK(pessimistic == std::vector<uint32_t>{2, 3, 4});
    CHECK(value_of(hr_at_k(pessimistic, relevant, 3)) == 0.0);
}

TEST_CASE("rank by score: NaN and repeated candidates are rejected") {
    std::vector<uint32_t> items{1, 2};
    std::vector<float> nan_scores{0.5f, std::numeric_limits<float>::quiet_NaN()};
    std::vector<uint32_t> repeated{1, 1};
    std::vector<float> scores{0.5f, 0.4f};

    CHECK_THROWS_WITH_AS(rank_by_score(items, nan_scores, 1),
                         doctest::Contains("score at row 1 is NaN"), std::invalid_argument);
    CHECK_THROWS_AS(rank_by_score(repeated, scores, 1), std::invalid_argument);
}
