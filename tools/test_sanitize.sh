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
jobs="$(nproc 2>/dev/null || echo 2)"
# halt_on_error stops at the first report, so a finding cannot scroll past unnoticed. ASan's
# own handlers for SIGSEGV and SIGBUS are off, so that a plugin that crashes on purpose ends
# with the signal the isolation tests expect; memory errors are caught before they fault.
asan="halt_on_error=1:detect_stack_use_after_return=0:handle_segv=0:handle_sigbus=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/tools/lsan.supp}"

# The kit test installs the build and compiles a plugin out of tree. It checks packaging, which
# the release run covers, so it does not run again here.
# Known limit: on an AMD EPYC host LeakSanitizer's exit check now and then crashes in its own
# tracer ("Tracer caught signal 11") in a test that runs recprune, with no leak reported, so a
# failed test runs up to twice more. A real leak fails every time.
ASAN_OPTIONS="${ASAN_OPTIONS:-$asan}" \
    ctest --output-on-failure -j "$jobs" --repeat until-pass:3 \
    -LE "slow|fuzz|mpi|determinism|kit|kill" "$@"
# Known limit: Open MPI leaks its component state at exit, from libraries it has unloaded
# (so no suppression can name them); tests that start mpirun run without leak checks.
# Known limit: in the SIGKILL resume test (label kill), LeakSanitizer's exit check crashed in
# its own tracer ("Tracer caught signal 11") in 2 of 3 full runs on an AMD EPYC host, with no
# leak reported. That test runs without leak checks until the crash is understood.
ASAN_OPTIONS="${ASAN_OPTIONS:-$asan:detect_leaks=0}" \
    ctest --output-on-failure -j "$jobs" -L "mpi|determinism|kill" -LE "slow|fuzz|kit" "$@"
