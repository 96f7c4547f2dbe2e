"""What the model's collaborators read from it: the batch's round state, as protocols.

The strategies, the equilibrium, the ratifying bodies, the trace and the results columns are handed the
model itself; each declares here (or, for what only it reads, in its own module as an extension of
``Batch``) the attributes it uses, so that none of them imports the model and the model imports them
all in one direction. A test checks that ``NegotiationModel`` satisfies every one of these protocols.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sim.arrays import ActorArrays
from sim.engine.bargaining import Values
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


def scratch(axes: str, dtype: type, fill: object) -> dict[str, Any]:
    """What a field of ``RoundTable`` is: its axes after the run axis ("", "issues" or "actors"), its
    dtype and the value it starts at."""
    return {"axes": axes, "dtype": dtype, "fill": fill}


@dataclass
class RoundTable:
    """The round's proposal and answers, per run: the per-run scratch arrays of a round, declared once
    (allocated from these fields, and cut down with the rest of the batch when finished runs retire).
    Utilities are on the 0-1 scale; actor axes hold every actor (stakeholders stay at the fill)."""

    # (R,) actor index of this round's proposer
    proposer: np.ndarray = field(metadata=scratch("", np.int64, 0))
    # (R, I) the package on the table
    offer: np.ndarray = field(metadata=scratch("issues", np.float64, np.nan))
    # (R, A) who accepts it, and whom the proposer expected to accept it
    accepts: np.ndarray = field(metadata=scratch("actors", np.bool_, False))
    expected: np.ndarray = field(metadata=scratch("actors", np.bool_, False))
    # (R, A) the outside option less the value of going on (> 0: leave)
    walk_gap: np.ndarray = field(metadata=scratch("actors", np.float64, 0.0))
    # (R, A) a responder's utility of the offer, and the least it would accept
    worth: np.ndarray = field(metadata=scratch("actors", np.float64, np.nan))
    needed: np.ndarray = field(metadata=scratch("actors", np.float64, np.nan))
    # (R, A) a proposer's demand for itself this round
    demand_now: np.ndarray = field(metadata=scratch("actors", np.float64, np.nan))

    @classmethod
    def empty(cls, runs: int, issues: int, actors: int) -> RoundTable:
        """Every array for ``runs`` runs, at its fill."""
        sizes = {"": (), "issues": (issues,), "actors": (actors,)}
        return cls(**{f.name: np.full((runs, *sizes[f.metadata["axes"]]), f.metadata["fill"], f.metadata["dtype"])
                      for f in fields(cls)})  # fmt: skip

    def take(self, rows: np.ndarray) -> RoundTable:
        """The arrays of the batch rows ``rows`` only."""
        return RoundTable(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


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

    @property
    def own_values(self) -> Values:
        """This round's ideals, normalised saliences and risks as each actor knows them."""
        ...

    @property
    def public_values(self) -> Values:
        """The same as the others believe them."""
        ...
