"""Ensembles at scale: a million runs of `basing run`, a 100-point sweep, the cold start of a fresh
install, runs/s on one process and on all cores, and how the cost grows with actors, issues and rounds.
Prints figures, each with its aim; asserts nothing.

    python benchmarks/bench_scale.py               # everything (about 8 minutes: includes 10^6 runs)
    python benchmarks/bench_scale.py --quick       # smaller sizes
    python benchmarks/bench_scale.py --repeats 3   # the big figures 3 times, for their spread

Aims (issue 17, 2-core machine): `basing run -n 1000000` on 2 workers in under 40 s end to end (process
start-up included) and under 1 GB peak resident memory of all its processes; 100 points x 1,000 runs of
a sweep in under 8 s; the cold start of a fresh install (its first run, compiling the kernels) stated.
Cost should grow no faster than linearly in rounds and issues (issue 4).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.engine.model import simulate  # noqa: E402
from sim.experiments.options import default_workers  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402
from sim.scenario.schema import Scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "russia_syria_baseline.yaml"


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
        stack.extend(children.get(current, []))
    return total


def cli_run(runs: int, workers: int) -> tuple[float, float]:
    """Wall time (s) and peak resident memory of the whole process tree (MB) of `basing run`."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "sim", "run", str(BASELINE), "-n", str(runs), "-q", "--workers",
                   str(workers), "--out", f"{folder}/r"]  # fmt: skip
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak = 0
        stop = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, tree_rss(process.pid))
                time.sleep(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, stderr = process.communicate()
        stop.set()
        watcher.join()
        if process.returncode:
            raise RuntimeError(stderr.decode())
        return time.perf_counter() - start, peak / 2**20


def sweep_seconds(points_per_axis: int, runs: int, workers: int) -> float:
    """Wall time (s) of `basing sweep` over a points_per_axis x points_per_axis grid, ``runs`` runs a point."""
    vary = [f"actors.russia.outside_option.value=0.3:0.7:{points_per_axis}",
            f"protocol.breakdown_risk=0:0.02:{points_per_axis}"]  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "sim", "sweep", str(BASELINE), "--vary", vary[0], "--vary", vary[1], "-n",
                   str(runs), "-q", "--workers", str(workers), "--out", f"{folder}/s"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - start


def cold_start(runs: int) -> tuple[float, float]:
    """Wall time (s) of `basing run -n runs --workers 1` with an empty compile cache (a fresh install's first
    run: the kernels are compiled), then again with the cache it left."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "NUMBA_CACHE_DIR": f"{folder}/cache"}
        times = []
        for attempt in range(2):
            command = [sys.executable, "-m", "sim", "run", str(BASELINE), "-n", str(runs), "-q", "--workers", "1",
                       "--out", f"{folder}/r{attempt}"]  # fmt: skip
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=env)
            times.append(time.perf_counter() - start)
        return times[0], times[1]


def spread(values: list[float], unit: str, digits: int = 1) -> str:
    """Median of ``values`` and, for several, their range."""
    text = f"{statistics.median(values):,.{digits}f} {unit}"
    return text if len(values) == 1 else f"{text} median ({min(values):,.{digits}f} to {max(values):,.{digits}f})"


def synthetic(actors: int, issues: int, rounds: int) -> Scenario:
    """Two parties and actors - 2 stakeholders on ``issues`` issues, talks lasting ``rounds`` rounds."""
    rng = np.random.default_rng(actors * 1000 + issues)
    names = [f"i{k}" for k in range(issues)]

    tactic = {"kind": "boulware", "beta": 0.3, "deadline": rounds}

    def actor(role: str, k: int) -> dict:
        preferences = {n: {"ideal": float(rng.uniform(0, 100)), "salience": float(rng.uniform(0.1, 1))} for n in names}
        return {"label": f"a{k}", "role": role, "capability": float(rng.uniform(0.1, 1)), "risk": 0.5,
                "patience": {"dist": "uniform", "low": 0.97, "high": 0.995},
                "outside_option": {"value": {"dist": "uniform", "low": 0.2, "high": 0.4}, "label": "o"},
                "preferences": preferences, "strategy": tactic}  # fmt: skip

    data = {
        "name": "synthetic", "question": "q", "seed": "-", "start_date": "2025-01-01",
        "issues": {n: {"label": n, "unit": "u", "range": [0, 100]} for n in names},
        "actors": {f"a{k}": actor("party" if k < 2 else "stakeholder", k) for k in range(actors)},
        "protocol": {"horizon": rounds, "breakdown_risk": 0.0}, "influence": {"model": "pull", "rate": 0.03},
    }  # fmt: skip
    return Scenario.model_validate(data)


def cost(spec: Scenario, runs: int) -> float:
    """Microseconds per run and round, one process."""
    start = time.perf_counter()
    model = simulate(spec, np.arange(runs), seed=1)
    elapsed = time.perf_counter() - start
    return elapsed / (runs * model.round_index) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=1, help="how often to time the big figures (default 1)")
    args = parser.parse_args()
    cores = default_workers()
    spec = load_scenario(BASELINE).spec
    simulate(spec, np.arange(100), seed=0)
    big, grid, sweep_runs = (100_000, 4, 250) if args.quick else (1_000_000, 10, 1_000)
    print(f"{os.cpu_count()} cores; baseline scenario; {args.repeats} timing(s) of each big figure")

    timings = [cli_run(big, 2) for _ in range(args.repeats)]
    print(f"basing run -n {big:,} --workers 2: {spread([t for t, _ in timings], 's')} end to end (aim < 40 s), "
          f"peak {spread([m for _, m in timings], 'MB', 0)} of all processes (aim < 1,024 MB)")  # fmt: skip
    sweeps = [sweep_seconds(grid, sweep_runs, 2) for _ in range(args.repeats)]
    print(f"basing sweep, {grid * grid} points x {sweep_runs:,} runs, 2 workers: {spread(sweeps, 's')} (aim < 8 s)")
    cold, warm = cold_start(1_000)
    print(f"cold start, basing run -n 1,000 with an empty compile cache: {cold:.1f} s; the same with the cache it "
          f"left: {warm:.1f} s (compiling: {cold - warm:.1f} s, once per install)")  # fmt: skip

    throughput = 40_000 if args.quick else 100_000
    for workers in sorted({1, cores}):
        elapsed, peak = cli_run(throughput, workers)
        print(f"basing run -n {throughput:,} --workers {workers}: {throughput / elapsed:8,.0f} runs/s "
              f"({elapsed:.1f} s, peak {peak:,.0f} MB)")  # fmt: skip
    print("cost per run and round (us), one process, 2,000 runs:")
    base = (8, 4, 52)
    for label, values, build in (
        ("actors", (4, 8, 16, 32, 64), lambda v: (v, base[1], base[2])),
        ("issues", (2, 4, 8, 16), lambda v: (base[0], v, base[2])),
        ("rounds", (13, 26, 52, 104, 208), lambda v: (base[0], base[1], v)),
    ):
        figures = [cost(synthetic(*build(v)), 2_000) for v in values]
        row = "  ".join(f"{v}: {f:6.2f}" for v, f in zip(values, figures, strict=True))
        print(f"  {label:7} {row}")


if __name__ == "__main__":
    main()
