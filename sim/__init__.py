"""basing: international basing negotiations as an agent-based model (Mesa, batched numpy).

The public API (see ``sim.api``): ``load``, ``run``, ``sweep``, ``open_results``, ``compare``, ``replay``,
``shares``, ``Results`` and ``SweepResults``; the command line ``basing`` is a client of the same functions.
"""

__version__ = "0.2.0"

from sim.api import DEFAULT_RUNS, Results, SweepResults, compare, load, open_results, replay, run, shares, sweep

__all__ = [
    "DEFAULT_RUNS", "Results", "SweepResults", "__version__", "compare", "load", "open_results", "replay", "run",
    "shares", "sweep",
]  # fmt: skip
