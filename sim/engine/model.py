"""The negotiation as a Mesa model: one instance advances a batch of R independent runs.

One ``step()`` is one round:
    events fire -> stakeholders lobby and positions move -> parties reconsider their outside
    options (walkouts) -> a party is recognised and proposes -> every party responds ->
    agreements, learning from rejections, exogenous breakdown, and the horizon are settled.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.engine.agents import PartyAgent, StakeholderAgent
from sim.engine.bargaining import (
    STATUS_ACTIVE,
    STATUS_AGREEMENT,
    STATUS_BREAKDOWN,
    STATUS_CONVERGED,
    STATUS_HORIZON,
    STATUS_NAMES,
    STATUS_NO_DEAL,
    STATUS_WALKOUT,
    utility,
)
from sim.engine.equilibrium import EquilibriumPlay
from sim.engine.events import EventSchedule
from sim.engine.random import RunStreams
from sim.engine.state import BatchState, Layout, draw
from sim.engine.trace import TraceRecorder
from sim.influence import make_influence
from sim.influence.static import weighted_mean, weighted_median
from sim.numerics import normalised
from sim.scenario.schema import Scenario


class NegotiationModel(mesa.Model):
    """A batch of runs of one scenario.

    Args:
        spec: the validated scenario.
        runs: global run indices (R,); run k's draws depend only on (seed, k).
        seed: experiment seed, 0 <= seed < 2**63.
        trace: record positions, offers and responses every round.
    """

    def __init__(self, spec: Scenario, runs: np.ndarray, seed: int, trace: bool = False):
        super().__init__(rng=seed)
        self.spec, self.seed = spec, seed
        self.layout = Layout.of(spec)
        self.run_ids = np.asarray(runs, dtype=np.int64)
        self.streams = RunStreams(seed, self.run_ids)
        self.state = BatchState.initial(spec, self.layout, self.run_ids, seed)
        self.events = EventSchedule(spec, self.layout, self.run_ids, seed)
        rate = draw(getattr(spec.influence, "rate", 0.0), "influence.rate", seed, self.run_ids)
        targets = getattr(spec.influence, "targets", None)
        movers = self.layout.parties if targets is None else np.array([self.layout.actors.index(t) for t in targets])
        self.influence = make_influence(
            spec.influence, rate, movers, self.layout.low, self.layout.span,
            lambda step: self.streams.uniforms("smp", step, len(self.layout.actors)),
        )  # fmt: skip
        self.influence_only = len(self.layout.parties) == 0
        n, a_count = len(self.run_ids), len(self.layout.actors)
        self.proposer = np.zeros(n, dtype=np.int64)
        self.offer = np.full((n, len(self.layout.issues)), np.nan)
        self.accepts = np.zeros((n, a_count), dtype=bool)
        self.expected = np.zeros((n, a_count), dtype=bool)
        self.walk_gap = np.zeros((n, a_count))
        self.worth = np.full((n, a_count), np.nan)  # a responder's utility of this round's offer
        self.needed = np.full((n, a_count), np.nan)  # and the least it would accept
        self.round_index = 0
        for index, name in enumerate(self.layout.actors):
            agent_type = PartyAgent if index in self.layout.parties else StakeholderAgent
            agent_type(self, index, name)
        self.party_agents = self.agents.select(agent_type=PartyAgent)
        self.stakeholder_agents = self.agents.select(agent_type=StakeholderAgent)
        playing_equilibrium = any(spec.actors[p].strategy.kind == "equilibrium" for p in spec.parties())
        self.equilibrium = EquilibriumPlay(self) if playing_equilibrium else None
        self.recorder = TraceRecorder(self) if trace else None
        self.retired: list[dict[str, np.ndarray]] = []
        self._refresh_values()

    # --- one round -------------------------------------------------------------------------
    def step(self) -> None:
        t = self.round_index
        fired = self.events.fire(self.state, t)
        if self.recorder is not None:
            self.recorder.record_events(t, fired)
        self._lobby()
        if self.influence_only:
            self._settle_influence(t)
        else:
            self._bargain(t)
        self.round_index += 1
        self.running = bool(self.state.active.any())
        if self.running and self.state.active.mean() < 0.7:
            self._retire_finished()

    def _settle_influence(self, t: int) -> None:
        """Influence-only runs end when their model's stopping rule fires, or at the horizon."""
        self.proposer[:] = -1  # nobody proposes
        if self.recorder is not None:
            self.recorder.record(t)
        converged = getattr(self.influence, "converged", None)
        if converged is not None:
            self.state.end(self.state.active & converged, STATUS_CONVERGED, t + 1)
        if t + 1 >= self.layout.horizon:
            self.state.end(self.state.active, STATUS_HORIZON, t + 1)

    def _bargain(self, t: int) -> None:
        """Walkouts, a proposal, responses and the settling of the round."""
        if self.equilibrium is not None:
            self.equilibrium.refresh(t)
        self.walk_gap[:] = 0.0
        self.party_agents.do("reconsider")
        self._settle_walkouts(t)
        self._recognise(t)
        self.offer[:] = np.nan
        self.expected[:] = False
        self.worth[:] = self.needed[:] = np.nan
        self.party_agents.do("propose")
        self.party_agents.do("respond")
        if self.recorder is not None:
            self.recorder.record(t)
        self._settle(t)

    def _retire_finished(self) -> None:
        """Store the results of finished runs and drop them from every per-run array, so that
        later rounds only compute on runs still negotiating."""
        done, keep = np.flatnonzero(~self.state.active), np.flatnonzero(self.state.active)
        self.retired.append(self._columns(done))
        self.state = self.state.take(keep)
        for holder in (self.events, self.streams, self.influence, self.equilibrium):
            if holder is not None:
                holder.take(keep)
        self.run_ids = self.run_ids[keep]
        for name in ("proposer", "offer", "accepts", "expected", "walk_gap", "worth", "needed"):
            setattr(self, name, getattr(self, name)[keep])
        self._refresh_values()

    def _refresh_values(self, saliences_changed: bool = True) -> None:
        """This round's effective values (base plus temporary effects) and normalised saliences."""
        self.own_now, self.public_now = self.events.effective(self.state, self.round_index)
        if saliences_changed:
            self.own_weight = normalised(self.own_now.salience)
            self.public_weight = normalised(self.public_now.salience)

    def _lobby(self) -> None:
        """Stakeholders lobby and the parties' base ideals move; saliences stay as they are."""
        self._refresh_values()
        self.influence.begin((self.own_now, self.own_weight), (self.public_now, self.public_weight))
        self.stakeholder_agents.do("lobby")
        self.influence.apply(self.state.own, self.state.public, self.state.active)
        self._refresh_values(saliences_changed=False)

    def _settle_walkouts(self, t: int) -> None:
        parties = self.layout.parties
        gap = self.walk_gap[:, parties]
        leaving = self.state.active & (gap > 0).any(axis=1)  # equilibrium players subtract a tolerance
        self.state.walkout_actor[leaving] = parties[gap[leaving].argmax(axis=1)]
        self.state.end(leaving, STATUS_WALKOUT, t + 1)

    def _recognise(self, t: int) -> None:
        parties, protocol = self.layout.parties, self.spec.protocol
        if protocol.proposer == "alternating":
            self.proposer[:] = parties[(self.layout.first_proposer + t) % len(parties)]
        elif protocol.proposer == "fixed":
            self.proposer[:] = parties[self.layout.first_proposer]
        else:
            weight = self.own_now.capability[:, parties]
            weight = np.where(weight.sum(axis=1, keepdims=True) > 0, weight, 1.0)
            cumulative = np.cumsum(weight, axis=1) / weight.sum(axis=1, keepdims=True)
            draw_ = self.streams.uniforms("recognition", t)
            choice = np.minimum((draw_ >= cumulative).sum(axis=1), len(parties) - 1)
            self.proposer[:] = parties[choice]

    def _settle(self, t: int) -> None:
        state, parties = self.state, self.layout.parties
        agreed = state.active & self.accepts[:, parties].all(axis=1)
        state.terms[agreed] = self.offer[agreed]
        state.end(agreed, STATUS_AGREEMENT, t + 1)
        surprised = state.active[:, None] & self.expected & ~self.accepts
        rows, responders = np.nonzero(surprised)
        state.belief_shift[rows, self.proposer[rows], responders] += self.spec.protocol.belief_step
        broke = state.active & (self.streams.uniforms("breakdown", t)[:, 0] < state.breakdown_risk)
        state.end(broke, STATUS_BREAKDOWN, t + 1)
        if t + 1 >= self.layout.horizon:
            state.end(state.active, STATUS_NO_DEAL, t + 1)

    # --- helpers for the agents ------------------------------------------------------------
    def other_parties(self, actor: int) -> np.ndarray:
        """Actor indices of the parties other than ``actor``."""
        return self.layout.parties[self.layout.parties != actor]

    # --- results ---------------------------------------------------------------------------
    def run_to_end(self) -> None:
        """Step until every run has ended (at the latest at the horizon)."""
        while self.running and self.round_index < self.layout.horizon:
            self.step()

    def results(self) -> dict[str, np.ndarray]:
        """One value per run, in run order, for every column of runs.parquet except the indicators."""
        parts = [*self.retired, self._columns(np.arange(len(self.run_ids)))]
        columns = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
        order = np.argsort(columns["run"], kind="stable")
        return {key: value[order] for key, value in columns.items()}

    def _forecast_columns(self, own) -> dict[str, np.ndarray]:
        """Influence-only results: each actor's final position, the c.s weighted mean and median of the
        positions per issue (the forecast), and KTAB's winning probability per actor for smp."""
        layout, columns = self.layout, {}
        weight = own.capability[:, :, None] * own.salience
        for i, issue in enumerate(layout.issues):
            columns[f"forecast_mean_{issue}"] = weighted_mean(own.ideal[:, :, i], weight[:, :, i])
            columns[f"forecast_median_{issue}"] = weighted_median(own.ideal[:, :, i], weight[:, :, i])
        for a, actor in enumerate(layout.actors):
            for i, issue in enumerate(layout.issues):
                columns[f"position.{actor}.{issue}"] = own.ideal[:, a, i]  # dots: names cannot hold one
        if hasattr(self.influence, "win_probabilities"):
            win = self.influence.win_probabilities(own)
            for a, actor in enumerate(layout.actors):
                columns[f"win_{actor}"] = win[:, a]
        return columns

    def _columns(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Result columns of the batch rows ``rows``; utilities use each actor's final own values."""
        state, layout = self.state.take(rows), self.layout
        agreed = state.status == STATUS_AGREEMENT
        columns: dict[str, np.ndarray] = {
            "run": self.run_ids[rows],
            "status": np.array(STATUS_NAMES, dtype=object)[state.status],
            "walkout_actor": np.where(
                state.walkout_actor >= 0, np.array(layout.actors, dtype=object)[state.walkout_actor], None
            ),
            "round": state.end_round.astype(np.int32),
        }
        for i, issue in enumerate(layout.issues):
            columns[f"term_{issue}"] = state.terms[:, i]
        own = state.own
        if self.influence_only:
            columns.update(self._forecast_columns(own))
            return columns
        weight = normalised(own.salience)
        terms = np.where(agreed[:, None], state.terms, own.ideal[:, 0])
        for a, actor in enumerate(layout.actors):
            deal = utility(terms, own.ideal[:, a], weight[:, a], own.risk[:, a], layout.span)
            columns[f"utility_{actor}"] = np.where(agreed, deal, own.outside[:, a])
        return columns


def simulate(spec: Scenario, runs: np.ndarray, seed: int, trace: bool = False) -> NegotiationModel:
    """Build the model for ``runs`` and step it to the end."""
    model = NegotiationModel(spec, runs, seed, trace=trace)
    model.run_to_end()
    return model


__all__ = ["STATUS_ACTIVE", "NegotiationModel", "simulate"]
