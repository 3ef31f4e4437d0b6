#!/usr/bin/env bash
# Installs what recprune needs, builds it, runs the quickstart grid on the MovieTweetings data
# shipped in experiments/data, prints the result table, and draws the plots (curves of each
# metric against sparsity, and the Pareto view) into results/quickstart/plots.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/tools/setup.sh"

"$here/build/release/bin/recprune" run "$here/experiments/quickstart.json" "$@"

# The plotting tool runs on Debian's interpreter with Debian's matplotlib. python3-munkres is
# named because matplotlib needs python3-fonttools, which needs python3-scipy or
# python3-munkres. apt picks scipy by default, and scipy pulls libboost1.74-dev through
# python3-pythran, which conflicts with the libboost1.81-dev recprune builds with.
if ! /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    echo "quickstart: installing python3-matplotlib for the plots" >&2
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
        python3-matplotlib python3-munkres >/dev/null
fi
/usr/bin/python3 "$here/tools/plot_results.py" "$here/results/quickstart" \
    --output "$here/results/quickstart/plots"
