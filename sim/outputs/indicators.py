"""Outcome indicators declared in the scenario, evaluated on the runs table (never as code)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario.schema import Outcome, TermRange


def _within(runs: pd.DataFrame, prefix: str, bounds: dict[str, TermRange]) -> np.ndarray:
    """Runs whose ``prefix<issue>`` column holds a value within each issue's bounds (NaN never does)."""
    holds = np.ones(len(runs), dtype=bool)
    for issue, limits in bounds.items():
        term = runs[f"{prefix}{issue}"].to_numpy()
        holds &= ~np.isnan(term)
        if limits.min is not None:
            holds &= term >= limits.min
        if limits.max is not None:
            holds &= term <= limits.max
    return holds


def indicator(outcome: Outcome, runs: pd.DataFrame) -> np.ndarray:
    """True for each run (row of ``runs``) where every condition of ``outcome`` holds."""
    holds = _within(runs, "term_", outcome.terms) & _within(runs, "force_", outcome.in_force)
    if outcome.status is not None:
        holds &= runs["status"].isin(outcome.status).to_numpy()
    if outcome.force is not None:
        holds &= runs["in_force"].isin(outcome.force).to_numpy()
    if outcome.rejected is not None:
        holds &= (runs["rejections"].to_numpy() > 0) == outcome.rejected
    if outcome.walkout_by is not None:
        holds &= runs["walkout_actor"].isin(outcome.walkout_by).to_numpy()
    if outcome.within_rounds is not None:
        holds &= runs["round"].to_numpy() <= outcome.within_rounds
    return holds


def add_indicators(outcomes: dict[str, Outcome], runs: pd.DataFrame) -> pd.DataFrame:
    """The runs table with one boolean column per declared outcome, named after it."""
    if not outcomes:
        return runs
    columns = pd.DataFrame({name: indicator(outcome, runs) for name, outcome in outcomes.items()}, index=runs.index)
    return pd.concat([runs, columns], axis=1)  # at once: a column at a time is slow with hundreds
