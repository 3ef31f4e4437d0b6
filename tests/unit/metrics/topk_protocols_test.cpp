#include "metrics/topk_protocols.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

using recprune::metrics::evaluate_full_ranking;
using recprune::metrics::evaluate_leave_one_out;
using recprune::metrics::FullRankingUser;
using recprune::metrics::LeaveOneOutUser;
using recprune::metrics::TopKReport;

namespace {

// 1 / log2(3), the discount at rank 2.
const double kDiscountRank2 = 1.0 / std::log2(3.0);

// Hand-computed leave-one-out fixture, K = 2:
// - user 7: held-out item 5 among negatives 1, 2, 3 with scores 5:0.5, 1:0.9, 2:0.1, 3:0.2.
//   Ranked [1, 5, 3, 2], so the hit is at rank 2: HR = 1, NDCG = 1/log2(3), MRR = 1/2,
//   precision = 1/2, recall = 1.
// - user 3: held-out item 4 among 9 and 8, scores 9:0.3, 4:0.7, 8:0.1. Rank 1: HR = NDCG = MRR
//   = recall = 1, precision = 1/2.
// - user 5: no held-out item, so null metrics and left out.
// Means over users 3 and 7: HR 1, NDCG (1 + 1/log2(3)) / 2, MRR 0.75, precision 0.5, recall 1.
struct LeaveOneOutFixture {
    std::vector<uint32_t> items7{5, 1, 2, 3};
    std::vector<float> scores7{0.5f, 0.9f, 0.1f, 0.2f};
    std::vector<uint32_t> held7{5};
    std::vector<uint32_t> items3{9, 4, 8};
    std::vector<float> scores3{0.3f, 0.7f, 0.1f};
    std::vector<uint32_t> held3{4};
    std::vector<uint32_t> items5{1, 2};
    std::vector<float> scores5{0.3f, 0.4f};

    std::vector<LeaveOneOutUser> users() const {
        return {{7, items7, scores7, held7}, {3, items3, scores3, held3}, {5, items5, scores5, {}}};
    }
};

}  // namespace

TEST_CASE("leave-one-out: averages over users with a held-out item") {
    LeaveOneOutFixture fixture;
    std::vector<LeaveOneOutUser> users = fixture.users();

    TopKReport report = evaluate_leave_one_out(users, 2);

    CHECK(report.protocol == "leave_one_out");
    CHECK(report.users_evaluated == 2);
    CHECK(report.users_left_out == 1);
    CHECK(report.min_candidates == 2);
    CHECK(report.max_candidates == 4);
    CHECK(*report.hr.mean.value == 1.0);
    CHECK(*report.ndcg.mean.value == doctest::Approx((1.0 + kDiscountRank2) / 2.0));
    CHECK(*report.mrr.mean.value == 0.75);
    CHECK(*report.precision.mean.value == 0.5);
    CHECK(*report.recall.mean.value == 1.0);
    CHECK(report.hr.n_undefined == 1);
}

TEST_CASE("leave-one-out: user order does not change the bits") {
    LeaveOneOutFixture fixture;
    std::vector<LeaveOneOutUser> users = fixture.users();
    std::vector<LeaveOneOutUser> reversed(users.rbegin(), users.rend());

    TopKReport forward = evaluate_leave_one_out(users, 2);
    TopKReport backward = evaluate_leave_one_out(reversed, 2);

    CHECK(*forward.ndcg.mean.value == *backward.ndcg.mean.value);
    CHECK(*forward.mrr.mean.value == *backward.mrr.mean.value);
}

TEST_CASE("leave-one-out: equal scores rank the held-out item last") {
    // A model that scores everything 0.5 must not hit: with 3 candidates and K = 2, the held-out
    // item takes rank 3, so HR@2 = 0 by hand (ties by id alone would put item 1 first).
    std::vector<uint32_t> items{1, 2, 3};
    std::vector<float> scores{0.5f, 0.5f, 0.5f};
    std::vector<uint32_t> held{1};
    std::vector<LeaveOneOutUser> users{{1, items, scores, held}};

    TopKReport report = evaluate_leave_one_out(users, 2);

    CHECK(*report.hr.mean.value == 0.0);
}

TEST_CASE("leave-one-out: several held-out items are ranked together") {
    // Held-out items 4 and 6 among negatives 1 and 2, scores 1:0.9, 4:0.8, 2:0.7, 6:0.1, so
    // the ranking is [1, 4, 2, 6]. K = 2: one of two relevant items in the top 2 at rank 2, so
    // HR = 1, recall = 1/2, precision = 1/2, MRR = 1/2, and NDCG = (1/log2 3) / (1 + 1/log2 3)
    // = 0.386853, all by hand.
    std::vector<uint32_t> items{4, 6, 1, 2};
    std::vector<float> scores{0.8f, 0.1f, 0.9f, 0.7f};
    std::vector<uint32_t> held{4, 6};
    std::vector<LeaveOneOutUser> users{{1, items, scores, held}};

    TopKReport report = evaluate_leave_one_out(users, 2);

    CHECK(*report.hr.mean.value == 1.0);
    CHECK(*report.recall.mean.value == 0.5);
    CHECK(*report.precision.mean.value == 0.5);
    CHECK(*report.mrr.mean.value == 0.5);
    CHECK(std::abs(*report.ndcg.mean.value - 0.386853) <= 5e-7);
}

TEST_CASE("leave-one-out: held-out item missing from candidates is rejected") {
    std::vector<uint32_t> items{1, 2};
    std::vector<float> scores{0.5f, 0.4f};
    std::vector<uint32_t> held{9};
    std::vector<LeaveOneOutUser> users{{4, items, scores, held}};

    CHECK_THROWS_WITH_AS(evaluate_leave_one_out(users, 1),
                         doctest::Contains("held-out item 9 is not among the candidates"),
                         std::invalid_argument);
}

TEST_CASE("leave-one-out: repeated user is rejected") {
    LeaveOneOutFixture fixture;
    std::vector<LeaveOneOutUser> users = fixture.users();
    users.push_back(users.front());

    CHECK_THROWS_WITH_AS(evaluate_leave_one_out(users, 2),
                         doctest::Contains("user 7 appears more than once"),
                         std::invalid_argument);
}

TEST_CASE("full ranking: excluded items are not ranked") {
    // Items 0..5 scored [0, 0.9, 0.8, 0.7, 0.6, 0.5]; item 0 (out of vocabulary) and item 1
    // (seen in training) are excluded, so the ranking is [2, 3, 4, 5]. Relevant {3, 5}, K = 3:
    // one hit (3) at rank 2, so HR = 1, precision = 1/3, recall = 1/2, MRR = 1/2 and NDCG =
    // (1/log2 3) / (1 + 1/log2 3) = 0.386853, all by hand.
    std::vector<float> item_scores{0.0f, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f};
    std::vector<uint32_t> excluded{0, 1};
    std::vector<uint32_t> relevant{3, 5};
    std::vector<uint32_t> none;
    std::vector<FullRankingUser> users{{1, item_scores, excluded, relevant},
                                       {2, item_scores, excluded, none}};

    TopKReport report = evaluate_full_ranking(users, 3);

    CHECK(report.protocol == "full_ranking");
    CHECK(report.users_evaluated == 1);
    CHECK(report.users_left_out == 1);
    CHECK(report.min_candidates == 4);
    CHECK(*report.hr.mean.value == 1.0);
    CHECK(*report.precision.mean.value == doctest::Approx(1.0 / 3.0));
    CHECK(*report.recall.mean.value == 0.5);
    CHECK(*report.mrr.mean.value == 0.5);
    // 6 decimals given by hand; 5e-7 covers their rounding.
    CHECK(std::abs(*report.ndcg.mean.value - 0.386853) <= 5e-7);
}

TEST_CASE("full ranking: relevant item that is excluded is rejected") {
    std::vector<float> item_scores{0.1f, 0.2f, 0.3f};
    std::vector<uint32_t> excluded{2};
    std::vector<uint32_t> relevant{2};
    std::vector<FullRankingUser> users{{1, item_scores, excluded, relevant}};

    CHECK_THROWS_WITH_AS(evaluate_full_ranking(users, 1),
                         doctest::Contains("relevant item 2 is also excluded"),
                         std::invalid_argument);
}

TEST_CASE("full ranking: report JSON lists every metric") {
    std::vector<float> item_scores{0.1f, 0.9f};
    std::vector<uint32_t> excluded{0};
    std::vector<uint32_t> relevant{1};
    std::vector<FullRankingUser> users{{1, item_scores, excluded, relevant}};

    boost::json::object json = to_json(evaluate_full_ranking(users, 10));

    CHECK(json.at("protocol").as_string() == "full_ranking");
    CHECK(json.at("k").to_number<int>() == 10);
    for (const char* name : {"hr", "ndcg", "recall", "precision", "mrr"}) {
        CHECK(json.at("metrics").at(name).at("status").as_string() == "ok");
    }
    CHECK(json.at("metrics").at("hr").at("value").as_double() == 1.0);
}
