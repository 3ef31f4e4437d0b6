#include "metrics/topk_protocols.hpp"

#include "metrics/ranking.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <unordered_set>
#include <vector>

namespace recprune::metrics {
namespace {

/// Per-user metrics with the user id, so they can be averaged in id order.
struct UserScores {
    uint32_t user;
    RankingScores scores;
};

/// Visits users in ascending id order and rejects a repeated id.
template <typename User>
std::vector<size_t> order_by_user_id(std::span<const User> users, std::string_view protocol) {
    std::vector<size_t> order(users.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return users[a].user < users[b].user; });
    for (size_t i = 1; i < order.size(); ++i) {
        if (users[order[i]].user != users[order[i - 1]].user) continue;
        throw std::invalid_argument("invalid metric input: " + std::string(protocol) +
                                    ": user " + std::to_string(users[order[i]].user) +
                                    " appears more than once; give one entry per user");
    }
    return order;
}

TopKReport summarize(std::string protocol, size_t k, const std::vector<UserScores>& per_user,
                     size_t min_candidates, size_t max_candidates) {
    TopKReport report;
    report.protocol = std::move(protocol);
    report.k = k;
    report.min_candidates = per_user.empty() ? 0 : min_candidates;
    report.max_candidates = max_candidates;

    std::vector<MetricValue> hr, ndcg, recall, precision, mrr;
    for (const UserScores& entry : per_user) {
        hr.push_back(entry.scores.hr);
        ndcg.push_back(entry.scores.ndcg);
        recall.push_back(entry.scores.recall);
        precision.push_back(entry.scores.precision);
        mrr.push_back(entry.scores.mrr);
    }
    report.hr = mean_over_defined(hr);
    report.ndcg = mean_over_defined(ndcg);
    report.recall = mean_over_defined(recall);
    report.precision = mean_over_defined(precision);
    report.mrr = mean_over_defined(mrr);
    report.users_evaluated = report.hr.n_defined;
    report.users_left_out = report.hr.n_undefined;
    return report;
}

void check_k(size_t k, std::string_view protocol) {
    if (k > 0) return;
    throw std::invalid_argument("invalid metric input: " + std::string(protocol) +
                                ": k is 0; give k >= 1");
}

}  // namespace

TopKReport evaluate_leave_one_out(std::span<const LeaveOneOutUser> users, size_t k) {
    constexpr std::string_view kProtocol = "leave_one_out";
    check_k(k, kProtocol);
    std::vector<size_t> order = order_by_user_id(users, kProtocol);

    std::vector<UserScores> per_user;
    size_t min_candidates = std::numeric_limits<size_t>::max();
    size_t max_candidates = 0;
    for (size_t index : order) {
        const LeaveOneOutUser& user = users[index];
        std::string where = "leave_one_out: user " + std::to_string(user.user);
        for (uint32_t held : user.held_out) {
            if (std::find(user.candidate_items.begin(), user.candidate_items.end(), held) ==
                user.candidate_items.end()) {
                throw std::invalid_argument("invalid metric input: " + where +
                                            ": held-out item " + std::to_string(held) +
                                            " is not among the candidates; add it to them");
            }
        }

        RelevantItems relevant = RelevantItems::binary(user.held_out);
        std::vector<uint32_t> ranked = rank_by_score_relevant_last(
            user.candidate_items, user.candidate_scores, k, relevant);
        per_user.push_back({user.user, ranking_scores_at_k(ranked, relevant, k)});
        min_candidates = std::min(min_candidates, user.candidate_items.size());
        max_candidates = std::max(max_candidates, user.candidate_items.size());
    }
    return summarize(std::string(kProtocol), k, per_user, min_candidates, max_candidates);
}

TopKReport evaluate_full_ranking(std::span<const FullRankingUser> users, size_t k) {
    constexpr std::string_view kProtocol = "full_ranking";
    check_k(k, kProtocol);
    std::vector<size_t> order = order_by_user_id(users, kProtocol);

    std::vector<UserScores> per_user;
    size_t min_candidates = std::numeric_limits<size_t>::max();
    size_t max_candidates = 0;
    std::vector<uint32_t> candidates;
    std::vector<float> candidate_scores;
    for (size_t index : order) {
        const FullRankingUser& user = users[index];
        std::string where = "full_ranking: user " + std::to_string(user.user);
        std::vector<bool> excluded(user.item_scores.size(), false);
        for (uint32_t item : user.excluded_items) {
            if (item < excluded.size()) excluded[item] = true;
        }
        for (uint32_t item : user.relevant_items) {
            if (item >= user.item_scores.size()) {
                throw std::invalid_argument(
                    "invalid metric input: " + where + ": relevant item " + std::to_string(item) +
                    " is outside the " + std::to_string(user.item_scores.size()) +
                    " item scores; score every item id");
            }
            if (excluded[item]) {
                throw std::invalid_argument(
                    "invalid metric input: " + where + ": relevant item " + std::to_string(item) +
                    " is also excluded (seen in training); remove repeated interactions from "
                    "the split");
            }
        }

        // The candidates are every item id that is not excluded.
        candidates.clear();
        candidate_scores.clear();
        for (uint32_t item = 0; item < user.item_scores.size(); ++item) {
            if (excluded[item]) continue;
            candidates.push_back(item);
            candidate_scores.push_back(user.item_scores[item]);
        }

        RelevantItems relevant = RelevantItems::binary(user.relevant_items);
        std::vector<uint32_t> ranked =
            rank_by_score_relevant_last(candidates, candidate_scores, k, relevant);
        per_user.push_back({user.user, ranking_scores_at_k(ranked, relevant, k)});
        min_candidates = std::min(min_candidates, candidates.size());
        max_candidates = std::max(max_candidates, candidates.size());
    }
    return summarize(std::string(kProtocol), k, per_user, min_candidates, max_candidates);
}

boost::json::object to_json(const TopKReport& report) {
    boost::json::object metrics;
    metrics["hr"] = to_json(report.hr);
    metrics["ndcg"] = to_json(report.ndcg);
    metrics["recall"] = to_json(report.recall);
    metrics["precision"] = to_json(report.precision);
    metrics["mrr"] = to_json(report.mrr);

    boost::json::object json;
    json["protocol"] = report.protocol;
    json["k"] = report.k;
    json["min_candidates"] = report.min_candidates;
    json["max_candidates"] = report.max_candidates;
    json["users_evaluated"] = report.users_evaluated;
    json["users_left_out"] = report.users_left_out;
    json["metrics"] = std::move(metrics);
    return json;
}

}  // namespace recprune::metrics
