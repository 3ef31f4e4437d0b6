#!/usr/bin/env bash
# The plugin kit as a user meets it. The test installs recprune to a temporary prefix and
# scaffolds a pruner with the installed `recprune new-plugin`. It then builds and tests the
# pruner out of tree with find_package(recprune) and runs a small grid with it beside the
# built-in pruners.
#
# usage: plugin_kit_test.sh BUILD_DIR [CMAKE] [CTEST]
# Exits nonzero at the first step that fails, after printing what failed.
set -euo pipefail

build_dir=$(cd "$1" && pwd)
cmake_command=${2:-cmake}
ctest_command=${3:-ctest}
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

step "install to $prefix"
"$cmake_command" --install "$build_dir" --prefix "$prefix" > "$work/install.log" ||
    { cat "$work/install.log"; fail "cmake --install $build_dir"; }
for file in bin/recprune include/recprune/abi.h include/recprune/sdk.hpp \
    lib/cmake/recprune/recprune-config.cmake lib/cmake/recprune/RecprunePlugin.cmake \
    share/recprune/experiments/quickstart.json \
    share/recprune/experiments/data/movietweetings/ratings.dat \
    share/recprune/templates/pruner/grid.json; do
    [[ -e "$prefix/$file" ]] || fail "the install has no $file"
done
installed_plugins=("$prefix"/lib*/recprune/plugins/librecprune_pruner_magnitude.so)
[[ -e "${installed_plugins[0]}" ]] || fail "the install has no magnitude pruner plugin"

step "scaffold a pruner"
(cd "$work" && "$recprune" new-plugin pruner kit_pruner) > "$work/new-plugin.log" ||
    { cat "$work/new-plugin.log"; fail "recprune new-plugin pruner kit_pruner"; }
plugin="$work/kit_pruner"
grep -q "DCMAKE_PREFIX_PATH=$prefix" "$work/new-plugin.log" ||
    fail "new-plugin does not point CMAKE_PREFIX_PATH at the install prefix"

step "build and test it out of tree"
"$cmake_command" -S "$plugin" -B "$plugin/build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" ||
    { cat "$work/configure.log"; fail "configuring the scaffolded pruner"; }
"$cmake_command" --build "$plugin/build" -j2 > "$work/build.log" ||
    { cat "$work/build.log"; fail "building the scaffolded pruner"; }
[[ -e "$plugin/build/librecprune_pruner_kit_pruner.so" ]] ||
    fail "the build has no librecprune_pruner_kit_pruner.so"
"$ctest_command" --test-dir "$plugin/build" --output-on-failure > "$work/ctest.log" ||
    { cat "$work/ctest.log"; fail "the scaffolded pruner's own test"; }
grep -q "100% tests passed" "$work/ctest.log" || { cat "$work/ctest.log"; fail "no test ran"; }

step "list and validate"
"$recprune" plugins --plugin-dir "$plugin/build" > "$work/plugins.log"
grep -q "kit_pruner 0.1.0" "$work/plugins.log" ||
    { cat "$work/plugins.log"; fail "recprune plugins does not list kit_pruner"; }

# The scaffolded grid, cut to one seed, two sparsities and one epoch so the test stays short.
sed -e 's/"sparsities": \[[^]]*\]/"sparsities": [0.5, 0.9]/' \
    -e 's/"seeds": \[[^]]*\]/"seeds": [1]/' \
    -e 's/"epochs": 5/"epochs": 1/' "$plugin/grid.json" > "$plugin/kit_grid.json"
grep -q '"seeds": \[1\]' "$plugin/kit_grid.json" || fail "could not shorten the grid"
"$recprune" validate "$plugin/kit_grid.json" --plugin-dir "$plugin/build" ||
    fail "recprune validate rejects the scaffolded grid"

step "run the grid"
"$recprune" run "$plugin/kit_grid.json" --plugin-dir "$plugin/build" -o "$work/results" -q \
    > "$work/run.log" || { cat "$work/run.log"; fail "recprune run exited with $?"; }

step "report"
"$recprune" report "$work/results" --group-by pruner,sparsity --metric auc --format csv -q \
    > "$work/report.csv" ||
    fail "recprune report"
cat "$work/report.csv"
for pruner in random magnitude kit_pruner; do
    for sparsity in 0.5 0.9; do
        line=$(grep "^$pruner,$sparsity," "$work/report.csv") ||
            fail "the report has no line for $pruner at sparsity $sparsity"
        # Fields: pruner,target_sparsity,rows,seeds,failed,not_reached,auc_mean,...
        IFS=, read -r -a fields <<< "$line"
        [[ "${fields[4]}" == "0" ]] || fail "$pruner at $sparsity has ${fields[4]} failed cells"
        [[ -n "${fields[6]}" ]] || fail "$pruner at $sparsity has no AUC"
    done
done
# The scaffold scores |w| like magnitude at weight granularity with global scope, so both
# select the same weights from the same dense model and must reach the same AUC.
magnitude=$(grep "^magnitude,0.9," "$work/report.csv" | cut -d, -f7)
scaffold=$(grep "^kit_pruner,0.9," "$work/report.csv" | cut -d, -f7)
[[ "$magnitude" == "$scaffold" ]] ||
    fail "kit_pruner AUC $scaffold differs from magnitude AUC $magnitude at sparsity 0.9"
[[ -e "$work/results/report/areas.tex" ]] || fail "recprune report wrote no areas.tex"

step "done"
