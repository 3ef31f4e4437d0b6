#!/usr/bin/python3
"""End-to-end checks of the `recprune` command on the grids in tests/fixtures/grids.

Each case runs the command as a user would, in a fresh work folder, and checks the exit code,
the message on stderr and the result files. Standard library only.

usage: check_cli.py CASE --recprune BIN --fixtures DIR --plugin-dir DIR --work DIR
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys

# Exit codes documented at the top of framework/cli/main.cpp.
EXIT_OK = 0
EXIT_CELLS_FAILED = 1
EXIT_CONFIG = 2
EXIT_DATA = 3
EXIT_PLUGIN = 4

TIMEOUT_SECONDS = 300


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def reject_constant(token):
    raise ValueError("non-standard JSON token %s" % token)


def load_strict(text):
    """Parse JSON text and reject NaN, Infinity and -Infinity, which RFC 8259 does not allow."""
    return json.loads(text, parse_constant=reject_constant)


class Context:
    def __init__(self, args):
        # Absolute, because the command runs with the work folder as its current folder.
        self.recprune = os.path.abspath(args.recprune)
        self.fixtures = pathlib.Path(args.fixtures).resolve()
        self.plugin_dir = os.path.abspath(args.plugin_dir)
        self.work = pathlib.Path(args.work).resolve()

    def grid(self, name):
        return str(self.fixtures / "grids" / name)

    def run(self, arguments, expected_exit):
        """Run recprune with `arguments`; check the exit code and return the finished process."""
        env = dict(os.environ)
        env.pop("RECPRUNE_LOG", None)
        env.pop("RECPRUNE_PLUGIN_PATH", None)
        command = [self.recprune] + arguments
        process = subprocess.run(command, cwd=self.work, env=env, capture_output=True, text=True,
                                 timeout=TIMEOUT_SECONDS)
        if process.returncode != expected_exit:
            raise CheckFailed("%s exited with %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                              % (" ".join(command), process.returncode, expected_exit,
                                 process.stdout, process.stderr))
        return process

    def run_grid(self, grid, output, extra=(), expected_exit=EXIT_OK):
        arguments = ["run", self.grid(grid), "--output", str(self.work / output), "--no-cache",
                     "-q"] + list(extra)
        return self.run(arguments, expected_exit)


def read_table(folder):
    """Read results.json and results.jsonl of an output folder strictly; return the table."""
    table = load_strict((folder / "results.json").read_text(encoding="utf-8"))
    lines = (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
    line_rows = [load_strict(line) for line in lines if line]
    check(len(line_rows) == len(table["rows"]),
          "results.jsonl has %d rows, results.json %d" % (len(line_rows), len(table["rows"])))
    return table


def metric_values(row):
    """The numbers of a row that must not depend on scheduling: metrics and sparsity."""
    return {"metrics": row.get("metrics"), "dense_metrics": row.get("dense_metrics"),
            "sparsity": row.get("sparsity"), "status": row.get("status")}


def expect_rejected_before_cells(context, grid, expected_exit, parts, extra=()):
    """Run an invalid grid: check the exit code, the message and that no cell ran."""
    output = context.work / "out"
    process = context.run_grid(grid, "out", extra, expected_exit)
    for part in parts:
        check(part in process.stderr, "stderr lacks %r:\n%s" % (part, process.stderr))
    # One message: every part appears once, and nothing reached stdout.
    check(process.stderr.count(parts[0]) == 1,
          "the message appears %d times:\n%s" % (process.stderr.count(parts[0]), process.stderr))
    check(process.stdout == "", "stdout is not empty:\n%s" % process.stdout)
    check(not (output / "results.jsonl").exists(), "a cell ran: %s exists" % output)


# ---- cases ------------------------------------------------------------------------------------


def case_run_tiny_grid(context):
    process = context.run_grid("tiny.json", "out")
    table = read_table(context.work / "out")
    rows = table["rows"]
    check(table["schema_version"] == 1, "schema_version %r" % table["schema_version"])
    check(table["grid"]["name"] == "cli_tiny", "the table does not hold the grid")
    check("environment" in table, "the table has no environment")

    # tiny.json: 2 seeds x (1 dense + 2 pruners x 2 sparsities) = 10 rows.
    check(len(rows) == 10, "expected 10 rows, found %d" % len(rows))
    dense = sorted(row["seed"] for row in rows if row["kind"] == "dense")
    check(dense == [1, 2], "dense rows for seeds %r" % dense)
    pruned = sorted((row["pruner"]["name"], row["target_sparsity"], row["seed"])
                    for row in rows if row["kind"] == "pruned")
    expected = sorted((pruner, sparsity, seed) for pruner in ("random", "magnitude")
                      for sparsity in (0.5, 0.9) for seed in (1, 2))
    check(pruned == expected, "pruned cells %r, expected %r" % (pruned, expected))
    check(len({row["cell_id"] for row in rows}) == 10, "cell ids are not unique")

    for row in rows:
        where = "%s %s" % (row["kind"], row.get("pruner", {}).get("name", ""))
        check(row["status"] == "ok", "%s: status %r %s" % (where, row["status"],
                                                           row.get("message", "")))
        auc = row["metrics"]["test"]["auc"]
        check(auc["status"] == "ok" and 0.0 <= auc["value"] <= 1.0, "%s: auc %r" % (where, auc))
        logloss = row["metrics"]["test"]["logloss"]
        check(logloss["status"] == "ok" and logloss["value"] > 0.0,
              "%s: logloss %r" % (where, logloss))
        if row["kind"] == "pruned":
            # Weight units of a logistic regression are its embedding and dense weights; the
            # achieved fraction is the rounded count over all units, so within 1 unit of it.
            sparsity = row["sparsity"]
            check(sparsity["target"] == row["target_sparsity"], "%s: target %r" % (where,
                                                                                  sparsity))
            check(abs(sparsity["achieved_units"] - row["target_sparsity"]) < 0.02,
                  "%s: achieved %r" % (where, sparsity["achieved_units"]))

    # The summary table on stdout names both pruners and both sparsities.
    for text in ("random", "magnitude", "(dense)", "0.5", "0.9"):
        check(text in process.stdout, "stdout lacks %r:\n%s" % (text, process.stdout))
    check("10 rows (10 run, 0 reused, 0 failed)" in process.stdout,
          "stdout lacks the summary line:\n%s" % process.stdout)

    # A second run in the same folder reuses every row.
    again = context.run_grid("tiny.json", "out")
    check("10 rows (0 run, 10 reused, 0 failed)" in again.stdout,
          "the rerun did not reuse the rows:\n%s" % again.stdout)


def case_threads_identical(context):
    context.run_grid("tiny.json", "serial", ["--threads", "1"])
    context.run_grid("tiny.json", "parallel", ["--threads", "2"])
    serial = {row["cell_id"]: row for row in read_table(context.work / "serial")["rows"]}
    parallel = {row["cell_id"]: row for row in read_table(context.work / "parallel")["rows"]}
    check(sorted(serial) == sorted(parallel), "the two runs have different cells")
    check(len(serial) == 10, "expected 10 rows, found %d" % len(serial))
    for cell_id, row in serial.items():
        # Exact equality: the values are shortest round-trip decimal text of the same doubles.
        check(metric_values(row) == metric_values(parallel[cell_id]),
              "cell %s differs between --threads 1 and --threads 2:\n%s\n%s"
              % (cell_id, json.dumps(metric_values(row)),
                 json.dumps(metric_values(parallel[cell_id]))))


def case_validate(context):
    process = context.run(["validate", context.grid("tiny.json")], EXIT_OK)
    check("valid; 10 cells (2 dense groups, 8 pruned cells) over 1 dataset(s)" in process.stdout,
          "validate printed:\n%s" % process.stdout)


def case_syntax_error(context):
    # The comma missing at the end of line 5 is found at the quote opening line 6. The grid
    # starts with a comment, which must not move the position.
    expect_rejected_before_cells(context, "syntax_error.json", EXIT_CONFIG, [
        "invalid JSON: %s:6:3: " % context.grid("syntax_error.json"),
        "; check the brackets, commas and quotes before this point"])


def case_unknown_plugin(context):
    expect_rejected_before_cells(context, "unknown_plugin.json", EXIT_CONFIG, [
        "invalid grid: %s: $.models[0].name: unknown model \"logistic_regresion\"; known: "
        % context.grid("unknown_plugin.json"),
        "logistic_regression",
        "; check the spelling or add its folder with --plugin-dir"])


def case_unknown_parameter(context):
    expect_rejected_before_cells(context, "unknown_parameter.json", EXIT_CONFIG, [
        "invalid grid: %s: $.models[0].params.learning_rate: unknown parameter of model "
        "logistic_regression; known: pooling, init_std" % context.grid("unknown_parameter.json")])


def case_sparsity_out_of_range(context):
    expect_rejected_before_cells(context, "sparsity_out_of_range.json", EXIT_CONFIG, [
        "invalid grid: %s: $.sparsities[1]: 1.5 is outside [0, 1]; give a fraction such as 0.9"
        % context.grid("sparsity_out_of_range.json")])


def case_missing_data_folder(context):
    # Paths in the grid are checked with the grid, before the data is read.
    folder = context.fixtures / "data" / "cli" / "no-such-folder"
    expect_rejected_before_cells(context, "missing_data.json", EXIT_CONFIG, [
        "invalid grid: %s: $.datasets[0].params.path: %s does not exist; fix the path"
        % (context.grid("missing_data.json"), folder)])


def case_missing_data_file(context):
    ratings = context.fixtures / "data" / "cli" / "movietweetings-no-ratings" / "ratings.dat"
    expect_rejected_before_cells(context, "missing_ratings.json", EXIT_DATA, [
        "missing data file: %s: No such file or directory; check the dataset's parameters"
        % ratings])


def case_unreadable_data_file(context):
    # A folder in the place of ratings.dat opens but cannot be read, even by root, for whom
    # file permissions would not stop a read.
    data = context.work / "data"
    (data / "ratings.dat").mkdir(parents=True)
    shutil.copy(context.fixtures / "data" / "cli" / "movietweetings-tiny" / "movies.dat", data)
    grid = context.work / "unreadable.json"
    grid.write_text(json.dumps({
        "name": "cli_unreadable", "datasets": [{"name": "movietweetings",
                                                "params": {"path": "data"}}],
        "models": ["logistic_regression"], "seeds": [1]}), encoding="utf-8")
    process = context.run(["run", str(grid), "--output", str(context.work / "out"),
                           "--no-cache", "-q"], EXIT_DATA)
    expected = " data file: %s: Is a directory; " % (data / "ratings.dat")
    check(expected in process.stderr, "stderr lacks %r:\n%s" % (expected, process.stderr))
    check(not (context.work / "out" / "results.jsonl").exists(), "a cell ran")


def case_short_line(context):
    ratings = context.fixtures / "data" / "cli" / "movietweetings-short-line" / "ratings.dat"
    expect_rejected_before_cells(context, "short_line.json", EXIT_DATA, [
        "malformed data: %s:4: " % ratings, "expected 4 fields"])


def case_abi_major_two(context):
    library = pathlib.Path(context.plugin_dir) / "librecprune_pruner_fixture_abi_major_two.so"
    expect_rejected_before_cells(context, "abi_major_two.json", EXIT_CONFIG, [
        "plugin rejected: %s: ABI major 2, host 1; rebuild it with this SDK" % library,
        "invalid grid: %s: $.pruners[0].name: " % context.grid("abi_major_two.json")],
        ["--plugin-dir", context.plugin_dir])


def case_failing_pruner(context):
    process = context.run_grid("failing_pruner.json", "out",
                               ["--plugin-dir", context.plugin_dir], EXIT_CELLS_FAILED)
    rows = read_table(context.work / "out")["rows"]
    check(len(rows) == 4, "expected 4 rows, found %d" % len(rows))
    by_pruner = {row.get("pruner", {}).get("name", "(dense)"): row for row in rows}
    failed = by_pruner["fixture_failing_score"]
    check(failed["status"] == "failed", "the failing cell has status %r" % failed["status"])
    expected = ("cell failed: dataset=movietweetings model=logistic_regression "
                "pruner=fixture_failing_score schedule=one_shot sparsity=0.5 seed=1: "
                "pruner failed: fixture_failing_score: this fixture fails every score call on "
                "purpose; remove it from the grid")
    check(failed["message"] == expected, "message %r" % failed["message"])
    for name in ("(dense)", "random", "magnitude"):
        check(by_pruner[name]["status"] == "ok", "%s: status %r" % (name,
                                                                  by_pruner[name]["status"]))
    check("4 rows (4 run, 0 reused, 1 failed)" in process.stdout,
          "stdout lacks the summary line:\n%s" % process.stdout)
    check(expected in process.stderr, "the failure was not logged:\n%s" % process.stderr)


CASES = {
    "run_tiny_grid": case_run_tiny_grid,
    "threads_identical": case_threads_identical,
    "validate": case_validate,
    "syntax_error": case_syntax_error,
    "unknown_plugin": case_unknown_plugin,
    "unknown_parameter": case_unknown_parameter,
    "sparsity_out_of_range": case_sparsity_out_of_range,
    "missing_data_folder": case_missing_data_folder,
    "missing_data_file": case_missing_data_file,
    "unreadable_data_file": case_unreadable_data_file,
    "short_line": case_short_line,
    "abi_major_two": case_abi_major_two,
    "failing_pruner": case_failing_pruner,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--recprune", required=True, help="the recprune executable")
    parser.add_argument("--fixtures", required=True, help="the tests/fixtures folder")
    parser.add_argument("--plugin-dir", required=True, help="the built fixture plugins")
    parser.add_argument("--work", required=True, help="scratch folder, emptied first")
    args = parser.parse_args()

    work = pathlib.Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        CASES[args.case](Context(args))
    except CheckFailed as failure:
        print("FAILED %s: %s" % (args.case, failure), file=sys.stderr)
        return 1
    print("passed %s" % args.case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
