"""Checks of a run's options that need neither the engine nor a scenario: how many worker processes,
and which runs to trace. Light to import, so that the command line can refuse a bad option at once."""

from __future__ import annotations

import os

from sim.errors import OutputError
from sim.scenario.limits import WORKERS_PER_CORE
from sim.scenario.reader import whole_number

# The most runs simulated in one batch by default. Each worker holds its chunk's arrays besides its 270 MB
# of modules and compiled code. Measured with 2 workers: 200,000 runs peaked at 914 MB over all processes in
# chunks of 2,500 and 992 MB in chunks of 5,000; a million runs at 1,025 MB (197 s) and 1,034 MB (155 s),
# as the workers' heaps grow over the run. 5,000 keeps most of the speed of 10,000 (100,000 runs: 26.4 s in
# chunks of 2,500, 23.7 s in chunks of 10,000).
DEFAULT_CHUNK = 5_000


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_workers(workers: int | None, option: str = "--workers") -> int:
    """The worker processes to start: all cores by default; more than WORKERS_PER_CORE per core are
    refused (they would only cost memory)."""
    cores = default_workers()
    limit = WORKERS_PER_CORE * cores
    if workers is not None and workers > limit:
        raise OutputError(f"{option} {workers:,}: at most {limit} on this machine ({WORKERS_PER_CORE} per core, "
                          f"{cores} cores; see Limits in the README)")  # fmt: skip
    return workers or cores


def _run_number(text: str, part: str) -> int:
    number = whole_number(text, 12)
    if number is None:
        raise ValueError(f"'{part[:40]}': '{text[:40]}' is not a run number (a whole number, 0 or more)")
    return number


def parse_trace_runs(text: str, runs: int) -> tuple[tuple[int, int], ...]:
    """'0:100' or '0:100,250,900:' -> sorted, disjoint half-open ranges within [0, runs) (overlapping
    and touching ranges are merged, so no run is traced twice). Raises ValueError saying why."""
    if not text.strip():
        raise ValueError("no runs given; e.g. 0:100 or 0:10,500")
    ranges = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise ValueError(f"'{text}' holds an empty entry between commas; e.g. 0:100 or 0:10,500")
        if ":" in part:
            first, _, last = part.partition(":")
            a = _run_number(first, part) if first else 0
            b = _run_number(last, part) if last else runs
        else:
            a = _run_number(part, part)
            b = a + 1
        if not 0 <= a < b <= runs:
            raise ValueError(f"'{part}' is not a range of runs within 0:{runs}")
        ranges.append((a, b))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)
