"""basing: international basing negotiations as an agent-based model (Mesa, batched numpy).

The public API (see ``sim.api``): ``load``, ``run``, ``sweep``, ``open_results``, ``compare``, ``replay``,
``shares``, ``Results`` and ``SweepResults``; the command line ``basing`` is a client of the same functions.
They are imported on first use, so that a worker process, which imports only the engine, does not load
the API's experiments, figures and pages with it.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.2.0"

API = ("DEFAULT_RUNS", "Results", "SweepResults", "compare", "load", "open_results", "replay", "run", "shares",
       "sweep")  # fmt: skip
__all__ = ["__version__", *API]


def __getattr__(name: str) -> Any:
    if name in API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *API])
