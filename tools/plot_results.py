#!/usr/bin/python3
"""Plot recprune results: metric-versus-sparsity curves and a quality-versus-cost Pareto view.

Set-up (Debian 12; the plots are not part of the C++ build or of CI):

    apt-get install --no-install-recommends python3-matplotlib python3-munkres

Run with Debian's interpreter, so the Debian package is the matplotlib it finds:

    /usr/bin/python3 tools/plot_results.py results/quickstart
    /usr/bin/python3 tools/plot_results.py results/quickstart --metric auc --cost latency

RESULTS are results.json or results.jsonl files or the output folders of `recprune run`.
Two figures are written, each as PNG and PDF, into --output (default: plots/ beside the first
RESULTS):

- curves: one panel per dataset, model and metric. Each pruner is a line through its mean over
  seeds at each target sparsity. Its band runs from the lowest to the highest seed (--band
  minmax, the default) or one sample standard deviation around the mean (--band std). The dense
  model of the same dataset and model is the dashed line. A run the stop rule ended early is a
  ring at the sparsity it kept, outside the line.
- pareto: one panel per dataset and model, with the quality metric against a cost of the pruned
  model (--cost). Each pruner and target sparsity is one point (mean over seeds), the dense
  model is a star, and the Pareto front over all points is a dotted step line.
- steps (only when some run pruned in two or more steps): one panel per dataset and model with
  the validation value after each step of each run, so an iterative schedule's path to its
  stopping point can be read.

Rows whose cell failed are left out and counted in the legend. Values the metric could not
define, such as AUC on a part with one class, are left out and counted the same way.
"""

import argparse
import json
import math
import os
import sys

# Metrics where a lower value is better; every other metric counts as higher-is-better.
LOWER_IS_BETTER = {"logloss", "rmse", "mae"}

# Costs of a pruned model, each read from a result row. The host compacts and measures the model
# of a structured pruner. An unstructured pruner's model keeps the dense layout, so its bytes and
# latency are those of the dense model measured in the same cell.
COSTS = {
    "nonzero_parameters": "nonzero parameters",
    "bytes": "model bytes on disk",
    "latency": "latency at batch 4096 (ms)",
    "latency_batch_1": "latency at batch 1 (ms)",
    "flops": "FLOPs per sample (nonzero weights)",
}


def fail(message):
    """Print an error in the recprune message shape and exit with status 2."""
    print("plot_results: " + message, file=sys.stderr)
    sys.exit(2)


def load_rows(path):
    """Return the rows of one results.json or results.jsonl, or fail naming the bad place."""
    try:
        with open(path, encoding="utf-8") as handle:
            if path.endswith(".jsonl"):
                loaded = []
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        loaded.append(json.loads(line))
                    except ValueError as error:
                        fail("cannot read results: %s:%d: not a JSON row (%s); give the "
                             "results.jsonl a recprune run wrote" % (path, number, error))
                return loaded
            document = json.load(handle)
    except ValueError as error:
        fail("cannot read results: %s: not JSON (%s); give the results.json a recprune run "
             "wrote" % (path, error))
    except OSError as error:
        fail("cannot read results: %s: %s" % (path, error.strerror))
    if not isinstance(document, dict) or not isinstance(document.get("rows"), list):
        fail("cannot read results: %s: no \"rows\" list; give the results.json a recprune "
             "run wrote" % path)
    return document["rows"]


def read_rows(inputs):
    """Read the rows of every input; a later row of the same cell replaces an earlier one."""
    rows = {}
    order = []
    for argument in inputs:
        path = argument
        if os.path.isdir(argument):
            candidates = [os.path.join(argument, name)
                          for name in ("results.json", "results.jsonl")]
            found = [candidate for candidate in candidates if os.path.exists(candidate)]
            if not found:
                fail("cannot read results: %s: no results.json or results.jsonl; give the "
                     "output folder of a recprune run" % argument)
            path = found[0]
        if not os.path.exists(path):
            fail("cannot read results: %s: file not found; give a results.json, a "
                 "results.jsonl or an output folder" % path)
        loaded = load_rows(path)
        for row in loaded:
            key = row.get("cell_id") or "row %d" % len(order)
            if key not in rows:
                order.append(key)
            rows[key] = row
    return [rows[key] for key in order]


def find_path(row, path):
    """Return the value at a dotted path such as "size.pruned.nonzero_parameters", or None."""
    value = row
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def is_failed(row):
    return row.get("status") not in ("ok", "target_not_reached")


def metric_value(row, metric, split):
    """Return a metric (or the number at a dotted path) of a row, or None when undefined."""
    path = metric if "." in metric else "metrics.%s.%s.value" % (split, metric)
    value = find_path(row, path)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def cost_value(row, cost):
    """Return the chosen cost of the row's model (pruned, compacted when it could be)."""
    if cost == "nonzero_parameters":
        if row.get("kind") == "dense":
            return find_path(row, "size.nonzero_parameters")
        return find_path(row, "size.pruned.nonzero_parameters")
    if cost == "flops":
        if row.get("kind") == "dense":
            return find_path(row, "size.flops_per_sample_nonzero")
        return find_path(row, "size.pruned.flops_per_sample_nonzero")
    key = {"bytes": "bytes_on_disk", "latency": "latency_ms_batch_4096",
           "latency_batch_1": "latency_ms_batch_1"}[cost]
    compaction = row.get("compaction") or {}
    if compaction.get("status") == "ok":
        return find_path(compaction, "compacted." + key)
    return find_path(compaction, "dense." + key)


def plugin_parameters(plugin):
    """Return a plugin's parameters: its "params", or for schedules every key but the name."""
    if isinstance(plugin.get("params"), dict):
        return plugin["params"]
    return {k: v for k, v in plugin.items() if k not in ("name", "version")}


def plugin_labels(rows, column):
    """Label each row's plugin by name plus the parameters that differ between rows of that name.

    Returns one label per row, "-" for rows without the column (dense rows have no pruner).
    """
    plugins = [row.get(column) if isinstance(row.get(column), dict) else None for row in rows]
    texts = {}     # name -> parameter -> set of JSON texts
    present = {}   # name -> parameter -> rows that have it
    counts = {}    # name -> rows
    for plugin in plugins:
        if plugin is None or "name" not in plugin:
            continue
        name = plugin["name"]
        counts[name] = counts.get(name, 0) + 1
        for key, value in plugin_parameters(plugin).items():
            texts.setdefault(name, {}).setdefault(key, set()).add(
                json.dumps(value, sort_keys=True))
            present.setdefault(name, {})[key] = present.get(name, {}).get(key, 0) + 1

    labels = []
    for plugin in plugins:
        if plugin is None or "name" not in plugin:
            labels.append("-")
            continue
        name = plugin["name"]
        params = plugin_parameters(plugin)
        varying = sorted(key for key, values in texts.get(name, {}).items()
                         if len(values) > 1 or present[name][key] != counts[name])
        parameter_text = ", ".join("%s=%s" % (key, params.get(key, "-")) for key in varying)
        labels.append(name + ("(%s)" % parameter_text if parameter_text else ""))
    return labels


def ordered_unique(values):
    result = []
    for value in values:
        if value not in result:
            result.append(value)
    return result


class Results:
    """Rows with their dataset, model and pruner labels, grouped the way the plots need."""

    def __init__(self, rows):
        self.rows = rows
        datasets = plugin_labels(rows, "dataset")
        models = plugin_labels(rows, "model")
        pruners = plugin_labels(rows, "pruner")
        self.facet = [(d, m) for d, m in zip(datasets, models)]
        self.pruner = pruners
        self.facets = ordered_unique(self.facet)
        self.pruners = ordered_unique(p for p, row in zip(pruners, rows)
                                      if row.get("kind") == "pruned")

    def pruned(self, facet, pruner):
        return [row for row, f, p in zip(self.rows, self.facet, self.pruner)
                if f == facet and p == pruner and row.get("kind") == "pruned"]

    def pruned_in(self, facet):
        return [row for row, f in zip(self.rows, self.facet)
                if f == facet and row.get("kind") == "pruned"]

    def dense(self, facet):
        return [row for row, f in zip(self.rows, self.facet)
                if f == facet and row.get("kind") == "dense"]


def summarize(values):
    """Return mean, sample standard deviation (0 for one value), minimum and maximum."""
    mean = sum(values) / len(values)
    if len(values) > 1:
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    else:
        std = 0.0
    return mean, std, min(values), max(values)


def stopped_sparsity(row):
    """Return the sparsity an iterative run kept when the stop rule ended it, else None."""
    value = find_path(row, "schedule_log.stopped_at_sparsity")
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def curve_points(rows, metric, split):
    """Return sorted (sparsity, values) pairs, the (sparsity kept, value) of each run the stop
    rule ended early, and the counts of failed and undefined rows.

    A run the stop rule ended keeps the model of its last step that met the rule, so its
    metrics belong at that sparsity, not at the target it never reached. Averaged into the
    target's point, they would pull the curve down at a sparsity no model has.
    """
    by_sparsity = {}
    stopped = []
    failed = undefined = 0
    for row in rows:
        sparsity = row.get("target_sparsity")
        by_sparsity.setdefault(sparsity, [])
        if is_failed(row):
            failed += 1
            continue
        value = metric_value(row, metric, split)
        kept = stopped_sparsity(row)
        if value is None:
            undefined += 1
        elif kept is not None:
            stopped.append((kept, value))
        else:
            by_sparsity[sparsity].append(value)
    points = [(x, values) for x, values in sorted(by_sparsity.items()) if values]
    return points, sorted(stopped), failed, undefined


def legend_label(name, failed, undefined):
    notes = []
    if failed:
        notes.append("%d failed" % failed)
    if undefined:
        notes.append("%d undefined" % undefined)
    return name + (" (%s)" % ", ".join(notes) if notes else "")


def facet_title(facet):
    return "%s, %s" % facet


def any_stopped(results, facet):
    """Return True when the stop rule ended some run of this facet."""
    return any(stopped_sparsity(row) is not None
               for pruner in results.pruners for row in results.pruned(facet, pruner))


def plot_curves(plt, results, metrics, split, band, xscale):
    """Draw one panel per facet and metric: mean curves with seed bands and the dense line."""
    rows_count = len(results.facets)
    figure, axes = plt.subplots(rows_count, len(metrics), squeeze=False,
                                figsize=(5.2 * len(metrics), 3.9 * rows_count))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for facet_index, facet in enumerate(results.facets):
        for metric_index, metric in enumerate(metrics):
            axis = axes[facet_index][metric_index]
            plotted_x = set()
            for pruner_index, pruner in enumerate(results.pruners):
                points, stopped, failed, undefined = curve_points(results.pruned(facet, pruner),
                                                                  metric, split)
                if not points and not stopped:
                    continue
                color = colors[pruner_index % len(colors)]
                if xscale == "logit":
                    stopped = [(x, v) for x, v in stopped if 0.0 < x < 1.0]
                if stopped:
                    axis.scatter([x for x, _ in stopped], [v for _, v in stopped], s=30,
                                 facecolors="none", edgecolors=color, zorder=3,
                                 label="%s, stopped by the rule" % pruner)
                if not points:
                    continue
                xs = [x for x, _ in points]
                plotted_x.update(xs)
                stats = [summarize(values) for _, values in points]
                means = [s[0] for s in stats]
                if band == "std":
                    lows = [s[0] - s[1] for s in stats]
                    highs = [s[0] + s[1] for s in stats]
                else:
                    lows = [s[2] for s in stats]
                    highs = [s[3] for s in stats]
                axis.plot(xs, means, marker="o", markersize=3.5, color=color,
                          label=legend_label(pruner, failed, undefined))
                axis.fill_between(xs, lows, highs, color=color, alpha=0.18, linewidth=0)
            dense_values = [v for v in (metric_value(row, metric, split)
                                        for row in results.dense(facet) if not is_failed(row))
                            if v is not None]
            if dense_values:
                mean, std, low, high = summarize(dense_values)
                axis.axhline(mean, color="0.3", linestyle="--", linewidth=1.0, label="dense")
                if band == "std":
                    low, high = mean - std, mean + std
                axis.axhspan(low, high, color="0.5", alpha=0.12, linewidth=0)
            axis.set_xscale(xscale)
            if xscale == "logit" and plotted_x:
                # The logit scale's own labels read "1 - 10^-1"; label the grid's sparsities.
                axis.set_xticks(sorted(plotted_x))
                axis.set_xticklabels(["%g" % x for x in sorted(plotted_x)])
                axis.minorticks_off()
            axis.set_xlabel("target sparsity (rings: sparsity kept at the stop)"
                            if any_stopped(results, facet) else "target sparsity")
            axis.set_ylabel("%s %s" % (split, metric))
            axis.set_title(facet_title(facet), fontsize=10)
            axis.grid(True, alpha=0.3)
            axis.legend(fontsize=8)
    band_text = "min to max over seeds" if band == "minmax" else "mean ± 1 sample std over seeds"
    figure.suptitle("%s metrics versus target sparsity\n(mean over seeds; bands: %s)"
                    % (split, band_text), fontsize=10)
    figure.tight_layout()
    return figure


def dense_cost_from_pruned(rows, cost):
    """Return the mean bytes or latency of the dense model as the pruned rows measured it.

    Dense rows carry no compaction record, so for these costs the dense model's figures come
    from the "compaction.dense" entry of the pruned rows. Returns None for the other costs or
    when no pruned row has the figure.
    """
    key = {"bytes": "bytes_on_disk", "latency": "latency_ms_batch_4096",
           "latency_batch_1": "latency_ms_batch_1"}.get(cost)
    if key is None:
        return None
    values = [find_path(row, "compaction.dense." + key) for row in rows]
    values = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return sum(values) / len(values) if values else None


def pareto_front(points, lower_better):
    """Return the points no other point beats on both cost and quality, by increasing cost."""
    front = []
    best = None
    for cost, quality in sorted(points, key=lambda p: (p[0], -p[1] if not lower_better else p[1])):
        better = best is None or (quality < best if lower_better else quality > best)
        if better:
            front.append((cost, quality))
            best = quality
    return front


def plot_pareto(plt, results, metric, split, cost):
    """Draw one panel per facet: quality against cost, per pruner, with the Pareto front."""
    figure, axes = plt.subplots(1, len(results.facets), squeeze=False,
                                figsize=(6.5 * len(results.facets), 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    lower_better = metric in LOWER_IS_BETTER
    missing_cost = 0
    for facet_index, facet in enumerate(results.facets):
        axis = axes[0][facet_index]
        all_points = []
        for pruner_index, pruner in enumerate(results.pruners):
            groups = {}
            failed = undefined = 0
            for row in results.pruned(facet, pruner):
                if is_failed(row):
                    failed += 1
                    continue
                quality = metric_value(row, metric, split)
                price = cost_value(row, cost)
                if quality is None:
                    undefined += 1
                    continue
                if price is None:
                    missing_cost += 1
                    continue
                groups.setdefault(row.get("target_sparsity"), []).append((price, quality))
            if not groups:
                continue
            xs, ys, errors = [], [], []
            for _, pairs in sorted(groups.items()):
                xs.append(sum(p for p, _ in pairs) / len(pairs))
                mean, std, _, _ = summarize([q for _, q in pairs])
                ys.append(mean)
                errors.append(std)
            all_points.extend(zip(xs, ys))
            axis.errorbar(xs, ys, yerr=errors, fmt="o", markersize=4, capsize=2,
                          color=colors[pruner_index % len(colors)],
                          label=legend_label(pruner, failed, undefined))
        dense_cost = dense_cost_from_pruned(results.pruned_in(facet), cost)
        dense_pairs = [(cost_value(row, cost) if dense_cost is None else dense_cost,
                        metric_value(row, metric, split))
                       for row in results.dense(facet) if not is_failed(row)]
        dense_pairs = [(p, q) for p, q in dense_pairs if p is not None and q is not None]
        if dense_pairs:
            x = sum(p for p, _ in dense_pairs) / len(dense_pairs)
            y = sum(q for _, q in dense_pairs) / len(dense_pairs)
            all_points.append((x, y))
            axis.plot([x], [y], marker="*", markersize=12, color="black", linestyle="none",
                      label="dense")
        front = pareto_front(all_points, lower_better)
        if len(front) > 1:
            axis.step([p for p, _ in front], [q for _, q in front], where="post", color="0.4",
                      linewidth=1.0, linestyle=":", label="Pareto front")
        positive = [p for p, _ in all_points if p > 0]
        if positive and max(positive) / min(positive) > 20:
            axis.set_xscale("log")
        axis.set_xlabel(COSTS[cost])
        axis.set_ylabel("%s %s (%s is better)" % (split, metric,
                                                  "lower" if lower_better else "higher"))
        axis.set_title(facet_title(facet), fontsize=10)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    if missing_cost:
        print("plot_results: %d rows have no %s and are left out of the Pareto view"
              % (missing_cost, COSTS[cost]), file=sys.stderr)
    figure.suptitle("%s %s versus %s\n(mean over seeds per pruner and target sparsity, "
                    "error bars: 1 sample std)" % (split, metric, COSTS[cost]), fontsize=10)
    figure.tight_layout()
    return figure


def step_points(row):
    """Return the (achieved sparsity, validation value, met the stop rule) of each prune step."""
    steps = find_path(row, "schedule_log.steps") or []
    points = []
    for step in steps:
        sparsity, value = step.get("achieved_sparsity"), step.get("validation")
        if isinstance(sparsity, (int, float)) and isinstance(value, (int, float)):
            points.append((sparsity, value, step.get("met_stop_rule", True)))
    return points


def plot_steps(plt, results, metric):
    """Draw the validation metric after each step of iterative schedules, one line per seed.

    Returns None when no row has two or more steps. Steps that broke the stop rule are crosses,
    and a ring marks where each run stopped (the last step that met the rule).
    """
    facets = [facet for facet in results.facets
              if any(len(step_points(row)) >= 2 for row in results.pruned_in(facet))]
    if not facets:
        return None
    figure, axes = plt.subplots(len(facets), 1, squeeze=False, figsize=(6.4, 3.9 * len(facets)))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for facet_index, facet in enumerate(facets):
        axis = axes[facet_index][0]
        for pruner_index, pruner in enumerate(results.pruners):
            color = colors[pruner_index % len(colors)]
            labelled = False
            for row in results.pruned(facet, pruner):
                points = step_points(row)
                if not points:
                    continue
                xs = [x for x, _, _ in points]
                ys = [y for _, y, _ in points]
                axis.plot(xs, ys, color=color, linewidth=1.0, alpha=0.8,
                          label=None if labelled else pruner)
                labelled = True
                for x, y, met in points:
                    # Crosses are drawn larger and on top, so a seed's dot cannot hide them.
                    axis.plot(x, y, marker="o" if met else "x", markersize=4 if met else 8,
                              markeredgewidth=1.0 if met else 2.0, color=color,
                              zorder=2 if met else 4)
                met_points = [(x, y) for x, y, met in points if met]
                if met_points:
                    axis.plot(met_points[-1][0], met_points[-1][1], marker="o", markersize=10,
                              markerfacecolor="none", color=color)
        dense_values = [v for v in (metric_value(row, metric, "validation")
                                    for row in results.dense(facet) if not is_failed(row))
                        if v is not None]
        if dense_values:
            axis.axhline(sum(dense_values) / len(dense_values), color="0.3", linestyle="--",
                         linewidth=1.0, label="dense")
        axis.set_xlabel("achieved sparsity after the step")
        axis.set_ylabel("validation value the stop rule reads")
        axis.set_title(facet_title(facet), fontsize=10)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle("iterative schedules: one line per seed; x = step broke the stop rule,\n"
                    "ring = where the run stopped", fontsize=10)
    figure.tight_layout()
    return figure


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="Plot metric-versus-sparsity curves and a quality-versus-cost Pareto view "
                    "from recprune results.")
    parser.add_argument("results", nargs="+",
                        help="results.json or results.jsonl files or run output folders")
    parser.add_argument("--metric", action="append",
                        help="metric to plot (repeatable; default every metric of the split); "
                             "the first one is the quality of the Pareto view")
    parser.add_argument("--split", default="test", choices=["test", "validation"],
                        help="metrics part to read (default test)")
    parser.add_argument("--band", default="minmax", choices=["minmax", "std"],
                        help="seed band: lowest to highest seed, or mean ± 1 sample standard "
                             "deviation (default minmax)")
    parser.add_argument("--xscale", default="linear", choices=["linear", "logit"],
                        help="x axis of the curves; logit spreads sparsities near 1 such as "
                             "0.9, 0.99, 0.999 (default linear)")
    parser.add_argument("--cost", default="nonzero_parameters", choices=sorted(COSTS),
                        help="x axis of the Pareto view (default nonzero_parameters)")
    parser.add_argument("--output", help="folder for the figures (default: plots/ beside the "
                                         "first RESULTS)")
    return parser.parse_args(argv)


def main(argv):
    arguments = parse_arguments(argv)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("cannot import matplotlib: run with /usr/bin/python3 after "
             "apt-get install --no-install-recommends python3-matplotlib python3-munkres")

    rows = read_rows(arguments.results)
    results = Results(rows)
    if not results.pruners:
        fail("nothing to plot: %s hold no pruned rows; run a grid with pruners first"
             % ", ".join(arguments.results))
    metrics = arguments.metric
    if not metrics:
        metrics = ordered_unique(name for row in rows
                                 for name in (find_path(row, "metrics." + arguments.split) or {}))
    if not metrics:
        fail("nothing to plot: no %s metrics in the rows; give --metric" % arguments.split)

    first = arguments.results[0]
    output = arguments.output or os.path.join(
        first if os.path.isdir(first) else os.path.dirname(first) or ".", "plots")
    os.makedirs(output, exist_ok=True)
    figures = {
        "curves": plot_curves(plt, results, metrics, arguments.split, arguments.band,
                              arguments.xscale),
        "pareto": plot_pareto(plt, results, metrics[0], arguments.split, arguments.cost),
    }
    steps = plot_steps(plt, results, metrics[0])
    if steps is not None:
        figures["steps"] = steps
    for name, figure in figures.items():
        for extension in ("png", "pdf"):
            path = os.path.join(output, "%s.%s" % (name, extension))
            figure.savefig(path, dpi=150)
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
