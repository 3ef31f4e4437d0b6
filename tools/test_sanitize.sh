#!/usr/bin/env bash
# Installs what recprune needs, builds it with AddressSanitizer and UndefinedBehaviorSanitizer
# in build/sanitize (the CMake preset "sanitize"), and runs the default test suite under them.
# Any memory error, leak or undefined behaviour fails the test that hit it. Extra arguments go
# to ctest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RECPRUNE_BUILD_DIR="$here/build/sanitize" RECPRUNE_BUILD_TYPE=RelWithDebInfo \
    "$here/tools/setup.sh" -DRECPRUNE_SANITIZE=ON
cd "$here/build/sanitize"
# halt_on_error stops at the first report, so a finding cannot scroll past unnoticed.
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" -LE "slow|fuzz" "$@"
