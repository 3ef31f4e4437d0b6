#!/usr/bin/python3
"""Scores feature pruners on the synthetic dataset against its recorded ground truth.

Reads a results.json written by `recprune run` on a grid over the `synthetic` dataset with
field-granularity pruners. For each pruner (mean and standard deviation over seeds) it prints:
how many informative fields were kept, how many redundant fields (exact and noisy copies) and
pure-noise or rare fields were dropped, and precision = informative kept / all feature fields kept
(user and item count as informative, because the labels are generated from user-item affinity).

Usage: /usr/bin/python3 tools/score_feature_selection.py RESULTS [--plot FILE.png]
RESULTS is the results.json of a run or the run's output folder.
The table needs the standard library only. --plot also draws the informative fields kept and
the precision of each pruner as bars (mean over seeds, error bars of one sample standard
deviation) into FILE.png, with Debian's python3-matplotlib.
"""
import argparse
import json
import os
import signal
import statistics
import sys
from collections import defaultdict


def truth_of(rows):
    for row in rows:
        if row.get("kind") == "dense" and row.get("status") == "ok":
            plugin = row["data_summary"]["metadata"].get("plugin", {})
            if "truth" in plugin:
                return plugin["truth"]
    fail("no dense row with synthetic ground truth; run a grid on the synthetic dataset "
         "first")


def classify(truth):
    kinds = {"user": "informative", "item": "informative"}
    for name, entry in truth["fields"].items():
        kind = entry["kind"]
        kinds[name] = {"exact_copy": "redundant", "noisy_copy": "redundant"}.get(kind, kind)
    return kinds


def label(row):
    params = row["pruner"]["params"]
    extra = [f"{k}={params[k]}" for k in ("granularity", "mode") if k in params
             and row["pruner"]["name"] in ("magnitude", "random", "similarity", "frequency")]
    return " ".join([row["pruner"]["name"]] + extra)


def plot(scores, totals, path):
    """Draw bars of informative fields kept and of precision per pruner into `path`."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("cannot import matplotlib: run with /usr/bin/python3 after "
             "apt-get install --no-install-recommends python3-matplotlib python3-munkres, or "
             "leave out --plot")
    keys = sorted(scores, key=lambda key: -statistics.mean(scores[key]["precision"]))
    names = [f"{name}\n(sparsity {sparsity:.2f})" for name, sparsity in keys]
    figure, axes = plt.subplots(1, 2, figsize=(11, 0.5 * len(keys) + 1.8))
    panels = [("informative kept", f"informative fields kept (of {totals['informative']})"),
              ("precision", "precision: informative kept / fields kept")]
    for axis, (column, title) in zip(axes, panels):
        means = [statistics.mean(scores[key][column]) for key in keys]
        spreads = [statistics.stdev(scores[key][column]) if len(scores[key][column]) > 1
                   else 0.0 for key in keys]
        axis.barh(range(len(keys)), means, xerr=spreads, color="tab:blue", alpha=0.8)
        axis.set_yticks(range(len(keys)))
        axis.set_yticklabels(names, fontsize=8)
        axis.invert_yaxis()
        axis.set_title(title, fontsize=10)
        axis.grid(True, axis="x", alpha=0.3)
    figure.suptitle("feature pruners on the synthetic dataset (mean over seeds, bars: 1 sample "
                    "std)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    print(f"plot: {path}", file=sys.stderr)


def fail(message):
    """Print an error in the recprune message shape and exit with status 2."""
    print("score_feature_selection: " + message, file=sys.stderr)
    sys.exit(2)


def read_rows(path):
    """Return the rows of a results.json, or of the one in the run folder `path`."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except ValueError as error:
        fail(f"cannot read results: {path}: not JSON ({error}); give the results.json of a "
             "recprune run")
    except OSError as error:
        fail(f"cannot read results: {path}: {error.strerror}; give the results.json of a "
             "recprune run, or its folder")
    if not isinstance(document, dict) or not isinstance(document.get("rows"), list):
        fail(f"cannot read results: {path}: no \"rows\" list; give the results.json of a "
             "recprune run")
    return document["rows"]


def parse_arguments():
    parser = argparse.ArgumentParser(
        description="Score feature pruners on the synthetic dataset against its known "
                    "informative, redundant and noise fields.")
    parser.add_argument("results", help="results.json of a run on the synthetic dataset, or "
                                        "the run's output folder")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="also draw the scores as bars into FILE.png (needs matplotlib)")
    arguments = parser.parse_args()
    if arguments.plot is not None:
        folder = os.path.dirname(os.path.abspath(arguments.plot))
        if not os.path.isdir(folder):
            fail(f"invalid option: --plot: {arguments.plot}: the folder {folder} does not "
                 "exist; create it or pick another file")
    return arguments


def main():
    arguments = parse_arguments()
    plot_path = arguments.plot
    rows = read_rows(arguments.results)
    kinds = classify(truth_of(rows))
    totals = defaultdict(int)
    for kind in kinds.values():
        totals[kind] += 1

    scores = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row.get("kind") != "pruned" or row.get("status") == "failed":
            continue
        summary = row["schedule_log"]["pruned_units"]
        pruned = {block["name"] for block in summary["blocks"] if block["pruned"]}
        kept = [name for name in kinds if name not in pruned]
        key = (label(row), row["target_sparsity"])
        kept_informative = sum(kinds[n] == "informative" for n in kept)
        scores[key]["informative kept"].append(kept_informative)
        scores[key]["redundant dropped"].append(sum(kinds[n] == "redundant" for n in pruned))
        scores[key]["noise+rare dropped"].append(
            sum(kinds[n] in ("noise", "rare") for n in pruned))
        scores[key]["precision"].append(kept_informative / max(1, len(kept)))
        scores[key]["test auc"].append(row["metrics"]["test"]["auc"]["value"])

    columns = ["informative kept", "redundant dropped", "noise+rare dropped", "precision",
               "test auc"]
    print(f"fields: {totals['informative']} informative (incl. user, item), "
          f"{totals['redundant']} redundant, {totals['noise']} noise, {totals['rare']} rare")
    print("| pruner | sparsity | seeds | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for (name, sparsity), values in sorted(scores.items()):
        cells = []
        for column in columns:
            series = values[column]
            mean = statistics.mean(series)
            spread = statistics.stdev(series) if len(series) > 1 else 0.0
            cells.append(f"{mean:.3f} ± {spread:.3f}")
        print(f"| {name} | {sparsity:.3f} | {len(values['precision'])} | " + " | ".join(cells)
              + " |")
    if plot_path is not None:
        plot(scores, totals, plot_path)


if __name__ == "__main__":
    # Ends quietly when the reader of the table stops early, as `| head` does.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
