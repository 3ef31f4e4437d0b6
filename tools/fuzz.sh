#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14, AddressSanitizer and UndefinedBehaviorSanitizer in
# build/fuzz, then runs each target for SECONDS (default 30), one after another, and prints the
# executions and run time of each. Crashing inputs land in
# build/fuzz/tests/fuzz/work/<target>/artifacts/; copy them to tests/fuzz/regressions/<target>/.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]     targets: grid text results descriptor dataset_<name>
#
# Needs clang-14 and libclang-rt-14-dev (Debian 12). Exits nonzero when a target finds a crash.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${RECPRUNE_FUZZ_BUILD_DIR:-$here/build/fuzz}"
seconds="${1:-30}"
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(grid text results descriptor dataset_avazu dataset_criteo dataset_csv
             dataset_libsvm dataset_movielens dataset_movietweetings)
fi

CC=clang-14 CXX=clang++-14 cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRECPRUNE_SANITIZE=ON -DRECPRUNE_FUZZ=ON -DRECPRUNE_FUZZ_SECONDS="$seconds" >/dev/null
build_targets=()
for target in "${targets[@]}"; do build_targets+=(--target "recprune_fuzz_$target"); done
cmake --build "$build_dir" -j "${RECPRUNE_BUILD_JOBS:-2}" "${build_targets[@]}"

status=0
printf '%-24s %12s %10s %s\n' target executions seconds result
for target in "${targets[@]}"; do
    log="$build_dir/tests/fuzz/work/$target/last_run.log"
    if (cd "$build_dir" && ctest -R "^fuzz\\.$target\$" --output-log "$log" >/dev/null 2>&1); then
        result="no crash"
    else
        result="FAILED, see $log"
        status=1
    fi
    executions="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')"
    elapsed="$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 | awk '{print $5}')"
    printf '%-24s %12s %10s %s\n' "$target" "${executions:-?}" "${elapsed:-?}" "$result"
done
exit "$status"
