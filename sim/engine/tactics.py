"""Concession tactics as pure array functions, after Faratin, Sierra & Jennings (1998), in utility.

A tactic gives a party's **demand**: the utility (0-1, of its own utility function) it asks for itself
when it proposes, and expects of what it accepts next. Every demand is clamped to [floor, 1], where the
floor is the better of the party's outside option and its utility of the status quo.

* Time-dependent: 1 at round 0, falling to the floor by the deadline D (1-based) as
  ``floor + (1 - floor)(1 - (t / (D - 1))^(1/beta))``, the floor after it. D = inf: no concession.
* Imitative, from the others' own demands (their utility of their own offers, as believed):
  relative tit-for-tat multiplies the last demand by the ratio of their last two demands ``steps``
  offers back; random absolute tit-for-tat subtracts their concession in utility, plus or minus a
  uniform random term up to ``noise``; averaged tit-for-tat multiplies by the ratio of their latest
  demand to theirs ``window`` offers back. Until the others have made enough offers, the demand stays.

Shapes: R runs (the run axis first); every function works on (R,) arrays.
"""

from __future__ import annotations

import numpy as np


def time_demand(round_: int, deadline: np.ndarray, beta: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Time-dependent demand at 0-based ``round_``: 1 at round 0, ``floor`` from round ``deadline - 1``
    on (deadline 1: the floor at once; an infinite deadline: 1 for ever)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.where(deadline > 1, round_ / np.maximum(deadline - 1, 1e-300), 1.0)
    progress = np.clip(progress, 0.0, 1.0)
    return floor + (1.0 - floor) * (1.0 - progress ** (1.0 / beta))


def clamp(demand: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """A demand within [floor, 1]."""
    return np.clip(demand, floor, 1.0)


def relative_tft(last: np.ndarray, newer: np.ndarray, older: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Concede in proportion: ``last`` times the others' ratio newer/older (NaN where they have not
    made enough offers: the demand stays)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(older > 0, newer / older, 1.0)
    return clamp(np.where(np.isnan(ratio), last, last * ratio), floor)


def random_tft(last: np.ndarray, newer: np.ndarray, older: np.ndarray, noise: np.ndarray, floor: np.ndarray,
               draws: np.ndarray) -> np.ndarray:  # fmt: skip
    """Concede the same utility as the others did (older - newer), plus or minus a uniform random term
    up to ``noise`` (``draws`` (R, 2): the term's size and its sign)."""
    concession = older - newer
    term = noise * draws[:, 0] * np.where(draws[:, 1] < 0.5, -1.0, 1.0)
    return clamp(np.where(np.isnan(concession), last, last - concession + term), floor)


def averaged_tft(last: np.ndarray, latest: np.ndarray, window_back: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Concede in proportion to the others' concession over a window: ``last`` times latest/window_back."""
    return relative_tft(last, latest, window_back, floor)


class OfferHistory:
    """Each party's demands as the others see them: its believed utility of each of its own offers, the
    latest ``depth`` per party and run (R, P, depth), the newest first."""

    def __init__(self, runs: int, parties: int, depth: int):
        self.values = np.full((runs, parties, depth), np.nan)

    def take(self, rows: np.ndarray) -> None:
        self.values = self.values[rows]

    def push(self, rows: np.ndarray, party: int, demands: np.ndarray) -> None:
        """Party ``party`` (its slot among the parties) offered, in ``rows``, packages it is believed to
        value at ``demands``."""
        if rows.size:
            self.values[rows, party, 1:] = self.values[rows, party, :-1]
            self.values[rows, party, 0] = demands

    def back(self, rows: np.ndarray, party: int, offers: int) -> np.ndarray:
        """Its demand ``offers`` offers before its latest (0: the latest), NaN where there is none."""
        return self.values[rows, party, offers]

    def others_mean(self, rows: np.ndarray, others: list[int], newer: int, older: int) -> tuple[np.ndarray, ...]:
        """The others' demands ``newer`` and ``older`` offers back, averaged over the others that made
        enough offers (NaN where none did)."""
        new = np.stack([self.values[rows, p, newer] for p in others], axis=1)
        old = np.stack([self.values[rows, p, older] for p in others], axis=1)
        both = ~(np.isnan(new) | np.isnan(old))
        count = both.sum(axis=1)
        with np.errstate(invalid="ignore"):
            mean_new = np.where(count > 0, np.where(both, new, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan)
            mean_old = np.where(count > 0, np.where(both, old, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan)
        return mean_new, mean_old
