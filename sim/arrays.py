"""The per-run values of every actor, run axis first: what events change and influence stages move.

Shared by the engine (which draws and layers them) and the influence stages (which move the ideals), so
it lives below both.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np


@dataclass
class ActorArrays:
    """Per-run values events can change. (R, A, I): ideal (issue units), salience (>= 0); (R, A):
    capability (>= 0), patience (per-round discount, 0-1), risk (-1 to 1), outside (utility of no deal,
    0-1); (R, I): the status quo's positions (issue units; the middle of each range where none is
    declared, and then unused)."""

    ideal: np.ndarray
    salience: np.ndarray
    capability: np.ndarray
    patience: np.ndarray
    risk: np.ndarray
    outside: np.ndarray
    status_quo: np.ndarray

    def copy(self, names: set[str] | None = None) -> ActorArrays:
        """A copy whose arrays ``names`` (default all) are new; the others are shared."""
        names = {f.name for f in fields(self)} if names is None else names
        return replace(self, **{name: getattr(self, name).copy() for name in names})

    def take(self, rows: np.ndarray) -> ActorArrays:
        """The same values for the batch rows ``rows`` only."""
        return replace(self, **{f.name: getattr(self, f.name)[rows] for f in fields(self)})


View = tuple[ActorArrays, np.ndarray]  # effective values and normalised saliences (R, A, I)

__all__ = ["ActorArrays", "View"]
