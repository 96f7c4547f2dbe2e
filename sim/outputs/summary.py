"""Summaries of a runs table: shares with Wilson intervals, quantiles of terms and timing."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario.schema import Scenario

STATUSES = ("agreement", "walkout", "breakdown", "no_deal")
Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float, float]:
    """Share and Wilson score interval (Wilson 1927), all in [0, 1]; (nan, 0, 1) when trials == 0."""
    if trials == 0:
        return math.nan, 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return p, low, high


def share(successes: int, trials: int) -> dict[str, float | int]:
    """A share with its 95% Wilson interval, as a JSON-ready mapping."""
    p, low, high = wilson(successes, trials)
    return {"count": int(successes), "n": int(trials), "share": p, "low": low, "high": high}


def spread(values: np.ndarray) -> dict[str, float | int]:
    """Count, median and 10th-90th percentiles of the finite values (NaN when there are none)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"n": 0, "median": math.nan, "p10": math.nan, "p90": math.nan}
    p10, median, p90 = np.percentile(values, [10, 50, 90])
    return {"n": int(values.size), "median": float(median), "p10": float(p10), "p90": float(p90)}


def _dates(spec: Scenario, days: dict[str, float | int]) -> dict[str, str | None]:
    """Calendar dates (ISO) of the median and 10th/90th percentile days after ``spec.start_date``."""
    return {
        key: None if math.isnan(days[key]) else (spec.start_date + timedelta(days=round(days[key]))).isoformat()
        for key in ("median", "p10", "p90")
    }


def summarise_influence(spec: Scenario, runs: pd.DataFrame) -> dict[str, Any]:
    """The report of an influence-only scenario: how runs stopped, after how many rounds, the forecast
    (c.s weighted mean and median of the final positions) per issue and, for smp, winning probabilities."""
    n = len(runs)
    status = runs["status"].to_numpy()
    out: dict[str, Any] = {
        "runs": n,
        "kind": "influence",
        "status": {name: share(int((status == name).sum()), n) for name in ("converged", "horizon")},
        "rounds": spread(runs["round"].to_numpy(dtype=float)),
        "forecast": {
            issue: {
                "unit": spec.issues[issue].unit,
                "mean": spread(runs[f"forecast_mean_{issue}"].to_numpy()),
                "median": spread(runs[f"forecast_median_{issue}"].to_numpy()),
            }
            for issue in spec.issues
        },
    }
    if f"win_{next(iter(spec.actors))}" in runs:
        out["win_probability"] = {actor: spread(runs[f"win_{actor}"].to_numpy()) for actor in spec.actors}
    return out


def summarise(spec: Scenario, runs: pd.DataFrame) -> dict[str, Any]:
    """Everything the run report shows, as plain JSON-ready data."""
    if not spec.parties():
        return summarise_influence(spec, runs)
    n = len(runs)
    status = runs["status"].to_numpy()
    agreed = status == "agreement"
    walkouts = runs["walkout_actor"].to_numpy()
    rounds = runs["round"].to_numpy(dtype=float)
    return {
        "runs": n,
        "kind": "negotiation",
        "status": {name: share(int((status == name).sum()), n) for name in STATUSES},
        "walkout_by": {name: share(int((walkouts == name).sum()), n) for name in spec.parties()},
        "terms": {
            issue: {"unit": spec.issues[issue].unit, **spread(runs[f"term_{issue}"].to_numpy()[agreed])}
            for issue in spec.issues
        },
        "rounds_to_agreement": spread(rounds[agreed]),
        "days_to_agreement": spread(rounds[agreed] * spec.protocol.round_days),
        "agreement_date": _dates(spec, spread(rounds[agreed] * spec.protocol.round_days)),
        "indicators": {
            name: {"label": outcome.label, **share(int(runs[name].sum()), n)} for name, outcome in spec.outcomes.items()
        },
        "utility": {actor: spread(runs[f"utility_{actor}"].to_numpy()) for actor in spec.actors},
    }
