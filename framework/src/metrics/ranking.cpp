#include "metrics/ranking.hpp"

#include "metrics/input_checks.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace recprune::metrics {
namespace {

void throw_repeated_relevant(uint32_t item) {
    throw std::invalid_argument("invalid relevant set: item " + std::to_string(item) +
                                " is listed more than once; give each item once");
}

void check_k(size_t k) {
    if (k > 0) return;
    throw std::invalid_argument("invalid metric input: top-K metric: k is 0; give k >= 1");
}

/// 1 / log2(rank + 1) for ranks starting at 1.
double discount(size_t rank) {
    return 1.0 / std::log2(static_cast<double>(rank) + 1.0);
}

/// Returns the k best candidate items, best first. `relevant_rank` is 0 for every item when ties
/// go by id only, and 1 for relevant items when they go last.
std::vector<uint32_t> top_k_by_score(std::span<const uint32_t> items,
                                     std::span<const float> scores, size_t k,
                                     const std::function<int(uint32_t)>& relevant_rank) {
    detail::check_same_length("rank_by_score", "items", items.size(), "scores", scores.size());
    detail::check_no_nan("rank_by_score", "score", scores);
    check_k(k);
    std::unordered_set<uint32_t> distinct(items.begin(), items.end());
    if (distinct.size() != items.size()) {
        throw std::invalid_argument("invalid metric input: rank_by_score: the " +
                                    std::to_string(items.size()) + " candidates contain only " +
                                    std::to_string(distinct.size()) +
                                    " distinct items; give each candidate once");
    }

    // With distinct items the order below is total, so the input order cannot matter.
    std::vector<uint32_t> positions(items.size());
    std::iota(positions.begin(), positions.end(), 0u);
    auto better = [&](uint32_t a, uint32_t b) {
        if (scores[a] != scores[b]) return scores[a] > scores[b];
        int rank_a = relevant_rank(items[a]);
        int rank_b = relevant_rank(items[b]);
        if (rank_a != rank_b) return rank_a < rank_b;
        return items[a] < items[b];
    };
    size_t count = std::min(k, positions.size());
    std::partial_sort(positions.begin(), positions.begin() + static_cast<ptrdiff_t>(count),
                      positions.end(), better);

    std::vector<uint32_t> ranked(count);
    for (size_t rank = 0; rank < count; ++rank) ranked[rank] = items[positions[rank]];
    return ranked;
}

}  // namespace

RelevantItems RelevantItems::binary(std::span<const uint32_t> items) {
    RelevantItems result;
    for (uint32_t item : items) {
        if (!result.gain_by_item_.emplace(item, 1.0).second) throw_repeated_relevant(item);
    }
    result.gains_descending_.assign(items.size(), 1.0);
    return result;
}

RelevantItems RelevantItems::graded(std::span<const std::pair<uint32_t, double>> item_gains) {
    RelevantItems result;
    std::unordered_set<uint32_t> listed;
    for (const auto& [item, gain] : item_gains) {
        if (!listed.insert(item).second) throw_repeated_relevant(item);
        if (!(std::isfinite(gain) && gain >= 0.0)) {
            throw std::invalid_argument("invalid relevant set: item " + std::to_string(item) +
                                        " has gain " + detail::format_number(gain) +
                                        "; give a finite gain >= 0");
        }
        if (gain == 0.0) continue;
        result.gain_by_item_.emplace(item, gain);
        result.gains_descending_.push_back(gain);
    }
    std::sort(result.gains_descending_.begin(), result.gains_descending_.end(),
              std::greater<>());
    return result;
}

double RelevantItems::gain(uint32_t item) const {
    auto found = gain_by_item_.find(item);
    return found == gain_by_item_.end() ? 0.0 : found->second;
}

RankingScores ranking_scores_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant,
                                  size_t k) {
    check_k(k);
    if (relevant.empty()) {
        auto undefined = MetricValue::undefined(
            kStatusUndefinedNoPositive, "the user has no relevant item in the evaluation part");
        return {undefined, undefined, undefined, undefined, undefined};
    }

    // Credit each relevant item once, at its first position within the top K.
    std::unordered_set<uint32_t> credited;
    double dcg = 0.0;
    size_t first_hit_rank = 0;
    size_t cut = std::min(k, ranked.size());
    for (size_t position = 0; position < cut; ++position) {
        uint32_t item = ranked[position];
        if (!relevant.contains(item) || !credited.insert(item).second) continue;
        size_t rank = position + 1;
        dcg += relevant.gain(item) * discount(rank);
        if (first_hit_rank == 0) first_hit_rank = rank;
    }

    double ideal_dcg = 0.0;
    std::span<const double> ideal = relevant.gains_descending();
    for (size_t position = 0; position < std::min(k, ideal.size()); ++position) {
        ideal_dcg += ideal[position] * discount(position + 1);
    }

    auto hits = static_cast<double>(credited.size());
    RankingScores scores;
    scores.hr = MetricValue::defined(credited.empty() ? 0.0 : 1.0);
    scores.precision = MetricValue::defined(hits / static_cast<double>(k));
    scores.recall = MetricValue::defined(hits / static_cast<double>(relevant.size()));
    scores.ndcg = MetricValue::defined(dcg / ideal_dcg);
    scores.mrr = MetricValue::defined(
        first_hit_rank == 0 ? 0.0 : 1.0 / static_cast<double>(first_hit_rank));
    return scores;
}

MetricValue hr_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant, size_t k) {
    return ranking_scores_at_k(ranked, relevant, k).hr;
}

MetricValue precision_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant,
                           size_t k) {
    return ranking_scores_at_k(ranked, relevant, k).precision;
}

MetricValue recall_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant,
                        size_t k) {
    return ranking_scores_at_k(ranked, relevant, k).recall;
}

MetricValue ndcg_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant, size_t k) {
    return ranking_scores_at_k(ranked, relevant, k).ndcg;
}

MetricValue mrr_at_k(std::span<const uint32_t> ranked, const RelevantItems& relevant, size_t k) {
    return ranking_scores_at_k(ranked, relevant, k).mrr;
}

std::vector<uint32_t> rank_by_score(std::span<const uint32_t> items, std::span<const float> scores,
                                    size_t k) {
    return top_k_by_score(items, scores, k, [](uint32_t) { return 0; });
}

std::vector<uint32_t> rank_by_score_relevant_last(std::span<const uint32_t> items,
                                                  std::span<const float> scores, size_t k,
                                                  const RelevantItems& relevant) {
    return top_k_by_score(items, scores, k,
                          [&](uint32_t item) { return relevant.contains(item) ? 1 : 0; });
}

}  // namespace recprune::metrics
