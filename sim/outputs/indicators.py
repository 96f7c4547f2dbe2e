"""Outcome indicators declared in the scenario, evaluated on the runs table (never as code)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario.schema import Outcome


def indicator(outcome: Outcome, runs: pd.DataFrame) -> np.ndarray:
    """True for each run (row of ``runs``) where every condition of ``outcome`` holds."""
    holds = np.ones(len(runs), dtype=bool)
    if outcome.status is not None:
        holds &= runs["status"].isin(outcome.status).to_numpy()
    for issue, bounds in outcome.terms.items():
        term = runs[f"term_{issue}"].to_numpy()
        holds &= ~np.isnan(term)
        if bounds.min is not None:
            holds &= term >= bounds.min
        if bounds.max is not None:
            holds &= term <= bounds.max
    if outcome.walkout_by is not None:
        holds &= runs["walkout_actor"].isin(outcome.walkout_by).to_numpy()
    if outcome.within_rounds is not None:
        holds &= runs["round"].to_numpy() <= outcome.within_rounds
    return holds


def add_indicators(outcomes: dict[str, Outcome], runs: pd.DataFrame) -> pd.DataFrame:
    """The runs table with one boolean column per declared outcome, named after it."""
    return runs.assign(**{name: indicator(outcome, runs) for name, outcome in outcomes.items()})
