"""Ensembles at scale: runs/s on one process and on all cores, peak memory of `basing run` for 10^4 to
10^6 runs, and how the cost grows with actors, issues and rounds. Prints figures; asserts nothing.

    python benchmarks/bench_scale.py            # everything (several minutes: includes 10^6 runs)
    python benchmarks/bench_scale.py --quick    # smaller sizes

Aims (issue 4, 2-core machine): >= 5,000 runs/s per core on the baseline, >= 50x one-at-a-time,
10^6 runs of the baseline in under 3 minutes with peak memory under 1.5 GB, and cost growing no faster
than linearly in rounds and issues.
"""

from __future__ import annotations

import argparse
import os
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
    args = parser.parse_args()
    cores = default_workers()
    spec = load_scenario(BASELINE).spec
    simulate(spec, np.arange(100), seed=0)
    sizes = (10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000)
    throughput = 40_000 if args.quick else 100_000
    print(f"{os.cpu_count()} cores; baseline scenario")
    for workers in sorted({1, cores}):
        elapsed, peak = cli_run(throughput, workers)
        print(f"basing run -n {throughput:,} --workers {workers}: {throughput / elapsed:8,.0f} runs/s "
              f"({elapsed:.1f} s, peak {peak:,.0f} MB)")  # fmt: skip
    for runs in sizes:
        elapsed, peak = cli_run(runs, cores)
        print(f"basing run -n {runs:>9,} (all cores):     {elapsed:7.1f} s, peak memory {peak:7,.0f} MB")
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
