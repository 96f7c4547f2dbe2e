"""Sweep throughput: 100 points x 1,000 runs of the baseline, on the local process pool and on a local
Dask cluster of as many workers. Prints figures; asserts nothing.

    python benchmarks/bench_sweep.py

Aims (issue 5, 2-core machine): under 60 s with the local pool; the Dask path within 20% of it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "russia_syria_baseline.yaml"
VARY = ["--vary", "actors.russia.outside_option.value=0.3:0.7:10", "--vary", "protocol.breakdown_risk=0:0.02:10"]


def timed(*extra: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "sweep", str(BASELINE), *VARY, "-n", "1000", "-q", "--out",
                        f"{folder}/s", *extra], check=True, cwd=ROOT, capture_output=True)  # fmt: skip
        return time.perf_counter() - start


def main() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    pool = timed("--workers", str(cores))
    dask = timed("--dask-local", str(cores))
    print(f"100 points x 1,000 runs, {cores} workers")
    print(f"  local process pool: {pool:6.1f} s ({100_000 / pool:,.0f} runs/s)")
    print(
        f"  local Dask cluster: {dask:6.1f} s ({100_000 / dask:,.0f} runs/s), {100 * (dask / pool - 1):+.0f}% vs pool"
    )


if __name__ == "__main__":
    main()
