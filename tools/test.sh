#!/usr/bin/env bash
# Installs what recprune needs, builds it, and runs the default test suite through ctest.
# Suites labelled slow or fuzz are left out; run them with `ctest -L slow` in build/release.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/tools/setup.sh"
cd "$here/build/release"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" -LE "slow|fuzz" "$@"
