#!/usr/bin/env bash
# Installs the Debian 12 packages recprune builds against, then configures and builds it in
# build/release. Safe to run again: installed packages are skipped and the build is incremental.
# Run as root (or with sudo available).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${RECPRUNE_BUILD_DIR:-$here/build/release}"
build_type="${RECPRUNE_BUILD_TYPE:-Release}"

# Build tools and the libraries. ocl-icd-opencl-dev is needed because Debian's oneDNN CMake
# config looks for OpenCL even on CPU-only builds; Boost is named with its version because
# the unversioned -dev packages pull Boost 1.74, which conflicts with 1.81.
packages=(
    build-essential cmake git pkg-config python3
    libdnnl-dev ocl-icd-opencl-dev libtbb-dev nlohmann-json3-dev doctest-dev libspdlog-dev
    libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
    # Open MPI for `recprune run --mpi` and its test; without it the rest still builds.
    openmpi-bin libopenmpi-dev
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    echo "setup: installing ${missing[*]}" >&2
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
