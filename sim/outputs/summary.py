"""Summaries of a runs table: shares with Wilson intervals, quantiles of terms and timing."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario.schema import Scenario

STATUSES = ("agreement", "signed", "rejected", "walkout", "breakdown", "frozen", "no_deal")
IN_FORCE = ("agreement", "status_quo", "outside_options", "none")


def statuses_of(spec: Scenario) -> tuple[str, ...]:
    """The statuses a scenario's runs can end in: signed and rejected only where a party has a ratifying
    body, frozen only where a breakdown freezes the status quo."""
    ratified = any(actor.ratification is not None for actor in spec.actors.values())
    frozen = spec.status_quo is not None and spec.status_quo.after_breakdown == "status_quo"
    return tuple(s for s in STATUSES if (s not in ("signed", "rejected") or ratified) and (s != "frozen" or frozen)
                 and (s != "breakdown" or not frozen))  # fmt: skip


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


class Histogram:
    """Counts of values in equal bins over [low, high]: bounded memory whatever the number of runs, and
    the same counts whatever order the values arrive in. Quantiles take each value at its bin's middle,
    so they are exact for whole numbers on whole-number bins and within half a bin otherwise."""

    def __init__(self, low: float, high: float, bins: int = 65_536):
        self.low, self.high, self.bins = float(low), float(high), bins
        self.width = (self.high - self.low) / bins
        self.counts = np.zeros(bins, dtype=np.int64)

    @classmethod
    def of_integers(cls, high: int) -> Histogram:
        """One bin per whole number 0..high."""
        return cls(-0.5, high + 0.5, high + 1)

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values)]
        index = np.clip(np.floor((values - self.low) / self.width), 0, self.bins - 1).astype(np.int64)
        self.counts += np.bincount(index, minlength=self.bins)

    def spread(self) -> dict[str, float | int]:
        """Count, median and 10th-90th percentiles, interpolated between order statistics as numpy does."""
        n = int(self.counts.sum())
        if n == 0:
            return {"n": 0, "median": math.nan, "p10": math.nan, "p90": math.nan}
        cumulative = np.cumsum(self.counts)

        def order_statistic(k: int) -> float:
            return self.low + (np.searchsorted(cumulative, k, side="right") + 0.5) * self.width

        out: dict[str, float | int] = {"n": n}
        for key, p in (("median", 0.5), ("p10", 0.1), ("p90", 0.9)):
            position = (n - 1) * p
            below, above = math.floor(position), math.ceil(position)
            low_value, high_value = order_statistic(below), order_statistic(above)
            out[key] = float(low_value + (position - below) * (high_value - low_value))
        return out


def _dates(spec: Scenario, days: dict[str, float | int]) -> dict[str, str | None]:
    """Calendar dates (ISO) of the median and 10th/90th percentile days after ``spec.start_date``."""
    return {
        key: None if math.isnan(days[key]) else (spec.start_date + timedelta(days=round(days[key]))).isoformat()
        for key in ("median", "p10", "p90")
    }


class Summary:
    """A summary built chunk by chunk in bounded memory: counts, and histograms for every spread.

    ``add`` takes a table of runs (any chunk, in any order); ``result`` gives the JSON-ready summary that
    ``basing run`` prints and writes."""

    def __init__(self, spec: Scenario):
        self.spec = spec
        self.influence_only = not spec.parties()
        self.n = 0
        self.status: dict[str, int] = {}
        self.walkouts = dict.fromkeys(spec.parties(), 0)
        self.indicators = dict.fromkeys(spec.outcomes, 0)
        horizon = spec.protocol.horizon
        self.rounds = Histogram.of_integers(horizon)
        if self.influence_only:
            self.forecast = {
                (issue, kind): Histogram(*spec.issues[issue].range)
                for issue in spec.issues
                for kind in ("mean", "median")
            }
            self.win = {actor: Histogram(0.0, 1.0) for actor in spec.actors}
            self.has_win = False
        else:
            self.terms = {issue: Histogram(*spec.issues[issue].range) for issue in spec.issues}
            self.in_force_terms = {issue: Histogram(*spec.issues[issue].range) for issue in spec.issues}
            self.utility = {actor: Histogram(0.0, 1.0) for actor in spec.actors}
            self.in_force: dict[str, int] = {}
            self.rejected = 0

    def add(self, runs: pd.DataFrame) -> Summary:
        """Fold a table of runs into the summary."""
        self.n += len(runs)
        status = runs["status"].astype(str).to_numpy()
        for name, count in zip(*np.unique(status, return_counts=True), strict=True):
            self.status[name] = self.status.get(name, 0) + int(count)
        if self.influence_only:
            self.rounds.add(runs["round"].to_numpy())
            for (issue, kind), histogram in self.forecast.items():
                histogram.add(runs[f"forecast_{kind}_{issue}"].to_numpy())
            for actor, histogram in self.win.items():
                if f"win_{actor}" in runs:
                    self.has_win = True
                    histogram.add(runs[f"win_{actor}"].to_numpy())
            return self
        agreed = status == "agreement"
        walkouts = runs["walkout_actor"].astype(object).to_numpy()
        for party in self.walkouts:
            self.walkouts[party] += int((walkouts == party).sum())
        for name in self.indicators:
            self.indicators[name] += int(runs[name].sum())
        self.rounds.add(runs["round"].to_numpy()[agreed])
        for issue, histogram in self.terms.items():
            histogram.add(runs[f"term_{issue}"].to_numpy()[agreed])
        for actor, histogram in self.utility.items():
            histogram.add(runs[f"utility_{actor}"].to_numpy())
        force = runs["in_force"].astype(str).to_numpy()
        for name, count in zip(*np.unique(force, return_counts=True), strict=True):
            self.in_force[name] = self.in_force.get(name, 0) + int(count)
        for issue, histogram in self.in_force_terms.items():
            histogram.add(runs[f"force_{issue}"].to_numpy())  # NaN (nothing in force) is left out
        self.rejected += int((runs["rejections"].to_numpy() > 0).sum())
        return self

    def result(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data."""
        spec, n = self.spec, self.n
        if self.influence_only:
            out: dict[str, Any] = {
                "runs": n,
                "kind": "influence",
                "status": {name: share(self.status.get(name, 0), n) for name in ("converged", "horizon")},
                "rounds": self.rounds.spread(),
                "forecast": {
                    issue: {
                        "unit": spec.issues[issue].unit,
                        "mean": self.forecast[issue, "mean"].spread(),
                        "median": self.forecast[issue, "median"].spread(),
                    }
                    for issue in spec.issues
                },
            }
            if self.has_win:
                out["win_probability"] = {actor: histogram.spread() for actor, histogram in self.win.items()}
            return out
        rounds = self.rounds.spread()
        days = {k: v * spec.protocol.round_days if k != "n" else v for k, v in rounds.items()}
        return {
            "runs": n,
            "kind": "negotiation",
            "status": {name: share(self.status.get(name, 0), n) for name in statuses_of(spec)},
            "walkout_by": {name: share(count, n) for name, count in self.walkouts.items()},
            "in_force": {
                name: share(self.in_force.get(name, 0), n)
                for name in IN_FORCE
                if name != ("none" if spec.status_quo is not None else "status_quo")
            },
            "ratification_rejected": share(self.rejected, n),
            "terms": {issue: {"unit": spec.issues[issue].unit, **h.spread()} for issue, h in self.terms.items()},
            "terms_in_force": {
                issue: {"unit": spec.issues[issue].unit, **h.spread()} for issue, h in self.in_force_terms.items()
            },
            "rounds_to_agreement": rounds,
            "days_to_agreement": days,
            "agreement_date": _dates(spec, days),
            "indicators": {
                name: {"label": spec.outcomes[name].label, **share(count, n)} for name, count in self.indicators.items()
            },
            "utility": {actor: histogram.spread() for actor, histogram in self.utility.items()},
        }


def summarise(spec: Scenario, runs: pd.DataFrame) -> dict[str, Any]:
    """Everything the run report shows, for a whole table of runs at once."""
    return Summary(spec).add(runs).result()
