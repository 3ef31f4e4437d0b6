// Metrics of binary classification for the CTR task: AUC, log loss and GAUC.
#pragma once

#include "metrics/metric_value.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace recprune::metrics {

/// Default clip of log_loss(): the probability of the true class is raised to at least 1e-15,
/// so one confident wrong prediction costs -ln(1e-15) = 34.538776 instead of infinity.
inline constexpr double kDefaultLogLossEps = 1e-15;

/// AUC as the Mann-Whitney U statistic over the rank sums, with tied scores given their
/// average rank, so a positive-negative pair with equal scores counts 1/2.
///
/// AUC = U / (n_pos * n_neg), computed in O(n log n) from exact integer pair counts per group of
/// equal scores. The result depends only on the multiset of (score, label) rows, so every
/// permutation of the rows gives the same bits.
///
/// @param scores any real values; larger means more likely positive. +inf and -inf are allowed.
/// @param labels exactly 0 or 1, one per score.
/// @returns "undefined_single_class" (value null) when the labels contain one class only, and
///          "undefined_empty" for zero rows.
/// @throws std::invalid_argument on a NaN score, a label other than 0 or 1, or lengths that
///         differ.
MetricValue auc(std::span<const float> scores, std::span<const float> labels);

/// Log loss in the q-clip form: the mean over rows of -ln(max(eps, q)), where q is the
/// probability the model gave the true class (q = p for label 1, q = 1 - p for label 0).
///
/// Clipping q, not p, keeps the loss of a confident wrong prediction at exactly -ln(eps). Clipping
/// p into [eps, 1 - eps] and then taking ln(1 - p) in double gives -ln(9.992e-16) for eps = 1e-15
/// instead, because 1 - (1 - 1e-15) rounds.
///
/// @param probabilities p(label = 1) per row, each in [0, 1].
/// @param labels exactly 0 or 1, one per probability.
/// @param eps clip in [0, 0.5). With eps = 0 a row whose true class got probability 0 makes
///        the loss infinite: the value is null with status "infinite".
/// @returns "undefined_empty" for zero rows.
/// @throws std::invalid_argument on a NaN or out-of-range probability, a bad label, differing
///         lengths or an eps outside [0, 0.5).
MetricValue log_loss(std::span<const float> probabilities, std::span<const float> labels,
                     double eps = kDefaultLogLossEps);

/// Result of gauc(): the value and how many users went into it.
struct GaucResult {
    MetricValue value;
    /// Users with both a positive and a negative row.
    size_t users_used = 0;
    /// Users whose rows contain one class only; their AUC is undefined, so they are left out.
    size_t users_left_out = 0;
    /// The weight of each user's AUC; always "impressions" (the user's row count).
    std::string weighting{"impressions"};
};

/// Group AUC over users: sum_u w_u * AUC_u / sum_u w_u, where AUC_u is auc() over the user's
/// rows and w_u is the user's number of rows (impressions), as in the user-weighted AUC of
/// Zhou et al., "Deep Interest Network for Click-Through Rate Prediction", KDD 2018. Users whose
/// rows contain one class are left out and counted in `users_left_out`.
///
/// Users are summed in ascending id order, so the result does not depend on the row order.
///
/// @returns value "undefined_single_class" when no user has both classes, "undefined_empty"
///          for zero rows.
/// @throws std::invalid_argument as auc(), and when `users` has another length.
GaucResult gauc(std::span<const float> scores, std::span<const float> labels,
                std::span<const uint32_t> users);

/// The value with "users_used", "users_left_out" and "weighting" as its details, the form a
/// result row carries.
MetricValue with_user_counts(const GaucResult& result);

/// {"value", "status", "reason"?, "users_used", "users_left_out", "weighting": "impressions"}.
boost::json::object to_json(const GaucResult& result);

}  // namespace recprune::metrics
