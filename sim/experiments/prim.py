"""PRIM, the patient rule induction method (Friedman & Fisher 1999), as scenario discovery uses it
(Bryant & Lempert 2010; EMA Workbench's ``analysis.prim``, RAND's sdtoolkit).

Given a table of inputs (one row per run) and a boolean outcome of interest (the *cases*), PRIM looks
for a box (a lower and an upper limit on some inputs) in which cases are dense:

* **Peeling.** From the box that holds every run, cut off a share ``alpha`` of the runs still in the
  box, at the low or the high end of one input, choosing the cut that leaves the highest share of cases
  in the box (ties: the cut that keeps more runs, then the first input, low end first). Repeat until
  fewer than ``mass_min`` of all runs would remain. Each box on the way is one step of the *peeling
  trajectory*, with its coverage (the share of all cases that lie in it), density (the share of its
  runs that are cases), mass (its share of all runs) and the number of inputs it restricts.
* **Choosing a box.** The densest box whose coverage is at least ``min_coverage`` (0.5 unless asked
  otherwise); of equally dense ones, the one with more runs. The rule is fixed before any data is seen,
  so a box is never picked by eye.
* **Quasi-p values.** For each restricted input, the one-sided binomial probability of finding at least
  the box's cases among its runs if the density were that of the box with this input's limits dropped
  (the test of sdtoolkit and EMA Workbench): a large value says the limit may not matter.
* **More boxes (covering).** The runs in a chosen box are set aside and PRIM runs again on the rest;
  coverage stays a share of all cases of the original table.

No pasting step is done: the box is chosen from the peeling trajectory itself (EMA Workbench pastes
the last box after peeling and leaves the choice of a box to the user; a test checks that our rule,
applied to its trajectory, gives our box). Every input is numeric; limits are in the inputs' own
units. An input the box does not restrict has the limits of the runs' range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binom

ALPHA = 0.05  # share of the box's runs cut off per peel
MASS_MIN = 0.05  # the smallest box, as a share of all runs
MIN_COVERAGE = 0.5  # the chosen box keeps at least this share of the cases


@dataclass(frozen=True)
class Box:
    """One box: ``low``/``high`` (D,) its limits per input; ``inside`` (N,) which runs it holds."""

    low: np.ndarray
    high: np.ndarray
    inside: np.ndarray
    coverage: float  # share of all cases (of the original table) inside, 0-1
    density: float  # share of the runs inside that are cases, 0-1
    mass: float  # share of all runs (of the original table) inside, 0-1
    restricted: tuple[int, ...]  # the inputs whose limits are narrower than the runs' range


@dataclass(frozen=True)
class Found:
    """PRIM's result on one table: the peeling ``trajectory``, the ``chosen`` step and its quasi-p values
    (input index -> p, for the restricted inputs)."""

    trajectory: list[Box]
    chosen: int
    quasi_p: dict[int, float]

    @property
    def box(self) -> Box:
        return self.trajectory[self.chosen]


def _box(x: np.ndarray, y: np.ndarray, inside: np.ndarray, low, high, span_low, span_high, cases, runs) -> Box:
    held = int(inside.sum())
    restricted = tuple(int(j) for j in np.flatnonzero((low > span_low) | (high < span_high)))
    return Box(low.copy(), high.copy(), inside.copy(), float(y[inside].sum() / cases) if cases else 0.0,
               float(y[inside].mean()) if held else 0.0, held / runs, restricted)  # fmt: skip


def peel(x: np.ndarray, y: np.ndarray, alpha: float = ALPHA, mass_min: float = MASS_MIN,
         among: np.ndarray | None = None, total_cases: int | None = None) -> list[Box]:  # fmt: skip
    """The peeling trajectory of ``x`` (N, D) for the cases ``y`` (N,) among the runs ``among`` (N,)
    (all, unless given); coverage is a share of ``total_cases`` and mass of N."""
    n = len(x)
    inside = np.ones(n, dtype=bool) if among is None else among.copy()
    cases = int(y.sum()) if total_cases is None else total_cases
    span_low, span_high = x[inside].min(axis=0), x[inside].max(axis=0)
    low, high = span_low.astype(float).copy(), span_high.astype(float).copy()
    trajectory = [_box(x, y, inside, low, high, span_low, span_high, cases, n)]
    while True:
        step = _best_peel(x[inside], y[inside], alpha, mass_min * n)
        if step is None:
            return trajectory
        j, end, bound = step
        if end == 0:
            low[j] = bound
            inside &= x[:, j] >= bound
        else:
            high[j] = bound
            inside &= x[:, j] <= bound
        trajectory.append(_box(x, y, inside, low, high, span_low, span_high, cases, n))


def _best_peel(held_x: np.ndarray, held_y: np.ndarray, alpha: float, smallest: float) -> tuple[int, int, float] | None:
    """The best peel of a box holding the runs ``held_x`` (M, D) with cases ``held_y`` (M,): (input,
    end (0 low, 1 high), bound), or None when every peel removes nothing or leaves fewer than
    ``smallest`` runs. All 2D candidate peels are scored at once."""
    held, d = held_x.shape
    bounds = np.stack([np.quantile(held_x, alpha, axis=0), np.quantile(held_x, 1.0 - alpha, axis=0)])  # (2, D)
    keeps = np.stack([held_x >= bounds[0], held_x <= bounds[1]])  # (2, M, D): the runs each peel keeps
    counts = keeps.sum(axis=1)
    hits = (keeps & held_y[None, :, None]).sum(axis=1)
    valid = (counts != held) & (counts >= smallest) & (counts > 0)
    if not valid.any():
        return None
    density = np.where(valid, hits / np.maximum(counts, 1), -1.0)
    end, j = np.meshgrid(np.arange(2), np.arange(d), indexing="ij")
    # best: highest density, then more runs kept, then the first input, then the low end
    order = np.lexsort((end.ravel(), j.ravel(), -counts.ravel(), -density.ravel()))
    best = order[0]
    return int(j.ravel()[best]), int(end.ravel()[best]), float(bounds.ravel()[best])


def choose(trajectory: list[Box], min_coverage: float = MIN_COVERAGE) -> int:
    """The step of the documented rule: the densest box with coverage >= ``min_coverage``, the larger
    one on a tie (the first box, which covers every case, always qualifies unless there are none)."""
    eligible = [k for k, box in enumerate(trajectory) if box.coverage >= min_coverage] or [0]
    return max(eligible, key=lambda k: (trajectory[k].density, trajectory[k].mass, -k))


def quasi_p(x: np.ndarray, y: np.ndarray, box: Box, among: np.ndarray) -> dict[int, float]:
    """Per restricted input, P(at least the box's cases | its runs, the density without that limit)."""
    out = {}
    held, hits = int(box.inside.sum()), int(y[box.inside].sum())
    for j in box.restricted:
        relaxed = among.copy()
        for k in box.restricted:
            if k != j:
                relaxed &= (x[:, k] >= box.low[k]) & (x[:, k] <= box.high[k])
        density = float(y[relaxed].mean()) if relaxed.any() else 0.0
        out[j] = float(binom.sf(hits - 1, held, density)) if held else 1.0
    return out


def prim(x: np.ndarray, y: np.ndarray, boxes: int = 1, alpha: float = ALPHA, mass_min: float = MASS_MIN,
         min_coverage: float = MIN_COVERAGE) -> list[Found]:  # fmt: skip
    """Up to ``boxes`` boxes, each found on the runs the earlier ones left (covering); stops early when
    no cases are left or a box would hold no more cases than its surroundings."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=bool)
    total = int(y.sum())
    left = np.ones(len(y), dtype=bool)
    found: list[Found] = []
    for _ in range(boxes):
        if not y[left].any() or left.sum() < 2:
            break
        trajectory = peel(x, y, alpha, mass_min, among=left, total_cases=total)
        chosen = choose(trajectory, min_coverage * float(y[left].sum()) / total)
        if chosen == 0 and found:
            break  # no box denser than what is left
        found.append(Found(trajectory, chosen, quasi_p(x, y, trajectory[chosen], left)))
        left &= ~trajectory[chosen].inside
    return found
