"""Tidy tables for the outcome figures, computed from runs tables (one row per run, as ``basing run``
writes them) and traces. Pure functions of their inputs (and of a generator, for the bootstrap).

Every table has a ``scenario`` column holding the name under which a runs table was given; shares are
in [0, 1] with 95% Wilson intervals; rounds count from 1.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.outputs.summary import wilson

Runs = Mapping[str, pd.DataFrame]  # scenario name -> runs table


def status_shares(results: Runs, statuses: tuple[str, ...], column: str = "status") -> pd.DataFrame:
    """scenario, status, count, n, share, low, high: how the runs ended (or, with ``column``
    'in_force', what holds at their end)."""
    rows = []
    for name, runs in results.items():
        counts = runs[column].astype(str).value_counts()
        for status in statuses:
            count = int(counts.get(status, 0))
            share, low, high = wilson(count, len(runs))
            rows.append((name, status, count, len(runs), share, low, high))
    return pd.DataFrame(rows, columns=["scenario", "status", "count", "n", "share", "low", "high"])


def no_deal_yet(results: Runs, horizon: int, ended: str = "agreement") -> pd.DataFrame:
    """scenario, round, share, low, high: the share of runs with no ``ended`` outcome by the end of each
    round 0..horizon (a survival curve; 1 at round 0)."""
    frames = []
    for name, runs in results.items():
        rounds = runs["round"].to_numpy()[runs["status"].astype(str).to_numpy() == ended]
        by_round = np.bincount(np.clip(rounds, 0, horizon), minlength=horizon + 1)
        still_open = len(runs) - np.cumsum(by_round)
        bands = np.array([wilson(int(k), len(runs)) for k in still_open])
        frames.append(pd.DataFrame({"scenario": name, "round": np.arange(horizon + 1), "share": bands[:, 0],
                                    "low": bands[:, 1], "high": bands[:, 2]}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def walkouts_by_round(results: Runs, parties: list[str], horizon: int) -> pd.DataFrame:
    """scenario, actor, round, share: the share of runs in which each party has walked out by each round."""
    rows = []
    for name, runs in results.items():
        walked = runs["status"].astype(str).to_numpy() == "walkout"
        who = runs["walkout_actor"].astype(object).to_numpy()
        for party in parties:
            rounds = runs["round"].to_numpy()[walked & (who == party)]
            cumulative = np.cumsum(np.bincount(np.clip(rounds, 0, horizon), minlength=horizon + 1)) / len(runs)
            rows.append(pd.DataFrame({"scenario": name, "actor": party, "round": np.arange(horizon + 1),
                                      "share": cumulative}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def indicator_forest(
    results: Runs,
    labels: Mapping[str, str],
    rng: np.random.Generator,
    resamples: int = 4000,
    paired: Mapping[str, bool] | None = None,
) -> pd.DataFrame:
    """scenario, indicator, label, share, low, high, diff, diff_low, diff_high: each indicator's
    probability with its Wilson interval, and its difference from the first scenario with a 95%
    percentile bootstrap interval (``diff`` is 0 with no interval for the first scenario itself).

    When a scenario holds the same runs as the first (same run ids, and ``paired[name]`` true, as with a
    shared seed), the runs are paired and resampled together, so the interval reflects common random
    numbers; otherwise they are resampled independently. Resampling binary outcomes is done on the
    counts (multinomial or binomial draws), which is the same bootstrap as resampling rows, at a cost
    that does not grow with the runs."""
    names = list(results)
    first = results[names[0]]
    rows = []
    for indicator, label in labels.items():
        base = first[indicator].to_numpy(dtype=bool)
        for name in names:
            values = results[name][indicator].to_numpy(dtype=bool)
            share, low, high = wilson(int(values.sum()), len(values))
            diff, diff_low, diff_high = 0.0, np.nan, np.nan
            if name != names[0]:
                diff = values.mean() - base.mean()
                pair = (paired or {}).get(name, True) and _same_runs(results[name], first)
                draws = _paired_diffs(values, base, rng, resamples) if pair else _independent_diffs(
                    values, base, rng, resamples)  # fmt: skip
                diff_low, diff_high = np.quantile(draws, [0.025, 0.975])
            rows.append((name, indicator, label, share, low, high, diff, diff_low, diff_high))
    columns = ["scenario", "indicator", "label", "share", "low", "high", "diff", "diff_low", "diff_high"]
    return pd.DataFrame(rows, columns=columns)


def _same_runs(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return len(a) == len(b) and bool((a["run"].to_numpy() == b["run"].to_numpy()).all())


def _paired_diffs(values: np.ndarray, base: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """Bootstrap of mean(values) - mean(base) over pairs: counts of (1,0) minus counts of (0,1)."""
    n = len(values)
    cells = np.array([(values & ~base).sum(), (~values & base).sum(), (values == base).sum()]) / n
    draws = rng.multinomial(n, cells, size=resamples)
    return (draws[:, 0] - draws[:, 1]) / n


def _independent_diffs(values: np.ndarray, base: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    return (rng.binomial(len(values), values.mean(), resamples) / len(values)
            - rng.binomial(len(base), base.mean(), resamples) / len(base))  # fmt: skip


def _selected(runs: pd.DataFrame, only: str | None) -> pd.DataFrame:
    return runs if only is None else runs[runs["status"].astype(str).to_numpy() == only]


def histograms(results: Runs, columns: Mapping[str, tuple[float, float]], only: str | None = None,
               bins: int = 40) -> pd.DataFrame:  # fmt: skip
    """scenario, column, left, right, share: each column's values binned in ``bins`` equal bins over its
    (low, high) range, as shares of the runs counted (those ending in ``only``, or all). Binning here keeps
    pages small whatever the number of runs."""
    frames = []
    for name, runs in results.items():
        chosen = _selected(runs, only)
        for column, (low, high) in columns.items():
            edges = np.linspace(low, high, bins + 1)
            values = chosen[column].to_numpy(dtype=float)
            counts = np.histogram(np.clip(values[np.isfinite(values)], low, high), bins=edges)[0]
            shares = counts / max(len(chosen), 1)
            frames.append(pd.DataFrame({"scenario": name, "column": column, "left": edges[:-1], "right": edges[1:],
                                        "share": shares, "n": len(chosen)}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def spreads(results: Runs, columns: Mapping[str, str], only: str | None = None) -> pd.DataFrame:
    """scenario, key, n, p5, p25, median, p75, p95, mean: quantiles of each column (``columns`` maps a
    column to the key it is shown under), over the runs ending in ``only`` or all runs."""
    rows = []
    for name, runs in results.items():
        chosen = _selected(runs, only)
        for column, key in columns.items():
            values = chosen[column].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            quantiles = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95]) if len(values) else [np.nan] * 5
            rows.append((name, key, len(values), *quantiles, values.mean() if len(values) else np.nan))
    return pd.DataFrame(rows, columns=["scenario", "key", "n", "p5", "p25", "median", "p75", "p95", "mean"])


def position_fans(traces: Runs, horizon: int) -> pd.DataFrame:
    """scenario, actor, issue, round, p10, median, p90, runs: the spread of each actor's position on each
    issue over the traced runs, round by round. A run that has ended keeps its last position, so every
    round describes all traced runs (``runs`` of them) and the fan settles where the talks ended."""
    frames = []
    for name, trace in traces.items():
        if trace is None or trace.empty:
            continue
        last = int(min(horizon, trace["round"].max()))
        wide = trace.pivot_table(index=["actor", "issue", "run"], columns="round", values="position", observed=True)
        wide = wide.reindex(columns=range(1, last + 1)).ffill(axis=1)
        grouped = wide.groupby(level=["actor", "issue"], observed=True)
        quantiles = {q: grouped.quantile(p) for q, p in (("p10", 0.1), ("median", 0.5), ("p90", 0.9))}
        stacked = pd.concat({q: frame.stack() for q, frame in quantiles.items()}, axis=1).reset_index()
        stacked = stacked.rename(columns={stacked.columns[2]: "round"})
        stacked.insert(0, "scenario", name)
        stacked["runs"] = int(trace["run"].nunique())
        frames.append(stacked)
    columns = ["scenario", "actor", "issue", "round", "p10", "median", "p90", "runs"]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    table["actor"], table["issue"] = table["actor"].astype(str), table["issue"].astype(str)
    return table[columns]
