"""Measure PyTorch's f32 matrix product on one thread, to see which OpenBLAS kernels it gets.

Run with Debian's interpreter and python3-torch:
    /usr/bin/python3 tools/bench_models/openblas_gemm.py
    OPENBLAS_CORETYPE=Prescott /usr/bin/python3 tools/bench_models/openblas_gemm.py
Prints one JSON line: {"openblas_coretype", "openblas_core", "gflops"}. "openblas_core" is the
kernel set OpenBLAS reports choosing (OPENBLAS_VERBOSE=2 in a child process), "gflops" the
median rate of 10 products of two 1024 x 1024 matrices. On a CPU that Debian 12's OpenBLAS
0.3.21 does not recognise it falls back to its Prescott (SSE3) kernels, and the rate dropped 3
to 7 times in our runs. tools/bench_models.sh sets OPENBLAS_CORETYPE when it detects that
fallback.
"""

import json
import os
import statistics
import subprocess
import sys
import time

import torch


def reported_core():
    """Return the "Core:" line OpenBLAS prints when it loads with OPENBLAS_VERBOSE=2."""
    environment = dict(os.environ, OPENBLAS_VERBOSE="2")
    process = subprocess.run([sys.executable, "-c", "import torch"], env=environment,
                             capture_output=True, text=True, check=False)
    for line in (process.stdout + process.stderr).splitlines():
        if line.startswith("Core: "):
            return line[len("Core: "):].strip()
    return None


def main():
    torch.set_num_threads(1)
    size = 1024
    left = torch.randn(size, size)
    right = torch.randn(size, size)
    for _ in range(3):
        left @ right
    rates = []
    for _ in range(10):
        start = time.perf_counter()
        left @ right
        rates.append(2 * size ** 3 / (time.perf_counter() - start) / 1e9)
    print(json.dumps({"openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
                      "openblas_core": reported_core(),
                      "gflops": round(statistics.median(rates), 1)}))


if __name__ == "__main__":
    main()
