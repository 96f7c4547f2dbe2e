"""Strategies: how a party proposes, what it accepts and when it walks out. One class per strategy;
the party's Mesa agent calls its three verbs and nothing else (see ``sim.engine.agents``).

``Concession`` serves every tactic and mixture of ``sim.engine.tactics``: it proposes on the trade-off
path towards the others as it believes them, conceding just far enough that it believes everyone
accepts and never below its own demand; it accepts what is worth at least the better of its outside
option and the discounted value of going on (the status quo's flow this round, then its own next
demand, or the breakdown value); it walks out when its outside option beats the best deal it still
believes attainable, one round on. ``Equilibrium`` plays the complete-information equilibrium of
``sim.engine.equilibrium``. A new strategy is one more class with these verbs, named in STRATEGIES.

Every utility is on the 0-1 scale; ``runs`` are the batch rows the verb acts in.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from sim.engine.bargaining import utility_in
from sim.engine.batch import Batch, RoundTable
from sim.engine.equilibrium import EQUILIBRIUM_TOLERANCE, EquilibriumPlay, best_offer
from sim.engine.offers import trade_off
from sim.engine.random import RunStreams
from sim.engine.ratification import Ratifiers
from sim.engine.state import draw
from sim.engine.tactics import OfferHistory, averaged_tft, clamp, random_tft, relative_tft, time_demand
from sim.scenario.distributions import mean_of
from sim.scenario.tactics import IMITATIVE_KINDS, Strategy, Tactic


@runtime_checkable
class Bargaining(Batch, Protocol):
    """What a strategy reads and writes besides the round state: the round's proposal and answers, the
    offers seen so far, the ratifying bodies, the equilibrium (when a party plays it), every party's
    strategy, the run streams and each party's slot."""

    table: RoundTable
    offers: OfferHistory
    ratifiers: Ratifiers
    equilibrium: EquilibriumPlay | None
    strategy_of: dict
    streams: RunStreams
    slot_of: dict[int, int]

    def other_parties(self, actor: int) -> np.ndarray: ...


def going_on(patience, flow, prospect, breakdown, after):
    """The value (0-1, in this round's terms) of rejecting now: this round's status-quo ``flow``, then
    ``prospect`` next round unless talks break down (``after``), discounted by ``patience``."""
    return (1.0 - patience) * flow + patience * ((1.0 - breakdown) * prospect + breakdown * after)


class Component:
    """One tactic of a strategy, with its own draws (``own``) and what the others believe (``public``)."""

    def __init__(self, tactic: Tactic, path: str, model: Bargaining, actor: int):
        self.tactic, self.actor, self.model = tactic, actor, model

    def take(self, rows: np.ndarray) -> None:
        """Keep only the batch rows ``rows``."""

    def demand(self, runs, t, last, floor):
        raise NotImplementedError

    def next_demand(self, runs, t, last, floor):
        raise NotImplementedError

    def believed_next(self, runs, t, observed, floor):
        raise NotImplementedError


class TimeComponent(Component):
    """Time-dependent concession towards a private deadline (beta and deadline drawn per run)."""

    def __init__(self, tactic: Tactic, path: str, model: Bargaining, actor: int):
        super().__init__(tactic, path, model, actor)
        runs, seed = model.run_ids, model.seed
        none = tactic.deadline == "none"
        self.beta = draw(tactic.beta, f"{path}.beta", seed, runs)
        self.beta_public = np.full(len(runs), mean_of(tactic.beta))
        self.deadline = np.full(len(runs), np.inf) if none else draw(tactic.deadline, f"{path}.deadline", seed, runs)
        self.deadline_public = np.full(len(runs), np.inf if none else mean_of(tactic.deadline))

    def take(self, rows: np.ndarray) -> None:
        for name in ("beta", "beta_public", "deadline", "deadline_public"):
            setattr(self, name, getattr(self, name)[rows])

    def demand(self, runs, t, last, floor):
        return time_demand(t, self.deadline[runs], self.beta[runs], floor)

    def next_demand(self, runs, t, last, floor):
        return time_demand(t + 1, self.deadline[runs], self.beta[runs], floor)

    def believed_next(self, runs, t, observed, floor):
        return time_demand(t + 1, self.deadline_public[runs], self.beta_public[runs], floor)


class ImitativeComponent(Component):
    """Relative, random absolute or averaged tit-for-tat on the others' demands."""

    def demand(self, runs, t, last, floor):
        m, tactic = self.model, self.tactic
        others = [p for p in range(len(m.layout.parties)) if p != m.slot_of[self.actor]]
        if tactic.kind == "averaged_tft":
            latest, older = m.offers.others_mean(runs, others, 0, tactic.window)
            return averaged_tft(last, latest, older, floor)
        newer, older = m.offers.others_mean(runs, others, tactic.steps - 1, tactic.steps)
        if tactic.kind == "relative_tft":
            return relative_tft(last, newer, older, floor)
        draws = m.streams.uniforms(f"tactic:{m.layout.actors[self.actor]}", t, 2)[runs]
        return random_tft(last, newer, older, tactic.noise, floor, draws)

    def next_demand(self, runs, t, last, floor):
        return clamp(last, floor)

    def believed_next(self, runs, t, observed, floor):
        return clamp(observed, floor)


class Concession:
    """A party playing a tactic or a mixture of tactics (weights summing to 1)."""

    def __init__(self, model: Bargaining, actor: int, strategy: Strategy):
        self.model, self.actor = model, actor
        path = f"actors.{model.layout.actors[actor]}.strategy"
        parts = [(t.weight, t, f"{path}.tactics[{k}]") for k, t in enumerate(strategy.tactics)] \
            if strategy.kind == "mixture" else [(1.0, strategy, path)]  # fmt: skip
        self.components = [(w, (ImitativeComponent if t.kind in IMITATIVE_KINDS else TimeComponent)(t, p, model, actor))
                           for w, t, p in parts]  # fmt: skip
        self.last = draw(strategy.start, f"{path}.start", model.seed, model.run_ids)  # own demand so far
        self.start_public = np.full(len(model.run_ids), mean_of(strategy.start))
        self.imitative = any(isinstance(c, ImitativeComponent) for _, c in self.components)

    def take(self, rows: np.ndarray) -> None:
        self.last, self.start_public = self.last[rows], self.start_public[rows]
        for _, component in self.components:
            component.take(rows)

    # --- demands -------------------------------------------------------------------------
    def demand(self, runs: np.ndarray, t: int) -> np.ndarray:
        """The utility this party asks for itself when it proposes in round ``t``."""
        floor = self.model.values.floor[runs, self.actor]
        last = self.last[runs]
        return clamp(sum(w * c.demand(runs, t, last, floor) for w, c in self.components), floor)

    def threshold(self, runs: np.ndarray, t: int) -> np.ndarray:
        """The least utility it accepts in round ``t``: its outside option, or the value of going on
        (the status quo's flow now, its own next demand later, or the breakdown value)."""
        v, j = self.model.values, self.actor
        floor, last = v.floor[runs, j], self.last[runs]
        upcoming = sum(w * c.next_demand(runs, t, last, floor) for w, c in self.components)
        own = self.model.own_now
        value = going_on(own.patience[runs, j], v.flow[runs, j], upcoming, v.breakdown[runs], v.after[runs, j])
        return np.maximum(own.outside[runs, j], value)

    def believed_threshold(self, runs: np.ndarray, t: int) -> np.ndarray:
        """What the others believe this party accepts in round ``t``: the same rule with the scenario's
        means for what they cannot see, and its latest offer's believed worth for its imitated demand."""
        m, j = self.model, self.actor
        v, pub = m.values, m.public_now
        floor = v.floor_public[runs, j]
        observed = m.offers.back(runs, m.slot_of[j], 0)
        observed = np.where(np.isnan(observed), self.start_public[runs], observed)
        upcoming = sum(w * c.believed_next(runs, t, observed, floor) for w, c in self.components)
        value = going_on(pub.patience[runs, j], v.flow_public[runs, j], upcoming, v.breakdown[runs],
                         v.after_public[runs, j])  # fmt: skip
        return np.maximum(pub.outside[runs, j], value)

    # --- verbs ---------------------------------------------------------------------------
    def reconsider(self, runs: np.ndarray) -> None:
        """Record how much better the outside option is than going on towards the best deal still believed
        attainable (the others held at their believed floors); > 0 means leave. Where the status quo is
        worth at least the outside option, going on is too (it holds for good at worst): no search."""
        m, j = self.model, self.actor
        runs = runs[m.own_now.outside[runs, j] > m.values.flow[runs, j]]
        if runs.size == 0:
            return
        others = m.other_parties(j)
        floors = m.values.floor_public[np.ix_(runs, others)] + m.state.belief_shift[runs, j][:, others]
        best = self._trade_off(runs, others, floors)
        v, own = m.values, m.own_now
        # staying in the status quo for good is always open: a deal worth less is no prospect
        prospect = np.maximum(np.where(best.feasible, 1.0 - best.cost, 0.0), v.flow[runs, j])
        value = going_on(own.patience[runs, j], v.flow[runs, j], prospect, v.breakdown[runs], v.after[runs, j])
        m.table.walk_gap[runs, j] = own.outside[runs, j] - value

    def propose(self, runs: np.ndarray) -> None:
        """Offer the package on the trade-off path that the others are believed to accept, unless that
        would put this party below its demand."""
        m, j, t = self.model, self.actor, self.model.round_index
        others = m.other_parties(j)
        needed = np.stack([m.strategy_of[o].believed_threshold(runs, t) for o in others], axis=1)
        needed = needed + m.state.belief_shift[runs, j][:, others]
        demand = self.demand(runs, t)
        offer = self._trade_off(runs, others, needed, cap=1.0 - demand).package
        m.table.offer[runs] = offer
        believed = utility_in(runs, others, offer, m.public_values, m.layout.span)
        m.table.expected[np.ix_(runs, others)] = (believed >= needed) & m.ratifiers.believed_ok(runs, others, offer)
        self.last[runs] = demand
        m.table.demand_now[runs, j] = demand

    def respond(self, runs: np.ndarray) -> None:
        """Accept where the offer is worth at least the threshold and the party believes its own body
        (if it has one) would ratify it."""
        m, j, t = self.model, self.actor, self.model.round_index
        worth = utility_in(runs, [j], m.table.offer[runs], m.own_values, m.layout.span)[:, 0]
        needed = self.threshold(runs, t)
        m.table.accepts[runs, j] = (worth >= needed) & m.ratifiers.believed_ok(
            runs, [j], m.table.offer[runs], by_party=True
        )[:, 0]
        m.table.worth[runs, j], m.table.needed[runs, j] = worth, needed  # kept for traces: why it accepted or not

    def _trade_off(self, runs: np.ndarray, others: np.ndarray, needed: np.ndarray, cap: np.ndarray | None = None):
        """The cheapest offer on this party's contract curve in ``runs`` towards the other parties as it
        believes them that every other party is believed to accept (getting at least ``needed`` (R', P'))
        and whose ratifying body, if it has one, is believed to ratify; or, with a ``cap``, the point at
        which this party would give up that much utility, if sooner (``sim.engine.offers``)."""
        m, j = self.model, self.actor
        bodies = None
        if m.ratifiers.any(others):
            bodies, thresholds = m.ratifiers.believed_judges(runs, others)
            needed = np.concatenate([needed, thresholds], axis=1)
        return trade_off(runs, j, others, m.own_values, m.public_values, needed, m.layout.span, bodies, cap)


class Equilibrium:
    """A party playing the complete-information equilibrium (every party plays it; ``EquilibriumPlay``
    solves for all of them)."""

    def __init__(self, model: Bargaining, actor: int, strategy: Strategy):
        self.model, self.actor, self.slot = model, actor, model.slot_of[actor]

    def take(self, rows: np.ndarray) -> None:
        """The shared solution is kept by ``EquilibriumPlay``."""

    def reconsider(self, runs: np.ndarray) -> None:
        """Leave when the equilibrium value of this round is below the outside option."""
        m = self.model
        value = m.equilibrium.at(m.round_index)[1][runs, self.slot]
        m.table.walk_gap[runs, self.actor] = m.own_now.outside[runs, self.actor] - value - EQUILIBRIUM_TOLERANCE

    def propose(self, runs: np.ndarray) -> None:
        """Offer each responder exactly its threshold, if that is worth it."""
        m, play = self.model, self.model.equilibrium
        needed = play.at(m.round_index)[0][runs]
        offer, feasible, worth = best_offer(play.party_values().take(runs), self.slot, needed, m.layout.span)
        deal = feasible & (worth[:, self.slot] >= needed[:, self.slot] - EQUILIBRIUM_TOLERANCE)
        m.table.offer[runs] = np.where(deal[:, None], offer, np.nan)  # no deal: an offer nobody takes
        m.table.expected[runs] = deal[:, None]
        m.table.demand_now[runs, self.actor] = np.where(deal, worth[:, self.slot], np.nan)

    def respond(self, runs: np.ndarray) -> None:
        """Accept an offer at the threshold (up to rounding)."""
        m, j = self.model, self.actor
        worth = utility_in(runs, [j], m.table.offer[runs], m.own_values, m.layout.span)[:, 0]
        needed = m.equilibrium.at(m.round_index)[0][runs, self.slot] - EQUILIBRIUM_TOLERANCE
        m.table.accepts[runs, j] = worth >= needed
        m.table.worth[runs, j], m.table.needed[runs, j] = worth, needed


CONCESSION_KINDS = ("boulware", "linear", "conceder", "time_dependent", "relative_tft", "random_tft", "averaged_tft",
                    "mixture")  # fmt: skip
#: Strategy kinds and the class that plays each.
STRATEGIES: dict[str, type] = {"equilibrium": Equilibrium} | dict.fromkeys(CONCESSION_KINDS, Concession)
