"""Round-by-round trace of a batch: one row per (run, round, actor, issue)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from sim.engine.batch import Batch, RoundTable
from sim.engine.events import EventSchedule


@runtime_checkable
class Traced(Batch, Protocol):
    """What the trace reads besides the round state: the events and the round's proposal and answers."""

    events: EventSchedule
    table: RoundTable


class TraceRecorder:
    """Collects, for every active run and round, each actor's position on each issue, the offer on
    the table, who proposed it and who accepted it (stakeholders do not vote: ``accepted`` is null),
    the proposer's demand for itself, and the ratification votes."""

    def __init__(self, model: Traced):
        self.model = model
        self.chunks: list[dict[str, np.ndarray]] = []
        self.fired: list[tuple[int, int, str]] = []  # (run, round, event) for every event that fired
        self.votes: list[tuple[int, int, str]] = []  # (run, round, outcome) of every ratification vote

    def record_events(self, round_: int, fired: np.ndarray) -> None:
        """Note the events (R, E) that fired this round."""
        names = self.model.events.names
        for row, event in zip(*np.nonzero(fired), strict=True):
            self.fired.append((int(self.model.run_ids[row]), round_ + 1, names[event]))

    def events(self) -> pd.DataFrame:
        """run, round, event: every event that fired in a traced run."""
        return pd.DataFrame(sorted(self.fired), columns=["run", "round", "event"])

    def record_votes(self, round_: int, rows: np.ndarray, accepted: np.ndarray, ends: np.ndarray) -> None:
        """Note the ratification votes held this round in batch rows ``rows``."""
        outcome = np.where(accepted, "ratified", np.where(ends, "rejected: talks end", "rejected: talks resume"))
        for row, text in zip(rows, outcome, strict=True):
            self.votes.append((int(self.model.run_ids[row]), round_ + 1, str(text)))

    def vote_table(self) -> pd.DataFrame:
        """run, round, vote: every ratification vote in a traced run."""
        return pd.DataFrame(sorted(self.votes), columns=["run", "round", "vote"])

    def record(self, round_: int) -> None:
        m = self.model
        runs = np.flatnonzero(m.state.active)
        a_count, i_count = len(m.layout.actors), len(m.layout.issues)
        shape = (len(runs), a_count, i_count)
        is_party = np.isin(np.arange(a_count), m.layout.parties)
        accepted = np.where(is_party[None, :], m.table.accepts[runs].astype(float), np.nan)
        self.chunks.append(
            {
                "run": np.broadcast_to(m.run_ids[runs, None, None], shape).ravel(),
                "round": np.full(np.prod(shape), round_ + 1, dtype=np.int32),
                "actor": np.broadcast_to(np.arange(a_count)[None, :, None], shape).ravel(),
                "issue": np.broadcast_to(np.arange(i_count)[None, None, :], shape).ravel(),
                "position": m.own_now.ideal[runs].ravel(),
                "offer": np.broadcast_to(m.table.offer[runs, None, :], shape).ravel(),
                "proposer": np.broadcast_to(
                    (m.table.proposer[runs, None] == np.arange(a_count))[:, :, None], shape
                ).ravel(),
                "accepted": np.broadcast_to(accepted[:, :, None], shape).ravel(),
                "utility": np.broadcast_to(m.table.worth[runs][:, :, None], shape).ravel(),
                "needed": np.broadcast_to(m.table.needed[runs][:, :, None], shape).ravel(),
                "demand": np.broadcast_to(m.table.demand_now[runs][:, :, None], shape).ravel(),
            }
        )

    def columns(self) -> dict[str, np.ndarray]:
        """The trace as columns sorted by run, round, actor, issue; actors and issues as categoricals
        (names stored once, so a trace of millions of rows stays small)."""
        m = self.model
        if not self.chunks:
            dtypes = {"run": np.int64, "round": np.int32, "actor": np.int64, "issue": np.int64}
            dtypes |= {"position": float, "offer": float, "proposer": bool, "accepted": float}
            dtypes |= {"utility": float, "needed": float, "demand": float}
            self.chunks.append({name: np.empty(0, dtype=dtype) for name, dtype in dtypes.items()})
        out = {key: np.concatenate([c[key] for c in self.chunks]) for key in self.chunks[0]}
        order = np.lexsort((out["issue"], out["actor"], out["round"], out["run"]))
        out = {key: value[order] for key, value in out.items()}
        out["actor"] = pd.Categorical.from_codes(out["actor"], categories=list(m.layout.actors))
        out["issue"] = pd.Categorical.from_codes(out["issue"], categories=list(m.layout.issues))
        voted = out["accepted"]
        out["accepted"] = pd.arrays.BooleanArray(voted == 1.0, np.isnan(voted))  # null: stakeholders do not vote
        return out
