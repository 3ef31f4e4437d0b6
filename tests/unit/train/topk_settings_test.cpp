// The grid side of the top-K task: the data settings train_negatives, protocol and
// eval_negatives, and metric names with any cut-off K.
#include "../plugin/plugin_test_support.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "data/settings.hpp"
#include "grid/grid.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using recprune::data::DataSettings;
using recprune::data::parse_data_settings;
using recprune::test::contains;

namespace {

boost::json::object entry(const std::string& text) {
    return recprune::json_io::parse(text, "test").as_object();
}

const recprune::plugin::PluginRegistry& registry() {
    static const recprune::plugin::PluginRegistry instance = recprune::test::make_grid_registry();
    return instance;
}

// A dense-only grid on the CLI fixture with the given task and metrics.
recprune::grid::Grid load(const std::string& task, const std::string& metrics) {
    const std::string text = R"({"datasets": [{"name": "movietweetings",
        "params": {"path": "movietweetings-tiny"}, "task": ")" + task + R"("}],
        "models": ["logistic_regression"], "metrics": )" + metrics + "}";
    return recprune::grid::load_grid_text(text, "test.json",
                                          recprune::test::fixtures_dir() / "data" / "cli",
                                          registry());
}

std::string problems_of(const std::string& task, const std::string& metrics) {
    try {
        load(task, metrics);
    } catch (const recprune::ConfigError& e) {
        return e.what();
    }
    FAIL_CHECK("the grid was accepted: " << metrics);
    return "";
}

}  // namespace

TEST_CASE("top-K settings: defaults follow He et al.") {
    std::vector<std::string> problems;

    DataSettings settings = parse_data_settings(entry(R"({"task": "topk"})"), "$.d", problems);

    CHECK(problems.empty());
    CHECK(settings.topk.train_negatives == 4);
    CHECK(settings.topk.protocol == "leave_one_out");
    CHECK(settings.topk.eval_negatives == 99);
    auto json = settings.to_json();
    CHECK(json.at("train_negatives").to_number<int>() == 4);
    CHECK(json.at("protocol") == "leave_one_out");
    CHECK(json.at("eval_negatives").to_number<int>() == 99);
}

TEST_CASE("top-K settings: every key is read") {
    std::vector<std::string> problems;

    DataSettings settings = parse_data_settings(
        entry(R"({"task": "topk", "train_negatives": 0, "protocol": "full_ranking",
                  "eval_negatives": 999})"),
        "$.d", problems);

    CHECK(problems.empty());
    CHECK(settings.topk.train_negatives == 0);
    CHECK(settings.topk.protocol == "full_ranking");
    CHECK(settings.topk.eval_negatives == 999);
}

TEST_CASE("top-K settings: bad values name their path") {
    std::vector<std::string> problems;

    parse_data_settings(entry(R"({"task": "topk", "train_negatives": -1,
                                  "protocol": "sampled", "eval_negatives": 0})"),
                        "$.datasets[0]", problems);

    REQUIRE(problems.size() == 3);
    CHECK(contains(problems[0], "$.datasets[0].train_negatives: -1 is not a non-negative"));
    CHECK(contains(problems[1], "$.datasets[0].protocol: \"sampled\" is not one of "
                                "leave_one_out, full_ranking"));
    CHECK(contains(problems[2], "$.datasets[0].eval_negatives: 0 is outside [1, "));
}

TEST_CASE("top-K settings: keys on another task are a problem") {
    std::vector<std::string> problems;

    DataSettings settings = parse_data_settings(entry(R"({"protocol": "full_ranking"})"),
                                                "$.datasets[0]", problems);

    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0], "$.datasets[0].protocol: \"protocol\" applies to task "
                                "\"topk\" only, and the task here is \"ctr\"; add \"task\": "
                                "\"topk\" or remove the key"));
    // Other tasks keep their settings JSON, and so their cell ids, free of top-K keys.
    CHECK_FALSE(settings.to_json().contains("protocol"));
}

TEST_CASE("top-K metrics: any cut-off K is accepted") {
    auto grid = load("topk", R"(["hr@5", "ndcg@20", "recall@1", "precision@3", "mrr@7", "mrr"])");

    REQUIRE(grid.cells.size() == 1);
    CHECK(grid.cells[0].metrics.front() == "hr@5");
    CHECK(recprune::grid::higher_is_better("hr@5"));
    CHECK(recprune::grid::higher_is_better("mrr"));
}

TEST_CASE("top-K metrics: malformed names are rejected") {
    for (const char* name : {"hr@0", "hr", "ndcg@010", "hr@-1", "hr@5x", "auc", "map@10"}) {
        CAPTURE(name);
        std::string message = problems_of("topk", std::string("[\"") + name + "\"]");
        CHECK(contains(message, std::string("\"") + name + "\" is not a metric of the topk task; "
                                "use hr@K, ndcg@K"));
    }
    // A top-K name on a CTR dataset is still an error.
    CHECK(contains(problems_of("ctr", R"(["hr@10"])"),
                   "\"hr@10\" is not a metric of the ctr task; use one of auc, logloss, gauc"));
}
