#!/usr/bin/env bash
# Benchmarks recprune's DeepFM training step against the same model in PyTorch, and against a
# bare oneDNN MLP step of the same shape, at 1 and 2 threads, in f32 and (when the CPU has AMX)
# bf16. It also times the embedding work of a step alone in as few memory passes as sparse SGD
# allows (bench_models --mode embedding_floor) and gives the ceiling both floors leave, as a
# multiple of PyTorch f32. Prints a Markdown table; docs/benchmarks.md ("Model training speed")
# explains it.
#
#   tools/bench_models.sh [--processes N] [--no-peer]
#
# --processes N   runs each configuration in N separate processes and reports the median
#                 (default 5; single runs on a shared VM swing by 2x or more)
# --no-peer       skips PyTorch, so nothing is installed
#
# The PyTorch peer needs Debian's python3-torch and OpenBLAS (the default reference BLAS makes
# PyTorch's f32 linear layers about 20x slower, which would flatter recprune). This script
# installs them with apt when they are missing, so run it as root; nothing else installs them.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${repo}/build/bench_models"
processes=5
peer=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --processes) processes="$2"; shift 2 ;;
        --no-peer) peer=0; shift ;;
        *) echo "bench_models.sh: unknown option $1; see the header of this script" >&2; exit 2 ;;
    esac
done

# Debian's interpreter: a python3 earlier on PATH (pyenv, venv) cannot import python3-torch.
python=/usr/bin/python3

if [[ ${peer} -eq 1 ]]; then
    if ! dpkg -s python3-torch libopenblas0-openmp >/dev/null 2>&1; then
        echo "installing the PyTorch peer (python3-torch, libopenblas0-openmp) with apt" >&2
        apt-get install -y --no-install-recommends python3-torch libopenblas0-openmp >&2
    fi
fi

# OpenBLAS picks its kernels from the CPU model. Debian 12's OpenBLAS 0.3.21 does not know some
# newer Xeon models (family 6, model 207 among them) and falls back to its Prescott (SSE3)
# kernels. That made PyTorch's f32 GEMM 3 to 7 times slower on one thread
# (tools/bench_models/openblas_gemm.py, figures in docs/benchmarks.md) and would flatter recprune. On a CPU with AVX-512 the peer then runs
# with the newest kernel set the CPU supports. An OPENBLAS_CORETYPE set by the caller wins.
openblas_core=""
if [[ ${peer} -eq 1 ]]; then
    detect_openblas_core() {
        OPENBLAS_VERBOSE=2 "${python}" -c "import torch" 2>&1 | sed -n 's/^Core: //p' | head -n 1
    }
    openblas_core="$(detect_openblas_core)"
    if [[ -z "${OPENBLAS_CORETYPE:-}" && "${openblas_core}" == Prescott ]] &&
        grep -qw avx512f /proc/cpuinfo; then
        if grep -qw amx_bf16 /proc/cpuinfo; then
            export OPENBLAS_CORETYPE=SapphireRapids
        elif grep -qw avx512_bf16 /proc/cpuinfo; then
            export OPENBLAS_CORETYPE=Cooperlake
        else
            export OPENBLAS_CORETYPE=SkylakeX
        fi
        echo "OpenBLAS took this CPU for ${openblas_core}; the peer runs with" \
            "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE}" >&2
        openblas_core="$(detect_openblas_core)"
    fi
fi

cmake -S "${repo}/tools/bench_models" -B "${build}" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "${build}" -j2 --target bench_models >&2

precisions=(f32)
bf16_note=""
if grep -q amx_bf16 /proc/cpuinfo; then
    precisions+=(bf16)
else
    # recprune rejects bf16 without AMX (it runs slower than f32 there), so there is no row.
    bf16_note="no bf16 rows: this CPU has no AMX"
    echo "${bf16_note}" >&2
fi

results="${build}/results.jsonl"
: > "${results}"
for threads in 1 2; do
    for precision in "${precisions[@]}"; do
        for run in $(seq "${processes}"); do
            modes=(recprune onednn_mlp)
            # The embedding floor is f32 whatever the MLP's precision, so it runs once.
            if [[ ${precision} == f32 ]]; then modes+=(embedding_floor); fi
            for mode in "${modes[@]}"; do
                OMP_NUM_THREADS=${threads} "${build}/bench_models" --mode "${mode}" \
                    --precision "${precision}" --threads "${threads}" >> "${results}"
            done
            if [[ ${peer} -eq 1 ]]; then
                OMP_NUM_THREADS=${threads} "${python}" "${repo}/tools/bench_models/deepfm_peer.py" \
                    --threads "${threads}" --precision "${precision}" >> "${results}"
            fi
            echo "done: threads=${threads} precision=${precision} process=${run}" >&2
        done
    done
done

"${python}" - "${results}" "${openblas_core}" "${bf16_note}" <<'PY'
import collections, json, statistics, sys

wall = collections.defaultdict(list)
cpu = collections.defaultdict(list)
isa = "unknown"
for line in open(sys.argv[1]):
    row = json.loads(line)
    key = (row["mode"], row["precision"], row["threads"])
    wall[key].append(row["samples_per_second"])
    # CPU samples per second: the batch over the CPU time of all threads per step.
    cpu[key].append(4096 / (row["cpu_ms_per_step"] / 1e3))
    isa = row.get("isa", isa)

def median(table, mode, precision, threads):
    values = table.get((mode, precision, threads))
    return statistics.median(values) if values else None

def show(value):
    return "-" if value is None else f"{value:,.0f}"

def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"

print(f"oneDNN ISA: {isa}; batch 4096; median of {max(len(v) for v in wall.values())} processes"
      + (f"; PyTorch peer's OpenBLAS kernels: {sys.argv[2]}" if sys.argv[2] else "")
      + (f"; {sys.argv[3]}" if sys.argv[3] else ""))
for title, table in (("wall-clock samples per second", wall),
                     ("samples per CPU-second (all threads of the process)", cpu)):
    print()
    print(f"{title}:")
    print()
    print("| threads | precision | recprune DeepFM | PyTorch f32 | PyTorch bf16"
          " | recprune / PyTorch f32 | recprune / PyTorch same precision"
          " | bare oneDNN MLP | recprune / bare MLP | embedding floor"
          " | ceiling / PyTorch f32 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for threads in (1, 2):
        for precision in ("f32", "bf16"):
            ours = median(table, "recprune", precision, threads)
            if ours is None:
                continue
            torch_f32 = median(table, "pytorch", "f32", threads)
            torch_bf16 = median(table, "pytorch", "bf16", threads)
            torch_same = median(table, "pytorch", precision, threads)
            bare = median(table, "onednn_mlp", precision, threads)
            floor = median(table, "embedding_floor", "f32", threads)
            # The fastest step the two floors allow: the bare MLP step, then the embedding
            # work, one after the other (rates in samples per second, so times add as 1/rate).
            ceiling = None if bare is None or floor is None else 1 / (1 / bare + 1 / floor)
            print(f"| {threads} | {precision} | {show(ours)} | {show(torch_f32)} | "
                  f"{show(torch_bf16)} | {ratio(ours, torch_f32)} | {ratio(ours, torch_same)} | "
                  f"{show(bare)} | {ratio(ours, bare)} | {show(floor)} | "
                  f"{ratio(ceiling, torch_f32)} |")
PY
