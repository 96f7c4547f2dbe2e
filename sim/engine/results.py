"""The columns of runs.parquet a batch of runs ends with (before the indicators): how each run ended,
what is in force at its end, and what that is worth to each actor.

* ``status``: agreement (in force), signed (awaiting ratification when the window closed), rejected (by
  a ratifying body, talks over), walkout, breakdown (to the outside options), frozen (talks collapsed,
  the status quo kept for good), no_deal (talks still open at the window's end); influence-only runs:
  converged or horizon;
* ``in_force``: agreement, status_quo, outside_options, or none (nothing agreed and no status quo);
* ``term_<issue>``: the package agreed or signed (a rejected one included); ``force_<issue>``: the
  terms in force (agreed, or the status quo's positions at the end); ``utility_<actor>``: each actor's
  utility of what is in force (its outside option after a walkout or breakdown, or where nothing is);
* ``rejections``: packages a ratifying body rejected.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from sim.engine.bargaining import (
    STATUS_AGREEMENT,
    STATUS_FROZEN,
    STATUS_NAMES,
    STATUS_NO_DEAL,
    STATUS_REJECTED,
    STATUS_SIGNED,
    utility,
)
from sim.engine.batch import Batch
from sim.influence import InfluenceStage
from sim.influence.static import weighted_mean, weighted_median
from sim.numerics import normalised
from sim.scenario.columns import FORCE, FORECAST, TERM, UTILITY, WIN


@runtime_checkable
class Finished(Batch, Protocol):
    """What the results columns read besides the round state: the influence stage (for KTAB's winning
    probabilities) and whether the scenario has parties at all."""

    influence: InfluenceStage
    influence_only: bool


IN_FORCE = ("agreement", "status_quo", "outside_options", "none")
QUO_HOLDS = (STATUS_NO_DEAL, STATUS_SIGNED, STATUS_REJECTED, STATUS_FROZEN)  # statuses that leave it in force


def result_columns(model: Finished, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Result columns of the batch rows ``rows``; utilities use each actor's final own values."""
    state, layout = model.state.take(rows), model.layout
    columns: dict[str, np.ndarray] = {
        "run": model.run_ids[rows],
        "status": np.array(STATUS_NAMES, dtype=object)[state.status],
        "walkout_actor": np.where(
            state.walkout_actor >= 0, np.array(layout.actors, dtype=object)[state.walkout_actor], None
        ),
        "round": state.end_round.astype(np.int32),
    }
    own = state.own
    if model.influence_only:
        for i, issue in enumerate(layout.issues):
            columns[TERM + issue] = state.terms[:, i]
        columns.update(forecast_columns(model, own))
        return columns
    agreed = state.status == STATUS_AGREEMENT
    quo = np.isin(state.status, QUO_HOLDS) & (model.spec.status_quo is not None)
    nothing = np.isin(state.status, QUO_HOLDS) & (model.spec.status_quo is None)
    force = np.where(agreed, 0, np.where(quo, 1, np.where(nothing, 3, 2)))
    columns["in_force"] = np.array(IN_FORCE, dtype=object)[force]
    columns["rejections"] = state.rejections.astype(np.int32)
    in_force = np.where(agreed[:, None], state.terms, np.where(quo[:, None], own.status_quo, np.nan))
    for i, issue in enumerate(layout.issues):
        columns[TERM + issue] = state.terms[:, i]
    for i, issue in enumerate(layout.issues):
        columns[FORCE + issue] = in_force[:, i]
    weight = normalised(own.salience)
    held = np.where(agreed[:, None], state.terms, own.status_quo)
    for a, actor in enumerate(layout.actors):
        worth = utility(held, own.ideal[:, a], weight[:, a], own.risk[:, a], layout.span)
        columns[UTILITY + actor] = np.where(agreed | quo, worth, own.outside[:, a])
    return columns


def forecast_columns(model: Finished, own) -> dict[str, np.ndarray]:
    """Influence-only results: each actor's final position, the c.s weighted mean and median of the
    positions per issue (the forecast), and KTAB's winning probability per actor for smp."""
    layout, columns = model.layout, {}
    weight = own.capability[:, :, None] * own.salience
    for i, issue in enumerate(layout.issues):
        columns[f"{FORECAST}mean_{issue}"] = weighted_mean(own.ideal[:, :, i], weight[:, :, i])
        columns[f"{FORECAST}median_{issue}"] = weighted_median(own.ideal[:, :, i], weight[:, :, i])
    for a, actor in enumerate(layout.actors):
        for i, issue in enumerate(layout.issues):
            columns[f"position.{actor}.{issue}"] = own.ideal[:, a, i]  # dots: names cannot hold one
    if hasattr(model.influence, "win_probabilities"):
        win = model.influence.win_probabilities(own)
        for a, actor in enumerate(layout.actors):
            columns[WIN + actor] = win[:, a]
    return columns
