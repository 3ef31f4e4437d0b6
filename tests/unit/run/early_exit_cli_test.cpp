// A plugin that ends the recprune process while cells run in it, without --isolate: the run
// must say so on stderr and must not end with code 0, and the finished rows stay on disk.
// Runs the recprune executable with the fixture_crash pruner (tests/fixtures/plugins/crash).
#include "../scaleout/cli_process.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <string>

using namespace recprune::test;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

#if defined(__SANITIZE_ADDRESS__)
// run/early_exit.cpp installs no signal handler under AddressSanitizer.
constexpr bool kSignalLine = false;
#else
constexpr bool kSignalLine = true;
#endif

// The run's only pruned cell ends the process. The dense cell runs first, because the pruned
// cell needs its weights, so its row is on disk by then.
void check_dense_row_kept(const std::filesystem::path& output) {
    const auto lines = complete_lines(output / "results.jsonl");
    REQUIRE(lines.size() == 1);
    const auto row = boost::json::parse(lines.front()).as_object();
    CHECK(row.at("kind") == "dense");
    CHECK(row.at("status") == "ok");
    CHECK_FALSE(std::filesystem::exists(output / "results.json"));
}

}  // namespace

TEST_CASE("run: a plugin calling exit(0) ends the run with code 5") {
    TempFolder scratch;
    const auto output = scratch.path() / "out";
    const auto arguments =
        run_arguments(scaleout_grid("in_process_exit.json"), output,
                      {"-j", "1", "--plugin-dir", crash_plugin_dir().string()});

    const auto result = run_command(arguments, scratch.path() / "run");

    // Code 5 (internal error in docs/cli.md), although the plugin called exit(0).
    CHECK_MESSAGE(result.exit_code == 5, result.err);
    CHECK(contains(result.err, "recprune: run ended early: " +
                                   (output / "results.jsonl").string() +
                                   ": a plugin called exit() while cells were running in this "
                                   "process, so results.json was not written; rerun the same "
                                   "command with --isolate: it keeps the finished rows in that "
                                   "file, runs the rest and records the cell that ended the "
                                   "process as failed\n"));
    CHECK(result.out.empty());
    check_dense_row_kept(output);

    INFO("the rerun the line asks for finishes the grid");
    auto isolated = arguments;
    isolated.push_back("--isolate");
    const auto rerun = run_command(isolated, scratch.path() / "rerun");
    CHECK_MESSAGE(rerun.exit_code == 1, rerun.err);
    CHECK(contains(rerun.out, "2 rows (1 run, 1 reused, 1 failed)"));
    CHECK_FALSE(contains(rerun.err, "run ended early"));
}

TEST_CASE("run: a crashing plugin keeps its signal as exit status") {
    TempFolder scratch;
    const auto output = scratch.path() / "out";

    const auto result = run_command(
        run_arguments(scaleout_grid("in_process_segfault.json"), output,
                      {"-j", "1", "--plugin-dir", crash_plugin_dir().string()}),
        scratch.path() / "run");

    CHECK_MESSAGE(result.exit_code == -SIGSEGV, result.err);
    if (kSignalLine) {
        CHECK(contains(result.err, "recprune: run ended early: " +
                                       (output / "results.jsonl").string() +
                                       ": the process got signal 11 (SIGSEGV) while cells were "
                                       "running in it, most likely from a plugin, so "
                                       "results.json was not written; rerun the same command "
                                       "with --isolate: "));
    }
    check_dense_row_kept(output);
}
