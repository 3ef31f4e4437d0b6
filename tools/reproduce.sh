#!/usr/bin/env bash
# Runs one reproduction grid of experiments/reproductions and writes its table and plots:
#   bash tools/reproduce.sh blalock_compression
# Results go to results/<name>/ (results.json, report/ with Markdown, CSV and LaTeX tables,
# plots/ with PNG and PDF figures; synthetic_recovery adds report/recovery.md and
# plots/recovery.png, the scores against the dataset's known informative fields). Plots need
# Debian's python3-matplotlib. Without it the script prints the install command and stops
# after the tables. MovieLens 100K and the Criteo
# sample are read from ../shared/datasets beside the repository.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
names="$(cd "$here/experiments/reproductions" && ls -1 *.json | sed 's/\.json$//' | tr '\n' ' ')"
if [ $# -ne 1 ]; then
    echo "usage: tools/reproduce.sh NAME, where NAME is one of: $names" >&2
    exit 2
fi
name="$1"
grid="$here/experiments/reproductions/$name.json"
# Only plain names: NAME also names the folder under results/, which must stay inside it.
if [[ ! "$name" =~ ^[A-Za-z0-9_]+$ ]] || [ ! -f "$grid" ]; then
    echo "reproduce: no grid named \"$name\" in experiments/reproductions; pick one of: $names" >&2
    exit 2
fi
bin="$here/build/release/bin/recprune"
[ -x "$bin" ] || "$here/tools/setup.sh"

out="$here/results/$name"
"$bin" run "$grid" -o "$out" -q
"$bin" report "$out" -o "$out/report" > /dev/null
echo "tables: $out/report"
plots=1
if ! /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
    echo "plots skipped: apt-get install -y --no-install-recommends python3-matplotlib python3-munkres" >&2
    plots=0
fi
mkdir -p "$out/plots"
if [ "$name" = "synthetic_recovery" ]; then
    plot_option=()
    [ "$plots" = 1 ] && plot_option=(--plot "$out/plots/recovery.png")
    /usr/bin/python3 "$here/tools/score_feature_selection.py" "$out/results.json" \
        "${plot_option[@]}" | tee "$out/report/recovery.md"
fi
[ "$plots" = 1 ] || exit 0
# A grid of dense baselines only (embedding_budget_uniform) has no curve of its own. Its
# values are rows of the table, to read beside the plot of its companion grid.
if ! grep -q '"kind": "pruned"' "$out/results.json"; then
    echo "plots: none, the grid trains dense models only; see its table"
    exit 0
fi
/usr/bin/python3 "$here/tools/plot_results.py" "$out" --output "$out/plots" --metric auc
echo "plots: $out/plots"
