#include "metrics/classification.hpp"

#include "metrics/input_checks.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace recprune::metrics {
namespace {

/// Exact counts behind the Mann-Whitney U statistic of one group of rows.
struct PairCounts {
    uint64_t positives = 0;
    uint64_t negatives = 0;
    /// 2U, where U counts (positive, negative) pairs with the positive scored higher as 1 and
    /// tied pairs as 1/2. Doubling keeps it an integer. It is at most 2 * n_pos * n_neg
    /// <= n^2 / 2, below 2^63 because the callers reject more than 2^32 - 1 rows.
    uint64_t twice_u = 0;
};

/// Counts pairs over `rows` (indices into scores/labels) already sorted by ascending score.
/// Within a run of equal scores only the class counts matter, so the order of tied rows, and
/// with it the input order, cannot change the result.
PairCounts count_pairs(std::span<const uint32_t> rows, std::span<const float> scores,
                       std::span<const float> labels) {
    PairCounts counts;
    size_t begin = 0;
    while (begin < rows.size()) {
        size_t end = begin;
        uint64_t group_positives = 0;
        uint64_t group_negatives = 0;
        while (end < rows.size() && scores[rows[end]] == scores[rows[begin]]) {
            if (labels[rows[end]] == 1.0f) {
                ++group_positives;
            } else {
                ++group_negatives;
            }
            ++end;
        }

        // Each positive of the group beats every negative below it (2 half-points each) and
        // ties with every negative of the group (1 half-point each).
        counts.twice_u += group_positives * (2 * counts.negatives + group_negatives);
        counts.positives += group_positives;
        counts.negatives += group_negatives;
        begin = end;
    }
    return counts;
}

double auc_from_counts(const PairCounts& counts) {
    double pairs = static_cast<double>(counts.positives) * static_cast<double>(counts.negatives);
    return static_cast<double>(counts.twice_u) / (2.0 * pairs);
}

void check_classification_input(std::string_view metric, std::span<const float> scores,
                                std::span<const float> labels) {
    detail::check_same_length(metric, "scores", scores.size(), "labels", labels.size());
    detail::check_no_nan(metric, "score", scores);
    detail::check_binary_labels(metric, labels);
    if (scores.size() > UINT32_MAX) {
        throw std::invalid_argument("invalid metric input: " + std::string(metric) + ": " +
                                    std::to_string(scores.size()) +
                                    " rows, more than 2^32 - 1; evaluate in parts");
    }
}

std::string single_class_reason(const PairCounts& counts) {
    return "the labels contain one class only (" + std::to_string(counts.positives) +
           " positive, " + std::to_string(counts.negatives) +
           " negative), so no positive-negative pair exists";
}

}  // namespace

MetricValue auc(std::span<const float> scores, std::span<const float> labels) {
    check_classification_input("auc", scores, labels);
    if (scores.empty()) {
        return MetricValue::undefined(kStatusUndefinedEmpty, "auc over zero rows");
    }

    std::vector<uint32_t> rows(scores.size());
    std::iota(rows.begin(), rows.end(), 0u);
    std::sort(rows.begin(), rows.end(),
              [&](uint32_t a, uint32_t b) { return scores[a] < scores[b]; });
    PairCounts counts = count_pairs(rows, scores, labels);

    if (counts.positives == 0 || counts.negatives == 0) {
        return MetricValue::undefined(kStatusUndefinedSingleClass, single_class_reason(counts));
    }
    return MetricValue::defined(auc_from_counts(counts));
}

MetricValue log_loss(std::span<const float> probabilities, std::span<const float> labels,
                     double eps) {
    detail::check_same_length("log_loss", "probabilities", probabilities.size(), "labels",
                              labels.size());
    detail::check_binary_labels("log_loss", labels);
    if (!(eps >= 0.0 && eps < 0.5)) {
        throw std::invalid_argument("invalid metric input: log_loss: eps " +
                                    detail::format_number(eps) +
                                    " is outside [0, 0.5); use the default 1e-15 or 0 for "
                                    "no clipping");
    }
    for (size_t row = 0; row < probabilities.size(); ++row) {
        float p = probabilities[row];
        if (p >= 0.0f && p <= 1.0f) continue;
        throw std::invalid_argument("invalid metric input: log_loss: probability at row " +
                                    std::to_string(row) + " is " + detail::format_number(p) +
                                    ", outside [0, 1]; pass sigmoid outputs, not logits");
    }
    if (probabilities.empty()) {
        return MetricValue::undefined(kStatusUndefinedEmpty, "log_loss over zero rows");
    }

    double sum = 0.0;
    for (size_t row = 0; row < probabilities.size(); ++row) {
        double p = probabilities[row];
        // 1 - p is exact in double for every float p >= 2^-29; below that q rounds to 1,
        // which changes the loss by less than p.
        double q = labels[row] == 1.0f ? p : 1.0 - p;
        double clipped = std::max(eps, q);
        if (clipped == 0.0) {
            return MetricValue::undefined(
                kStatusInfinite, "row " + std::to_string(row) + " has label " +
                                     std::to_string(static_cast<int>(labels[row])) +
                                     " and p = " + detail::format_number(p) +
                                     ", so the true class got probability 0 and eps = 0 does "
                                     "not clip it; the loss is +infinity");
        }
        sum -= std::log(clipped);
    }
    return MetricValue::defined(sum / static_cast<double>(probabilities.size()));
}

GaucResult gauc(std::span<const float> scores, std::span<const float> labels,
                std::span<const uint32_t> users) {
    check_classification_input("gauc", scores, labels);
    detail::check_same_length("gauc", "scores", scores.size(), "users", users.size());
    GaucResult result;
    if (scores.empty()) {
        result.value = MetricValue::undefined(kStatusUndefinedEmpty, "gauc over zero rows");
        return result;
    }

    // Group rows by user (ascending id) and sort each group by score in one pass.
    std::vector<uint32_t> rows(scores.size());
    std::iota(rows.begin(), rows.end(), 0u);
    std::sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) {
        if (users[a] != users[b]) return users[a] < users[b];
        return scores[a] < scores[b];
    });

    double weighted_sum = 0.0;
    double total_weight = 0.0;
    size_t begin = 0;
    while (begin < rows.size()) {
        size_t end = begin;
        while (end < rows.size() && users[rows[end]] == users[rows[begin]]) ++end;
        std::span<const uint32_t> user_rows(rows.data() + begin, end - begin);
        PairCounts counts = count_pairs(user_rows, scores, labels);
        begin = end;

        if (counts.positives == 0 || counts.negatives == 0) {
            ++result.users_left_out;
            continue;
        }
        auto impressions = static_cast<double>(user_rows.size());
        weighted_sum += impressions * auc_from_counts(counts);
        total_weight += impressions;
        ++result.users_used;
    }

    if (result.users_used == 0) {
        result.value = MetricValue::undefined(
            kStatusUndefinedSingleClass,
            "each of the " + std::to_string(result.users_left_out) +
                " users has rows of one class only, so no user AUC is defined");
        return result;
    }
    result.value = MetricValue::defined(weighted_sum / total_weight);
    return result;
}

MetricValue with_user_counts(const GaucResult& result) {
    MetricValue value = result.value;
    value.details["users_used"] = result.users_used;
    value.details["users_left_out"] = result.users_left_out;
    value.details["weighting"] = result.weighting;
    return value;
}

boost::json::object to_json(const GaucResult& result) { return to_json(with_user_counts(result)); }

}  // namespace recprune::metrics
