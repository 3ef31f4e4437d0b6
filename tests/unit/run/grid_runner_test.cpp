// The grid runner on the hand-written MovieTweetings fixture (tests/fixtures/data/cli): a cell
// whose pruner fails is recorded while the others finish, and a rerun in the same folder
// reuses finished rows instead of writing them twice.
#include "../plugin/plugin_test_support.hpp"

#include "grid/grid.hpp"
#include "results/result_store.hpp"
#include "core/errors.hpp"
#include "run/grid_runner.hpp"
#include "run/granularity_check.hpp"
#include "run/saved_models.hpp"
#include "recprune/nn/compute.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

using recprune::test::contains;
using recprune::test::read_file;
using recprune::test::ScratchDir;

namespace {

const recprune::plugin::PluginRegistry& registry() {
    static const recprune::plugin::PluginRegistry instance = recprune::test::make_grid_registry();
    return instance;
}

// A grid of one dense group (logistic regression, seed 1) and its pruned cells.
recprune::grid::Grid tiny_grid(const std::string& pruners, const std::string& sparsities,
                               const std::string& schedules = R"(["one_shot"])",
                               const std::string& metrics = R"(["auc"])") {
    const auto data = recprune::test::fixtures_dir() / "data" / "cli" / "movietweetings-tiny";
    const std::string text = R"({
      "datasets": [{"name": "movietweetings", "params": {"path": ")" + data.string() + R"("},
                    "split": {"method": "random", "validation": 0.2, "test": 0.2, "seed": 5}}],
      "models": ["logistic_regression"],
      "pruners": )" + pruners + R"(,
      "sparsities": )" + sparsities + R"(,
      "schedules": )" + schedules + R"(,
      "training": {"epochs": 2, "batch_size": 64, "lr": 0.05},
      "seeds": [1],
      "metrics": )" + metrics + R"(
    })";
    return recprune::grid::load_grid_text(text, "tiny.json", data, registry());
}

recprune::run::RunSummary run(recprune::grid::Grid grid, const std::filesystem::path& output,
                              bool retry_failed = false) {
    recprune::run::RunOptions options;
    options.output = output;
    options.threads = 2;
    options.retry_failed = retry_failed;
    return recprune::run::run_grid(grid, registry(), options);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    size_t begin = 0;
    while (begin < text.size()) {
        size_t end = text.find('\n', begin);
        if (end == std::string::npos) end = text.size();
        lines.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    return lines;
}

const boost::json::object* row_with_pruner(const std::vector<boost::json::object>& rows,
                                           const std::string& pruner) {
    for (const auto& row : rows) {
        const auto* entry = row.if_contains("pruner");
        if (entry != nullptr && entry->at("name").as_string() == pruner) return &row;
    }
    return nullptr;
}

// A grid named reject.json over `models`, with the fixture_throwing_model plugin loaded.
recprune::grid::Grid throwing_model_grid(const std::string& models) {
    const auto data = recprune::test::fixtures_dir() / "data" / "cli" / "movietweetings-tiny";
    const std::string text = R"({
      "datasets": [{"name": "movietweetings", "params": {"path": ")" + data.string() + R"("}}],
      "models": )" + models + R"(,
      "pruners": ["magnitude"],
      "sparsities": [0.5]
    })";
    auto with_fixture = recprune::test::make_grid_registry();
    with_fixture.add(recprune::test::fixture_plugin("model_fixture_throwing_model"), false);
    return recprune::grid::load_grid_text(text, "reject.json", data, with_fixture);
}

}  // namespace

TEST_CASE("grid runner: a cell whose pruner fails is recorded and the others finish") {
    ScratchDir scratch;
    auto summary = run(tiny_grid(R"(["random", "fixture_failing_score", "magnitude"])", "[0.5]"),
                       scratch.path() / "out");
    CHECK(summary.cells == 4);
    CHECK(summary.ran == 4);
    CHECK(summary.failed == 1);
    REQUIRE(summary.rows.size() == 4);

    const auto* failed = row_with_pruner(summary.rows, "fixture_failing_score");
    REQUIRE(failed != nullptr);
    CHECK(failed->at("status") == "failed");
    // The message names the cell and carries the plugin's own text (fixture_plugin.c).
    CHECK(failed->at("message") ==
          "cell failed: dataset=movietweetings model=logistic_regression "
          "pruner=fixture_failing_score schedule=one_shot sparsity=0.5 seed=1: pruner failed: "
          "fixture_failing_score: this fixture fails every score call on purpose; remove it "
          "from the grid");

    for (const char* pruner : {"random", "magnitude"}) {
        const auto* row = row_with_pruner(summary.rows, pruner);
        REQUIRE_MESSAGE(row != nullptr, pruner);
        CHECK_MESSAGE(row->at("status") == "ok", pruner);
        const auto& auc = row->at("metrics").at("test").at("auc");
        CHECK_MESSAGE(auc.at("value").is_number(), pruner);
        // What ran: logistic regression reports only its precision.
        const boost::json::object f32_only{{"precision", "f32"}};
        CHECK_MESSAGE(row->at("compute") == f32_only, pruner);
    }
    CHECK(summary.rows[0].at("kind") == "dense");
    CHECK(summary.rows[0].at("status") == "ok");
    CHECK(summary.rows[0].at("compute").at("precision") == "f32");
    CHECK_FALSE(failed->contains("compute"));

    // Every row is in the JSON Lines file and in the final table.
    const auto folder = scratch.path() / "out";
    CHECK(recprune::results::read_rows(folder / "results.jsonl").size() == 4);
    CHECK(recprune::results::read_rows(folder / "results.json").size() == 4);
}

TEST_CASE("grid runner: a pruner that leaves scores unwritten fails its cell") {
    ScratchDir scratch;

    auto summary = run(tiny_grid(R"(["fixture_half_scores", "magnitude"])", "[0.5]"),
                       scratch.path() / "out");

    CHECK(summary.failed == 1);
    const auto* failed = row_with_pruner(summary.rows, "fixture_half_scores");
    REQUIRE(failed != nullptr);
    CHECK(failed->at("status") == "failed");
    // Read as 0, the unwritten half would prune the lowest unit indices and end the cell "ok".
    const std::string message(failed->at("message").as_string());
    CHECK(contains(message, "pruner=fixture_half_scores schedule=one_shot sparsity=0.5 seed=1: "
                            "pruner broke the ABI contract: "));
    CHECK(contains(message, " (fixture_half_scores): score left "));
    CHECK(contains(message, " scores unwritten or wrote NaN there"));
    CHECK(row_with_pruner(summary.rows, "magnitude")->at("status") == "ok");
}

TEST_CASE("grid runner: GAUC rows carry the users used and left out") {
    ScratchDir scratch;
    auto grid = tiny_grid(R"(["magnitude"])", "[0.5]", R"(["one_shot"])", R"(["auc", "gauc"])");
    // The users of the test part, from the same split the run makes.
    auto split = grid;
    const auto datasets = recprune::run::prepare_datasets(split, "");
    const auto& test_users = datasets.front().data.test.users;
    const std::set<uint32_t> distinct_users(test_users.begin(), test_users.end());

    auto summary = run(std::move(grid), scratch.path() / "out");

    REQUIRE(summary.rows.size() == 2);
    for (const auto& row : summary.rows) {
        const auto& gauc = row.at("metrics").at("test").at("gauc").as_object();
        CHECK(gauc.at("status") == "ok");
        CHECK(gauc.at("value").is_double());
        CHECK(gauc.at("weighting") == "impressions");
        // Every test user is either used (both classes) or left out (one class).
        const auto used = gauc.at("users_used").to_number<uint64_t>();
        const auto left_out = gauc.at("users_left_out").to_number<uint64_t>();
        CHECK(used >= 1);
        CHECK(used + left_out == distinct_users.size());
        // AUC keeps exactly its two keys.
        CHECK(row.at("metrics").at("test").at("auc").as_object().size() == 2);
    }
    // The table file carries the same objects.
    const auto table = recprune::results::read_rows(scratch.path() / "out" / "results.json");
    REQUIRE(table.size() == 2);
    CHECK(table[1].at("metrics").at("test").at("gauc") ==
          summary.rows[1].at("metrics").at("test").at("gauc"));
}

TEST_CASE("grid runner: a rerun reuses finished rows and retries failed ones on request") {
    ScratchDir scratch;
    const auto output = scratch.path() / "out";
    auto grid_text = [] { return tiny_grid(R"(["random", "fixture_failing_score"])", "[0.5]"); };
    auto first = run(grid_text(), output);
    REQUIRE(first.ran == 3);
    const std::string rows_before = read_file(output / "results.jsonl");

    auto second = run(grid_text(), output);
    CHECK(second.ran == 0);
    CHECK(second.reused == 3);
    CHECK(read_file(output / "results.jsonl") == rows_before);

    // With retry_failed only the failed cell runs again. Its dense group retrains for the
    // weights without writing a second dense row, and the failed cell's new row replaces the
    // old one.
    auto third = run(grid_text(), output, true);
    CHECK(third.ran == 1);
    CHECK(third.reused == 2);
    CHECK(third.failed == 1);
    CHECK(lines_of(read_file(output / "results.jsonl")).size() == 3);
    auto table = recprune::results::read_rows(output / "results.json");
    std::set<std::string> ids;
    for (const auto& row : table) ids.insert(std::string(row.at("cell_id").as_string()));
    CHECK(table.size() == 3);
    CHECK(ids.size() == 3);
}

TEST_CASE("grid runner: a run killed during its last cell resumes without duplicate rows") {
    ScratchDir scratch;
    const auto output = scratch.path() / "out";
    auto make = [] { return tiny_grid(R"(["random"])", "[0.5, 0.9]"); };
    auto complete = run(make(), output);
    REQUIRE(complete.ran == 3);
    REQUIRE(complete.failed == 0);

    // Keep two whole rows and half of the third, as a kill in the middle of a write leaves them.
    const auto rows_path = output / "results.jsonl";
    auto lines = lines_of(read_file(rows_path));
    REQUIRE(lines.size() == 3);
    const std::string kept = lines[0] + "\n" + lines[1] + "\n";
    const std::string torn = lines[2].substr(0, lines[2].size() / 2);
    {
        std::ofstream out(rows_path, std::ios::binary | std::ios::trunc);
        out << kept << torn;
    }
    std::filesystem::remove(output / "results.json");

    auto resumed = run(make(), output);
    CHECK(resumed.reused == 2);
    CHECK(resumed.ran == 1);
    auto after = lines_of(read_file(rows_path));
    REQUIRE(after.size() == 3);
    // The two finished rows are untouched, byte for byte; the third is whole again.
    CHECK(after[0] == lines[0]);
    CHECK(after[1] == lines[1]);
    // The rerun cell gives the metric values of the first run: a cell's randomness comes from
    // its seed and parameters only.
    auto rerun = boost::json::parse(after[2]).as_object();
    const boost::json::object* before = nullptr;
    for (const auto& row : complete.rows) {
        if (row.at("cell_id") == rerun.at("cell_id")) before = &row;
    }
    REQUIRE(before != nullptr);
    CHECK(rerun.at("metrics") == before->at("metrics"));
    auto table = recprune::results::read_rows(output / "results.json");
    std::set<std::string> ids;
    for (const auto& row : table) ids.insert(std::string(row.at("cell_id").as_string()));
    CHECK(table.size() == 3);
    CHECK(ids.size() == 3);
}

TEST_CASE("grid runner: a stop-rule rollback reports the kept unit sparsity") {
    // Pruning every weight at the first step drops the validation AUC, which a stop rule of 0
    // does not allow, so the schedule goes back to the dense masks.
    ScratchDir scratch;
    auto summary = run(tiny_grid(R"(["magnitude"])", "[1.0]",
                                 R"([{"name": "iterative", "steps": 2, "max_metric_drop": 0}])"),
                       scratch.path() / "out");
    REQUIRE(summary.rows.size() == 2);
    const auto* row = row_with_pruner(summary.rows, "magnitude");
    REQUIRE(row != nullptr);
    const auto& log = row->at("schedule_log").as_object();
    REQUIRE(log.contains("stopped_at_sparsity"));
    CHECK(log.at("stopped_at_sparsity").to_number<double>() == 0.0);
    CHECK(row->at("status") == "target_not_reached");
    CHECK(row->at("sparsity").at("achieved_units").to_number<double>() == 0.0);
    CHECK(row->at("sparsity").at("all_parameters").at("pruned").to_number<double>() == 0.0);
}

TEST_CASE("grid runner: gradual with no fine-tuning epochs trains nothing") {
    // At target 0 no unit is pruned, so without training the cell keeps the dense weights and
    // its test metrics equal the dense row's bit for bit.
    ScratchDir scratch;
    auto summary = run(tiny_grid(R"(["magnitude"])", "[0.0]",
                                 R"([{"name": "gradual", "steps": 3, "finetune_epochs": 0}])"),
                       scratch.path() / "out");
    REQUIRE(summary.rows.size() == 2);
    const auto* row = row_with_pruner(summary.rows, "magnitude");
    REQUIRE(row != nullptr);
    CHECK(row->at("status") == "ok");
    const auto& pruned_auc = row->at("metrics").at("test").at("auc").at("value");
    const auto& dense_auc = summary.rows[0].at("metrics").at("test").at("auc").at("value");
    REQUIRE(pruned_auc.is_number());
    CHECK(pruned_auc.to_number<double>() == dense_auc.to_number<double>());
    CHECK(row->at("schedule_log").at("steps").as_array().size() == 3);
}

TEST_CASE("grid runner: cells at once measure their own model files") {
    // Two cells compact at once in one process (2 threads). Each saved file contains 4 bytes per
    // parameter plus a header of about the same size, so bytes minus 4 x parameters agrees
    // between the cells, and the dense file is the same size in both.
    ScratchDir scratch;
    auto summary = run(tiny_grid(R"([{"name": "magnitude", "params": {"granularity": "embedding_row"}}])",
                                 "[0.3, 0.6]"),
                       scratch.path() / "out");
    REQUIRE(summary.rows.size() == 3);
    std::vector<double> headers;
    std::vector<double> dense_bytes;
    for (const auto& row : summary.rows) {
        if (row.at("kind") != "pruned") continue;
        const auto& compaction = row.at("compaction").as_object();
        REQUIRE(compaction.at("status") == "ok");
        const auto& compacted = compaction.at("compacted").as_object();
        REQUIRE(compacted.at("bytes_on_disk").is_number());
        const double bytes = compacted.at("bytes_on_disk").to_number<double>();
        const double parameters = compacted.at("parameters").to_number<double>();
        CHECK(bytes > 4.0 * parameters);
        headers.push_back(bytes - 4.0 * parameters);
        dense_bytes.push_back(
            compaction.at("dense").at("bytes_on_disk").to_number<double>());
    }
    REQUIRE(headers.size() == 2);
    CHECK(std::abs(headers[0] - headers[1]) < 256.0);
    CHECK(dense_bytes[0] == dense_bytes[1]);
}

namespace {

// run() with --save-models.
recprune::run::RunSummary run_saving_models(recprune::grid::Grid grid,
                                            const std::filesystem::path& output) {
    recprune::run::RunOptions options;
    options.output = output;
    options.threads = 2;
    options.save_models = true;
    return recprune::run::run_grid(grid, registry(), options);
}

// Embedding-row pruning of the tiny grid, so the pruned model reads through a row remap and
// the compacted one through the renumbered remap of its plan.
recprune::grid::Grid row_pruning_grid() {
    return tiny_grid(R"([{"name": "magnitude", "params": {"granularity": "embedding_row"}}])",
                     "[0.5]", R"(["one_shot"])", R"(["auc", "logloss"])");
}

}  // namespace

TEST_CASE("grid runner: saved models reload with the row's sizes") {
    ScratchDir scratch;
    const std::filesystem::path output = scratch.path() / "out";
    auto summary = run_saving_models(
        tiny_grid(R"([{"name": "magnitude", "params": {"granularity": "embedding_row"}}])", "[0.5]"),
        output);
    REQUIRE(summary.rows.size() == 2);
    auto library = registry().find(RECPRUNE_KIND_MODEL, "logistic_regression");

    auto load = [&](const boost::json::object& saved, const char* key) {
        REQUIRE(saved.contains(key));
        const std::string relative(saved.at(key).as_string());
        CHECK(relative.rfind("models/", 0) == 0);
        return recprune::plugin::ModelInstance::load(library,
                                                     (output / relative).string());
    };
    for (const auto& row : summary.rows) {
        CAPTURE(boost::json::serialize(row.at("kind")));
        REQUIRE(row.at("status") == "ok");
        const auto& saved = row.at("saved_models").as_object();
        CHECK_FALSE(saved.contains("errors"));
        if (row.at("kind") == "dense") {
            auto dense = load(saved, "dense");
            CHECK(dense->cost().parameter_count ==
                  row.at("size").at("parameters").to_number<uint64_t>());
            continue;
        }
        // The pruned file keeps the masked weights in the full shape, the compacted one the
        // smaller model the row measured, byte for byte.
        auto pruned = load(saved, "pruned");
        CHECK(pruned->cost().nonzero_parameter_count ==
              row.at("size").at("pruned").at("nonzero_parameters").to_number<uint64_t>());
        const auto& compacted_row = row.at("compaction").at("compacted").as_object();
        auto compacted = load(saved, "compacted");
        CHECK(compacted->cost().parameter_count ==
              compacted_row.at("parameters").to_number<uint64_t>());
        CHECK(std::filesystem::file_size(output /
                                         std::string(saved.at("compacted").as_string())) ==
              compacted_row.at("bytes_on_disk").to_number<uint64_t>());
        REQUIRE(saved.contains("compaction_plan"));
        const std::string plan_text = read_file(
            output / std::string(saved.at("compaction_plan").as_string()));
        const auto plan = boost::json::parse(plan_text).as_object();
        CHECK(plan.contains("row_remap"));
    }
    // Nothing is left under a temporary name.
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(output / "models")) {
        CHECK(entry.path().extension() != ".partial");
    }
}

TEST_CASE("grid runner: models are not saved unless requested") {
    ScratchDir scratch;
    auto summary = run(tiny_grid(R"(["magnitude"])", "[0.5]"), scratch.path() / "out");
    REQUIRE(summary.rows.size() == 2);
    for (const auto& row : summary.rows) CHECK_FALSE(row.contains("saved_models"));
    CHECK_FALSE(std::filesystem::exists(scratch.path() / "out" / "models"));
}

TEST_CASE("saved models: evaluation reproduces the row's metrics") {
    ScratchDir scratch;
    const std::filesystem::path output = scratch.path() / "out";
    auto fresh = row_pruning_grid;
    auto summary = run_saving_models(fresh(), output);
    REQUIRE(summary.rows.size() == 2);
    std::string dense_id;
    std::string pruned_id;
    for (const auto& row : summary.rows) {
        (row.at("kind") == "dense" ? dense_id : pruned_id) = row.at("cell_id").as_string();
    }
    REQUIRE(summary.rows[0].contains("saved_models"));

    // As `recprune evaluate` does: a grid loaded anew, whose cell ids become final when its
    // data is prepared.
    auto again = fresh();
    const auto pruned =
        recprune::run::evaluate_saved_models(again, output, pruned_id, {}, {}, 1);
    // pruned and compacted, validation and test, auc and logloss.
    REQUIRE(pruned.metrics.size() == 8);
    for (const auto& metric : pruned.metrics) {
        CAPTURE(metric.model + " " + metric.part + " " + metric.metric);
        CHECK(metric.agrees());
        if (metric.model == "pruned") CHECK(metric.difference == 0.0);
    }
    CHECK(pruned.agrees());

    // A pruned file swapped for the dense one no longer gives the row's values.
    const auto folder = output / "models";
    std::filesystem::copy_file(folder / dense_id / "dense.model",
                               folder / pruned_id / "pruned.model",
                               std::filesystem::copy_options::overwrite_existing);
    auto third = fresh();
    const auto swapped =
        recprune::run::evaluate_saved_models(third, output, pruned_id, {"pruned"}, {}, 1);
    CHECK_FALSE(swapped.agrees());
}

TEST_CASE("saved models: evaluation names what is missing") {
    ScratchDir scratch;
    const auto summary = run(tiny_grid(R"(["magnitude"])", "[0.5]"), scratch.path() / "out");
    const std::string id(summary.rows.front().at("cell_id").as_string());
    auto grid = tiny_grid(R"(["magnitude"])", "[0.5]");
    const std::filesystem::path output = scratch.path() / "out";
    CHECK_THROWS_WITH_AS(recprune::run::evaluate_saved_models(grid, output, id, {}, {}, 1),
                         doctest::Contains("lists no saved models; rerun the cell with "
                                           "--save-models"),
                         recprune::ConfigError);
    auto other = tiny_grid(R"(["magnitude"])", "[0.5]");
    CHECK_THROWS_WITH_AS(
        recprune::run::evaluate_saved_models(other, output, "0123456789abcdef", {}, {}, 1),
                         doctest::Contains("is not a cell of the grid"), recprune::ConfigError);

    // A grid whose settings changed since the run (another sparsity) no longer produces the
    // row's pruned cell.
    const auto* pruned = row_with_pruner(summary.rows, "magnitude");
    REQUIRE(pruned != nullptr);
    const std::string pruned_id(pruned->at("cell_id").as_string());
    auto changed = tiny_grid(R"(["magnitude"])", "[0.6]");
    CHECK_THROWS_WITH_AS(
        recprune::run::evaluate_saved_models(changed, output, pruned_id, {}, {}, 1),
                         doctest::Contains("but the grid no longer produces it"),
                         recprune::ConfigError);
}

TEST_CASE("grid runner: unwritable model files are listed, rows kept") {
    // models/ is a plain file, so no model folder can be created.
    ScratchDir scratch;
    const std::filesystem::path output = scratch.path() / "out";
    std::filesystem::create_directories(output);
    std::ofstream(output / "models") << "not a folder\n";
    auto summary = run_saving_models(
        tiny_grid(R"([{"name": "magnitude", "params": {"granularity": "embedding_row"}}])", "[0.5]"),
        output);
    REQUIRE(summary.rows.size() == 2);
    for (const auto& row : summary.rows) {
        CAPTURE(boost::json::serialize(row.at("kind")));
        CHECK(row.at("status") == "ok");
        const auto& saved = row.at("saved_models").as_object();
        const auto& errors = saved.at("errors").as_array();
        // Every file of the cell is named: dense.model, or pruned.model, row_remap.json,
        // compacted.model and compaction_plan.json.
        CHECK(errors.size() == (row.at("kind") == "dense" ? 1u : 4u));
        for (const auto& error : errors) {
            CHECK(contains(std::string(error.as_string()), "not written: cannot create the folder"));
        }
        CHECK_FALSE(saved.contains("pruned"));
    }
}

TEST_CASE("grid runner: a missed target says so once") {
    // Removing 90% of three fields would remove all three, and one must stay.
    ScratchDir scratch;
    auto summary =
        run(tiny_grid(R"([{"name": "magnitude", "params": {"granularity": "field"}}])", "[0.9]"),
            scratch.path() / "out");
    const auto* row = row_with_pruner(summary.rows, "magnitude");
    REQUIRE(row != nullptr);
    CHECK(row->at("status") == "target_not_reached");
    const std::string message(row->at("message").as_string());
    CHECK(message.rfind("target not reached: granularity field", 0) == 0);
    CHECK_FALSE(contains(message, "target not reached: target not reached"));
}

TEST_CASE("granularity check: names pairs that can only fail") {
    const auto grid = tiny_grid(
        R"([{"name": "magnitude", "params": {"granularity": "neuron"}}, "random"])", "[0.3, 0.6]");
    const auto mismatches = recprune::run::find_granularity_mismatches(grid);

    // A logistic regression has no neurons; random prunes weights, which it has.
    REQUIRE(mismatches.size() == 1);
    CHECK(mismatches[0].model == "$.models[0] (logistic_regression)");
    CHECK(mismatches[0].pruner == "$.pruners[0] (magnitude)");
    CHECK(mismatches[0].granularity == "neuron");
    CHECK(mismatches[0].cells == 2);
    CHECK(mismatches[0].model_granularities ==
          std::vector<std::string>{"weight", "embedding_row", "field"});
    CHECK(contains(recprune::run::describe_mismatches(mismatches),
                   "2 pruned cells pair a model with a granularity it does not have"));
    // Both checks in one pass give the same pairs.
    const auto checked = recprune::run::check_models(grid);
    REQUIRE(checked.size() == 1);
    CHECK(checked[0].model == mismatches[0].model);
    CHECK(checked[0].cells == 2);

    // The cells fail, as the check predicts.
    ScratchDir scratch;
    auto summary = run(tiny_grid(R"([{"name": "magnitude", "params": {"granularity": "neuron"}}])",
                                 "[0.3]"),
                       scratch.path() / "out");
    const auto* row = row_with_pruner(summary.rows, "magnitude");
    REQUIRE(row != nullptr);
    CHECK(row->at("status") == "failed");
}

TEST_CASE("parameter check: names the rejected parameter") {
    // fixture_throwing_model always fails create: with a parameter error when asked to, else
    // with a runtime error, which the check leaves to the cells.
    const auto grid = throwing_model_grid(R"(["fixture_throwing_model",
        {"name": "fixture_throwing_model", "params": {"reject_parameter": true}}])");
    try {
        recprune::run::check_model_parameters(grid);
        FAIL("a rejected parameter passed the check");
    } catch (const recprune::ConfigError& error) {
        const std::string message = error.what();
        CHECK(message == "invalid grid: reject.json: $.models[1].params.reject_parameter: model "
                         "fixture_throwing_model rejects its parameters: invalid parameter: "
                         "reject_parameter: true makes this fixture reject its parameters; set "
                         "it to false");
    }
}

TEST_CASE("parameter check: check_models throws too") {
    const auto grid = throwing_model_grid(
        R"([{"name": "fixture_throwing_model", "params": {"reject_parameter": true}}])");
    CHECK_THROWS_AS(recprune::run::check_models(grid), recprune::ConfigError);
}

TEST_CASE("parameter check: bf16 needs AMX") {
    // "bf16" passes the grid's parameter schema, but a model rejects it on a CPU without AMX.
    const auto data = recprune::test::fixtures_dir() / "data" / "cli" / "movietweetings-tiny";
    const std::string text = R"({
      "datasets": [{"name": "movietweetings", "params": {"path": ")" + data.string() + R"("}}],
      "models": [{"name": "deepfm", "params": {"hidden_layers": [8]}},
                 {"name": "deepfm", "params": {"precision": "bf16", "hidden_layers": [8]}}],
      "pruners": ["magnitude"],
      "sparsities": [0.5]
    })";
    auto with_deepfm = recprune::test::make_grid_registry();
    with_deepfm.add(recprune::test::real_plugin("model", "deepfm"), false);
    const auto grid = recprune::grid::load_grid_text(text, "bf16.json", data, with_deepfm);
    if (recprune::nn::has_amx()) {
        CHECK_NOTHROW(recprune::run::check_model_parameters(grid));
        return;
    }
    try {
        recprune::run::check_model_parameters(grid);
        FAIL("a bf16 model on a CPU without AMX was accepted");
    } catch (const recprune::ConfigError& error) {
        const std::string message = error.what();
        CHECK(message.rfind("invalid grid: bf16.json: $.models[1].params.precision: model "
                            "deepfm rejects its parameters: ", 0) == 0);
        CHECK(contains(message, "needs AMX"));
        CHECK_FALSE(contains(message, "$.models[0]"));
    }
}

TEST_CASE("granularity check: a compatible grid has none") {
    const auto grid = tiny_grid(R"(["magnitude", "random"])", "[0.5]");
    CHECK(recprune::run::find_granularity_mismatches(grid).empty());
    CHECK(recprune::run::describe_mismatches({}).empty());
}

TEST_CASE("saved models: tampered files are caught") {
    ScratchDir scratch;
    const std::filesystem::path output = scratch.path() / "out";
    auto fresh = row_pruning_grid;
    auto summary = run_saving_models(fresh(), output);
    const auto* row = row_with_pruner(summary.rows, "magnitude");
    REQUIRE(row != nullptr);
    const std::string id(row->at("cell_id").as_string());
    const auto& saved = row->at("saved_models").as_object();
    const auto plan_path = output / std::string(saved.at("compaction_plan").as_string());
    const auto remap_path = output / std::string(saved.at("row_remap").as_string());
    const std::string plan_text = read_file(plan_path);
    const std::string remap_text = read_file(remap_path);
    auto evaluate = [&](const std::vector<std::string>& models) {
        auto grid = fresh();
        return recprune::run::evaluate_saved_models(grid, output, id, models, {}, 1);
    };
    auto write = [](const std::filesystem::path& path, const boost::json::value& value) {
        std::ofstream(path) << boost::json::serialize(value);
    };

    SUBCASE("two kept rows swapped in the compaction plan") {
        auto plan = boost::json::parse(plan_text).as_object();
        // The first field whose remap keeps two rows other than 0.
        bool swapped = false;
        for (auto& [field, rows] : plan.at("row_remap").as_object()) {
            std::vector<size_t> kept;
            auto& entries = rows.as_array();
            for (size_t i = 0; i < entries.size(); ++i) {
                if (entries[i].to_number<uint64_t>() != 0) kept.push_back(i);
            }
            if (kept.size() < 2 || swapped) continue;
            std::swap(entries[kept[0]], entries[kept[1]]);
            swapped = true;
        }
        REQUIRE(swapped);
        write(plan_path, plan);
        CHECK_THROWS_WITH_AS(evaluate({"compacted"}), doctest::Contains("other values in tensor"),
                             recprune::DataError);
    }
    SUBCASE("a plan that does not describe the compacted model") {
        const std::vector<std::string> plans{
            R"({})", R"({"mlp.7": [1]})", R"({"kept_neurons": {"mlp.0": [0, 1, 2, 999]}})"};
        for (const std::string& text : plans) {
            CAPTURE(text);
            std::ofstream(plan_path) << text;
            const std::string place = "invalid saved file: " + plan_path.string();
            CHECK_THROWS_WITH_AS(evaluate({"compacted"}), doctest::Contains(place.c_str()),
                                 recprune::DataError);
            CHECK_THROWS_WITH_AS(evaluate({"compacted"}),
                                 doctest::Contains("the plan and the models do not belong "
                                                   "together"),
                                 recprune::DataError);
        }
    }
    SUBCASE("a plan that is not an object") {
        std::ofstream(plan_path) << "[-1]";
        CHECK_THROWS_WITH_AS(evaluate({"compacted"}), doctest::Contains("expected an object"),
                             recprune::DataError);
    }
    SUBCASE("a deleted compacted model") {
        const auto compacted_path = output / std::string(saved.at("compacted").as_string());
        std::filesystem::remove(compacted_path);
        const std::string place = "missing saved file: " + compacted_path.string();
        CHECK_THROWS_WITH_AS(evaluate({}), doctest::Contains(place.c_str()),
                             recprune::ConfigError);
    }
    SUBCASE("a NaN weight in the pruned model") {
        const auto pruned_path = output / std::string(saved.at("pruned").as_string());
        std::string bytes = read_file(pruned_path);
        const float nan = std::nanf("");
        bytes.replace(bytes.size() - sizeof(float), sizeof(float),
                      reinterpret_cast<const char*>(&nan), sizeof(float));
        std::ofstream(pruned_path, std::ios::binary) << bytes;
        CHECK_THROWS_WITH_AS(evaluate({"pruned"}), doctest::Contains("contains NaN at index"),
                             recprune::DataError);
        // The plan check loads the pruned model too.
        const std::string place = "invalid saved file: " + pruned_path.string();
        CHECK_THROWS_WITH_AS(evaluate({"compacted"}), doctest::Contains(place.c_str()),
                             recprune::DataError);
    }
    SUBCASE("bytes after the pruned model's last tensor") {
        const auto pruned_path = output / std::string(saved.at("pruned").as_string());
        std::ofstream(pruned_path, std::ios::binary | std::ios::app) << "tail";
        CHECK_THROWS_WITH_AS(evaluate({"pruned"}),
                             doctest::Contains("4 bytes follow the last tensor"),
                             recprune::DataError);
        CHECK_THROWS_WITH_AS(evaluate({"pruned"}), doctest::Contains(pruned_path.c_str()),
                             recprune::DataError);
    }
    SUBCASE("a negative row in the pruned model's remap") {
        auto remap = boost::json::parse(remap_text).as_object();
        remap.begin()->value().as_array()[1] = -1;
        write(remap_path, remap);
        CHECK_THROWS_WITH_AS(evaluate({"pruned"}), doctest::Contains("not a row index"),
                             recprune::DataError);
    }
    SUBCASE("a remap that is not an object") {
        write(remap_path, boost::json::array{1, 2});
        CHECK_THROWS_WITH_AS(evaluate({"pruned"}), doctest::Contains("expected an object"),
                             recprune::DataError);
    }
    SUBCASE("a plan cut short") {
        std::ofstream(plan_path) << plan_text.substr(0, 10);
        CHECK_THROWS_WITH_AS(evaluate({"compacted"}), doctest::Contains("invalid saved file"),
                             recprune::DataError);
    }
}
