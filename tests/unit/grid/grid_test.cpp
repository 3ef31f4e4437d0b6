// Grid parsing, validation against plugin schemas, axis expansion and stable cell ids. Every
// failure checks the message: the JSON path (or line and column) and the fix.
#include "../plugin/plugin_test_support.hpp"

#include "core/errors.hpp"
#include "grid/grid.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using recprune::ConfigError;
using recprune::grid::Cell;
using recprune::grid::Grid;
using recprune::test::contains;
using recprune::test::ScratchDir;

namespace {

const recprune::plugin::PluginRegistry& registry() {
    static const recprune::plugin::PluginRegistry instance = recprune::test::make_grid_registry();
    return instance;
}

// Grids of these tests live, as far as relative paths go, in tests/fixtures/data/cli, so that
// "path": "movietweetings-tiny" names an existing folder.
std::filesystem::path grid_folder() {
    return recprune::test::fixtures_dir() / "data" / "cli";
}

Grid load(const std::string& text) {
    return recprune::grid::load_grid_text(text, "test.json", grid_folder(), registry());
}

// Returns the problems of an invalid grid, one per line; fails the test if the grid is valid.
std::vector<std::string> problems_of(const std::string& text) {
    try {
        load(text);
    } catch (const ConfigError& e) {
        std::vector<std::string> lines;
        std::string all = e.what();
        size_t begin = 0;
        while (begin <= all.size()) {
            size_t end = all.find('\n', begin);
            if (end == std::string::npos) end = all.size();
            lines.push_back(all.substr(begin, end - begin));
            begin = end + 1;
        }
        return lines;
    }
    FAIL_CHECK("the grid was accepted:\n" << text);
    return {};
}

// A valid grid around the given "models" list: one dataset, random pruning at 0.5, seed 1.
std::string grid_with_models(const std::string& models, const std::string& extra = "") {
    return R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "movietweetings-tiny"}}],
      "models": )" + models + R"(,
      "pruners": ["random"],
      "sparsities": [0.5],
      "seeds": [1])" + extra + "}";
}

std::vector<const Cell*> dense_cells(const Grid& grid) {
    std::vector<const Cell*> cells;
    for (const auto& cell : grid.cells) {
        if (cell.dense) cells.push_back(&cell);
    }
    return cells;
}

const std::string kPrefix = "invalid grid: test.json: ";

std::string text_of(const boost::json::value& value) {
    return value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value);
}

std::vector<std::string> ids_of(const Grid& grid) {
    std::vector<std::string> ids;
    for (const auto& cell : grid.cells) ids.push_back(cell.id);
    return ids;
}

}  // namespace

TEST_CASE("grid: a syntax error names the line and column") {
    const std::string text =
        "{\n"
        "  \"name\": \"broken\",\n"
        "  \"models\": [{\"name\": \"fm\"}]\n"
        "  \"datasets\": []\n"
        "}\n";
    try {
        load(text);
        FAIL("a grid with a missing comma was accepted");
    } catch (const ConfigError& e) {
        // The comma is missing after line 3; the parser stops at the quote that opens line 4's
        // key, in column 3.
        std::string message = e.what();
        CHECK(contains(message, "invalid JSON: test.json:4:3: "));
        CHECK(contains(message, "; check the brackets, commas and quotes before this point"));
    }
}

TEST_CASE("grid: syntax errors after comments keep their position") {
    struct Case {
        const char* text;
        const char* position;
    };
    const Case cases[] = {
        // A missing comma after a leading line comment: the quote of "b" on line 3, column 2.
        {"// comment\n{\"a\": 1\n \"b\": 2}\n", "test.json:3:2: "},
        // A block comment before the missing comma: the quote of "b", line 1, column 17.
        {"{\"a\": 1 /* c */ \"b\": 2}", "test.json:1:17: "},
        // Text after the complete object, behind a comment: the x on line 3, column 1.
        {"{}\n// trailing\nx\n", "test.json:3:1: "},
        // The text ends inside the object: the position just after the last byte.
        {"{\"a\": 1\n", "test.json:2:1: "},
    };
    for (const auto& [text, position] : cases) {
        CAPTURE(text);
        try {
            load(text);
            FAIL_CHECK("the grid was accepted");
        } catch (const ConfigError& e) {
            CHECK(contains(e.what(), std::string("invalid JSON: ") + position));
        }
    }
}

TEST_CASE("grid: comments and trailing commas are allowed") {
    Grid grid = load(R"({
      // a line comment
      "datasets": [{"name": "movietweetings", "params": {"path": "movietweetings-tiny"},}],
      /* a block comment */
      "models": ["logistic_regression",],
    })");
    CHECK(grid.cells.size() == 1);
}

TEST_CASE("grid: an unknown top-level key is reported with the known keys") {
    auto problems = problems_of(R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "movietweetings-tiny"}}],
      "models": ["fm"],
      "seed": [1]
    })");
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] ==
          kPrefix + "$.seed: unknown key; known top-level keys: axes, datasets, "
          "description, metrics, models, name, output, pruners, schedule, schedules, seeds, "
          "sparsities, training");
}

TEST_CASE("grid: an unknown plugin is reported with the known ones") {
    auto problems = problems_of(grid_with_models(R"([{"name": "fmm"}])"));
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0], kPrefix + "$.models[0].name: unknown model \"fmm\"; known: "
                                "fixture_schema, fm, logistic_regression (searched "));
    CHECK(contains(problems[0], "); check the spelling or add its folder with --plugin-dir"));
}

TEST_CASE("grid: an unknown parameter is reported with the known ones") {
    auto problems = problems_of(grid_with_models(R"([{"name": "fm", "params": {"embeding_dim": 8}}])"));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == kPrefix + "$.models[0].params.embeding_dim: unknown parameter of "
                         "model fm; known: embedding_dim, pooling, init_std");
}

TEST_CASE("grid: an ill-typed parameter is reported with its help") {
    auto problems =
        problems_of(grid_with_models(R"([{"name": "fm", "params": {"embedding_dim": "16"}}])"));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == kPrefix + "$.models[0].params.embedding_dim: \"16\" is string, "
                         "expected integer; give a valid value (length k of each "
                                   "feature's factor vector)");
}

TEST_CASE("grid: parameter bounds, enums and list items are checked") {
    auto problems = problems_of(grid_with_models(
        R"([{"name": "fixture_schema", "params": {"rate": 1.5, "mode": "medium",
                                                    "hidden": [8, "wide"], "flag": 1}}])"));
    // The fixture's schema (tests/fixtures/plugins/fixture_plugin.c, schema 4) gives the help.
    std::set<std::string> found(problems.begin(), problems.end());
    CHECK(found.count(kPrefix + "$.models[0].params.hidden: item 1: \"wide\" is string, "
                      "expected integer; give a valid value (hidden layer sizes)") == 1);
    CHECK(found.count(kPrefix + "$.models[0].params.rate: 1.5 is above the maximum 1; give a "
                      "valid value (a fraction in [0, 1])") == 1);
    CHECK(found.count(kPrefix + "$.models[0].params.mode: \"medium\" is not one of "
                      "\"fast\", \"slow\"; give a valid value (fast or slow)") == 1);
    CHECK(found.count(kPrefix + "$.models[0].params.flag: 1 is integer, expected boolean; "
                      "give a valid value (a switch)") == 1);
    CHECK(problems.size() == 4);
}

TEST_CASE("grid: a sparsity outside [0, 1] is reported") {
    auto problems = problems_of(R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "movietweetings-tiny"}}],
      "models": ["fm"],
      "pruners": ["random"],
      "sparsities": [0.5, 1.5, -0.1, "0.9"]
    })");
    REQUIRE(problems.size() == 3);
    CHECK(problems[0] == kPrefix + "$.sparsities[1]: 1.5 is outside [0, 1]; give a fraction "
                         "such as 0.9");
    CHECK(problems[1] == kPrefix + "$.sparsities[2]: -0.1 is outside [0, 1]; give a "
                         "fraction such as 0.9");
    CHECK(problems[2] == kPrefix + "$.sparsities[3]: \"0.9\" is not a number; give a "
                         "fraction such as 0.9");
}

TEST_CASE("grid: schedule steps above the cap are rejected") {
    // The caps are kMaxPruneSteps and kMaxEpochs in framework/src/grid/grid.cpp.
    auto problems = problems_of(grid_with_models(R"(["fm"])", R"(,
      "schedules": [{"name": "iterative", "steps": 1000000000},
                    {"name": "one_shot", "finetune_epochs": 10001}],
      "training": {"epochs": 20000})"));
    REQUIRE(problems.size() == 3);
    CHECK(problems[0] == kPrefix + "$.schedules[0].steps: 1000000000 is outside [1, 1000]; "
                                   "give at most 1000 pruning steps");
    CHECK(problems[1] == kPrefix + "$.schedules[1].finetune_epochs: 10001 is outside "
                                   "[0, 10000]; give at most 10000 epochs");
    CHECK(problems[2] == kPrefix + "$.training.epochs: 20000 is outside [1, 10000]; give at "
                                   "most 10000 epochs");
}

TEST_CASE("grid: schedule steps at the cap are accepted") {
    Grid grid = load(grid_with_models(R"(["fm"])", R"(,
      "schedule": {"name": "iterative", "steps": 1000, "finetune_epochs": 10000})"));
    REQUIRE(grid.cells.size() == 2);
    CHECK(grid.cells[1].schedule.steps == 1000);
    CHECK(grid.cells[1].schedule.finetune_epochs == 10000);
}

TEST_CASE("grid: rewind epoch past the dense training is rejected") {
    auto problems = problems_of(grid_with_models(R"(["fm"])", R"(,
      "schedules": [{"name": "lottery", "rewind_epoch": 2},
                    {"name": "lottery", "rewind_epoch": 3},
                    {"name": "retrain", "rewind_epoch": 50}],
      "training": {"epochs": 2})"));
    // rewind_epoch 2 equals training.epochs, the last epoch of the dense run, and is valid.
    REQUIRE(problems.size() == 2);
    CHECK(problems[0] == kPrefix + "$.schedules[1].rewind_epoch: 3 is past the end of the "
                                   "dense training, whose $.training.epochs is 2; give a "
                                   "rewind_epoch from 0 to 2, or raise $.training.epochs to 3");
    CHECK(problems[1] == kPrefix + "$.schedules[2].rewind_epoch: 50 is past the end of the "
                                   "dense training, whose $.training.epochs is 2; give a "
                                   "rewind_epoch from 0 to 2, or raise $.training.epochs to 50");
}

TEST_CASE("grid: rewind epoch checked against the default epochs") {
    // TrainingSettings::epochs defaults to 3 (grid/grid.hpp).
    auto problems = problems_of(grid_with_models(R"(["fm"])", R"(,
      "schedule": {"name": "lottery", "rewind_epoch": 4})"));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == kPrefix + "$.schedule.rewind_epoch: 4 is past the end of the dense "
                                   "training, whose $.training.epochs is 3; give a "
                                   "rewind_epoch from 0 to 3, or raise $.training.epochs to 4");
}

TEST_CASE("grid: every problem of a grid is reported, not only the first") {
    auto problems = problems_of(R"({
      "datasets": [{"name": "movietweetings", "params": {"path": 3}}],
      "models": [{"name": "fm", "params": {"embedding_dim": 0}}, {"name": "nosuchmodel"}],
      "pruners": [{"name": "random", "params": {"scope": "everywhere"}}],
      "sparsities": [2],
      "training": {"epochs": 0, "optimizer": "lbfgs"},
      "seeds": [-1],
      "colour": "blue",
      "axes": {"training.momentum": 0.5}
    })");
    const std::vector<std::string> expected_paths = {
        "$.axes[\"training.momentum\"]", "$.colour", "$.datasets[0].params.path", "$.models[0].params.embedding_dim",
        "$.models[1].name", "$.pruners[0].params.scope", "$.sparsities[0]",
        "$.training.epochs", "$.training.optimizer", "$.seeds[0]"};
    for (const auto& path : expected_paths) {
        bool reported = std::any_of(problems.begin(), problems.end(), [&](const std::string& p) {
            return p.rfind(kPrefix + path + ": ", 0) == 0;
        });
        CHECK_MESSAGE(reported, path << " is not among the problems reported");
    }
    CHECK(problems.size() == expected_paths.size());
}

TEST_CASE("grid: axes expand into the product in declaration order") {
    Grid grid = load(R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "movietweetings-tiny"}}],
      "models": [{"name": "fixture_schema", "params": {"hidden": [4]}}],
      "axes": {
        "models[0].params.hidden": [[16, 8], [32]],
        "training.lr": [0.1, 0.01, 0.001]
      }
    })");
    // No pruner, so the cells are the six dense baselines; the first axis varies slowest.
    auto cells = dense_cells(grid);
    REQUIRE(cells.size() == 6);
    REQUIRE(grid.cells.size() == 6);
    const boost::json::array wide{16, 8};
    const boost::json::array narrow{32};
    const boost::json::value expected_hidden[] = {wide, wide, wide, narrow, narrow, narrow};
    const double expected_lr[] = {0.1, 0.01, 0.001, 0.1, 0.01, 0.001};
    for (size_t i = 0; i < cells.size(); ++i) {
        CAPTURE(i);
        // A list value is one value of the axis, never swept item by item.
        CHECK(cells[i]->model.params.at("hidden") == expected_hidden[i]);
        CHECK(cells[i]->training.lr == expected_lr[i]);
    }
}

TEST_CASE("grid: a list-valued parameter written in place is one value") {
    Grid grid = load(grid_with_models(R"([{"name": "fixture_schema", "params": {"hidden": [64, 32, 16]}}])"));
    auto cells = dense_cells(grid);
    REQUIRE(cells.size() == 1);
    CHECK(cells[0]->model.params.at("hidden") == boost::json::array{64, 32, 16});
    // One dense cell and one pruned cell (random at 0.5).
    CHECK(grid.cells.size() == 2);
}

TEST_CASE("grid: lists of plugins, sparsities and seeds multiply") {
    Grid grid = load(R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "movietweetings-tiny"}}],
      "models": ["fm", "logistic_regression"],
      "pruners": ["random", "magnitude"],
      "sparsities": [0.5, 0.9, 0.99],
      "seeds": [1, 2]
    })");
    // Dense groups: 2 models x 2 seeds = 4; pruned cells: 4 groups x 2 pruners x 3 sparsities.
    CHECK(dense_cells(grid).size() == 4);
    CHECK(grid.cells.size() == 4 + 24);
    const std::vector<std::string> id_list = ids_of(grid);
    const std::set<std::string> ids(id_list.begin(), id_list.end());
    CHECK(ids.size() == grid.cells.size());
    for (const auto& cell : grid.cells) {
        if (cell.dense) continue;
        // Each pruned cell belongs to one of the dense groups.
        bool has_group = std::any_of(grid.cells.begin(), grid.cells.end(), [&](const Cell& c) {
            return c.dense && c.group_id == cell.group_id;
        });
        CHECK(has_group);
    }
}

TEST_CASE("grid: cell ids ignore key order, whitespace, comments and written defaults") {
    const std::string compact =
        R"({"datasets":[{"name":"movietweetings","params":{"path":"movietweetings-tiny"}}],"models":[{"name":"fm","params":{"embedding_dim":8,"pooling":"mean"}}],"pruners":["magnitude"],"sparsities":[0.5,0.9],"training":{"lr":0.01,"epochs":2},"seeds":[3]})";
    const std::string reordered = R"({
      // the same grid, keys in another order
      "seeds": [3],
      "training": {"epochs": 2, "lr": 0.01},
      "sparsities": [0.5, 0.9],
      "pruners": [{"name": "magnitude", "params": {}}],
      "models": [{"params": {"pooling": "mean", "embedding_dim": 8, "init_std": 0.01},
                  "name": "fm"}],
      "datasets": [{"params": {"path": "movietweetings-tiny"}, "name": "movietweetings"}]
    })";
    Grid first = load(compact);
    Grid second = load(reordered);
    REQUIRE(first.cells.size() == 3);
    CHECK(ids_of(first) == ids_of(second));
    for (size_t i = 0; i < first.cells.size(); ++i) {
        CHECK(first.cells[i].group_id == second.cells[i].group_id);
    }
    // Ids are 16 hex digits.
    for (const auto& id : ids_of(first)) {
        CHECK(id.size() == 16);
        CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    }
}

TEST_CASE("grid: cell ids differ when any resolved parameter differs") {
    const std::string base = R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "movietweetings-tiny"}, @DATA@}],
      "models": [{"name": "fm", "params": {"embedding_dim": @DIM@}}],
      "pruners": [{"name": "magnitude", "params": {"norm": "@NORM@"}}],
      "sparsities": [@SPARSITY@],
      "schedule": {"name": "one_shot", "finetune_epochs": @FINETUNE@},
      "training": {"lr": @LR@},
      "seeds": [@SEED@]
    })";
    struct Variant {
        const char* what;
        const char* key;
        const char* value;
    };
    const std::vector<std::pair<std::string, std::string>> defaults = {
        {"@DATA@", R"("task": "ctr")"}, {"@DIM@", "8"}, {"@NORM@", "l2"}, {"@SPARSITY@", "0.5"},
        {"@FINETUNE@", "1"}, {"@LR@", "0.01"}, {"@SEED@", "1"}};
    auto make = [&](const std::string& key, const std::string& value) {
        std::string text = base;
        for (const auto& [placeholder, fallback] : defaults) {
            text.replace(text.find(placeholder), placeholder.size(),
                         placeholder == key ? value : fallback);
        }
        return load(text);
    };
    Grid reference = make("", "");
    REQUIRE(reference.cells.size() == 2);
    const std::string reference_pruned = reference.cells[1].id;
    const std::string reference_dense = reference.cells[0].id;

    // Changes that reach the dense group change both ids; pruning changes only the pruned one.
    const Variant group_changes[] = {{"data setting", "@DATA@", R"("task": "ctr", "min_count": 2)"},
                                     {"model parameter", "@DIM@", "16"},
                                     {"training setting", "@LR@", "0.02"},
                                     {"seed", "@SEED@", "2"}};
    for (const auto& [what, key, value] : group_changes) {
        Grid changed = make(key, value);
        CHECK_MESSAGE(changed.cells[0].id != reference_dense, what);
        CHECK_MESSAGE(changed.cells[1].id != reference_pruned, what);
    }
    const Variant cell_changes[] = {{"pruner parameter", "@NORM@", "l1"},
                                    {"target sparsity", "@SPARSITY@", "0.6"},
                                    {"schedule", "@FINETUNE@", "2"}};
    for (const auto& [what, key, value] : cell_changes) {
        Grid changed = make(key, value);
        CHECK_MESSAGE(changed.cells[0].id == reference_dense, what);
        CHECK_MESSAGE(changed.cells[1].id != reference_pruned, what);
    }
}

TEST_CASE("grid: defaults are filled for plugins, training and schedule") {
    Grid grid = load(R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "movietweetings-tiny"}}],
      "models": ["fm"],
      "pruners": ["random"],
      "sparsities": [0.9]
    })");
    REQUIRE(grid.cells.size() == 2);
    const Cell& pruned = grid.cells[1];
    REQUIRE(pruned.pruner.has_value());

    // Defaults from the schemas in plugins/models/fm/fm.cpp and plugins/pruners/random.
    const auto& model = pruned.model.params;
    CHECK(model.at("embedding_dim") == 16);
    CHECK(model.at("pooling") == "sum");
    CHECK(model.at("init_std") == 0.01);
    CHECK(pruned.pruner->params.at("granularity") == "weight");
    CHECK(pruned.pruner->params.at("scope") == "global");
    const auto& dataset = grid.datasets.at(pruned.dataset).plugin.params;
    CHECK(dataset.at("on_bad_line") == "fail");
    CHECK(dataset.at("include_titles") == false);

    // Defaults from grid/grid.hpp: TrainingSettings, ScheduleSettings and seed 1.
    CHECK(pruned.training.epochs == 3);
    CHECK(pruned.training.batch_size == 1024);
    CHECK(pruned.training.optimizer == "adam");
    CHECK(pruned.training.lr == 0.001);
    CHECK(pruned.schedule.name == "one_shot");
    CHECK(pruned.schedule.finetune_epochs == 1);
    CHECK(pruned.seed == 1);
    // The metrics of the CTR task, validation metric first.
    CHECK(pruned.metrics == std::vector<std::string>{"auc", "logloss", "gauc"});
    CHECK(pruned.target_sparsity == 0.9);
}

TEST_CASE("grid: relative path parameters resolve against the grid file's folder") {
    ScratchDir scratch;
    scratch.write("experiments/data/mt/ratings.dat", "");
    scratch.write("experiments/sub/tables/t.csv", "");
    scratch.write("elsewhere/mt/ratings.dat", "");
    const auto absolute = scratch.path() / "elsewhere" / "mt";
    auto grid_file = scratch.write("experiments/sub/grid.json", R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "../data/mt"}},
                   {"name": "movietweetings", "params": {"path": ")" + absolute.string() + R"("}}],
      "models": [{"name": "fixture_schema", "params": {"table": "tables/t.csv"}}],
      "output": "results/run"
    })");
    Grid grid = recprune::grid::load_grid(grid_file, registry());
    const auto folder = scratch.path() / "experiments" / "sub";
    REQUIRE(grid.datasets.size() == 2);
    CHECK(text_of(grid.datasets[0].plugin.params.at("path")) ==
          (scratch.path() / "experiments" / "data" / "mt").string());
    CHECK(text_of(grid.datasets[1].plugin.params.at("path")) == absolute.string());
    REQUIRE_FALSE(grid.cells.empty());
    CHECK(text_of(grid.cells[0].model.params.at("table")) ==
          (folder / "tables" / "t.csv").string());
    REQUIRE(grid.output.has_value());
    CHECK(*grid.output == (folder / "results" / "run").string());
    // A parameter without "format": "path" is left as written.
    CHECK(grid.cells[0].model.params.at("mode") == "fast");
}

TEST_CASE("grid: an empty path parameter stays empty") {
    // The fixture's "table" defaults to "". Resolved against the grid's folder it would name
    // that folder, and the plugin could not tell that no file was given.
    Grid grid = load(grid_with_models(R"(["fixture_schema"])"));
    REQUIRE_FALSE(grid.cells.empty());
    CHECK(grid.cells[0].model.params.at("table") == "");
}

TEST_CASE("grid: a path that does not exist is reported before any run") {
    auto problems = problems_of(R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "no-such-folder"}}],
      "models": [{"name": "fixture_schema", "params": {"table": "../cli/missing.csv"}}]
    })");
    const auto folder = grid_folder();
    REQUIRE(problems.size() == 2);
    CHECK(problems[0] == kPrefix + "$.datasets[0].params.path: " +
                             (folder / "no-such-folder").string() +
                             " does not exist; fix the path (a relative path starts at the grid "
                             "file's folder)");
    CHECK(problems[1] == kPrefix + "$.models[0].params.table: " +
                             (folder / "missing.csv").string() +
                             " does not exist; fix the path (a relative path starts at the grid "
                             "file's folder)");
}

TEST_CASE("grid: an axis path that leads nowhere is reported") {
    auto problems = problems_of(R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "movietweetings-tiny"}}],
      "models": ["fm"],
      "axes": {"models[3].params.embedding_dim": [8, 16], "training.lr": 0.1}
    })");
    REQUIRE(problems.size() == 2);
    CHECK(problems[0] == kPrefix + "$.axes[\"models[3].params.embedding_dim\"]: the path "
                         "does not lead to a value in the grid; check the list index and the "
                         "key names");
    CHECK(problems[1] == kPrefix + "$.axes[\"training.lr\"]: expected a non-empty list of "
                         "values, found 0.1; wrap a single value in [ ]");
}

TEST_CASE("grid: too many cells are rejected") {
    // 500 seeds x (1 dense + 1 pruner x 1 schedule x 500 sparsities) = 250,500 cells, above the
    // cap of 200,000.
    std::string seeds;
    std::string sparsities;
    for (int i = 0; i < 500; ++i) {
        seeds += (i == 0 ? "" : ", ") + std::to_string(i);
        sparsities += (i == 0 ? "" : ", ") + std::to_string(0.001 * (i + 1));
    }
    const std::string text = R"({
      "datasets": [{"name": "movietweetings", "params": {"path": "movietweetings-tiny"}}],
      "models": ["fm"], "pruners": ["random"],
      "sparsities": [)" + sparsities + R"(], "seeds": [)" + seeds + "]}";
    const auto problems = problems_of(text);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == kPrefix + "$: the grid makes 250500 cells, more than 200000; split it "
                                   "into several grids");
}

TEST_CASE("grid: too many axis combinations are rejected") {
    // 11 axes of 2 values each: 2^11 = 2,048 combinations, above the cap of 1,000, which the
    // 10th axis crosses (2^9 = 512 before it, 2^10 = 1,024 with it).
    std::string axes;
    for (int i = 0; i < 11; ++i) {
        axes += (i == 0 ? "" : ", ") + std::string("\"training.note") + std::to_string(i) +
                "\": [1, 2]";
    }
    const auto problems = problems_of(grid_with_models(R"(["fm"])", ", \"axes\": {" + axes + "}"));
    REQUIRE_FALSE(problems.empty());
    CHECK(problems[0] == kPrefix + "$.axes[\"training.note9\"]: the axes up to this one make "
                                   "1024 combinations, more than 1000; split the grid or list "
                                   "fewer values");
}

TEST_CASE("grid: a plugin given by path is rejected with the rule") {
    const auto problems =
        problems_of(grid_with_models(R"([{"name": "/tmp/librecprune_model_fm.so"}])"));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == kPrefix + "$.models[0].name: \"/tmp/librecprune_model_fm.so\" is a path; "
                                   "a grid names plugins by name only, so give the plugin's name "
                                   "and its folder with --plugin-dir");
}

TEST_CASE("grid: an axis index too large for any list is a malformed path") {
    const auto problems = problems_of(grid_with_models(
        R"(["fm"])", R"(, "axes": {"models[99999999999999999999999].params.embedding_dim": [4]})"));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == kPrefix +
                             "$.axes[\"models[99999999999999999999999].params.embedding_dim\"]: "
                             "malformed path; write it like \"models[0].params.hidden\"");
}
