"""Proper scores of probability forecasts against observed outcomes, and the backtest's baselines.

Lower is better for every score here. Classes are the backtest's outcome classes (``CLASSES``); a
forecast is a probability per class summing to 1.

- Brier (multi-class; Brier 1950): sum over classes of (p_k - y_k)^2, 0 (certain and right) to 2.
- Log score: -ln p(observed), with p floored at ``LOG_FLOOR`` so that a forecast that gave the observed
  class no chance scores ln(1 / LOG_FLOOR) = 6.91 rather than infinity.
- Ranked probability score (Epstein 1969) over the ordered ``LEVELS`` (how far talks got: ended without
  a deal < still open < signed < in force), 0 to 3 (the number of levels less one).
- CRPS of an observed term against the ensemble of terms in force at the window's end (Gneiting &
  Raftery 2007), divided by the issue's range so that issues of different units average: 0 to 1.
"""

from __future__ import annotations

import numpy as np
import scoringrules

# The engine's statuses as the backtest scores them; frozen (a breakdown that freezes the status quo)
# counts as a breakdown: in both, talks collapsed without a deal for reasons outside the parties' choice.
CLASSES = ("agreement", "signed", "no_deal", "rejected", "walkout", "breakdown")
CLASS_OF_STATUS = {**{c: c for c in CLASSES}, "frozen": "breakdown"}
# Ordered levels for the ranked probability score: how far the talks had got at the window's end.
LEVELS = (("rejected", "walkout", "breakdown"), ("no_deal",), ("signed",), ("agreement",))
LOG_FLOOR = 1e-3


def onehot(observed: str) -> np.ndarray:
    """The observed class as a 0/1 vector over ``CLASSES``."""
    return np.array([float(c == observed) for c in CLASSES])


def brier(forecast: np.ndarray, observed: str) -> float:
    """Multi-class Brier score, 0-2."""
    return float(scoringrules.brier_score(onehot(observed), forecast).sum())


def log_score(forecast: np.ndarray, observed: str) -> float:
    """-ln of the probability given to the observed class, floored at ``LOG_FLOOR``: 0 to 6.91."""
    return float(-np.log(max(float(forecast[CLASSES.index(observed)]), LOG_FLOOR)))


def levels(probabilities: np.ndarray) -> np.ndarray:
    """Class probabilities summed into the ordered ``LEVELS``."""
    return np.array([sum(probabilities[CLASSES.index(c)] for c in level) for level in LEVELS])


def rps(forecast: np.ndarray, observed: str) -> float:
    """Ranked probability score over ``LEVELS``, 0-3."""
    return float(scoringrules.rps_score(levels(onehot(observed)), levels(forecast), onehot=True))


def crps_scaled(ensemble: np.ndarray, observed: float, span: float) -> float:
    """CRPS of one observed value against an ensemble of forecast values, divided by ``span``: 0-1."""
    return float(scoringrules.crps_ensemble(float(observed), np.asarray(ensemble, dtype=float))) / span


def crps_uniform_scaled(low: float, high: float, observed: float) -> float:
    """CRPS of the uniform distribution on [low, high] at ``observed``, divided by the width."""
    return float(scoringrules.crps_uniform(float(observed), low, high)) / (high - low)


def uniform_forecast() -> np.ndarray:
    """Baseline: every class equally likely."""
    return np.full(len(CLASSES), 1.0 / len(CLASSES))


def base_rate_forecast(others: list[str]) -> np.ndarray:
    """Baseline: the share of each class among the other cases' observed outcomes (leave one out)."""
    counts = np.array([sum(o == c for o in others) for c in CLASSES], dtype=float)
    return counts / counts.sum() if counts.sum() else uniform_forecast()


def status_quo_forecast() -> np.ndarray:
    """Baseline: the old arrangement persists, talks still open (no_deal) for certain."""
    return onehot("no_deal")


def bootstrap_mean(values: np.ndarray, rng: np.random.Generator, draws: int = 10_000) -> tuple[float, float, float]:
    """Mean of ``values`` (one per case) and its 95% percentile bootstrap interval over cases."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (np.nan, np.nan, np.nan)
    means = values[rng.integers(0, values.size, (draws, values.size))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(values.mean()), float(low), float(high)


__all__ = [
    "CLASSES",
    "CLASS_OF_STATUS",
    "LEVELS",
    "LOG_FLOOR",
    "base_rate_forecast",
    "bootstrap_mean",
    "brier",
    "crps_scaled",
    "crps_uniform_scaled",
    "levels",
    "log_score",
    "onehot",
    "rps",
    "status_quo_forecast",
    "uniform_forecast",
]
