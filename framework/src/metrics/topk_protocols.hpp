// The two top-K evaluation protocols: leave-one-out with sampled negatives and full ranking over
// unseen items. Both rank each user's candidates by score and average the per-user metrics over
// the users that have a relevant item.
#pragma once

#include "metrics/metric_value.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace recprune::metrics {

/// One user's input to evaluate_leave_one_out(): the held-out items and the sampled negatives,
/// scored by the model. All spans are borrowed for the call.
struct LeaveOneOutUser {
    uint32_t user = 0;
    /// The held-out items and the N sampled negatives, in any order; distinct ids.
    std::span<const uint32_t> candidate_items;
    /// One score per candidate.
    std::span<const float> candidate_scores;
    /// The held-out items, each of which must be among the candidates: one for a
    /// leave-one-out split, possibly several when a random or time split puts several of the
    /// user's positives into the evaluated part. Empty for a user with no held-out item: such a
    /// user gets null metrics and is counted as left out.
    std::span<const uint32_t> held_out;
};

/// One user's input to evaluate_full_ranking(). All spans are borrowed for the call.
struct FullRankingUser {
    uint32_t user = 0;
    /// Score of every item, indexed by item id.
    std::span<const float> item_scores;
    /// Items not ranked for this user: the items seen in training, and any id that is no item
    /// (such as the out-of-vocabulary id 0).
    std::span<const uint32_t> excluded_items;
    /// The user's positives in the evaluation part; none may be excluded. Empty gives null
    /// metrics and counts the user as left out.
    std::span<const uint32_t> relevant_items;
};

/// Per-protocol means over users.
struct TopKReport {
    /// "leave_one_out" or "full_ranking".
    std::string protocol;
    size_t k = 0;
    /// Smallest and largest number of candidates a user was ranked among.
    size_t min_candidates = 0;
    size_t max_candidates = 0;
    /// Users with at least one relevant item; the means run over them.
    size_t users_evaluated = 0;
    /// Users with no relevant item; their metrics are null and left out of the means.
    size_t users_left_out = 0;
    MeanOverDefined hr;
    MeanOverDefined ndcg;
    MeanOverDefined recall;
    MeanOverDefined precision;
    MeanOverDefined mrr;
};

/// Leave-one-out with sampled negatives, the protocol of He et al., "Neural Collaborative
/// Filtering", WWW 2017 (arXiv:1708.05031). Each user's held-out item is ranked among N items
/// the user has not interacted with, and HR@K and NDCG@K are averaged over users. Several
/// held-out items of one user are ranked together among the same negatives, all relevant, as
/// evaluate_full_ranking() ranks several relevant items.
///
/// Ties in score put the held-out items after the negatives (rank_by_score_relevant_last()).
/// Users are averaged in ascending id order, so the input order does not change the result.
/// @throws std::invalid_argument when k is 0, a user id repeats, a held-out item is missing
///         from the candidates or repeats, or as rank_by_score().
TopKReport evaluate_leave_one_out(std::span<const LeaveOneOutUser> users, size_t k);

/// Full ranking: each user's relevant items are ranked among all items except the excluded
/// ones, with the same tie rule and averaging as evaluate_leave_one_out(). Unlike sampled
/// negatives, this ranks against the whole catalogue, so the metrics are not estimates.
/// @throws std::invalid_argument when k is 0, a user id repeats, a relevant item is excluded or
///         outside the score array, or a candidate score is NaN.
TopKReport evaluate_full_ranking(std::span<const FullRankingUser> users, size_t k);

/// {"protocol", "k", "min_candidates", "max_candidates", "users_evaluated", "users_left_out",
/// "metrics": {"hr", "ndcg", "recall", "precision", "mrr"}}, each metric as
/// to_json(const MeanOverDefined&).
boost::json::object to_json(const TopKReport& report);

}  // namespace recprune::metrics
