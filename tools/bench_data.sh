#!/usr/bin/env bash
# Measures data loading on a Criteo-format file of at least 1 GiB, built by repeating the
# shared 10,000-line Criteo sample in a temporary folder:
#   - parse throughput in MB/s on one thread (and on every core), through the criteo plugin
#     and the host's zero-copy adoption of its table;
#   - cached reload throughput in GB/s, with the cache file in the page cache;
#   - peak resident memory of each step as a multiple of the table's columnar bytes.
# Each figure is the median of RUNS processes (default 3). Wall time is the headline figure;
# CPU time is printed next to it because a machine shared with other work inflates wall time
# but not CPU time.
#
# Usage: tools/bench_data.sh [OUTPUT_JSON]
#   OUTPUT_JSON            where the figures go (default: ./bench_data.json)
#   RECPRUNE_CRITEO_SAMPLE the Criteo TSV to repeat (default: ../shared/datasets/criteo-sample/
#                          train.txt beside the repository)
#   RUNS                   processes per figure (default 3)
#   KEEP=1                 keep the temporary folder (its path is printed)
# Needs the packages of the main build (cmake, g++, Boost.JSON, oneTBB, nlohmann_json,
# spdlog) and about 3 GiB of free space in TMPDIR.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
output="$(realpath -m "${1:-bench_data.json}")"
sample="${RECPRUNE_CRITEO_SAMPLE:-$repo/../shared/datasets/criteo-sample/train.txt}"
runs="${RUNS:-3}"
target_bytes=$((1 << 30))

if [[ ! -r "$sample" ]]; then
    echo "bench_data: missing Criteo sample: $sample; set RECPRUNE_CRITEO_SAMPLE to a Criteo TSV file" >&2
    exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/recprune-bench-data.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then
    echo "bench_data: keeping $work" >&2
else
    trap 'rm -rf "$work"' EXIT
fi

# 1. The input: whole copies of the sample until the file reaches 1 GiB.
sample_bytes=$(stat -c %s "$sample")
copies=$(((target_bytes + sample_bytes - 1) / sample_bytes))
data="$work/criteo.txt"
for ((copy = 0; copy < copies; copy++)); do cat "$sample"; done >"$data"
data_bytes=$(stat -c %s "$data")
echo "bench_data: $data_bytes bytes ($copies copies of $sample)" >&2

# 2. The driver and the plugin, built alone so the benchmark does not need the whole project.
mkdir -p "$work/src"
cat >"$work/src/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.25)
project(recprune_bench_data LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS json)
find_package(TBB CONFIG REQUIRED COMPONENTS tbb)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
add_library(recprune_sdk INTERFACE)
add_library(recprune::sdk ALIAS recprune_sdk)
target_include_directories(recprune_sdk INTERFACE $repo/framework/include)
target_link_libraries(recprune_sdk INTERFACE nlohmann_json::nlohmann_json)
file(GLOB data_sources $repo/framework/src/data/*.cpp)
add_library(data_host STATIC \${data_sources} $repo/framework/src/core/json_io.cpp
            $repo/framework/src/core/log.cpp)
target_include_directories(data_host PUBLIC $repo/framework/src)
target_link_libraries(data_host PUBLIC recprune_sdk Boost::json TBB::tbb spdlog::spdlog)
add_executable(bench_data $repo/tools/bench_data_main.cpp)
target_link_libraries(bench_data PRIVATE data_host \${CMAKE_DL_LIBS})
include($repo/cmake/RecprunePlugin.cmake)
set(RECPRUNE_PLUGIN_OUTPUT_DIR \${CMAKE_BINARY_DIR}/plugins)
add_subdirectory($repo/plugins/datasets/criteo criteo)
EOF
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" -j2 >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; exit 1; }
driver="$work/build/bench_data"
plugin="$work/build/plugins/librecprune_dataset_criteo.so"

# 3. Measurements, one process each; the first parse also warms the page cache.
cat "$data" >/dev/null
run_parse() {
    "$driver" parse "$plugin" "{\"path\": \"$data\", \"threads\": $1}" "$work/cache.rpcache"
}
for ((run = 0; run < runs; run++)); do run_parse 1; done >"$work/parse1.jsonl"
for ((run = 0; run < runs; run++)); do run_parse 0; done >"$work/parse_all.jsonl"
"$driver" reload "$work/cache.rpcache" >/dev/null  # page cache warm-up
for ((run = 0; run < runs; run++)); do "$driver" reload "$work/cache.rpcache"; done >"$work/reload.jsonl"
cache_bytes=$(stat -c %s "$work/cache.rpcache")

# 4. Medians, ratios and the report.
python3 - "$work" "$data_bytes" "$cache_bytes" "$runs" "$output" "$(nproc)" <<'EOF'
import json, statistics, sys
work, data_bytes, cache_bytes, runs, output, cores = sys.argv[1:]
data_bytes, cache_bytes = int(data_bytes), int(cache_bytes)

def load(name):
    with open(f"{work}/{name}") as handle:
        return [json.loads(line) for line in handle if line.strip()]

def median(rows, key):
    return statistics.median(row[key] for row in rows)

parse1, parse_all, reload = load("parse1.jsonl"), load("parse_all.jsonl"), load("reload.jsonl")
columnar = parse1[0]["columnar_bytes"]
figures = {
    "input_bytes": data_bytes,
    "rows": parse1[0]["rows"],
    "columnar_bytes": columnar,
    "cache_bytes": cache_bytes,
    "runs": int(runs),
    "cores": int(cores),
    "parse_1_thread_mb_per_s": data_bytes / 1e6 / median(parse1, "parse_seconds"),
    "parse_1_thread_cpu_mb_per_s": data_bytes / 1e6 / median(parse1, "parse_cpu_seconds"),
    "parse_all_threads_mb_per_s": data_bytes / 1e6 / median(parse_all, "parse_seconds"),
    "reload_gb_per_s": cache_bytes / 1e9 / median(reload, "reload_seconds"),
    "reload_cpu_gb_per_s": cache_bytes / 1e9 / median(reload, "reload_cpu_seconds"),
    "parse_peak_rss_ratio": median(parse1, "peak_rss_bytes") / columnar,
    "reload_peak_rss_ratio": median(reload, "peak_rss_bytes") / columnar,
    "targets": {"parse_1_thread_mb_per_s": 150, "reload_gb_per_s": 1.0, "peak_rss_ratio": 1.3},
}
with open(output, "w") as handle:
    json.dump(figures, handle, indent=2)
    handle.write("\n")
print(f"input           {data_bytes / 2**30:.2f} GiB, {figures['rows']:,} rows, "
      f"columnar {columnar / 1e9:.2f} GB")
print(f"parse, 1 thread {figures['parse_1_thread_mb_per_s']:.0f} MB/s wall, "
      f"{figures['parse_1_thread_cpu_mb_per_s']:.0f} MB/s CPU (target >= 150)")
print(f"parse, {cores} cores {figures['parse_all_threads_mb_per_s']:.0f} MB/s wall")
print(f"cached reload   {figures['reload_gb_per_s']:.2f} GB/s wall, "
      f"{figures['reload_cpu_gb_per_s']:.2f} GB/s CPU (target >= 1)")
print(f"peak RSS        parse {figures['parse_peak_rss_ratio']:.2f}x, reload "
      f"{figures['reload_peak_rss_ratio']:.2f}x the columnar bytes (target <= 1.3)")
print(f"figures written to {output}")
EOF
