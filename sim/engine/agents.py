"""Actors as Mesa agents. Each verb acts on every run of the batch at once.

A party reconsiders its outside option, proposes where it is recognised and responds to the
others' offers; a stakeholder lobbies. The arithmetic lives in ``sim.engine.bargaining``; an agent
only picks its rows and columns of the model's arrays: ``runs`` (R',) are the batch rows it acts in,
``others`` the actor indices of the other parties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.engine.bargaining import (
    aspiration,
    cheapest_acceptable,
    contract_curve,
    counterpart,
    counterpart_utility,
    own_cost,
    package_at,
    reservation,
    utility,
)
from sim.engine.equilibrium import EQUILIBRIUM_TOLERANCE, best_offer

if TYPE_CHECKING:
    from sim.engine.model import NegotiationModel


class ActorAgent(mesa.Agent):
    """One actor of the scenario; ``index`` is its column in the model's (R, A, ...) arrays."""

    model: NegotiationModel

    def __init__(self, model: NegotiationModel, index: int, name: str):
        super().__init__(model)
        self.index, self.name = index, name
        parties = list(model.layout.parties)
        self.slot = parties.index(index) if index in parties else -1  # position among the parties


class StakeholderAgent(ActorAgent):
    """An actor that does not sign but presses the parties through the influence stage."""

    def lobby(self) -> None:
        """Add this actor's pressure on the parties' positions in every run."""
        self.model.influence.lobby(self.index)


class PartyAgent(ActorAgent):
    """An actor whose signature any deal needs."""

    def reconsider(self) -> None:
        """Record how much better the outside option is than the best deal still believed attainable
        (the others held at their believed floors), after discounting one round; > 0 means leave."""
        m = self.model
        runs = np.flatnonzero(m.state.active)
        if m.equilibrium is not None:  # leave when the equilibrium value of this round is below the option
            value = m.equilibrium.at(m.round_index)[1][runs, self.slot]
            m.walk_gap[runs, self.index] = m.own_now.outside[runs, self.index] - value - EQUILIBRIUM_TOLERANCE
            return
        others = m.other_parties(self.index)
        floors = m.public_now.outside[np.ix_(runs, others)] + m.state.belief_shift[runs, self.index][:, others]
        curve, accepts = self._trade_off(runs, others)
        point, feasible = cheapest_acceptable(curve, lambda shares: accepts(shares, floors))
        prospect = np.where(feasible, 1.0 - own_cost(curve, point), 0.0)
        own, j = m.own_now, self.index
        risk_of_breakdown = m.state.breakdown_risk[runs]
        going_on = own.patience[runs, j] * (
            (1 - risk_of_breakdown) * prospect + risk_of_breakdown * own.outside[runs, j]
        )
        m.walk_gap[runs, j] = own.outside[runs, j] - going_on

    def propose(self) -> None:
        """Where recognised, offer the package on the trade-off path that the others are believed to
        accept, unless that would put this actor below its current aspiration."""
        m = self.model
        runs = np.flatnonzero(m.state.active & (m.proposer == self.index))
        if runs.size == 0:
            return
        if m.equilibrium is not None:  # offer each responder exactly its threshold, if that is worth it
            play = m.equilibrium
            needed = play.at(m.round_index)[0][runs]
            offer, feasible, worth = best_offer(play.party_values().take(runs), self.slot, needed, m.layout.span)
            deal = feasible & (worth[:, self.slot] >= needed[:, self.slot] - EQUILIBRIUM_TOLERANCE)
            m.offer[runs] = np.where(deal[:, None], offer, np.nan)  # no deal: an offer nobody takes
            m.expected[runs] = deal[:, None]
            return
        others = m.other_parties(self.index)
        pub, own, j, t = m.public_now, m.own_now, self.index, m.round_index
        ix = np.ix_(runs, others)
        breakdown = m.state.breakdown_risk[runs, None]
        needed = reservation(t, m.layout.horizon, pub.patience[ix], pub.beta[ix], pub.outside[ix], breakdown)
        needed = needed + m.state.belief_shift[runs, j][:, others]
        own_aspiration = aspiration(t, m.layout.horizon, own.beta[runs, j], own.outside[runs, j])
        curve, accepts = self._trade_off(runs, others)
        point = cheapest_acceptable(curve, lambda shares: accepts(shares, needed), cap=1.0 - own_aspiration)[0]
        offer = package_at(curve, point)
        m.offer[runs] = offer
        ideal, weight, risk = pub.ideal[ix], m.public_weight[ix], pub.risk[ix]
        m.expected[ix] = utility(offer[:, None, :], ideal, weight, risk, m.layout.span) >= needed

    def respond(self) -> None:
        """Accept where the offer is worth at least the outside option and the discounted value of
        going on; the proposer accepts its own offer."""
        m = self.model
        own, j, t = m.own_now, self.index, m.round_index
        runs = np.flatnonzero(m.state.active & (m.proposer != j))
        worth = utility(m.offer[runs], own.ideal[runs, j], m.own_weight[runs, j], own.risk[runs, j], m.layout.span)
        if m.equilibrium is not None:  # an offer at the threshold is accepted (up to rounding)
            needed = m.equilibrium.at(t)[0][runs, self.slot] - EQUILIBRIUM_TOLERANCE
        else:
            patience, beta, outside = own.patience[runs, j], own.beta[runs, j], own.outside[runs, j]
            needed = reservation(t, m.layout.horizon, patience, beta, outside, m.state.breakdown_risk[runs])
        m.accepts[:, j] = m.proposer == j
        m.accepts[runs, j] = worth >= needed
        m.worth[runs, j], m.needed[runs, j] = worth, needed  # kept for traces: why it accepted or not

    def _trade_off(self, runs: np.ndarray, others: np.ndarray):
        """This actor's contract curve in ``runs`` towards the other parties as it believes them
        (one counterpart: their salience-weighted ideal, summed saliences and mean risk), and a
        function telling, for conceded shares (R', I), whether every other party is believed to get
        at least ``needed`` (R', P')."""
        m, j, span = self.model, self.index, self.model.layout.span
        ix = np.ix_(runs, others)
        ideal, weight, risk = m.public_now.ideal[ix], m.public_weight[ix], m.public_now.risk[ix]
        target, others_weight = counterpart(ideal, weight)
        own = m.own_now
        curve = contract_curve(
            own.ideal[runs, j], m.own_weight[runs, j], own.risk[runs, j], target, others_weight, risk.mean(axis=1), span
        )

        def accepts(shares: np.ndarray, needed: np.ndarray) -> np.ndarray:
            if len(others) == 1:  # the counterpart is that party itself: a cheaper, equal formula
                return counterpart_utility(curve, shares) >= needed[:, 0]
            package = curve.start + shares * curve.direction
            return (utility(package[:, None, :], ideal, weight, risk, span) >= needed).all(axis=1)

        return curve, accepts
