"""Sweep throughput: 100 points x 1,000 runs of the baseline, on the local process pool and on a local
Dask cluster of as many workers. Prints figures; asserts nothing.

    python benchmarks/bench_sweep.py

Aims (issue 5, 2-core machine): under 60 s with the local pool; the Dask path within 20% of it. The Dask
path is timed on an existing cluster (started first, as with --scheduler) and on a new local one. Each
figure is the median of three timings, as one timing on a busy 2-core machine varies by 10% or more.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "russia_syria_baseline.yaml"
VARY = ["--vary", "actors.russia.outside_option.value=0.3:0.7:10", "--vary", "protocol.breakdown_risk=0:0.02:10"]


def median_of_3(*extra: str) -> float:
    return statistics.median(timed(*extra) for _ in range(3))


def timed(*extra: str) -> float:
    runs = [] if "-n" in extra else ["-n", "1000"]
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "sweep", str(BASELINE), *VARY, *runs, "-q", "--out",
                        f"{folder}/s", *extra], check=True, cwd=ROOT, capture_output=True)  # fmt: skip
        return time.perf_counter() - start


def existing_cluster(workers: int, folder: Path) -> tuple[str, list[subprocess.Popen]]:
    """A Dask scheduler and workers on loopback, started before any timing (as a cluster one is given)."""
    from distributed import Client

    scheduler_file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": folder}
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
        ],
        **quiet,
    )
    while not scheduler_file.exists():
        time.sleep(0.1)
    address = json.loads(scheduler_file.read_text())["address"]
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            address,
            "--nthreads",
            "1",
            "--nworkers",
            str(workers),
            "--no-dashboard",
            "--host",
            "127.0.0.1",
        ],
        **quiet,
    )
    with Client(address) as client:
        client.wait_for_workers(workers)
    return address, [worker, scheduler]


def main() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    pool = median_of_3("--workers", str(cores))
    local = median_of_3("--dask-local", str(cores))
    with tempfile.TemporaryDirectory() as folder:
        address, processes = existing_cluster(cores, Path(folder))
        try:
            timed("--scheduler", address, "-n", "10")  # the workers' first tasks import the package
            existing = median_of_3("--scheduler", address)
        finally:
            for process in processes:
                process.terminate()
                process.wait()
    print(f"100 points x 1,000 runs, {cores} workers")
    print(f"  local process pool:                   {pool:6.1f} s ({100_000 / pool:,.0f} runs/s)")
    print(f"  an existing Dask cluster (--scheduler): {existing:6.1f} s, {100 * (existing / pool - 1):+.0f}% vs pool")
    print(f"  a new local Dask cluster (--dask-local): {local:6.1f} s, {100 * (local / pool - 1):+.0f}% vs pool")


if __name__ == "__main__":
    main()
