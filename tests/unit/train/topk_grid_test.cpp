// The top-K task end to end: the grid tests/fixtures/grids/topk_neumf.json (NeuMF on the
// hand-written MovieTweetings fixture, both ranking protocols, two pruners) runs through the
// grid runner and gives defined, finite metrics and the same values however many cells run at
// once.
#include "../plugin/plugin_test_support.hpp"

#include "grid/grid.hpp"
#include "run/grid_runner.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

using recprune::test::contains;
using recprune::test::real_plugin;
using recprune::test::ScratchDir;

namespace {

const recprune::plugin::PluginRegistry& registry() {
    static const recprune::plugin::PluginRegistry instance = [] {
        recprune::plugin::PluginRegistry plugins;
        plugins.add(real_plugin("dataset", "movietweetings"), false);
        plugins.add(real_plugin("model", "neumf"), false);
        plugins.add(real_plugin("pruner", "magnitude"), false);
        plugins.add(real_plugin("pruner", "permutation"), false);
        for (const auto& rejected : plugins.rejected()) {
            FAIL_CHECK("test plugin rejected: " << rejected.message);
        }
        return plugins;
    }();
    return instance;
}

recprune::run::RunSummary run_fixture_grid(const std::filesystem::path& output, int threads) {
    const auto path = recprune::test::fixtures_dir() / "grids" / "topk_neumf.json";
    recprune::grid::Grid grid = recprune::grid::load_grid(path, registry());
    recprune::run::RunOptions options;
    options.output = output;
    options.threads = threads;
    return recprune::run::run_grid(grid, registry(), options);
}

}  // namespace

TEST_CASE("top-K grid: NeuMF gives defined metrics under both protocols") {
    ScratchDir scratch;

    auto summary = run_fixture_grid(scratch.path() / "parallel", 2);

    // 2 dense cells (one per protocol), each with 2 pruners x 2 schedules x 1 sparsity.
    CHECK(summary.cells == 10);
    CHECK(summary.failed == 0);
    REQUIRE(summary.rows.size() == 10);
    for (const auto& row : summary.rows) {
        const std::string protocol(row.at("data").at("protocol").as_string());
        CAPTURE(protocol);
        CAPTURE(boost::json::serialize(row.at("kind")));
        CHECK(row.at("status") != "failed");
        for (const char* part : {"validation", "test"}) {
            for (const char* name : {"ndcg@10", "hr@10", "hr@5", "recall@10", "mrr"}) {
                CAPTURE(part);
                CAPTURE(name);
                const auto& metric = row.at("metrics").at(part).at(name);
                CHECK(metric.at("status") == "ok");
                REQUIRE(metric.at("value").is_number());
                const double value = metric.at("value").to_number<double>();
                CHECK(std::isfinite(value));
                CHECK(value >= 0.0);
                CHECK(value <= 1.0);
            }
        }

        // The row records the protocol, the negatives and the users left out.
        const auto& topk = row.at("topk");
        CHECK(topk.at("protocol").as_string() == protocol);
        CHECK(topk.at("train_negatives").to_number<int>() == 4);
        CHECK(topk.as_object().contains("eval_negatives") == (protocol == "leave_one_out"));
        const auto& test = topk.at("test");
        CHECK(test.at("users_evaluated").to_number<int>() > 0);
        CHECK(test.at("users_evaluated").to_number<int>() +
                  test.at("users_left_out").to_number<int>() ==
              test.at("users").to_number<int>());
        // The fixture has 40 users, one test row each (leave-one-out split).
        CHECK(test.at("users").to_number<int>() == 40);
    }
}

TEST_CASE("top-K grid: the stop rule treats NDCG as higher is better") {
    ScratchDir scratch;

    auto summary = run_fixture_grid(scratch.path() / "out", 2);

    // The fixture's rules allow validation NDCG@10 to drop 0.01 or 0.5 from the dense model. A
    // step meets its rule exactly when dense - step <= drop; a lower-is-better reading would
    // accept every drop.
    int steps_met = 0;
    int steps_failed = 0;
    for (const auto& row : summary.rows) {
        if (row.at("kind") != "pruned") continue;
        const double dense =
            row.at("dense_metrics").at("validation").at("ndcg@10").at("value").to_number<double>();
        const double drop = row.at("schedule").at("max_metric_drop").to_number<double>();
        for (const auto& step : row.at("schedule_log").at("steps").as_array()) {
            const double score = step.at("validation").to_number<double>();
            CAPTURE(dense);
            CAPTURE(score);
            CAPTURE(drop);
            const bool met = step.at("met_stop_rule").as_bool();
            CHECK(met == (dense - score <= drop));
            ++(met ? steps_met : steps_failed);
        }
        if (row.at("status") == "target_not_reached") {
            CHECK(contains(std::string(row.at("message").as_string()), "validation ndcg@10"));
        }
    }
    // Both outcomes occur in this fixture (measured), so both branches are checked.
    CHECK(steps_met > 0);
    CHECK(steps_failed > 0);
}

TEST_CASE("top-K grid: serial and parallel runs give the same metrics") {
    ScratchDir scratch;

    auto parallel = run_fixture_grid(scratch.path() / "parallel", 2);
    auto serial = run_fixture_grid(scratch.path() / "serial", 1);

    REQUIRE(parallel.rows.size() == serial.rows.size());
    for (const auto& row : parallel.rows) {
        const auto& id = row.at("cell_id");
        const boost::json::object* twin = nullptr;
        for (const auto& other : serial.rows) {
            if (other.at("cell_id") == id) twin = &other;
        }
        REQUIRE(twin != nullptr);
        CHECK(boost::json::serialize(row.at("metrics")) ==
              boost::json::serialize(twin->at("metrics")));
        CHECK(boost::json::serialize(row.at("topk")) == boost::json::serialize(twin->at("topk")));
    }
}
