#include "report/summary_table.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <sstream>
#include <string>
#include <vector>

using recprune::report::summary_table;

namespace {

// Builds a pruned result row with the keys the summary table reads.
boost::json::object pruned_row(boost::json::object pruner_params, boost::json::object schedule,
                               int seed, double auc) {
    boost::json::object row;
    row["kind"] = "pruned";
    row["status"] = "ok";
    row["dataset"] = {{"name", "movietweetings"}, {"params", boost::json::object()}};
    row["model"] = {{"name", "fm"}, {"params", {{"embedding_dim", 16}}}};
    row["pruner"] = {{"name", "magnitude"}, {"params", std::move(pruner_params)}};
    row["schedule"] = std::move(schedule);
    row["seed"] = seed;
    row["target_sparsity"] = 0.5;
    row["metrics"] = {{"test", {{"auc", {{"value", auc}, {"status", "ok"}}}}}};
    return row;
}

boost::json::object iterative(int steps) {
    return {{"name", "iterative"}, {"steps", steps}, {"finetune_epochs", 1}};
}

// Returns the table lines after the header and the rule under it.
std::vector<std::string> body_lines(const std::string& table) {
    std::vector<std::string> lines;
    std::istringstream in(table);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return {lines.begin() + 2, lines.end()};
}

}  // namespace

TEST_CASE("summary table: schedules with other parameters stay apart") {
    const boost::json::object granularity = {{"granularity", "weight"}};
    const std::vector<boost::json::object> rows = {
        pruned_row(granularity, iterative(1), 1, 0.75),
        pruned_row(granularity, iterative(3), 1, 0.65),
    };
    const auto lines = body_lines(summary_table(rows, {"auc"}));

    // Each entry has one seed, so each line shows seeds 1 and no deviation. A merged line
    // would show seeds 2 and 0.7000 +- 0.0707.
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("iterative(steps=1)") != std::string::npos);
    CHECK(lines[0].find("| 1     |") != std::string::npos);
    CHECK(lines[0].find("0.7500") != std::string::npos);
    CHECK(lines[1].find("iterative(steps=3)") != std::string::npos);
    CHECK(lines[1].find("0.6500") != std::string::npos);
}

TEST_CASE("summary table: seeds of one entry share a line") {
    const boost::json::object granularity = {{"granularity", "weight"}};
    const std::vector<boost::json::object> rows = {
        pruned_row(granularity, iterative(3), 1, 0.70),
        pruned_row(granularity, iterative(3), 2, 0.80),
    };
    const auto lines = body_lines(summary_table(rows, {"auc"}));

    // Mean of 0.70 and 0.80; sample deviation sqrt(2 * 0.05^2 / 1) = 0.0707.
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("| iterative |") != std::string::npos);
    CHECK(lines[0].find("| 2     |") != std::string::npos);
    CHECK(lines[0].find("0.7500 ± 0.0707") != std::string::npos);
}

TEST_CASE("summary table: pruner labels match the report") {
    const std::vector<boost::json::object> rows = {
        pruned_row({{"granularity", "weight"}}, iterative(3), 1, 0.75),
        pruned_row({{"granularity", "field"}}, iterative(3), 1, 0.65),
    };
    const auto lines = body_lines(summary_table(rows, {"auc"}));

    // The labels are those of report_test's "pruner variants with other parameters stay apart".
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("magnitude(granularity=field)") != std::string::npos);
    CHECK(lines[1].find("magnitude(granularity=weight)") != std::string::npos);
}

TEST_CASE("summary table: training settings that differ get their own lines") {
    // A grid axis over training.lr: two learning rates, one seed each.
    std::vector<boost::json::object> rows = {
        pruned_row({{"granularity", "weight"}}, iterative(3), 1, 0.70),
        pruned_row({{"granularity", "weight"}}, iterative(3), 1, 0.80),
    };
    rows[0]["training"] = {{"epochs", 5}, {"lr", 0.001}};
    rows[1]["training"] = {{"epochs", 5}, {"lr", 0.002}};
    const std::string table = summary_table(rows, {"auc"});
    const auto lines = body_lines(table);

    // Pooled as seeds they would read seeds 2 and 0.7500 +- 0.0707.
    CHECK(table.find("| training ") != std::string::npos);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("| lr=0.001 |") != std::string::npos);
    CHECK(lines[0].find("0.7000") != std::string::npos);
    CHECK(lines[1].find("| lr=0.002 |") != std::string::npos);
    CHECK(lines[1].find("0.8000") != std::string::npos);
}

TEST_CASE("summary table: a metric of another task shows a dash") {
    // A grid with a CTR and a rating dataset: each row has only its own task's metrics.
    std::vector<boost::json::object> rows = {
        pruned_row({{"granularity", "weight"}}, iterative(3), 1, 0.70),
        pruned_row({{"granularity", "weight"}}, iterative(3), 1, 0.0),
    };
    rows[1]["dataset"] = {{"name", "movielens"}, {"params", boost::json::object()}};
    rows[1]["metrics"] = {{"test", {{"rmse", {{"value", 0.95}, {"status", "ok"}}}}}};
    const auto lines = body_lines(summary_table(rows, {"auc", "rmse"}));

    // Sorted by dataset: movielens (rmse only), then movietweetings (auc only). The cells are
    // padded to the headers "test auc" and "test rmse".
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("| -        | 0.9500    |") != std::string::npos);
    CHECK(lines[1].find("| 0.7000   | -         |") != std::string::npos);
    CHECK(lines[0].find("undefined") == std::string::npos);
    CHECK(lines[1].find("undefined") == std::string::npos);
}
