// The ways one grid can run, through the recprune executable: serially, on two threads, in
// two shards joined by `recprune merge`, over two MPI ranks, resumed after a kill, and with
// each cell in a worker process. All must give the same metric values, because a cell's
// randomness derives only from its seed and parameters. Also: what merge reports, and what
// --isolate does with plugins that crash.
#include "cli_process.hpp"

#include "core/errors.hpp"
#include "results/result_store.hpp"

#include <doctest/doctest.h>

using namespace recprune::test;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

size_t count_of(const std::string& text, const std::string& part) {
    size_t count = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
        ++count;
    }
    return count;
}

CommandResult merge(const std::filesystem::path& output,
                    const std::vector<std::filesystem::path>& folders,
                    const std::filesystem::path& log) {
    std::vector<std::string> arguments{recprune_binary().string(), "merge", output.string()};
    for (const auto& folder : folders) arguments.push_back(folder.string());
    arguments.push_back("-q");
    return run_command(arguments, log);
}

#ifdef RECPRUNE_HAVE_MPI
// mpirun with 2 ranks on this machine only: loopback for the daemons, shared memory between
// the ranks. --allow-run-as-root because CI containers run as root.
std::vector<std::string> mpirun_arguments(const std::vector<std::string>& command) {
    std::vector<std::string> arguments{RECPRUNE_MPIEXEC, "--allow-run-as-root", "--oversubscribe",
                                       "--mca", "btl", "self,vader", "--mca",
                                       "oob_tcp_if_include", "lo", "-np", "2"};
    arguments.insert(arguments.end(), command.begin(), command.end());
    return arguments;
}
#endif

// The shard of each cell of a run's manifest.
std::map<std::string, int> shards_of(const std::filesystem::path& folder) {
    std::map<std::string, int> shards;
    const auto manifest = boost::json::parse(file_text(folder / "cells.json"));
    for (const auto& cell : manifest.at("cells").as_array()) {
        shards[std::string(cell.at("cell_id").as_string())] =
            static_cast<int>(cell.at("shard").to_number<int64_t>());
    }
    return shards;
}

}  // namespace

TEST_CASE("determinism: six ways to run one grid agree" * doctest::test_suite("determinism")) {
    TempFolder scratch;
    const auto grid = scaleout_grid("small.json");
    auto folder = [&](const std::string& name) { return scratch.path() / name; };
    auto run = [&](const std::string& name, const std::vector<std::string>& extra) {
        const auto result = run_command(run_arguments(grid, folder(name), extra), folder(name));
        REQUIRE_MESSAGE(result.exit_code == 0, name << ": " << result.err);
        return outcomes_of(folder(name) / "results.json");
    };

    // One run per way, each compared with the serial run. The ways are steps of one case
    // rather than subcases, because doctest would repeat the serial run for every subcase.
    const auto serial = run("serial", {"-j", "1"});
    // small.json: 2 seeds x (1 dense + 2 pruners x 2 sparsities).
    REQUIRE(serial.size() == 10);

    INFO("two threads");
    CHECK(run("parallel", {"-j", "2"}) == serial);

    INFO("two shards merged");
    run("shard-1", {"-j", "1", "--shard", "1/2"});
    run("shard-2", {"-j", "1", "--shard", "2/2"});
    const auto merged =
        merge(folder("merged"), {folder("shard-1"), folder("shard-2")}, folder("merge-log"));
    CHECK_MESSAGE(merged.exit_code == 0, merged.out << merged.err);
    CHECK(outcomes_of(folder("merged") / "results.json") == serial);

    INFO("two MPI ranks");
#ifdef RECPRUNE_HAVE_MPI
    const auto mpi =
        run_command(mpirun_arguments(run_arguments(grid, folder("mpi"), {"-j", "1", "--mpi"})),
                    folder("mpi"));
    REQUIRE_MESSAGE(mpi.exit_code == 0, mpi.err);
    CHECK(outcomes_of(folder("mpi") / "results.json") == serial);
#else
    MESSAGE("MPI leg skipped: this build has no MPI");
#endif

    INFO("resumed after a kill");
    {
        ChildProcess child(run_arguments(grid, folder("killed"), {"-j", "2"}),
                           folder("killed-first"));
        while (child.running() && complete_lines(folder("killed") / "results.jsonl").size() < 3) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (!child.kill()) MESSAGE("the first run finished before the kill");
    }
    CHECK(run("killed", {"-j", "2"}) == serial);

    INFO("each cell in a worker process");
    CHECK(run("isolated", {"-j", "2", "--isolate"}) == serial);
}

TEST_CASE("mpi: two ranks share the cells of a grid" * doctest::test_suite("mpi")) {
#ifndef RECPRUNE_HAVE_MPI
    MESSAGE("skipped: this build has no MPI");
#else
    TempFolder scratch;
    const auto output = scratch.path() / "out";
    // Info level, whatever RECPRUNE_LOG sets, because the run logs the jobs of each rank there.
    std::vector<std::string> command{"/usr/bin/env",
                                     "RECPRUNE_LOG=info",
                                     recprune_binary().string(),
                                     "run",
                                     scaleout_grid("small.json").string(),
                                     "-o",
                                     output.string(),
                                     "--cache-dir",
                                     (scratch.path() / ".cache").string(),
                                     "-j",
                                     "1",
                                     "--mpi"};
    const auto result = run_command(mpirun_arguments(command), scratch.path() / "mpirun");
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);

    const auto table = boost::json::parse(file_text(output / "results.json"));
    CHECK(table.at("rows").as_array().size() == 10);
    const auto& scale_out = table.at("environment").at("scale_out");
    CHECK(scale_out.at("mode") == "mpi");
    CHECK(scale_out.at("ranks") == 2);
    CHECK(complete_lines(output / "results.jsonl").size() == 10);
    // Only rank 0 prints the table.
    CHECK(count_of(result.out, "10 rows (10 run, 0 reused, 0 failed)") == 1);

    // Both ranks ran jobs: "jobs run per rank: rank 0: <n>, rank 1: <m>" with m > 0.
    const std::string marker = "jobs run per rank: rank 0: ";
    const size_t at = result.err.find(marker);
    REQUIRE_MESSAGE(at != std::string::npos, result.err);
    const size_t rank_one = result.err.find("rank 1: ", at);
    REQUIRE(rank_one != std::string::npos);
    CHECK(std::stoi(result.err.substr(rank_one + 8)) > 0);
#endif
}

TEST_CASE("merge: reports missing shards and conflicting rows") {
    TempFolder scratch;
    const auto grid = scaleout_grid("small.json");
    auto folder = [&](const std::string& name) { return scratch.path() / name; };
    for (const char* shard : {"1/2", "2/2"}) {
        const std::string name = std::string("shard-") + shard[0];
        const auto result = run_command(run_arguments(grid, folder(name), {"--shard", shard}),
                                        folder(name));
        REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    }
    const auto shards = shards_of(folder("shard-1"));
    size_t in_shard_two = 0;
    for (const auto& [id, shard] : shards) in_shard_two += shard == 2 ? 1 : 0;
    REQUIRE(shards.size() == 10);
    REQUIRE(in_shard_two > 0);

    INFO("one shard missing");
    const auto partial = merge(folder("out-1"), {folder("shard-1")}, folder("merge-1"));
    CHECK(partial.exit_code == 1);
    CHECK(count_of(partial.out, "missing: ") == in_shard_two);
    CHECK(contains(partial.out, "shard 2/2 has no row for it"));
    CHECK(contains(partial.out, std::to_string(10 - in_shard_two) + " of 10 cells merged"));
    const auto partial_table = boost::json::parse(file_text(folder("out-1") / "results.json"));
    CHECK(partial_table.at("rows").as_array().size() == 10 - in_shard_two);
    CHECK(partial_table.at("environment").at("merge").at("missing").as_array().size() ==
          in_shard_two);

    INFO("both shards");
    const auto complete =
        merge(folder("out-2"), {folder("shard-1"), folder("shard-2")}, folder("merge-2"));
    CHECK(complete.exit_code == 0);
    CHECK(contains(complete.out, "10 of 10 cells merged"));
    CHECK(complete_lines(folder("out-2") / "results.jsonl").size() == 10);

    INFO("a third folder whose first row has another test AUC");
    std::filesystem::copy(folder("shard-2"), folder("edited"),
                          std::filesystem::copy_options::recursive);
    auto lines = complete_lines(folder("edited") / "results.jsonl");
    REQUIRE_FALSE(lines.empty());
    auto row = boost::json::parse(lines[0]).as_object();
    row["metrics"].as_object()["test"].as_object()["auc"].as_object()["value"] = 0.123;
    lines[0] = boost::json::serialize(row);
    {
        std::ofstream out(folder("edited") / "results.jsonl", std::ios::trunc);
        for (const auto& line : lines) out << line << "\n";
    }
    const auto conflicting = merge(
        folder("out-3"), {folder("shard-1"), folder("shard-2"), folder("edited")},
        folder("merge-3"));
    CHECK(conflicting.exit_code == 1);
    CHECK(count_of(conflicting.out, "conflict: ") == 1);
    // The other rows of the copy equal the originals: duplicates, not conflicts.
    CHECK(contains(conflicting.out,
                   std::to_string(in_shard_two - 1) + " found twice with equal results"));
    // The first folder's row is kept.
    CHECK(outcomes_of(folder("out-3") / "results.json") ==
          outcomes_of(folder("out-2") / "results.json"));
}

TEST_CASE("isolate: crashing plugins fail only their own cells") {
    TempFolder scratch;
    const auto output = scratch.path() / "out";
    const auto arguments =
        run_arguments(scaleout_grid("crash.json"), output,
                      {"-j", "2", "--isolate", "--plugin-dir", crash_plugin_dir().string()});
    const auto result = run_command(arguments, scratch.path() / "run");
    // Exit code 1: some cells failed, and the run itself finished.
    REQUIRE_MESSAGE(result.exit_code == 1, result.err);

    std::map<std::string, std::string> outcome_by_action;
    const auto table = recprune::results::read_rows(output / "results.json");
    // crash.json: the dense cell, magnitude, and fixture_crash with three actions.
    REQUIRE(table.size() == 5);
    for (const auto& row : table) {
        std::string key = "dense";
        if (const auto* pruner = row.if_contains("pruner")) {
            key = std::string(pruner->at("name").as_string());
            if (key == "fixture_crash") {
                key += ":" + std::string(pruner->at("params").at("action").as_string());
            }
        }
        std::string outcome(row.at("status").as_string());
        if (const auto* message = row.if_contains("message")) {
            outcome += ": " + std::string(message->as_string());
        }
        outcome_by_action[key] = outcome;
    }
    CHECK(outcome_by_action.at("dense") == "ok");
    CHECK(outcome_by_action.at("magnitude") == "ok");
    CHECK(contains(outcome_by_action.at("fixture_crash:segfault"),
                   "failed: cell failed: dataset=movietweetings model=logistic_regression "
                   "pruner=fixture_crash schedule=one_shot sparsity=0.5 seed=1: the worker "
                   "process was killed by signal 11 (SIGSEGV"));
    CHECK(contains(outcome_by_action.at("fixture_crash:abort"),
                   "the worker process was killed by signal 6 (SIGABRT"));
    CHECK(contains(outcome_by_action.at("fixture_crash:exit"),
                   "the worker process exited with code 3 before it returned the row"));
    CHECK(contains(result.out, "5 rows (5 run, 0 reused, 3 failed)"));


    INFO("a plain rerun reuses the failed rows and still reports them");
    const auto rerun = run_command(arguments, scratch.path() / "rerun");
    CHECK(rerun.exit_code == 1);
    CHECK(contains(rerun.out, "5 rows (0 run, 5 reused, 3 failed)"));
    CHECK(contains(rerun.err, "3 failed rows were reused from an earlier run; rerun with "
                              "--retry-failed to run those cells again"));

    INFO("retrying the failed cells keeps one row per cell");
    const auto first_lines = complete_lines(output / "results.jsonl");
    REQUIRE(first_lines.size() == 5);
    auto retry_arguments = arguments;
    retry_arguments.push_back("--retry-failed");
    const auto retry = run_command(retry_arguments, scratch.path() / "retry");
    CHECK(retry.exit_code == 1);
    CHECK(contains(retry.out, "5 rows (3 run, 2 reused, 3 failed)"));

    const auto lines = complete_lines(output / "results.jsonl");
    REQUIRE(lines.size() == 5);
    std::set<std::string> ids;
    for (size_t i = 0; i < lines.size(); ++i) {
        ids.insert(cell_id_of_line(lines[i]));
        // Cells keep their place in the file, and the two finished rows keep their bytes.
        CHECK(cell_id_of_line(lines[i]) == cell_id_of_line(first_lines[i]));
        if (boost::json::parse(lines[i]).at("status") == "ok") CHECK(lines[i] == first_lines[i]);
    }
    CHECK(ids.size() == 5);
}

TEST_CASE("output folder: a second run is rejected while one writes") {
    TempFolder scratch;
    const auto output = scratch.path() / "out";
    // This process takes the folder's lock as a running recprune would.
    recprune::results::ResultStore holder(output);

    const auto result = run_command(run_arguments(scaleout_grid("small.json"), output),
                                    scratch.path() / "second");
    CHECK(result.exit_code == 2);
    CHECK(contains(result.err, "output folder in use: " + output.string() +
                                   ": another recprune process is writing to it; wait for it to "
                                   "finish or give another --output"));
    CHECK(complete_lines(output / "results.jsonl").empty());
}

TEST_CASE("slurm script: two array tasks merge into the whole grid") {
    TempFolder scratch;
    const auto script = std::filesystem::path(RECPRUNE_SOURCE_DIR) / "tools" / "slurm_array.sbatch";
    const auto root = scratch.path() / "grid";
    // What Slurm sets for task K of `sbatch --array=1-2 --cpus-per-task=1`.
    auto task = [&](const std::string& index) {
        return std::vector<std::string>{"/usr/bin/env",
                                        "SLURM_ARRAY_TASK_ID=" + index,
                                        "SLURM_ARRAY_TASK_COUNT=2",
                                        "SLURM_ARRAY_TASK_MIN=1",
                                        "SLURM_CPUS_PER_TASK=1",
                                        "RECPRUNE_BIN=" + recprune_binary().string(),
                                        "RECPRUNE_ARGS=-q",
                                        "/bin/bash",
                                        script.string(),
                                        scaleout_grid("small.json").string(),
                                        root.string()};
    };
    for (const std::string index : {"1", "2"}) {
        const auto result = run_command(task(index), scratch.path() / ("task-" + index));
        REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    }
    CHECK(std::filesystem::exists(root / ".cache"));

    const auto merged =
        merge(root / "merged", {root / "shard-1", root / "shard-2"}, scratch.path() / "merge");
    CHECK(merged.exit_code == 0);
    CHECK(contains(merged.out, "10 of 10 cells merged"));

    // Outside an array task the script stops before running anything.
    const auto outside = run_command({"/usr/bin/env", "-u", "SLURM_ARRAY_TASK_ID", "/bin/bash",
                                      script.string(),
                                      scaleout_grid("small.json").string(), root.string()},
                                     scratch.path() / "outside");
    CHECK(outside.exit_code != 0);
    CHECK(contains(outside.err, "not an array task"));
}

TEST_CASE("isolate: worker processes save models in the run's folder") {
    TempFolder scratch;
    const auto output = scratch.path() / "out";
    const auto result = run_command(
        run_arguments(scaleout_grid("small.json"), output, {"-j", "2", "--isolate", "--save-models"}),
        scratch.path() / "run");
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);

    const auto table = recprune::results::read_rows(output / "results.json");
    REQUIRE(table.size() == 10);
    for (const auto& row : table) {
        CAPTURE(std::string(row.at("cell_id").as_string()));
        const auto& saved = row.at("saved_models").as_object();
        CHECK_FALSE(saved.contains("errors"));
        const char* key = row.at("kind") == "dense" ? "dense" : "pruned";
        REQUIRE(saved.contains(key));
        const std::string relative(saved.at(key).as_string());
        CHECK(relative == "models/" + std::string(row.at("cell_id").as_string()) + "/" + key +
                              ".model");
        CHECK(std::filesystem::file_size(output / relative) > 0);
    }
}

TEST_CASE("merge: saved model files move with their rows") {
    TempFolder scratch;
    auto folder = [&](const std::string& name) { return scratch.path() / name; };
    const auto grid = scaleout_grid("small.json");
    for (const char* shard : {"1/2", "2/2"}) {
        const std::string name = std::string("shard-") + shard[0];
        const auto result = run_command(
            run_arguments(grid, folder(name), {"-j", "2", "--shard", shard, "--save-models"}),
            folder(name + "-log"));
        REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    }
    const auto merged =
        merge(folder("merged"), {folder("shard-1"), folder("shard-2")}, folder("merge-log"));
    REQUIRE_MESSAGE(merged.exit_code == 0, merged.out << merged.err);

    const auto table = recprune::results::read_rows(folder("merged") / "results.json");
    REQUIRE(table.size() == 10);
    for (const auto& row : table) {
        CAPTURE(std::string(row.at("cell_id").as_string()));
        const auto& saved = row.at("saved_models").as_object();
        const char* key = row.at("kind") == "dense" ? "dense" : "pruned";
        REQUIRE(saved.contains(key));
        CHECK(std::filesystem::exists(folder("merged") / std::string(saved.at(key).as_string())));
    }

    INFO("a shard that lost a cell's model folder");
    const auto shard_rows = recprune::results::read_rows(folder("shard-1") / "results.jsonl");
    REQUIRE_FALSE(shard_rows.empty());
    const std::string lost(shard_rows.front().at("cell_id").as_string());
    std::filesystem::remove_all(folder("shard-1") / "models" / lost);
    const auto again =
        merge(folder("merged-2"), {folder("shard-1"), folder("shard-2")}, folder("merge-log-2"));
    REQUIRE_MESSAGE(again.exit_code == 0, again.out << again.err);
    for (const auto& row : recprune::results::read_rows(folder("merged-2") / "results.json")) {
        if (row.at("cell_id").as_string() != lost) continue;
        const auto& saved = row.at("saved_models").as_object();
        CHECK(saved.size() == 1);
        CHECK(contains(std::string(saved.at("errors").as_array().front().as_string()),
                       "model files not copied from"));
    }
    CHECK(contains(again.err, "copy the folder by hand"));
}
