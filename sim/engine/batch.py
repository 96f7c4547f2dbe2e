"""What the model's collaborators read from it: the batch's round state, as protocols.

The strategies, the equilibrium, the ratifying bodies, the trace and the results columns are handed the
model itself; each declares here (or, for what only it reads, in its own module as an extension of
``Batch``) the attributes it uses, so that none of them imports the model and the model imports them
all in one direction. A test checks that ``NegotiationModel`` satisfies every one of these protocols.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from sim.arrays import ActorArrays
from sim.engine.state import BatchState, Layout
from sim.scenario.schema import Scenario


@dataclass
class RoundValues:
    """What going on is worth this round, per run and actor (R, A), as each actor knows it and as the
    others believe it (``_public``): ``flow`` the utility of the status quo (0 without one), ``floor``
    the least a tactic ever demands (the better of the outside option and the flow), ``after`` what a
    breakdown leads to (the outside option, or the status quo frozen); ``breakdown`` (R,) its chance."""

    flow: np.ndarray
    flow_public: np.ndarray
    floor: np.ndarray
    floor_public: np.ndarray
    after: np.ndarray
    after_public: np.ndarray
    breakdown: np.ndarray


@runtime_checkable
class Batch(Protocol):
    """A batch of R runs of one scenario in the middle of a round (arrays have the run axis first).

    ``own_now``/``public_now`` are this round's effective values (base plus temporary event effects)
    as each actor knows them and as the others believe them; ``own_weight``/``public_weight`` (R, A, I)
    the saliences normalised to sum to 1 over the issues; ``values`` what going on is worth."""

    spec: Scenario
    seed: int  # the experiment seed, 0 <= seed < 2**63
    layout: Layout
    run_ids: np.ndarray  # (R,) global run indices of the batch rows
    round_index: int  # rounds played so far (0 in the first round)
    state: BatchState
    own_now: ActorArrays
    public_now: ActorArrays
    own_weight: np.ndarray
    public_weight: np.ndarray
    values: RoundValues
