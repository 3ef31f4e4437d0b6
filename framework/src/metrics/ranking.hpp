// Top-K metrics over one user's ranked list of item ids: HR@K, precision@K, recall@K, NDCG@K and
// MRR@K, plus the ranking of candidate items by score.
//
// Conventions: ranks start at 1. An item that appears more than once in a list is credited at
// its first position only; its later copies still take up their positions. A list shorter than
// K is scored as it is, without padding. A user with no relevant item gets null with status
// "undefined_no_positive" for every metric.
#pragma once

#include "metrics/metric_value.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace recprune::metrics {

/// The relevant items of one user, each with its gain (relevance grade).
class RelevantItems {
public:
    RelevantItems() = default;

    /// Every item has gain 1. Throws std::invalid_argument on a repeated item.
    static RelevantItems binary(std::span<const uint32_t> items);

    /// Graded relevance. Gains must be finite and >= 0; an item with gain 0 is not relevant.
    /// Throws std::invalid_argument on a repeated item or a bad gain.
    static RelevantItems graded(std::span<const std::pair<uint32_t, double>> item_gains);

    /// Number of items with gain > 0.
    size_t size() const { return gain_by_item_.size(); }
    bool empty() const { return gain_by_item_.empty(); }
    bool contains(uint32_t item) const { return gain_by_item_.contains(item); }
    /// Gain of `item`, 0 when it is not relevant.
    double gain(uint32_t item) const;
    /// Gains of the relevant items, largest first: the ideal ordering behind IDCG.
    std::span<const double> gains_descending() const { return gains_descending_; }

private:
    std::unordered_map<uint32_t, double> gain_by_item_;
    std::vector<double> gains_descending_;
};

/// All top-K metrics of one user, from one pass over the list.
struct RankingScores {
    /// 1 when at least one relevant item is in the top K, else 0.
    MetricValue hr;
    /// Distinct relevant items in the top K divided by K (not by the list length, so a list
    /// shorter than K is not rewarded for being short).
    MetricValue precision;
    /// Distinct relevant items in the top K divided by the number of relevant items.
    MetricValue recall;
    /// DCG@K / IDCG@K with linear gain and discount 1 / log2(rank + 1); IDCG@K is the DCG of
    /// the user's whole relevant set in ideal order, cut at K.
    MetricValue ndcg;
    /// 1 / rank of the first relevant item in the top K, 0 when there is none.
    MetricValue mrr;
};

/// Computes every metric of RankingScores for one user.
/// @param ranked item ids, best first; may be shorter than k and may contain repeats.
/// @param k cut-off, at least 1.
/// @throws std::invalid_argument when k is 0.
RankingScores ranking_scores_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant,
                                  size_t k);

/// One metric of ranking_scores_at_k(); the same arguments, conventions and errors.
MetricValue hr_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant, size_t k);
MetricValue precision_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant,
                           size_t k);
MetricValue recall_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant,
                        size_t k);
MetricValue ndcg_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant, size_t k);
MetricValue mrr_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant, size_t k);

/// Returns the k candidate items with the highest scores, best first, in O(n log k). Ties are
/// broken by ascending item id, so the result does not depend on the candidates' order.
/// @param items distinct candidate item ids.
/// @param scores one per item; +inf and -inf are allowed.
/// @throws std::invalid_argument on a NaN score, a repeated item or lengths that differ.
std::vector<uint32_t> rank_by_score(std::span<const uint32_t> items, std::span<const float> scores,
                                    size_t k);

/// Like rank_by_score(), but on equal scores a relevant item goes after every non-relevant one
/// (then ascending item id). A model that gives all candidates one score, such as a fully
/// pruned one, then scores 0 instead of profiting from the item numbering. The evaluation
/// protocols rank this way.
std::vector<uint32_t> rank_by_score_relevant_last(std::span<const uint32_t> items,
                                                  std::span<const float> scores, size_t k,
                                                  const RelevantItems& relevant);

}  // namespace recprune::metrics
