"""Influence stage: how positions move each round before the bargaining.

An influence model has three hooks, called by the engine each round: ``begin`` with this round's
effective values and normalised saliences (own and as believed), ``lobby`` once per stakeholder
agent, and ``apply`` to move the base ideals of the runs still negotiating (an ended run's values
must not change, or its results would depend on which runs share its batch).
Models that compute influence jointly (as the published models in a later stage do) may ignore
``lobby`` and do all their work in ``apply``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from sim.arrays import ActorArrays, View
from sim.influence.pull import pressure, pull_towards


class InfluenceStage(Protocol):
    """What the engine calls on an influence stage each round (see the module's docstring)."""

    def begin(self, own: View, public: View) -> None: ...

    def lobby(self, actor: int) -> None: ...

    def take(self, rows: np.ndarray) -> None: ...

    def apply(self, own: ActorArrays, public: ActorArrays, active: np.ndarray) -> None: ...


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
        p, lobbies = self.parties, np.array(self.lobbies, dtype=np.int64)
        if len(lobbies) and np.array_equal(lobbies, np.arange(lobbies[0], lobbies[0] + len(lobbies))):
            lobbies = slice(lobbies[0], lobbies[0] + len(lobbies))  # a view, no copy
        for (values, weight), base in zip(self.views, (own, public), strict=True):
            total, total_at = pressure(values.capability[:, lobbies], weight[:, lobbies], values.ideal[:, lobbies])
            own_weight = values.capability[:, p, None] * weight[:, p]
            moved = pull_towards(base.ideal[:, p], own_weight, total, total_at, self.rate)
            base.ideal[:, p] = np.where(active[:, None, None], moved, base.ideal[:, p])


@dataclass(frozen=True)
class StageInputs:
    """What a stage may be built from: ``rate`` (R,) the scenario's drawn rate (pull, compromise,
    median), ``parties`` the actor indices pull moves, ``low``/``span`` (I,) the issues' scales and
    ``draws(step)`` (R, A) uniforms for stochastic SMP transitions."""

    spec: Any
    rate: np.ndarray
    parties: np.ndarray
    low: np.ndarray
    span: np.ndarray
    draws: Callable[[int], np.ndarray]


def _compromise(inputs: StageInputs):
    from sim.influence.stages import CompromiseStage

    return CompromiseStage(inputs.rate, inputs.spec.model == "median", inputs.low, inputs.low + inputs.span)


def _eum(inputs: StageInputs):
    from sim.influence.stages import EumStage

    return EumStage(inputs.low, inputs.low + inputs.span)


def _smp(inputs: StageInputs):
    from sim.influence.smp import SmpOptions
    from sim.influence.stages import SmpStage

    options = SmpOptions(**inputs.spec.model_dump(exclude={"model"}))
    return SmpStage(options, inputs.low, inputs.span, inputs.draws)


# The one place a new influence model is registered: its schema's ``model`` name -> how to build its stage.
STAGES: dict[str, Callable[[StageInputs], InfluenceStage]] = {
    "none": lambda inputs: NoInfluence(),
    "pull": lambda inputs: PullInfluence(inputs.rate, inputs.parties),
    "compromise": _compromise,
    "median": _compromise,
    "eum": _eum,
    "smp": _smp,
}


def make_influence(spec, rate: np.ndarray, parties: np.ndarray, low: np.ndarray, span: np.ndarray, draws):
    """The influence stage a scenario's ``influence`` section asks for (see ``StageInputs``); a model
    with no registered stage is an error, never a silent no-op."""
    build = STAGES.get(spec.model)
    if build is None:
        raise ValueError(f"no influence stage is registered for model {spec.model!r} (known: {', '.join(STAGES)})")
    return build(StageInputs(spec, rate, parties, low, span, draws))
