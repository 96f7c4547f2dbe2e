"""What an influence stage is to the engine: the hooks it is called on each round and what it is
built from (see ``sim.influence`` for the hooks' order and the registry)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from sim.arrays import ActorArrays, View


class InfluenceStage(Protocol):
    """What the engine calls on an influence stage each round (see the module's docstring)."""

    def begin(self, own: View, public: View) -> None: ...

    def lobby(self, actor: int) -> None: ...

    def take(self, rows: np.ndarray) -> None: ...

    def apply(self, own: ActorArrays, public: ActorArrays, active: np.ndarray) -> None: ...


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
