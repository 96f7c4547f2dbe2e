"""Actors as Mesa agents. Each verb acts on every run of the batch at once.

A party reconsiders its outside option, proposes where it is recognised and responds to the others'
offers, all by its strategy (``sim.engine.strategies``: one class per strategy); a stakeholder lobbies.
An agent only picks its rows of the model's arrays: the runs in which it acts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from sim.engine.model import NegotiationModel


class ActorAgent(mesa.Agent):
    """One actor of the scenario; ``index`` is its column in the model's (R, A, ...) arrays."""

    model: NegotiationModel

    def __init__(self, model: NegotiationModel, index: int, name: str):
        super().__init__(model)
        self.index, self.name = index, name


class StakeholderAgent(ActorAgent):
    """An actor that does not sign but presses the parties through the influence stage."""

    def lobby(self) -> None:
        """Add this actor's pressure on the parties' positions in every run."""
        self.model.influence.lobby(self.index)


class PartyAgent(ActorAgent):
    """An actor whose signature any deal needs; ``strategy`` says how it bargains."""

    def __init__(self, model: NegotiationModel, index: int, name: str, strategy):
        super().__init__(model, index, name)
        self.strategy = strategy

    def reconsider(self) -> None:
        """Weigh walking out against going on, in every run still talking."""
        self.strategy.reconsider(np.flatnonzero(self.model.state.active))

    def propose(self) -> None:
        """Make an offer where this party is recognised."""
        m = self.model
        runs = np.flatnonzero(m.state.active & (m.table.proposer == self.index))
        if runs.size:
            self.strategy.propose(runs)

    def respond(self) -> None:
        """Accept or reject the others' offers; the proposer accepts its own (if its body would)."""
        m = self.model
        runs = np.flatnonzero(m.state.active & (m.table.proposer != self.index))
        own = np.flatnonzero(m.state.active & (m.table.proposer == self.index))
        m.table.accepts[:, self.index] = False
        m.table.accepts[own, self.index] = m.ratifiers.believed_ok(
            own, [self.index], m.table.offer[own], by_party=True
        )[:, 0]
        self.strategy.respond(runs)
