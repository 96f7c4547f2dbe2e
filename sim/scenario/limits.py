"""Documented limits: inputs beyond them are refused with a clear message, before they can exhaust
memory or disk. The README's "Limits and guarantees" lists the same numbers (a test keeps them in step).
"""

from __future__ import annotations

MAX_FILE_BYTES = 5 * 2**20  # a scenario, sweep, seed, reference or imported file (the baseline is ~25 KB)
MAX_YAML_NODES = 200_000  # values in one file after anchors and aliases are expanded
MAX_YAML_DEPTH = 200  # levels of nesting in one YAML file
MAX_EXTENDS = 32  # files in one extends chain
MAX_ACTORS = 100
MAX_ISSUES = 50
MAX_EVENTS = 200
MAX_OUTCOMES = 200
MAX_HORIZON = 10_000  # rounds (also the most rounds an event's round or an effect's duration may name)
MAX_MAGNITUDE = 1e15  # every number in a scenario lies within +-MAX_MAGNITUDE (floats hold ~15.9 digits)
MAX_WEIGHT = 1e12  # capabilities and saliences, also after events change them
MIN_RANGE_WIDTH = 1e-9  # an issue's range is at least this times max(1, |low|, |high|) wide
MIN_QUOTE_WORDS = 3  # a `source:` quote shorter than this pins down no passage
MIN_CITE_CHARACTERS = 8  # a `cite:` shorter than this names no source
MAX_DEADLINE = 1_000_000  # rounds a party's deadline may lie ahead (beyond the window: it concedes slowly)
MAX_TACTIC_MEMORY = 50  # offers an imitative tactic looks back over
MAX_ROUND_DAYS = 36_525  # days in one round (a century)
BETA_SHAPE = (0.01, 100.0)  # shape parameters a and b of a beta distribution
MAX_SEED = 2**63 - 1  # seeds are 0 to this
MAX_RUNS = 100_000_000  # runs of one `basing run`, or per point of a sweep
MAX_COMPARE_RUNS = 1_000_000  # runs of each scenario file `basing compare` runs on the spot (held in memory)
MAX_SWEEP_RUNS = 1_000_000_000  # points x runs of one sweep
MAX_SWEEP_POINTS = 20_000  # points of one sweep design (each holds a validated scenario in memory)
MAX_TRACE_ROWS = 200_000_000  # traced runs x horizon x actors x issues
MAX_JSON_BYTES = 256 * 2**20  # a results folder's manifest (it holds the resolved scenario) or summary
MAX_JSON_DEPTH = 64  # levels of nesting in a manifest, a summary or a chunk record
WORKERS_PER_CORE = 2  # --workers and --dask-local: at most this many processes per core
CHUNK_CELLS = 5_000_000  # runs x actors x issues (x actors, for pairwise influence) held in memory at once


def cells_per_run(actors: int, issues: int, pairwise: bool) -> int:
    """How many numbers per run the engine's largest arrays hold: actors x issues, times actors again
    when the influence model compares every pair of actors (EUM, SMP)."""
    return actors * issues * (actors if pairwise else 1)


def max_chunk(actors: int, issues: int, pairwise: bool) -> int:
    """The most runs one chunk may hold for a scenario of this size (at least 1): about 0.5 GB of
    working arrays per worker."""
    return max(1, CHUNK_CELLS // cells_per_run(actors, issues, pairwise))
