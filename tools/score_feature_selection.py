#!/usr/bin/python3
"""Scores feature pruners on the synthetic dataset against its recorded ground truth.

Reads a results.json written by `recprune run` on a grid over the `synthetic` dataset with
field-granularity pruners. For each pruner (mean and standard deviation over seeds) it prints:
how many informative fields were kept, how many redundant fields (exact and noisy copies) and
pure-noise or rare fields were dropped, and precision = informative kept / all feature fields kept
(user and item count as informative, because the labels are generated from user-item affinity).

Usage: /usr/bin/python3 tools/score_feature_selection.py RESULTS.json [--markdown]
Standard library only.
"""
import json
import statistics
import sys
from collections import defaultdict


def truth_of(rows):
    for row in rows:
        if row.get("kind") == "dense" and row.get("status") == "ok":
            plugin = row["data_summary"]["metadata"].get("plugin", {})
            if "truth" in plugin:
                return plugin["truth"]
    raise SystemExit("no dense row with synthetic ground truth; run a grid on the synthetic "
                     "dataset first")


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


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as handle:
        rows = json.load(handle)["rows"]
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


if __name__ == "__main__":
    main()
