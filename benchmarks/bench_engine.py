"""Engine speed on the baseline scenario, side by side with an earlier engine. Prints figures; asserts
nothing.

    python benchmarks/bench_engine.py                  # full: R = 10,000 batched, 5 rounds of each engine
    python benchmarks/bench_engine.py --quick          # smaller, for a smoke check
    python benchmarks/bench_engine.py --against REV    # compare with another commit (default: BEFORE)

The earlier engine is the commit ``--against`` (by default the last commit before the compiled kernels),
exported with ``git archive`` into a temporary folder and run by the same Python in its own process.
The two engines take turns, a process each time, so that the machine's drift in speed (it is large on
a shared machine: 20 to 40% from minute to minute) falls on both alike; each figure is the best of
three batches in one process, and the spread is over the rounds of turns.

Aims (issue 17): batched >= 20,000 runs/s on one core, and >= 3x the engine before the change; the
one-run-at-a-time loop and the 100,000-run memory check of issue 2 are kept (>= 50x; < 1 GB).
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
BEFORE = "3912478"  # the last commit whose engine was numpy only: the "before" of issue 17
AIM_RATE, AIM_RATIO = 20_000, 3.0

# Run in a fresh process with a source tree first on the path: the best of three batches, in runs/s.
MEASURE = """
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from sim.engine.model import simulate
from sim.scenario.load import load_scenario
spec = load_scenario(sys.argv[2]).spec
runs = int(sys.argv[3])
simulate(spec, np.arange(200), seed=0)  # imports, caches and compiled code loaded
best = 0.0
for k in range(3):
    start = time.perf_counter()
    simulate(spec, np.arange(k * runs, (k + 1) * runs), seed=1)
    best = max(best, runs / (time.perf_counter() - start))
print(best)
"""


def batched_rate(spec, runs: int, repeats: int) -> list[float]:
    """Runs per second simulating ``runs`` runs in one batch, ``repeats`` times, in this process."""
    rates = []
    for repeat in range(repeats):
        start = time.perf_counter()
        simulate(spec, np.arange(repeat * runs, (repeat + 1) * runs), seed=1)
        rates.append(runs / (time.perf_counter() - start))
    return rates


def tree_rate(tree: Path, runs: int) -> float:
    """Best batched runs/s of the engine in source tree ``tree``, in a fresh process."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(tree), str(BASELINE), str(runs)], check=True,
                          capture_output=True, text=True, cwd=tree)  # fmt: skip
    return float(done.stdout.split()[-1])


def export(revision: str, folder: Path) -> Path:
    """The source tree of ``revision``, written into ``folder`` by ``git archive``."""
    archive = subprocess.run(["git", "archive", "--format=tar", revision], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def side_by_side(revision: str, runs: int, turns: int) -> tuple[list[float], list[float]]:
    """Runs/s of this tree and of ``revision``, measured in turns."""
    now, before = [], []
    with tempfile.TemporaryDirectory() as folder:
        earlier = export(revision, Path(folder))
        for _ in range(turns):
            before.append(tree_rate(earlier, runs))
            now.append(tree_rate(ROOT, runs))
    return now, before


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
            [sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", str(runs), "-q", "--workers", "1",
             "--out", f"{folder}/r"],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )  # fmt: skip
        elapsed = time.perf_counter() - start
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, elapsed


def spread(values: list[float]) -> str:
    """Median and range of ``values`` (runs/s)."""
    return f"{statistics.median(values):8,.0f} runs/s median ({min(values):,.0f} to {max(values):,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke check")
    parser.add_argument("--against", default=BEFORE, help=f"the commit to compare with (default {BEFORE})")
    args = parser.parse_args()
    batch, turns, loop, memory_runs = (2_000, 2, 50, 10_000) if args.quick else (10_000, 5, 300, 100_000)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}")  # fmt: skip
    now, before = side_by_side(args.against, batch, turns)
    ratios = [a / b for a, b in zip(now, before, strict=True)]
    print(f"batched (R = {batch:,}), one core, {turns} turns of each engine:")
    print(f"  this engine:             {spread(now)}   aim >= {AIM_RATE:,}")
    print(f"  engine at {args.against}:      {spread(before)}")
    print(f"  this / earlier, by turn: {statistics.median(ratios):8.2f}x median ({min(ratios):.2f} to "
          f"{max(ratios):.2f})   aim >= {AIM_RATIO:.0f}x")  # fmt: skip

    spec = load_scenario(BASELINE).spec
    simulate(spec, np.arange(100), seed=0)
    single = one_at_a_time_rate(spec, loop)
    best = max(batched_rate(spec, batch, 2))
    print(f"one at a time (R = 1, {loop} runs): {single:8,.0f} runs/s; batched / one at a time: "
          f"{best / single:,.0f}x   aim >= 50x")  # fmt: skip
    peak, elapsed = peak_memory_of_cli(memory_runs)
    print(f"`basing run --runs {memory_runs:,} --workers 1`: {peak:,.0f} MB peak resident memory, {elapsed:.1f} s "
          "wall   aim < 1,024 MB")  # fmt: skip


if __name__ == "__main__":
    main()
