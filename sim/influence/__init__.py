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

import numpy as np

from sim.influence.protocol import InfluenceStage, StageInputs
from sim.influence.smp import SmpOptions
from sim.influence.stages import CompromiseStage, EumStage, NoInfluence, PullInfluence, SmpStage


def _compromise(inputs: StageInputs) -> CompromiseStage:
    return CompromiseStage(inputs.rate, inputs.spec.model == "median", inputs.low, inputs.low + inputs.span)


def _eum(inputs: StageInputs) -> EumStage:
    return EumStage(inputs.low, inputs.low + inputs.span)


def _smp(inputs: StageInputs) -> SmpStage:
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


__all__ = ["STAGES", "InfluenceStage", "NoInfluence", "PullInfluence", "StageInputs", "make_influence"]
