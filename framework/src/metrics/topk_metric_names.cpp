#include "metrics/topk_metric_names.hpp"

#include <array>
#include <utility>

namespace recprune::metrics {

std::optional<TopKMetricName> parse_topk_metric_name(std::string_view name) {
    using Kind = TopKMetricName::Kind;
    static constexpr std::array<std::pair<std::string_view, Kind>, 5> kKinds = {{
        {"hr", Kind::Hr},
        {"ndcg", Kind::Ndcg},
        {"recall", Kind::Recall},
        {"precision", Kind::Precision},
        {"mrr", Kind::Mrr},
    }};
    if (name == "mrr") return TopKMetricName{Kind::Mrr, std::nullopt};

    const size_t at = name.find('@');
    if (at == std::string_view::npos) return std::nullopt;
    const std::string_view base = name.substr(0, at);
    const std::string_view digits = name.substr(at + 1);
    if (digits.empty() || digits.size() > 10 || digits.front() == '0') return std::nullopt;
    size_t k = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        k = k * 10 + static_cast<size_t>(c - '0');
    }
    if (k > kMaxTopK) return std::nullopt;
    for (const auto& [text, kind] : kKinds) {
        if (base == text) return TopKMetricName{kind, k};
    }
    return std::nullopt;
}

std::string topk_metric_name_forms() {
    return "hr@K, ndcg@K, recall@K, precision@K or mrr@K with K between 1 and 1000000000, "
           "or mrr";
}

}  // namespace recprune::metrics
