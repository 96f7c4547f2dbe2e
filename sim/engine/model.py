"""The negotiation as a Mesa model: one instance advances a batch of R independent runs.

One ``step()`` is one round:
    events fire -> stakeholders lobby and positions move -> parties reconsider their outside
    options (walkouts) -> a party is recognised and proposes -> every party responds ->
    signatures (and ratification votes), learning from rejections, exogenous breakdown, and the end of
    the observation window are settled.

While no agreement is in force the status quo holds (if the scenario declares one): every party gets
its utility of it each round, which is what makes going on worth something. A run still talking at the
end of the window is ``no_deal``: talks go on, the status quo in force.
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
    STATUS_FROZEN,
    STATUS_HORIZON,
    STATUS_NO_DEAL,
    STATUS_REJECTED,
    STATUS_SIGNED,
    STATUS_WALKOUT,
    Values,
    utility_in,
)
from sim.engine.batch import RoundTable, RoundValues
from sim.engine.equilibrium import EquilibriumPlay
from sim.engine.events import EventSchedule
from sim.engine.protocol import draw_proposer, recognition
from sim.engine.random import RunStreams
from sim.engine.ratification import Ratifiers
from sim.engine.results import result_columns
from sim.engine.state import BatchState, Layout, draw
from sim.engine.strategies import STRATEGIES
from sim.engine.tactics import OfferHistory
from sim.engine.trace import TraceRecorder
from sim.influence import make_influence
from sim.numerics import normalised
from sim.scenario.schema import Scenario

# Finished runs are dropped from the arrays once fewer than this share of the batch is live: dropping
# costs a copy of every per-run array and their results' columns, computing on finished rows costs their
# share of every round. Results do not depend on it. Measured on the baseline with the compiled kernels,
# medians of 4 interleaved timings: 0.5 was fastest or level at 1,000, 5,000 and 10,000 runs a batch
# (8-10% faster than 0.85 at 1,000, 3-7% at 5,000 and 10,000), among 0.85, 0.7, 0.6, 0.5 and 0.4.
RETIRE_BELOW = 0.5


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
        self.frozen_after_breakdown = spec.status_quo is not None and spec.status_quo.after_breakdown == "status_quo"
        n = len(self.run_ids)
        self.table = RoundTable.empty(n, len(self.layout.issues), len(self.layout.actors))
        self.round_index = 0
        self.slot_of = {int(actor): slot for slot, actor in enumerate(self.layout.parties)}
        self.offers = OfferHistory(n, len(self.layout.parties), _memory(spec))
        self.ratifiers = Ratifiers(self)
        self._refresh_values()
        self.strategy_of = {}
        for index, name in enumerate(self.layout.actors):
            if index in self.slot_of:
                strategy = spec.actors[name].strategy
                self.strategy_of[index] = STRATEGIES[strategy.kind](self, index, strategy)
                PartyAgent(self, index, name, self.strategy_of[index])
            else:
                StakeholderAgent(self, index, name)
        self.party_agents = self.agents.select(agent_type=PartyAgent)
        self.stakeholder_agents = self.agents.select(agent_type=StakeholderAgent)
        forget_agent_counter(self)
        playing_equilibrium = any(spec.actors[p].strategy.kind == "equilibrium" for p in spec.parties())
        self.equilibrium = EquilibriumPlay(self) if playing_equilibrium else None
        self.recorder = TraceRecorder(self) if trace else None
        self.retired: list[dict[str, np.ndarray]] = []

    # --- one round -------------------------------------------------------------------------
    def step(self) -> None:
        t = self.round_index
        fired = self.events.fire(self.state, t)
        if self.recorder is not None:
            self.recorder.record_events(t, fired)
        self._lobby(fired, t)
        if self.influence_only:
            self._settle_influence(t)
        else:
            self._bargain(t)
        self.round_index += 1
        live = self.state.live
        self.running = bool(live.any())
        if self.running and live.mean() < RETIRE_BELOW:
            self._retire_finished()

    def _settle_influence(self, t: int) -> None:
        """Influence-only runs end when their model's stopping rule fires, or at the horizon."""
        self.table.proposer[:] = -1  # nobody proposes
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
        self.table.walk_gap[:] = 0.0
        self.party_agents.do("reconsider")
        self._settle_walkouts(t)
        self._recognise(t)
        self.table.offer[:] = np.nan
        self.table.expected[:] = False
        self.table.worth[:] = self.table.needed[:] = self.table.demand_now[:] = np.nan
        self.party_agents.do("propose")
        self._observe_offers()
        self.party_agents.do("respond")
        if self.recorder is not None:
            self.recorder.record(t)
        self._settle(t)

    def _retire_finished(self) -> None:
        """Store the results of finished runs and drop them from every per-run array, so that
        later rounds only compute on runs still negotiating (or awaiting a vote)."""
        live = self.state.live
        done, keep = np.flatnonzero(~live), np.flatnonzero(live)
        self.retired.append(self._columns(done))
        self.state = self.state.take(keep)
        holders = (self.events, self.streams, self.influence, self.equilibrium, self.offers, self.ratifiers,
                   *self.strategy_of.values())  # fmt: skip
        for holder in holders:
            if holder is not None:
                holder.take(keep)
        self.run_ids = self.run_ids[keep]
        self.table = self.table.take(keep)
        self._refresh_values()

    def _refresh_values(
        self, saliences: np.ndarray | None = None, worth: bool = True, moved: np.ndarray | None = None,
        ideals_only: bool = False,
    ) -> None:  # fmt: skip
        """This round's effective values (base plus temporary effects: all of them, or again only in the runs
        ``moved`` (R,) or, with ``ideals_only``, only the ideals after the influence stage), normalised
        saliences (all of them, or again only in the runs ``saliences`` (R,) says may have moved) and
        (with ``worth``) what going on is worth."""
        names = {"ideal"} if ideals_only else None
        self.own_now, self.public_now = self.events.effective(self.state, self.round_index, moved, names)
        if saliences is None:
            self.own_weight = normalised(self.own_now.salience)
            self.public_weight = normalised(self.public_now.salience)
        elif saliences.any():
            rows = np.flatnonzero(saliences)
            self.own_weight[rows] = normalised(self.own_now.salience[rows])
            self.public_weight[rows] = normalised(self.public_now.salience[rows])
        if worth:
            self._refresh_worth()

    def _refresh_worth(self) -> None:
        """The status quo's flow to each actor, the floors of their demands and the value of a breakdown,
        as each knows them and as the others believe them."""
        span, parties = self.layout.span, self.layout.parties
        flow, flow_public = np.zeros_like(self.own_now.outside), np.zeros_like(self.own_now.outside)
        if self.spec.status_quo is not None and len(parties):  # only the parties bargain over it
            rows = np.arange(len(self.run_ids))
            flow[:, parties] = utility_in(rows, parties, self.own_now.status_quo, self.own_values, span)
            flow_public[:, parties] = utility_in(rows, parties, self.public_now.status_quo, self.public_values, span)
        outside, outside_public = self.own_now.outside, self.public_now.outside
        frozen = self.frozen_after_breakdown
        self.values = RoundValues(
            flow=flow, flow_public=flow_public,
            floor=np.maximum(outside, flow), floor_public=np.maximum(outside_public, flow_public),
            after=flow if frozen else outside, after_public=flow_public if frozen else outside_public,
            breakdown=self.state.breakdown_risk,
        )  # fmt: skip

    def _lobby(self, fired: np.ndarray, t: int) -> None:
        """Stakeholders lobby and the parties' base ideals move; saliences stay as they are (they move
        only with events: ``fired`` (R, E) this round)."""
        moved = self.events.layers_moved(fired, t)
        self._refresh_values(self.events.saliences_moved(fired, t), worth=False, moved=moved)
        self.influence.begin((self.own_now, self.own_weight), (self.public_now, self.public_weight))
        self.stakeholder_agents.do("lobby")
        self.influence.apply(self.state.own, self.state.public, self.state.active)
        self._refresh_values(np.zeros(len(self.run_ids), dtype=bool), ideals_only=True)

    def _settle_walkouts(self, t: int) -> None:
        parties = self.layout.parties
        gap = self.table.walk_gap[:, parties]
        leaving = self.state.active & (gap > 0).any(axis=1)  # equilibrium players subtract a tolerance
        self.state.walkout_actor[leaving] = parties[gap[leaving].argmax(axis=1)]
        self.state.end(leaving, STATUS_WALKOUT, t + 1)

    def _recognise(self, t: int) -> None:
        protocol = self.spec.protocol.proposer
        chances = recognition(protocol, self.layout, self.own_now.capability, t)
        slots = chances.argmax(axis=1) if protocol != "capability" else draw_proposer(
            chances, self.streams.uniforms("recognition", t)[:, 0])  # fmt: skip
        self.table.proposer[:] = self.layout.parties[slots]

    def _observe_offers(self) -> None:
        """Every party sees the offer on the table: the proposer's believed worth of it joins the
        history the imitative tactics read."""
        span = self.layout.span
        for actor, slot in self.slot_of.items():
            rows = np.flatnonzero(
                self.state.active & (self.table.proposer == actor) & ~np.isnan(self.table.offer[:, 0])
            )
            worth = utility_in(rows, [actor], self.table.offer[rows], self.public_values, span)[:, 0]
            self.offers.push(rows, slot, worth)

    def _settle(self, t: int) -> None:
        state, parties = self.state, self.layout.parties
        talking = state.active.copy()
        agreed = talking & self.table.accepts[:, parties].all(axis=1)
        state.terms[agreed] = self.table.offer[agreed]
        if self.ratifiers:
            state.status[agreed] = STATUS_SIGNED
            state.vote_round[agreed] = t + self.ratifiers.delay(np.flatnonzero(agreed))
        else:
            state.end(agreed, STATUS_AGREEMENT, t + 1)
        surprised = talking[:, None] & self.table.expected & ~self.table.accepts
        rows, responders = np.nonzero(surprised)
        state.belief_shift[rows, self.table.proposer[rows], responders] += self.spec.protocol.belief_step
        broke = state.active & (self.streams.uniforms("breakdown", t)[:, 0] < state.breakdown_risk)
        state.end(broke, STATUS_FROZEN if self.frozen_after_breakdown else STATUS_BREAKDOWN, t + 1)
        if self.ratifiers:
            self._vote(t)
        if t + 1 >= self.layout.horizon:
            state.end(state.active, STATUS_NO_DEAL, t + 1)
            awaiting = state.status == STATUS_SIGNED
            state.end_round[awaiting] = t + 1  # signed, still awaiting ratification when the window closes

    def _vote(self, t: int) -> None:
        """The bodies vote on the packages whose day has come: in force, rejected for good, or back to
        the table (and the rejecting body's threshold learnt)."""
        state = self.state
        due = np.flatnonzero((state.status == STATUS_SIGNED) & (state.vote_round <= t))
        if due.size == 0:
            return
        accepted, ends = self.ratifiers.vote(due, state.terms[due])
        if self.recorder is not None:
            self.recorder.record_votes(t, due, accepted, ends)
        state.end(due[accepted], STATUS_AGREEMENT, t + 1)
        state.end(due[~accepted & ends], STATUS_REJECTED, t + 1)
        back = due[~accepted & ~ends]
        state.status[back] = STATUS_ACTIVE
        state.terms[back] = np.nan
        state.vote_round[back] = -1
        state.rejections[due[~accepted]] += 1

    # --- helpers for the strategies ---------------------------------------------------------
    @property
    def own_values(self) -> Values:
        """This round's ideals, normalised saliences and risks as each actor knows them."""
        return Values(self.own_now.ideal, self.own_weight, self.own_now.risk)

    @property
    def public_values(self) -> Values:
        """The same as the others believe them."""
        return Values(self.public_now.ideal, self.public_weight, self.public_now.risk)

    def other_parties(self, actor: int) -> np.ndarray:
        """Actor indices of the parties other than ``actor``."""
        return self.layout.parties[self.layout.parties != actor]

    # --- results ---------------------------------------------------------------------------
    def run_to_end(self) -> None:
        """Step until every run has ended (at the latest at the window's end)."""
        while self.running and self.round_index < self.layout.horizon:
            self.step()

    def results(self) -> dict[str, np.ndarray]:
        """One value per run, in run order, for every column of runs.parquet except the indicators."""
        parts = [*self.retired, self._columns(np.arange(len(self.run_ids)))]
        columns = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
        order = np.argsort(columns["run"], kind="stable")
        return {key: value[order] for key, value in columns.items()}

    def _columns(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        return result_columns(self, rows)


def _memory(spec: Scenario) -> int:
    """How many of each party's offers the imitative tactics look back over, plus the latest."""
    depth = 1
    for party in spec.parties():
        strategy = spec.actors[party].strategy
        parts = strategy.tactics if strategy.kind == "mixture" else [strategy]
        for tactic in parts:
            depth = max(depth, (tactic.steps or 0) + 1, (tactic.window or 0) + 1)
    return depth


def forget_agent_counter(model: mesa.Model) -> None:
    """Let the model be freed once its user drops it. Mesa before 3.4 counts agent ids in a class-level
    dict keyed by the model (mesa/mesa#3179), which keeps every model, and all its arrays, alive for the
    life of the process: a worker simulating 100 chunks grew by 3 MB a chunk. The model adds no agents
    after setup, so its counter is not needed again."""
    counters = getattr(mesa.Agent, "_ids", None)
    if isinstance(counters, dict):
        counters.pop(model, None)


def simulate(spec: Scenario, runs: np.ndarray, seed: int, trace: bool = False) -> NegotiationModel:
    """Build the model for ``runs`` and step it to the end."""
    model = NegotiationModel(spec, runs, seed, trace=trace)
    model.run_to_end()
    return model


__all__ = ["STATUS_ACTIVE", "NegotiationModel", "simulate"]
