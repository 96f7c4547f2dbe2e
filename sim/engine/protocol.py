"""Who proposes: the recognition rule of ``protocol.proposer``, as probabilities every strategy and the
model share (the model draws the proposer from them; the equilibrium solves over them)."""

from __future__ import annotations

import numpy as np

from sim.engine.state import Layout


def recognition(proposer: str, layout: Layout, capability: np.ndarray, round_: int) -> np.ndarray:
    """Each party's chance (R, P) of proposing in 0-based ``round_``: alternating turns from the first
    proposer, always the first proposer (fixed), or in proportion to capability (all equal where every
    party's capability is 0). ``capability`` is (R, A)."""
    parties = layout.parties
    count = len(parties)
    if proposer == "capability":
        weight = capability[:, parties]
        total = weight.sum(axis=1, keepdims=True)
        return np.where(total > 0, weight / np.where(total > 0, total, 1.0), 1.0 / count)
    turn = (layout.first_proposer + (round_ if proposer == "alternating" else 0)) % count
    chances = np.zeros((len(capability), count))
    chances[:, turn] = 1.0
    return chances


def draw_proposer(chances: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """The slot (R,) of the proposer, drawn from ``chances`` (R, P) with one uniform (R,) per run."""
    cumulative = np.cumsum(chances, axis=1)
    return np.minimum((uniform[:, None] >= cumulative).sum(axis=1), chances.shape[1] - 1)
