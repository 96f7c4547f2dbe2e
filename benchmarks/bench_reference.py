"""Speed of the reference models, batched over runs. Prints figures; asserts nothing.

    python benchmarks/bench_reference.py

Aim (issue 3): 1,000 stochastic SMP runs of KTAB's SOE-Pol-Comp in under 10 s on one core, i.e. at
least 100 times KTAB's own C++ program per run (about 0.4 s for a deterministic run and 0.6-0.8 s per
stochastic run on this kind of machine when built with optimisation; 1-10 s as shipped).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.engine.random import stream_id, uniforms  # noqa: E402
from sim.influence import eum, smp  # noqa: E402
from sim.reference.cases import DATA  # noqa: E402
from sim.scenario.imports import read_bdm, read_ktab  # noqa: E402


def timed(function, repeats: int = 3) -> float:
    """Best wall time of ``repeats`` calls, in seconds."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    table = read_ktab(DATA / "ktab" / "SOE-Pol-Comp.csv")
    runs = 1000
    x = np.repeat(table.position[None] / 100, runs, 0)
    s = np.repeat(table.salience[None] / 100, runs, 0)
    c = np.repeat(table.capability[None], runs, 0)
    draws = lambda step: uniforms(1, np.arange(runs), stream_id("smp"), step, x.shape[1])  # noqa: E731
    stochastic = smp.SmpOptions(transition="stochastic")
    one = timed(lambda: smp.run_smp(x[:1], s[:1], c[:1]))
    batch = timed(lambda: smp.run_smp(x, s, c, stochastic, draws), repeats=1)
    states = smp.run_smp(x, s, c, stochastic, draws).states
    print(f"SMP, SOE-Pol-Comp, one deterministic run (28 states): {one * 1000:8.1f} ms")
    print(
        f"SMP, SOE-Pol-Comp, {runs:,} stochastic runs:            {batch:8.2f} s "
        f"({batch / runs * 1000:.2f} ms per run; states median {np.median(states):.0f}, max {states.max()})"
    )
    print(f"   vs KTAB's 0.6-0.8 s per stochastic run:            {0.6 / (batch / runs):8.0f}x to "
          f"{0.8 / (batch / runs):.0f}x faster per run")  # fmt: skip
    ec = read_bdm(DATA / "bdm" / "ec_car_emissions.csv")
    many = 10_000
    cap, sal, pos = (np.repeat(v[None], many, 0) for v in (ec.capability, ec.salience, ec.position))
    eum_time = timed(lambda: eum.run_eum(cap, sal, pos, 10), repeats=1)
    print(f"EUM, EC car emissions, {many:,} runs of 10 rounds:      {eum_time:8.2f} s")


if __name__ == "__main__":
    main()
