#!/usr/bin/env bash
# Measures, in one run, how much faster DeepFM inference gets when 50%, 75% and 90% of its
# hidden neurons and embedding dimensions are removed by compaction, at batch 4096 and 1 and 2
# threads, and compares each speedup with the FLOPs ratio the model reports. Prints a Markdown
# table; docs/benchmarks.md ("Compaction speedup") explains it. Each row also gives the time of
# a bare oneDNN forward pass of the compacted MLP alone and the speedup ceiling it implies
# (dense ms / that time), the time of only reading the rows a batch looks up and the ceiling
# with both (dense ms / their sum), next to the speedup the target needs (0.8 x the FLOPs
# ratio).
#
#   tools/bench_compaction.sh [--processes N] [--precision f32|bf16] [--output FILE]
#
# --processes N   runs each thread count in N separate processes and reports the median
#                 (default 5; single runs on a shared VM swing by 2x or more)
# --precision P   f32 (default) or bf16 (needs AMX, as recprune's bf16 does)
# --output FILE   also writes every process's JSON lines to FILE
#
# The driver (tools/bench_models/bench_compaction.cpp) builds the deepfm plugin from this
# checkout in build/bench_models; nothing is installed.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${repo}/build/bench_models"
processes=5
precision=f32
output=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --processes) processes="$2"; shift 2 ;;
        --precision) precision="$2"; shift 2 ;;
        --output) output="$2"; shift 2 ;;
        *) echo "bench_compaction.sh: unknown option $1; see the header of this script" >&2; exit 2 ;;
    esac
done
if [[ ${precision} != f32 && ${precision} != bf16 ]]; then
    echo "bench_compaction.sh: invalid --precision ${precision}; use f32 or bf16" >&2
    exit 2
fi
if [[ ${precision} == bf16 ]] && ! grep -qw amx_bf16 /proc/cpuinfo; then
    echo "bench_compaction.sh: --precision bf16 needs a CPU with AMX, and this one has none;" \
        "use --precision f32" >&2
    exit 2
fi

cmake -S "${repo}/tools/bench_models" -B "${build}" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "${build}" -j2 --target bench_compaction >&2

results="${build}/compaction.jsonl"
: > "${results}"
for threads in 1 2; do
    for run in $(seq "${processes}"); do
        OMP_NUM_THREADS=${threads} "${build}/bench_compaction" --threads "${threads}" \
            --precision "${precision}" >> "${results}"
        echo "done: threads=${threads} process=${run}" >&2
    done
done
if [[ -n "${output}" ]]; then cp "${results}" "${output}"; fi

# Debian's interpreter, as in the other benchmark scripts, so the figures come from one
# interpreter whatever python3 comes first on PATH.
/usr/bin/python3 - "${results}" <<'PY'
import collections, json, statistics, sys

rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    row = json.loads(line)
    rows[(row["threads"], row["fraction_removed"])].append(row)

def med(group, key):
    return statistics.median(r[key] for r in group)

first = next(iter(rows.values()))[0]
print(f"oneDNN ISA: {first['isa']}; precision {first['precision']}; batch 4096; "
      f"median of {max(len(g) for g in rows.values())} processes")
print()
print("| threads | removed | kept dims / neurons | dense ms | compacted ms | speedup (wall)"
      " | speedup (CPU) | FLOPs ratio | wall speedup / FLOPs ratio | target"
      " | bare MLP ms | ceiling | lookups ms | ceiling with lookups | needed |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for (threads, fraction), group in sorted(rows.items()):
    dense, compact = med(group, "dense_ms"), med(group, "compacted_ms")
    cpu_speedup = med(group, "dense_cpu_ms") / med(group, "compacted_cpu_ms")
    flops = group[0]["flops_ratio"]
    speedup = med(group, "speedup")
    kept = group[0]["kept_neurons"]
    shape = f"{group[0]['kept_embedding_dims']} / " + "-".join(str(kept[k]) for k in sorted(kept))
    print(f"| {threads} | {fraction:.0%} | {shape} | {dense:.2f} | {compact:.2f} | "
          f"{speedup:.2f} | {cpu_speedup:.2f} | {flops:.2f} | {speedup / flops:.2f} | "
          f"{'met' if speedup / flops >= 0.8 else 'not met'} (>= 0.80) | "
          f"{med(group, 'mlp_floor_ms'):.3f} | {med(group, 'speedup_ceiling'):.1f} | "
          f"{med(group, 'lookup_floor_ms'):.3f} | "
          f"{med(group, 'speedup_ceiling_with_lookups'):.1f} | {0.8 * flops:.1f} |")
PY
