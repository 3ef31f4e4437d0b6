// Names of the top-K metrics a grid can request: "hr@K", "ndcg@K", "recall@K", "precision@K",
// "mrr@K" for any K >= 1, and "mrr" for the reciprocal rank over the whole ranked list.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace recprune::metrics {

/// Largest K a metric name may carry; larger cut-offs rank every candidate anyway.
inline constexpr size_t kMaxTopK = 1000000000;

/// A parsed top-K metric name.
struct TopKMetricName {
    enum class Kind { Hr, Ndcg, Recall, Precision, Mrr };
    Kind kind = Kind::Hr;
    /// The cut-off, or no value for "mrr", which ranks the whole candidate list.
    std::optional<size_t> k;
};

/// Parses a top-K metric name. Returns no value for any other text: a K of 0 or above
/// kMaxTopK, a K with a sign or leading zeros, or a missing K on a metric other than mrr.
/// Rejecting leading zeros keeps "hr@010" from naming a second column next to "hr@10".
std::optional<TopKMetricName> parse_topk_metric_name(std::string_view name);

/// Text for messages listing the accepted names.
std::string topk_metric_name_forms();

}  // namespace recprune::metrics
