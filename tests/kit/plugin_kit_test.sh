#!/usr/bin/env bash
# The plugin kit as a user meets it. The test installs recprune to a temporary prefix and
# scaffolds plugins with the installed `recprune new-plugin`. It then builds and tests each one
# out of tree with find_package(recprune) and runs a shortened copy of its grid.
#
# usage: plugin_kit_test.sh BUILD_DIR CMAKE CTEST KIND...
# KIND is pruner, dataset, model, or tutorial: the LAMP pruner of docs/tutorial.md built from a
# scaffold with the tutorial's files. Exits nonzero at the first step that fails, after printing
# what failed and the log of that step.
set -euo pipefail

if [[ $# -lt 4 ]]; then
    echo "usage: plugin_kit_test.sh BUILD_DIR CMAKE CTEST KIND..." >&2
    exit 2
fi
build_dir=$(cd "$1" && pwd)
tutorial_dir=$(cd "$(dirname "$0")/../../docs/tutorial" && pwd)
cmake_command=$2
ctest_command=$3
shift 3
work=$(mktemp -d "${TMPDIR:-/tmp}/recprune-kit-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
recprune="$prefix/bin/recprune"

fail() {
    echo "plugin kit test failed: $*" >&2
    exit 1
}

step() {
    echo "== $* ($SECONDS s)"
}

# Runs a command with its output in $work/$1.log, printing the log when it fails.
logged() {
    local log="$work/$1.log"
    shift
    "$@" > "$log" 2>&1 || { cat "$log"; fail "$* exited with $?"; }
}

install_recprune() {
    step "install to $prefix"
    logged install "$cmake_command" --install "$build_dir" --prefix "$prefix"
    for file in bin/recprune include/recprune/abi.h include/recprune/sdk.hpp \
        include/recprune/sdk/text.hpp lib/cmake/recprune/recprune-config.cmake \
        lib/cmake/recprune/recprune-config-version.cmake lib/cmake/recprune/RecprunePlugin.cmake \
        share/recprune/experiments/quickstart.json \
        share/recprune/experiments/data/movietweetings/ratings.dat \
        share/recprune/templates/pruner/grid.json share/recprune/tools/plot_results.py; do
        [[ -e "$prefix/$file" ]] || fail "the install has no $file"
    done
    local plugins=("$prefix"/lib*/recprune/plugins/librecprune_pruner_magnitude.so)
    [[ -e "${plugins[0]}" ]] || fail "the install has no magnitude pruner plugin"
    if grep -q '"output"' "$prefix/share/recprune/experiments/quickstart.json"; then
        fail "the installed quickstart grid still names an output folder inside the source tree"
    fi
    # The installed binary loads the installed plugins, not those of the build it came from.
    local outside
    outside=$("$recprune" plugins --json | /usr/bin/python3 -c '
import json, sys
prefix = sys.argv[1]
print(" ".join(p["file"] for p in json.load(sys.stdin)["plugins"]
               if not p["file"].startswith(prefix + "/")))' "$prefix")
    [[ -z "$outside" ]] || fail "the installed recprune loads plugins from outside $prefix: $outside"
}

# Scaffolds, builds and unit-tests plugin $2 (default kit_<kind>); prints the plugin folder.
# A third argument names a folder whose files replace the scaffold's before the build.
build_plugin() {
    local kind=$1
    local name=${2:-kit_$kind}
    local replacement=${3:-}
    local plugin="$work/$name"
    step "scaffold, build and test a $kind named $name" >&2
    (cd "$work" && logged "new-plugin-$kind" "$recprune" new-plugin "$kind" "$name")
    if [[ -n "$replacement" ]]; then
        cp -r "$replacement"/. "$plugin"/
    fi
    grep -q "DCMAKE_PREFIX_PATH=$prefix" "$work/new-plugin-$kind.log" ||
        fail "new-plugin does not point CMAKE_PREFIX_PATH at the install prefix"
    logged "configure-$kind" "$cmake_command" -S "$plugin" -B "$plugin/build" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
    logged "build-$kind" "$cmake_command" --build "$plugin/build" -j2
    [[ -e "$plugin/build/librecprune_${kind}_$name.so" ]] ||
        fail "the build has no librecprune_${kind}_$name.so"
    logged "ctest-$kind" "$ctest_command" --test-dir "$plugin/build" --output-on-failure
    grep -q "100% tests passed" "$work/ctest-$kind.log" ||
        { cat "$work/ctest-$kind.log"; fail "the scaffolded $kind ran no test"; }
    logged "plugins-$kind" "$recprune" plugins --plugin-dir "$plugin/build"
    grep -q "$name 0.1.0" "$work/plugins-$kind.log" ||
        { cat "$work/plugins-$kind.log"; fail "recprune plugins does not list $name"; }
    echo "$plugin"
}

# Runs the plugin's grid cut to one seed, two sparsities and one epoch so the test stays
# short, then writes the report as CSV to $work/<kind>.csv.
run_grid() {
    local kind=$1
    local plugin=$2
    step "run the $kind grid"
    sed -e 's/"sparsities": \[[^]]*\]/"sparsities": [0.5, 0.9]/' \
        -e 's/"seeds": \[[^]]*\]/"seeds": [1]/' \
        -e 's/"epochs": 5/"epochs": 1/' "$plugin/grid.json" > "$plugin/kit_grid.json"
    grep -q '"seeds": \[1\]' "$plugin/kit_grid.json" || fail "could not shorten the $kind grid"
    logged "validate-$kind" "$recprune" validate "$plugin/kit_grid.json" \
        --plugin-dir "$plugin/build"
    logged "run-$kind" "$recprune" run "$plugin/kit_grid.json" --plugin-dir "$plugin/build" \
        -o "$work/results-$kind" -q
    "$recprune" report "$work/results-$kind" --group-by model,pruner,sparsity --metric auc \
        --format csv -q > "$work/$kind.csv" || fail "recprune report on the $kind grid"
    cat "$work/$kind.csv"
    [[ -e "$work/results-$kind/report/areas.tex" ]] || fail "recprune report wrote no areas.tex"
}

# Checks that the line of model $2, pruner $3 and sparsity $4 in $work/$1.csv has no failed
# cell and an AUC, and prints that AUC. The fields are
# model,pruner,target_sparsity,rows,seeds,failed,not_reached,auc_mean,...
report_line() {
    local line
    line=$(grep "^$2,$3,$4," "$work/$1.csv") ||
        fail "the $1 report has no line for model $2, pruner $3 at sparsity $4"
    IFS=, read -r -a fields <<< "$line"
    [[ "${fields[5]}" == "0" ]] || fail "$2/$3 at $4 has ${fields[5]} failed cells"
    [[ -n "${fields[7]}" ]] || fail "$2/$3 at $4 has no AUC"
    echo "${fields[7]}"
}

check_pruner() {
    local plugin
    plugin=$(build_plugin pruner)
    run_grid pruner "$plugin"
    for pruner in random magnitude kit_pruner; do
        for sparsity in 0.5 0.9; do report_line pruner fm "$pruner" "$sparsity" > /dev/null; done
    done
    # The scaffold scores |w| like magnitude at weight granularity with global scope, so both
    # select the same weights from the same dense model and must reach the same AUC.
    local magnitude scaffold
    magnitude=$(report_line pruner fm magnitude 0.9)
    scaffold=$(report_line pruner fm kit_pruner 0.9)
    [[ "$magnitude" == "$scaffold" ]] ||
        fail "kit_pruner AUC $scaffold differs from magnitude AUC $magnitude at sparsity 0.9"
}

check_dataset() {
    local plugin
    plugin=$(build_plugin dataset)
    run_grid dataset "$plugin"
    for model in logistic_regression fm; do
        for pruner in random magnitude; do report_line dataset "$model" "$pruner" 0.5 > /dev/null; done
    done
}

check_tutorial() {
    local plugin
    plugin=$(build_plugin pruner lamp "$tutorial_dir/lamp")
    run_grid pruner "$plugin"
    report_line pruner fm lamp 0.9 > /dev/null
}

check_model() {
    local plugin
    plugin=$(build_plugin model)
    run_grid model "$plugin"
    for pruner in random magnitude; do report_line model kit_model "$pruner" 0.9 > /dev/null; done
}

install_recprune
for kind in "$@"; do
    case "$kind" in
        pruner) check_pruner ;;
        dataset) check_dataset ;;
        model) check_model ;;
        tutorial) check_tutorial ;;
        *) fail "unknown kind \"$kind\"; give pruner, dataset, model or tutorial" ;;
    esac
done
step "done"
