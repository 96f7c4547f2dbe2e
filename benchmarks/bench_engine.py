"""Engine speed and memory on the baseline scenario. Prints figures; asserts nothing.

    python benchmarks/bench_engine.py            # full: R = 10,000 batched, 100,000-run memory check
    python benchmarks/bench_engine.py --quick    # smaller, for a smoke check

Aims (issue 2): batched >= 5,000 runs/s on one core of a 2-core machine, >= 50x the
one-run-at-a-time loop, and 100,000 runs of `basing run` under 1 GB peak memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # one core: numpy's element-wise work is single-threaded anyway

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.engine.model import simulate  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "russia_syria_baseline.yaml"


def batched_rate(spec, runs: int, repeats: int) -> list[float]:
    """Runs per second simulating ``runs`` runs in one batch, ``repeats`` times."""
    rates = []
    for repeat in range(repeats):
        start = time.perf_counter()
        simulate(spec, np.arange(repeat * runs, (repeat + 1) * runs), seed=1)
        rates.append(runs / (time.perf_counter() - start))
    return rates


def one_at_a_time_rate(spec, runs: int) -> float:
    """Runs per second building and stepping one model per run (R = 1 in a loop)."""
    start = time.perf_counter()
    for k in range(runs):
        simulate(spec, np.array([k]), seed=1)
    return runs / (time.perf_counter() - start)


def peak_memory_of_cli(runs: int) -> tuple[float, float]:
    """Peak resident memory (MB) and wall time (s) of `basing run` with ``runs`` runs, in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", str(runs), "-q", "--out", f"{folder}/r"],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        elapsed = time.perf_counter() - start
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke check")
    args = parser.parse_args()
    batch, loop, memory_runs, repeats = (2_000, 50, 10_000, 2) if args.quick else (10_000, 300, 100_000, 3)

    spec = load_scenario(BASELINE).spec
    simulate(spec, np.arange(100), seed=0)  # warm up imports and caches
    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {python}, numpy {np.__version__}")
    rates = batched_rate(spec, batch, repeats)
    single = one_at_a_time_rate(spec, loop)
    best = max(rates)
    median = statistics.median(rates)
    print(f"batched (R = {batch:,}):          {best:8,.0f} runs/s best, {median:8,.0f} median of {repeats}")
    print(f"one at a time (R = 1, {loop} runs): {single:8,.0f} runs/s")
    print(f"batched / one at a time:           {best / single:8,.0f}x")
    peak, elapsed = peak_memory_of_cli(memory_runs)
    print(f"`basing run --runs {memory_runs:,}`:    {peak:8,.0f} MB peak resident memory, {elapsed:.1f} s wall")


if __name__ == "__main__":
    main()
