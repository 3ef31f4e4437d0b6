#!/usr/bin/env bash
# Compares two builds of the deepfm plugin under one benchmark driver, in alternating runs, so
# that the machine's drift over minutes falls on both builds alike. Prints each build's runs and
# their median in ms, and the ratio of the medians.
#
#   tools/bench_alternate.sh BEFORE.so AFTER.so [--rounds N] [--driver compaction|dense|models]
#                            [--threads N] [--fraction P]
#
# BEFORE.so, AFTER.so  two copies of librecprune_model_deepfm.so, for example one saved from
#                      build/bench_models/plugins before a change and one built after it
# --rounds N           runs per build, alternating (default 6)
# --driver D           compaction (default): the compacted model's inference time, from
#                      bench_compaction --time-dense no; dense: the dense model's inference
#                      time, from the same driver timing both; models: the f32 training step,
#                      from bench_models --mode recprune
# --threads N          OpenMP threads (default 1)
# --fraction P         fraction removed for the compaction driver (default 0.75)
#
# The drivers are built as tools/bench_compaction.sh and tools/bench_models.sh build them, in
# build/bench_models. Each run copies one build over the plugin there, and the original plugin
# is put back at the end.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${repo}/build/bench_models"
usage="see the header of tools/bench_alternate.sh"
if [[ $# -lt 2 ]]; then
    echo "bench_alternate.sh: missing plugin files; give BEFORE.so and AFTER.so, ${usage}" >&2
    exit 2
fi
before="$(realpath "$1")"
after="$(realpath "$2")"
shift 2
rounds=6
driver=compaction
threads=1
fraction=0.75
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --driver) driver="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --fraction) fraction="$2"; shift 2 ;;
        *) echo "bench_alternate.sh: unknown option $1; ${usage}" >&2; exit 2 ;;
    esac
done
for file in "${before}" "${after}"; do
    if [[ ! -f "${file}" ]]; then
        echo "bench_alternate.sh: plugin file not found: ${file}; ${usage}" >&2
        exit 2
    fi
done
case "${driver}" in
    compaction|dense) target=bench_compaction ;;
    models) target=bench_models ;;
    *) echo "bench_alternate.sh: invalid --driver ${driver}; use compaction, dense or models" >&2
       exit 2 ;;
esac

cmake -S "${repo}/tools/bench_models" -B "${build}" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "${build}" -j2 --target "${target}" >&2
plugin="${build}/plugins/librecprune_model_deepfm.so"
saved="$(mktemp)"
cp "${plugin}" "${saved}"
trap 'cp "${saved}" "${plugin}"; rm -f "${saved}"' EXIT

results="$(mktemp)"
for round in $(seq "${rounds}"); do
    for label in before after; do
        if [[ ${label} == before ]]; then cp "${before}" "${plugin}"; else cp "${after}" "${plugin}"; fi
        if [[ ${driver} == compaction ]]; then
            line=$(OMP_NUM_THREADS=${threads} "${build}/bench_compaction" --threads "${threads}" \
                --fractions "${fraction}" --time-dense no --repeats 10 --steps 20)
            ms=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["compacted_ms"])' "${line}")
        elif [[ ${driver} == dense ]]; then
            line=$(OMP_NUM_THREADS=${threads} "${build}/bench_compaction" --threads "${threads}" \
                --fractions "${fraction}")
            ms=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["dense_ms"])' "${line}")
        else
            line=$(OMP_NUM_THREADS=${threads} "${build}/bench_models" --mode recprune \
                --precision f32 --threads "${threads}" --repeats 3 | tail -1)
            ms=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["step_ms"])' "${line}")
        fi
        echo "${label} ${ms}" >> "${results}"
        echo "done: round ${round} ${label}" >&2
    done
done

/usr/bin/python3 - "${results}" <<'PY'
import statistics, sys
runs = {"before": [], "after": []}
for line in open(sys.argv[1]):
    label, ms = line.split()
    runs[label].append(float(ms))
for label, values in runs.items():
    shown = ", ".join(f"{v:.3f}" for v in values)
    print(f"{label}: median {statistics.median(values):.3f} ms of {shown}")
print(f"after / before: {statistics.median(runs['after']) / statistics.median(runs['before']):.3f}")
PY
rm -f "${results}"
