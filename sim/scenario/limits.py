"""Documented limits: inputs beyond them are refused with a clear message, before they can exhaust
memory or disk. The README's "Limits and guarantees" lists the same numbers (a test keeps them in step).
"""

from __future__ import annotations

MAX_FILE_BYTES = 5 * 2**20  # a scenario or sweep file (the baseline is about 25 KB)
MAX_YAML_NODES = 200_000  # values in one file after anchors and aliases are expanded
MAX_ACTORS = 100
MAX_ISSUES = 50
MAX_EVENTS = 200
MAX_OUTCOMES = 200
MAX_HORIZON = 10_000  # rounds
MAX_RUNS = 100_000_000  # runs of one `basing run`, or per point of a sweep
MAX_SWEEP_RUNS = 1_000_000_000  # points x runs of one sweep
MAX_SWEEP_POINTS = 20_000  # points of one sweep design (each holds a validated scenario in memory)
MAX_TRACE_ROWS = 200_000_000  # traced runs x horizon x actors x issues
CHUNK_CELLS = 5_000_000  # runs x actors x issues (x actors, for pairwise influence) held in memory at once


def cells_per_run(actors: int, issues: int, pairwise: bool) -> int:
    """How many numbers per run the engine's largest arrays hold: actors x issues, times actors again
    when the influence model compares every pair of actors (EUM, SMP)."""
    return actors * issues * (actors if pairwise else 1)


def max_chunk(actors: int, issues: int, pairwise: bool) -> int:
    """The most runs one chunk may hold for a scenario of this size (at least 1): about 0.5 GB of
    working arrays per worker."""
    return max(1, CHUNK_CELLS // cells_per_run(actors, issues, pairwise))
