"""The influence stages: none, the stakeholders' pull, and published group-decision models, in which each
round every actor's position moves.

The models work on the actors' own (drawn) values; everyone sees the moves, so beliefs about an actor's
ideal shift by the same amount. Positions are in issue units; SMP works on each issue's range scaled to
[0, 1]. Saliences are used as given (0-1; SMP scales an actor's saliences down if they sum over 1).
Runs that have ended do not move. ``converged`` (R,) tells which runs' model has stopped by its own rule.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.arrays import ActorArrays, View
from sim.influence import eum, smp, static
from sim.influence.pull import pull


class NoInfluence:
    """Positions move only through events."""

    def begin(self, own: View, public: View) -> None:
        pass

    def lobby(self, actor: int) -> None:
        pass

    def take(self, rows: np.ndarray) -> None:
        pass

    def apply(self, own: ActorArrays, public: ActorArrays, active: np.ndarray) -> None:
        pass


class PullInfluence:
    """Stakeholders pull parties' ideals (own and as believed) towards their weighted position."""

    def __init__(self, rate: np.ndarray, parties: np.ndarray):
        self.rate, self.parties = rate, parties

    def take(self, rows: np.ndarray) -> None:
        """Keep only the batch rows ``rows``."""
        self.rate = self.rate[rows]

    def begin(self, own: View, public: View) -> None:
        """Start a round with this round's effective values and normalised saliences."""
        self.views = (own, public)
        self.lobbies: list[int] = []

    def lobby(self, actor: int) -> None:
        """``actor`` presses the parties this round (its pressure is summed with the others' in ``apply``)."""
        self.lobbies.append(actor)

    def apply(self, own: ActorArrays, public: ActorArrays, active: np.ndarray) -> None:
        """Move the base ideals ``own`` and ``public`` of the parties in the ``active`` (R,) runs towards
        the pressure of this round's lobbies."""
        lobbies = np.array(self.lobbies, dtype=np.int64)
        for (values, weight), base in zip(self.views, (own, public), strict=True):
            pull(values.capability, weight, values.ideal, lobbies, self.parties, base.ideal, self.rate, active)


def _move(own: ActorArrays, public: ActorArrays, shift: np.ndarray, active: np.ndarray, low, high) -> None:
    """Move the base ideals of active runs by the model's ``shift`` (computed from this round's effective
    values, so a temporary effect is not written into the base), and the believed ideals alike."""
    shift = np.where(active[:, None, None], shift, 0.0)
    own.ideal[:] = np.clip(own.ideal + shift, low, high)
    public.ideal[:] = np.clip(public.ideal + shift, low, high)


class JointStage:
    """Base of the joint models: no per-stakeholder lobbying; ``apply`` moves every actor. ``low`` and
    ``high`` (I,) are the issues' ranges."""

    def __init__(self, low: np.ndarray, high: np.ndarray) -> None:
        self.converged: np.ndarray | None = None
        self.low, self.high = low, high

    def begin(self, own: View, public: View) -> None:
        self.view = own

    def lobby(self, actor: int) -> None:
        pass

    def take(self, rows: np.ndarray) -> None:
        if self.converged is not None:
            self.converged = self.converged[rows]


class CompromiseStage(JointStage):
    """Move a share ``rate`` (R,) towards the c.s weighted mean (or median) of all positions, per issue."""

    def __init__(self, rate: np.ndarray, median: bool, low: np.ndarray, high: np.ndarray):
        super().__init__(low, high)
        self.rate, self.median = rate, median

    def take(self, rows: np.ndarray) -> None:
        super().take(rows)
        self.rate = self.rate[rows]

    def apply(self, own: ActorArrays, public: ActorArrays, active: np.ndarray) -> None:
        values = self.view[0]
        weight = values.capability[:, :, None] * values.salience  # (R, A, I)
        position = np.swapaxes(values.ideal, 1, 2)  # (R, I, A)
        centre = (static.weighted_median if self.median else static.weighted_mean)(position, np.swapaxes(weight, 1, 2))
        shift = self.rate[:, None, None] * (centre[:, None, :] - values.ideal)
        _move(own, public, shift, active, self.low, self.high)
        self.converged = np.ones(len(active), dtype=bool) if (self.rate == 1).all() else None


class EumStage(JointStage):
    """One round of the expected-utility model on each issue; Delta fixed from the first positions."""

    def __init__(self, low: np.ndarray, high: np.ndarray) -> None:
        super().__init__(low, high)
        self.delta: np.ndarray | None = None  # (R, I)

    def take(self, rows: np.ndarray) -> None:
        super().take(rows)
        if self.delta is not None:
            self.delta = self.delta[rows]

    def apply(self, own: ActorArrays, public: ActorArrays, active: np.ndarray) -> None:
        values = self.view[0]
        if self.delta is None:
            spread = values.ideal.max(axis=1) - values.ideal.min(axis=1)
            self.delta = np.where(spread > 0, spread, 1.0)
        salience = np.clip(values.salience, 0.0, 1.0)
        moved = values.ideal.copy()
        for issue in range(values.ideal.shape[2]):
            moved[:, :, issue] = eum.eum_round(
                values.capability, salience[:, :, issue], values.ideal[:, :, issue], self.delta[:, issue]
            )[0]
        _move(own, public, moved - values.ideal, active, self.low, self.high)


class SmpStage(JointStage):
    """One state of KTAB's SMP over all issues per round, with KTAB's stopping rule per run."""

    def __init__(self, options: smp.SmpOptions, low: np.ndarray, span: np.ndarray,
                 draws: Callable[[int], np.ndarray] | None):  # fmt: skip
        super().__init__(low, low + span)
        self.options, self.span, self.draws = options, span, draws
        self.first_distance: np.ndarray | None = None
        self.steps = 0

    def take(self, rows: np.ndarray) -> None:
        super().take(rows)
        if self.first_distance is not None:
            self.first_distance = self.first_distance[rows]

    def unit_values(self, values: ActorArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions on [0, 1] per issue, saliences summing to at most 1, capabilities."""
        position = (values.ideal - self.low) / self.span
        total = values.salience.sum(axis=2, keepdims=True)
        salience = np.where(total > 1, values.salience / np.where(total > 0, total, 1), values.salience)
        return position, salience, values.capability

    def apply(self, own: ActorArrays, public: ActorArrays, active: np.ndarray) -> None:
        self.steps += 1
        if self.converged is None:
            self.converged = np.zeros(len(active), dtype=bool)
        moving = active & ~self.converged
        position, salience, capability = self.unit_values(self.view[0])
        live = np.flatnonzero(moving)
        new = position.copy()
        if live.size:
            draws = self.draws(self.steps)[live] if self.options.transition == "stochastic" else None
            new[live] = smp.step(position[live], salience[live], capability[live], self.options, draws)[0]
        distance = np.sqrt(((new - position) ** 2).sum(axis=2)).sum(axis=1)
        if self.first_distance is None:
            self.first_distance = distance
        ratio = distance / (self.first_distance + 1e-4)
        self.converged = self.converged | (moving & (self.steps >= 2) & (ratio < self.options.stop_ratio))
        _move(own, public, (new - position) * self.span, moving, self.low, self.high)

    def win_probabilities(self, values: ActorArrays) -> np.ndarray:
        """KTAB's winning probability of each actor's position (R, A) in the current state."""
        position, salience, capability = self.unit_values(values)
        view = smp.assess(position, salience, capability, self.options)
        return smp.win_probabilities(position, capability, view, self.options)
