#!/usr/bin/python3
"""Tests of the result scripts in tools/: plot_results.py and score_feature_selection.py.

The result rows are written here by hand, with only the fields the scripts read, so each
expected number follows from the rows. The figure tests skip when matplotlib is missing
(the default test run does not install it); the score table needs the standard library only.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(TOOLS, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def has_matplotlib():
    return importlib.util.find_spec("matplotlib") is not None


def auc(value):
    return {"auc": {"value": value, "status": "ok"}}


def iterative_rows():
    """Return a dense row and two runs of an iterative schedule. The second run broke the stop
    rule at its third step, so it stopped at the second."""
    dense = {"kind": "dense", "status": "ok", "dataset": {"name": "toy"},
             "model": {"name": "fm"}, "seed": 1,
             "metrics": {"test": auc(0.80), "validation": auc(0.81)}}
    rows = [dense]
    for seed, third in ((1, 0.79), (2, 0.70)):
        steps = [{"achieved_sparsity": 0.25, "validation": 0.80, "met_stop_rule": True},
                 {"achieved_sparsity": 0.50, "validation": 0.79, "met_stop_rule": True},
                 {"achieved_sparsity": 0.75, "validation": third,
                  "met_stop_rule": third > 0.75}]
        log = {"steps": steps}
        if third <= 0.75:
            log["stopped_at_sparsity"] = 0.50
            log["stop_reason"] = "validation auc 0.70 dropped more than 0.05 from the dense 0.81"
        rows.append({"kind": "pruned", "status": "ok", "dataset": {"name": "toy"},
                     "model": {"name": "fm"}, "pruner": {"name": "permutation"},
                     "seed": seed, "target_sparsity": 0.75,
                     "metrics": {"test": auc(0.78 if third > 0.75 else 0.77),
                                 "validation": auc(third)},
                     "schedule_log": log})
    return rows


class StepPointsTest(unittest.TestCase):
    def test_reads_each_step(self):
        plot_results = load_tool("plot_results")
        points = plot_results.step_points(iterative_rows()[2])
        self.assertEqual(points, [(0.25, 0.80, True), (0.50, 0.79, True), (0.75, 0.70, False)])

    def test_row_without_steps(self):
        plot_results = load_tool("plot_results")
        self.assertEqual(plot_results.step_points(iterative_rows()[0]), [])


class CurvePointsTest(unittest.TestCase):
    def test_stopped_run_stays_off_the_target(self):
        plot_results = load_tool("plot_results")
        points, stopped, failed, undefined = plot_results.curve_points(
            iterative_rows()[1:], "auc", "test")
        # Seed 1 reached 0.75 with test AUC 0.78; seed 2 stopped and kept 0.50, AUC 0.77.
        self.assertEqual(points, [(0.75, [0.78])])
        self.assertEqual(stopped, [(0.50, 0.77)])
        self.assertEqual((failed, undefined), (0, 0))


@unittest.skipUnless(has_matplotlib(), "matplotlib is not installed")
class FiguresTest(unittest.TestCase):
    def run_plot(self, rows):
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "results.jsonl")
        with open(path, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
        output = os.path.join(folder, "plots")
        subprocess.run([sys.executable, os.path.join(TOOLS, "plot_results.py"), path,
                        "--metric", "auc", "--output", output], check=True,
                       stdout=subprocess.DEVNULL)
        return sorted(os.listdir(output))

    def test_iterative_runs_get_steps_figure(self):
        self.assertIn("steps.png", self.run_plot(iterative_rows()))

    def test_one_step_runs_get_no_steps_figure(self):
        rows = iterative_rows()
        for row in rows[1:]:
            row["schedule_log"]["steps"] = row["schedule_log"]["steps"][:1]
        files = self.run_plot(rows)
        self.assertIn("curves.png", files)
        self.assertNotIn("steps.png", files)


def synthetic_results():
    """Return results of a synthetic run with user, item and a informative, c an exact copy
    of a, and n noise. Pruner "keeps_a" removes c and n in both seeds. Pruner "keeps_c" removes
    a and n in seed 1, and c and n in seed 2."""
    truth = {"fields": {"a": {"kind": "informative"}, "c": {"kind": "exact_copy"},
                        "n": {"kind": "noise"}}}
    rows = [{"kind": "dense", "status": "ok",
             "data_summary": {"metadata": {"plugin": {"truth": truth}}}}]
    removed = {("keeps_a", 1): {"c", "n"}, ("keeps_a", 2): {"c", "n"},
               ("keeps_c", 1): {"a", "n"}, ("keeps_c", 2): {"c", "n"}}
    for (pruner, seed), names in removed.items():
        blocks = [{"name": name, "pruned": int(name in names)}
                  for name in ("user", "item", "a", "c", "n")]
        rows.append({"kind": "pruned", "status": "ok", "pruner": {"name": pruner, "params": {}},
                     "seed": seed, "target_sparsity": 0.4,
                     "metrics": {"test": auc(0.7)},
                     "schedule_log": {"pruned_units": {"blocks": blocks}}})
    return {"rows": rows}


class ScoreTableTest(unittest.TestCase):
    def score(self):
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "results.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(synthetic_results(), handle)
        result = subprocess.run([sys.executable, os.path.join(TOOLS, "score_feature_selection.py"),
                                 path], check=True, capture_output=True, text=True)
        return {line.split("|")[1].strip(): line for line in result.stdout.splitlines()
                if line.startswith("| keeps_")}

    def test_perfect_pruner(self):
        # Keeps user, item and a: 3 informative of 3 kept, the copy and the noise dropped.
        line = self.score()["keeps_a"]
        self.assertIn("| 3.000 ± 0.000 | 1.000 ± 0.000 | 1.000 ± 0.000 | 1.000 ± 0.000 |", line)

    def test_pruner_that_keeps_the_copy(self):
        # Seed 1 keeps user, item, c: 2 informative of 3 (precision 2/3). Seed 2 is perfect.
        # Means 2.5 and 0.833; sample std of (2, 3) is 0.707 and of (2/3, 1) is 0.236.
        line = self.score()["keeps_c"]
        self.assertIn("| 2.500 ± 0.707 | 0.500 ± 0.707 | 1.000 ± 0.000 | 0.833 ± 0.236 |", line)


if __name__ == "__main__":
    unittest.main()
