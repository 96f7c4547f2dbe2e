"""basing: international basing negotiations as an agent-based model (Mesa, batched numpy).

The public API (see ``sim.api``): ``load``, ``run``, ``resume``, ``sweep``, ``open_results``, ``compare``,
``replay``, ``verify``, ``backtest``, ``Results``, ``SweepResults`` and the rest of ``sim.api.__all__``;
the command line ``basing`` is a client of the same functions.
They are imported on first use, so that a worker process, which imports only the engine, does not load
the API's experiments, figures and pages with it.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.2.0"

API = (
    "BACKTEST_SCORES",
    "Comparison",
    "DEFAULT_RUNS",
    "DEFAULT_SWEEP_RUNS",
    "Progress",
    "Results",
    "RunInterrupted",
    "SweepResults",
    "backtest",
    "check_workers",
    "compare",
    "comparison",
    "discover",
    "explore",
    "explorer",
    "import_table",
    "is_sweep_file",
    "load",
    "open_results",
    "parse_trace_runs",
    "replay",
    "reproduce",
    "resume",
    "resume_sweep",
    "run",
    "scenario_schema",
    "shares",
    "sweep",
    "verify",
)  # fmt: skip  (sim.api.__all__; a test keeps them equal)
__all__ = ["__version__", *API]


def __getattr__(name: str) -> Any:
    if name in API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *API])
