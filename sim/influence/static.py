"""Static one-issue baselines: compromise (weighted mean), weighted median, Condorcet votes and the
asymmetric Nash bargaining limit. Arrays are (R, N) for R runs and N actors unless stated.

References: Achen (2006) for the compromise model; Black (1948) for the median voter.
"""

from __future__ import annotations

import numpy as np


def counted(weight: np.ndarray) -> np.ndarray:
    """The weights, except that where every weight over the last axis is zero (no actor has any
    capability or salience) every actor counts alike: a weighted mean is then the plain mean."""
    return np.where((weight > 0).any(axis=-1, keepdims=True), weight, 1.0)


def weighted_mean(position: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """sum w x / sum w over the last axis: with w = c.s, the compromise model (the plain mean where
    every weight is zero, see ``counted``)."""
    weight = counted(weight)
    return (weight * position).sum(axis=-1) / weight.sum(axis=-1)


def weighted_median(position: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The first position, in a stable sort by position, whose cumulative weight reaches half the total
    (every actor counting alike where every weight is zero, see ``counted``)."""
    weight = counted(weight)
    order = np.argsort(position, axis=-1, kind="stable")
    sorted_position = np.take_along_axis(position, order, axis=-1)
    cumulative = np.cumsum(np.take_along_axis(weight, order, axis=-1), axis=-1)
    half = cumulative[..., -1:] / 2
    index = np.argmax(cumulative >= half, axis=-1)
    return np.take_along_axis(sorted_position, index[..., None], axis=-1)[..., 0]


def condorcet_votes(position: np.ndarray, weight: np.ndarray, a: float, b: float) -> np.ndarray:
    """Summed votes for a over b: sum_k w_k (|x_k - b| - |x_k - a|); positive means a beats b."""
    return (weight * (np.abs(position - b) - np.abs(position - a))).sum(axis=-1)


def nash_bargaining(position: np.ndarray, salience: np.ndarray, capability: np.ndarray, k: float) -> np.ndarray:
    """The asymmetric Nash bargaining point y* maximising sum_i c_i log(K - s_i (y - x_i)^2), by bisection
    on its first-order condition between the extreme positions (tends to the compromise model as K grows)."""
    low, high = position.min(axis=-1), position.max(axis=-1)
    for _ in range(200):
        y = 0.5 * (low + high)
        gap = y[..., None] - position
        slope = -(capability * salience * gap / (k - salience * gap**2)).sum(axis=-1)
        low, high = np.where(slope > 0, y, low), np.where(slope > 0, high, y)
    return 0.5 * (low + high)
