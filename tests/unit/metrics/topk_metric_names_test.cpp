#include "metrics/topk_metric_names.hpp"

#include <doctest/doctest.h>

using recprune::metrics::parse_topk_metric_name;
using Kind = recprune::metrics::TopKMetricName::Kind;

TEST_CASE("top-K metric names: kind and cut-off are parsed") {
    auto hr = parse_topk_metric_name("hr@5");
    REQUIRE(hr.has_value());
    CHECK(hr->kind == Kind::Hr);
    CHECK(hr->k == 5u);
    CHECK(parse_topk_metric_name("ndcg@1000000000")->k == 1000000000u);
    CHECK(parse_topk_metric_name("precision@3")->kind == Kind::Precision);
    CHECK(parse_topk_metric_name("recall@12")->kind == Kind::Recall);
    CHECK(parse_topk_metric_name("mrr@2")->k == 2u);
    auto mrr = parse_topk_metric_name("mrr");
    REQUIRE(mrr.has_value());
    CHECK(mrr->kind == Kind::Mrr);
    CHECK_FALSE(mrr->k.has_value());
}

TEST_CASE("top-K metric names: other text is not a name") {
    for (const char* name : {"hr", "hr@", "hr@0", "hr@01", "hr@+5", "hr@5 ", "HR@5", "ndcg@1e3",
                             "ndcg@1000000001", "ndcg@99999999999", "auc", "@5", "mrr@0"}) {
        CAPTURE(name);
        CHECK_FALSE(parse_topk_metric_name(name).has_value());
    }
}
