#!/usr/bin/env bash
# Installs what recprune needs, builds it, and runs the quickstart grid on the MovieTweetings
# data shipped in experiments/data, printing the result table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/tools/setup.sh"
"$here/build/release/bin/recprune" run "$here/experiments/quickstart.json" "$@"
