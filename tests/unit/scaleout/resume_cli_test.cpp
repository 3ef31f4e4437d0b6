// Resuming a grid in an output folder that already holds results: a run killed in the middle
// of a cell, and runs killed with SIGKILL at random moments again and again. No finished cell
// may be lost, none may get a second row, and the final table must equal the table of a run
// that was never interrupted.
#include "cli_process.hpp"

#include "results/result_store.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace recprune::test;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::vector<std::string> plugin_dir_arguments() {
    return {"--plugin-dir", crash_plugin_dir().string()};
}

// Waits until results.jsonl has `count` complete lines; false when the process ended first or
// `limit` passed.
bool wait_for_rows(ChildProcess& child, const std::filesystem::path& rows_path, size_t count,
                   std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (complete_lines(rows_path).size() >= count) return true;
        if (!child.running()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Checks what a kill may leave in results.jsonl: complete lines that are whole rows, one per
// cell, every row seen before still there byte for byte, and a file the reader accepts.
void check_rows_after_kill(const std::filesystem::path& rows_path,
                           std::map<std::string, std::string>& seen) {
    if (!std::filesystem::exists(rows_path)) {
        CHECK(seen.empty());
        return;
    }
    std::set<std::string> ids;
    for (const auto& line : complete_lines(rows_path)) {
        boost::system::error_code ec;
        const auto value = boost::json::parse(line, ec);
        REQUIRE_MESSAGE(!ec, "a complete line does not parse: " << line.substr(0, 120));
        const std::string id(value.at("cell_id").as_string());
        CHECK_MESSAGE(ids.insert(id).second, "cell " << id << " has two rows");
        auto [entry, added] = seen.emplace(id, line);
        CHECK_MESSAGE((added || entry->second == line), "the row of cell " << id << " changed");
    }
    for (const auto& [id, line] : seen) {
        CHECK_MESSAGE(ids.count(id) == 1, "the finished cell " << id << " was lost");
    }
    CHECK_NOTHROW(recprune::results::read_rows(rows_path));
}

}  // namespace

TEST_CASE("resume: a run killed in its third cell ends with three rows") {
    TempFolder scratch;
    const auto grid = scaleout_grid("three_cells.json");
    const auto output = scratch.path() / "out";
    const auto rows_path = output / "results.jsonl";
    auto arguments = run_arguments(grid, output, {"-j", "1"});
    for (const auto& argument : plugin_dir_arguments()) arguments.push_back(argument);

    // The dense cell and the magnitude cell finish within seconds; the third cell's pruner
    // sleeps 3 s in score() (three_cells.json), so the kill lands while it runs.
    std::vector<std::string> before;
    {
        ChildProcess child(arguments, scratch.path() / "first");
        REQUIRE_MESSAGE(wait_for_rows(child, rows_path, 2, std::chrono::seconds(120)),
                        "the first run did not write two rows: " << child.err());
        REQUIRE(child.kill());
        before = complete_lines(rows_path);
    }
    REQUIRE(before.size() == 2);
    CHECK(boost::json::parse(before[0]).at("kind") == "dense");
    CHECK(boost::json::parse(before[1]).at("pruner").at("name") == "magnitude");
    CHECK_FALSE(std::filesystem::exists(output / "results.json"));

    const auto resumed = run_command(arguments, scratch.path() / "resumed");
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
    // "Progress reads 3/3": three rows, two of them reused and one run.
    CHECK(contains(resumed.out, "3 rows (1 run, 2 reused, 0 failed)"));

    const auto after = complete_lines(rows_path);
    REQUIRE(after.size() == 3);
    CHECK(after[0] == before[0]);
    CHECK(after[1] == before[1]);
    const auto third = boost::json::parse(after[2]);
    CHECK(third.at("pruner").at("name") == "fixture_crash");
    CHECK(third.at("status") == "ok");
    CHECK(file_text(rows_path).back() == '\n');

    std::set<std::string> ids;
    for (const auto& line : after) ids.insert(cell_id_of_line(line));
    CHECK(ids.size() == 3);
    const auto table = recprune::results::read_rows(output / "results.json");
    CHECK(table.size() == 3);
}

TEST_CASE("resume: Ctrl-C finishes the running cell") {
    TempFolder scratch;
    const auto grid = scaleout_grid("four_cells.json");
    const auto output = scratch.path() / "out";
    const auto rows_path = output / "results.jsonl";
    auto arguments = run_arguments(grid, output, {"-j", "1"});
    for (const auto& argument : plugin_dir_arguments()) arguments.push_back(argument);

    // After two rows the third cell sleeps 3 s in score() (four_cells.json); SIGINT lands then.
    {
        ChildProcess child(arguments, scratch.path() / "first");
        REQUIRE_MESSAGE(wait_for_rows(child, rows_path, 2, std::chrono::seconds(120)),
                        "the first run did not write two rows: " << child.err());
        child.send(SIGINT);
        REQUIRE(child.wait(std::chrono::seconds(60)));
        // 130 = 128 + SIGINT, the code of an interrupted command.
        CHECK(child.exit_code() == 130);
        CHECK(contains(child.err(), "interrupted: 3 of 4 cells have rows in "));
        CHECK(contains(child.err(), "; rerun the same command to run the rest"));
    }
    const auto kept = complete_lines(rows_path);
    REQUIRE(kept.size() == 3);
    CHECK(boost::json::parse(kept[2]).at("pruner").at("name") == "fixture_crash");
    CHECK(boost::json::parse(kept[2]).at("status") == "ok");
    CHECK(recprune::results::read_rows(output / "results.json").size() == 3);
    // A report of the partial folder warns that the table is incomplete.
    const auto report = run_command(
        {recprune_binary().string(), "report", output.string(), "--no-files"},
        scratch.path() / "report");
    CHECK(report.exit_code == 0);
    CHECK(contains(report.err, "rows for 3 of the 4 cells its grid lists in "));

    const auto resumed = run_command(arguments, scratch.path() / "resumed");
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(contains(resumed.out, "4 rows (1 run, 3 reused, 0 failed)"));
}

TEST_CASE("resume: Ctrl-C during oneDNN training") {
    TempFolder scratch;
    const auto grid = scaleout_grid("deepfm_training.json");
    const auto output = scratch.path() / "out";
    const auto rows_path = output / "results.jsonl";
    const auto arguments = run_arguments(grid, output, {"-j", "1"});

    // The dense row is written before the random cell starts its fine-tuning epochs, so the
    // signal lands while the MLP trains.
    ChildProcess child(arguments, scratch.path() / "first");
    REQUIRE_MESSAGE(wait_for_rows(child, rows_path, 1, std::chrono::seconds(120)),
                    "the run did not write the dense row: " << child.err());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    child.send(SIGINT);
    REQUIRE(child.wait(std::chrono::seconds(120)));
    CHECK_MESSAGE(child.exit_code() == 130, child.err());
    CHECK_FALSE(contains(child.err(), "corrupted"));
    CHECK(contains(child.err(), "interrupted: 2 of 2 cells have rows in "));
    const auto table = recprune::results::read_rows(output / "results.json");
    REQUIRE(table.size() == 2);
    CHECK(table[1].at("status") == "ok");
}

TEST_CASE("resume: random SIGKILLs lose and repeat no row" * doctest::test_suite("kill")) {
    TempFolder scratch;
    const auto grid = scaleout_grid("kill.json");
    const std::vector<std::string> threads{"-j", "2"};

    // The reference: one run that nothing interrupts.
    const auto reference_start = std::chrono::steady_clock::now();
    const auto reference =
        run_command(run_arguments(grid, scratch.path() / "reference", threads),
                    scratch.path() / "reference");
    const double reference_seconds = seconds_since(reference_start);
    REQUIRE_MESSAGE(reference.exit_code == 0, reference.err);
    const auto expected = outcomes_of(scratch.path() / "reference" / "results.json");
    // kill.json: 2 seeds x (1 dense + 2 pruners x 3 sparsities).
    REQUIRE(expected.size() == 14);

    // Rounds of runs into a fresh folder, each run killed after a random delay up to the
    // length of the reference run, until one run of the round finishes on its own. The
    // delays come from a fixed seed; where they land still depends on the machine's speed.
    constexpr int kKillsWanted = 12;
    constexpr double kTimeBudgetSeconds = 45.0;
    std::mt19937_64 random(20240611);
    std::uniform_real_distribution<double> delay(0.0, std::max(0.4, reference_seconds));
    const auto test_start = std::chrono::steady_clock::now();
    int kills = 0;
    int rounds = 0;
    while (kills < kKillsWanted && seconds_since(test_start) < kTimeBudgetSeconds) {
        ++rounds;
        CAPTURE(rounds);
        const auto output = scratch.path() / ("round-" + std::to_string(rounds));
        const auto rows_path = output / "results.jsonl";
        std::map<std::string, std::string> seen;
        for (int attempt = 1;; ++attempt) {
            CAPTURE(attempt);
            const auto log = output.string() + "-attempt-" + std::to_string(attempt);
            ChildProcess child(run_arguments(grid, output, threads), log);
            const double wait_seconds = delay(random);
            child.wait(std::chrono::duration<double>(wait_seconds));
            const bool killed = child.kill();
            check_rows_after_kill(rows_path, seen);
            if (!killed) {
                REQUIRE_MESSAGE(child.exit_code() == 0, child.err());
                break;
            }
            ++kills;
            REQUIRE_MESSAGE(attempt < 200, "the run makes no progress between kills");
        }

        // The round's last run finished: one row per cell, each as first written, and the
        // metric values of the uninterrupted run.
        const auto lines = complete_lines(rows_path);
        CHECK(lines.size() == 14);
        CHECK(file_text(rows_path).back() == '\n');
        check_rows_after_kill(rows_path, seen);
        CHECK(seen.size() == 14);
        CHECK(outcomes_of(output / "results.json") == expected);
    }
    MESSAGE(kills << " kills in " << rounds << " rounds");
    CHECK(kills >= kKillsWanted / 2);
}
