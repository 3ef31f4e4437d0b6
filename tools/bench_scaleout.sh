#!/usr/bin/env bash
# Measures how a recprune grid scales out on this machine, in one run:
#
#   1. throughput of 34 small cells, in cells per second, with 1 worker thread, 2 worker
#      threads, and 2 MPI ranks of 1 thread each. The cells are logistic regression on the
#      shipped MovieTweetings sample: 2 seeds x (1 dense + 2 pruners x 8 sparsities);
#   2. the cost of --isolate (each cell in a worker process) on 9 cells of a second or more,
#      as the ratio of the cell phases with and without it, on 2 worker threads. The cells are
#      a factorization machine trained and fine-tuned for 16 epochs each, without early stopping
#      (about 1.2 s per cell on a 2-core VM).
#
# Usage: tools/bench_scaleout.sh [--repeats N] [--output FILE]
#
#   --repeats N    runs each configuration N times and reports the median (default 3)
#   --output FILE  also writes the figures as JSON to FILE
#
# Needs a built recprune (tools/setup.sh builds build/release; RECPRUNE_BUILD_DIR picks
# another build) and, for the MPI figure, mpirun from Debian's openmpi-bin.
#
# Cells per second count only the cell phase: from the log line that starts the jobs to the
# line that writes the table, so loading the data and the plugins is left out. Every run
# starts from an empty output folder and reads the data from a warm binary cache.
set -euo pipefail

# The cell phase is read from info-level log lines, whatever the caller's RECPRUNE_LOG sets.
export RECPRUNE_LOG=info

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RECPRUNE_BUILD_DIR:-${repo}/build/release}"
recprune="${build}/bin/recprune"
repeats=3
output=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --repeats) repeats="$2"; shift 2 ;;
        --output) output="$2"; shift 2 ;;
        *) echo "bench_scaleout.sh: unknown option $1; see the header of this script" >&2; exit 2 ;;
    esac
done
if [[ ! -x "${recprune}" ]]; then
    echo "bench_scaleout.sh: ${recprune} not found; run tools/setup.sh or set RECPRUNE_BUILD_DIR" >&2
    exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/recprune-bench-scaleout-XXXXXX")"
trap 'rm -rf "${work}"' EXIT
data="${repo}/experiments/data/movietweetings"

cat > "${work}/small.json" <<EOF
{
  "name": "bench-small",
  "datasets": [{"name": "movietweetings", "params": {"path": "${data}"}, "task": "ctr",
                "split": {"method": "random", "validation": 0.1, "test": 0.1, "seed": 42}}],
  "models": [{"name": "logistic_regression"}],
  "pruners": [{"name": "random"}, {"name": "magnitude"}],
  "sparsities": [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
  "schedule": {"name": "one_shot", "finetune_epochs": 1},
  "training": {"epochs": 2, "batch_size": 512, "optimizer": "adam", "lr": 0.01},
  "seeds": [1, 2],
  "metrics": ["auc", "logloss"]
}
EOF
cat > "${work}/long.json" <<EOF
{
  "name": "bench-long",
  "datasets": [{"name": "movietweetings", "params": {"path": "${data}"}, "task": "ctr",
                "split": {"method": "random", "validation": 0.1, "test": 0.1, "seed": 42}}],
  "models": [{"name": "fm", "params": {"embedding_dim": 16}}],
  "pruners": [{"name": "random"}, {"name": "magnitude"}],
  "sparsities": [0.5, 0.8, 0.9, 0.95],
  "schedule": {"name": "one_shot", "finetune_epochs": 16},
  "training": {"epochs": 16, "batch_size": 256, "optimizer": "adam", "lr": 0.002,
               "early_stopping_patience": 0},
  "seeds": [1],
  "metrics": ["auc"]
}
EOF

mpirun_cmd=()
if command -v mpirun >/dev/null 2>&1; then
    mpirun_cmd=(mpirun --allow-run-as-root --oversubscribe --mca btl self,vader
                --mca oob_tcp_if_include lo -np 2)
fi

# Warm the dataset cache once, so no measured run parses the data.
"${recprune}" run "${work}/small.json" -o "${work}/warm" --cache-dir "${work}/cache" -q \
    >/dev/null

# run_once NAME GRID [recprune run options...]: runs once into a fresh folder. Prints the
# seconds of the cell phase, the cells, and the wall seconds of the whole command.
run_once() {
    local name="$1" grid="$2"
    shift 2
    local folder="${work}/${name}"
    rm -rf "${folder}"
    local prefix=()
    if [[ "${name}" == mpi* ]]; then prefix=("${mpirun_cmd[@]}"); fi
    local start end
    start=$(date +%s.%N)
    "${prefix[@]}" "${recprune}" run "${grid}" -o "${folder}" --cache-dir "${work}/cache" "$@" \
        >"${folder}.out" 2>"${folder}.err"
    end=$(date +%s.%N)
    python3 - "${folder}.err" "${folder}/results.json" "${start}" "${end}" <<'PY'
import json, re, sys
log, table, start, end = sys.argv[1:5]
first = last = None
for line in open(log):
    match = re.match(r"recprune (\d+\.\d+) \w+ (\w+): (.*)", line)
    if not match:
        continue
    seconds, component, message = float(match[1]), match[2], match[3]
    if component == "sched" and " to run (" in message:
        first = seconds
    if component == "results" and message.startswith("wrote "):
        last = seconds
rows = len(json.load(open(table))["rows"])
print(f"{last - first:.4f} {rows} {float(end) - float(start):.4f}")
PY
}

# median_of NAME GRID OPTIONS...: runs `repeats` times, prints "cell_seconds cells wall".
median_of() {
    local results=()
    for _ in $(seq "${repeats}"); do results+=("$(run_once "$@")"); done
    printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (repeats + 1) / 2 ))p"
}

echo "bench_scaleout: load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
read -r t1 n1 w1 < <(median_of one "${work}/small.json" -j 1)
echo "bench_scaleout: 1 worker done" >&2
read -r t2 n2 w2 < <(median_of two "${work}/small.json" -j 2)
echo "bench_scaleout: 2 workers done" >&2
tm=""; nm=""; wm=""
if [[ ${#mpirun_cmd[@]} -gt 0 ]]; then
    read -r tm nm wm < <(median_of mpi "${work}/small.json" -j 1 --mpi)
    echo "bench_scaleout: 2 MPI ranks done" >&2
fi
read -r tp np wp < <(median_of plain "${work}/long.json" -j 2)
echo "bench_scaleout: long cells in process done" >&2
read -r ti ni wi < <(median_of isolated "${work}/long.json" -j 2 --isolate)
echo "bench_scaleout: long cells isolated done" >&2
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "${output}" "${repeats}" "${load_after}" \
    "${t1}" "${n1}" "${w1}" "${t2}" "${n2}" "${w2}" "${tm:-0}" "${nm:-0}" "${wm:-0}" \
    "${tp}" "${np}" "${wp}" "${ti}" "${ni}" "${wi}" <<'PY'
import json, sys
output, repeats, load = sys.argv[1], int(sys.argv[2]), sys.argv[3]
v = [float(x) for x in sys.argv[4:]]
one, two, mpi = v[0:3], v[3:6], v[6:9]
plain, isolated = v[9:12], v[12:15]
rate = lambda run: run[1] / run[0] if run[0] > 0 else 0.0
figures = {
    "repeats": repeats,
    "load_average_after": load,
    "small_cells": int(one[1]),
    "cells_per_second_1_worker": round(rate(one), 3),
    "cells_per_second_2_workers": round(rate(two), 3),
    "cells_per_second_2_mpi_ranks": round(rate(mpi), 3) if mpi[1] else None,
    "speedup_2_workers": round(rate(two) / rate(one), 3),
    "speedup_2_mpi_ranks": round(rate(mpi) / rate(one), 3) if mpi[1] else None,
    "long_cells": int(plain[1]),
    "long_cell_seconds_per_cell_2_workers": round(2 * plain[0] / plain[1], 3),
    "isolate_cell_phase_ratio": round(isolated[0] / plain[0], 3),
    "isolate_wall_ratio": round(isolated[2] / plain[2], 3),
}
print("| figure | value |")
print("| --- | --- |")
for key, value in figures.items():
    print(f"| {key} | {value} |")
if output:
    with open(output, "w") as out:
        json.dump(figures, out, indent=2)
        out.write("\n")
PY
