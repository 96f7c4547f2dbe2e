"""Votes, coalitions, victory laws and probabilistic condorcet elections (PCE), as in KTAB's kmodel.

All functions are batched over runs: utilities are (R, A, O) for R runs, A voters and O options, and an
optional option mask (R, O) restricts an election to some options (masked options get probability 0).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

VotingRule = Literal["prop", "binary", "prop_bin", "prop_cbc", "cubic", "asym_prosp"]
VictoryLaw = Literal["linear", "square", "quartic", "octic", "binary"]
PceModel = Literal["conditional", "markov_uniform", "markov_incentive"]

_POWER = {"linear": 1, "square": 2, "quartic": 4, "octic": 8}


def vote(weight: np.ndarray, gain: np.ndarray, rule: VotingRule = "prop") -> np.ndarray:
    """A voter's vote of ``weight`` on a utility difference ``gain`` = u1 - u2 (broadcast)."""
    if rule == "prop":
        return weight * gain
    sign = np.clip(gain / 1e-8, -1.0, 1.0)
    if rule == "binary":
        return weight * sign
    if rule == "prop_bin":
        return weight * (0.8 * gain + 0.2 * sign)
    if rule == "prop_cbc":
        return weight * (0.5 * gain + 0.5 * gain**3)
    if rule == "cubic":
        return weight * gain**3
    if rule == "asym_prosp":
        return np.where(gain < 0, weight * gain, (2.0 / 3.0) * weight * gain)
    raise ValueError(f"unknown voting rule {rule!r}")


def coalitions(utility: np.ndarray, weight: np.ndarray, rule: VotingRule = "prop") -> np.ndarray:
    """C[r, o, o'] = 1e-8 + sum_a max(0, vote_a(o, o')): the strength of the coalition for o over o'."""
    gain = utility[:, :, :, None] - utility[:, :, None, :]  # [r, a, o, o']
    votes = vote(weight[:, :, None, None], gain, rule)
    return 1e-8 + np.maximum(votes, 0.0).sum(axis=1)


def victory(strength: np.ndarray, against: np.ndarray, law: VictoryLaw = "linear") -> np.ndarray:
    """Probability that a coalition of ``strength`` beats one of strength ``against``."""
    if law == "binary":
        t = 1.1
        ratio = ((t + 1.0) * strength / (strength + against) - 1.0) / (t - 1.0)
        x = np.where(strength >= t * against, 1.0, np.where(against >= t * strength, 1e-6, ratio))
        other = np.where(strength >= t * against, 1e-6, np.where(against >= t * strength, 1.0, 1.0 - ratio))
        return x / (x + other)
    n = _POWER[law]
    return strength**n / (strength**n + against**n)


def victory_matrix(strength: np.ndarray, law: VictoryLaw = "linear") -> np.ndarray:
    """pv[r, o, o'] from coalition strengths C[r, o, o'], with pv(o, o) = 1/2."""
    pv = victory(strength, np.swapaxes(strength, 1, 2), law)
    size = strength.shape[1]
    return np.where(np.eye(size, dtype=bool)[None], 0.5, pv)


def pce(
    utility: np.ndarray,
    weight: np.ndarray,
    mask: np.ndarray | None = None,
    rule: VotingRule = "prop",
    law: VictoryLaw = "linear",
    model: PceModel = "conditional",
) -> np.ndarray:
    """Scalar PCE: option probabilities (R, O) from utilities (R, A, O) and voter weights (R, A)."""
    strength = coalitions(utility, weight, rule)
    pv = victory_matrix(strength, law)
    size = pv.shape[1]
    if mask is None:
        mask = np.ones(pv.shape[:2], dtype=bool)
    inside = mask[:, :, None] & mask[:, None, :]
    pv = np.where(inside, pv, np.where(np.eye(size, dtype=bool)[None], 0.5, 0.0))
    if model == "conditional":
        p = np.where(mask, np.prod(np.where(mask[:, None, :], pv, 1.0), axis=2), 0.0)
        return p / p.sum(axis=1, keepdims=True)
    return _markov(pv, strength, mask, model)


def _markov(pv: np.ndarray, strength: np.ndarray, mask: np.ndarray, model: PceModel) -> np.ndarray:
    """Markov PCE variants: iterate to a fixed point from the uniform distribution over the options."""
    count = mask.sum(axis=1, keepdims=True)
    p = np.where(mask, 1.0 / count, 0.0)
    tolerance = 1e-6 if model == "markov_uniform" else 1e-8
    if model == "markov_incentive":
        n = strength * pv + 1e-10 * np.eye(pv.shape[1])[None]
        n = np.where(mask[:, :, None] & mask[:, None, :], n, 0.0)
        column = n.sum(axis=1, keepdims=True)
        change = np.divide(n, column, out=np.zeros_like(n), where=column > 0)  # ch(o -> o') = n(o,o')/sum_m n(m,o')
    running = np.ones(len(p), dtype=bool)  # each run stops on its own, so a batch never changes a run
    for _ in range(100_000):
        if model == "markov_uniform":
            q = (pv * (p[:, :, None] + p[:, None, :])).sum(axis=2) / count
        else:
            e = p[:, :, None] * np.swapaxes(change, 1, 2)  # e(o, o') = p_o ch(o' -> o)
            q = (pv * (e + np.swapaxes(e, 1, 2))).sum(axis=2)
        q = np.where(mask, q, 0.0)
        running &= np.abs(q - p).max(axis=1) > tolerance
        p = np.where(running[:, None], 0.5 * (p + q), p)
        if not running.any():
            break
    return p / p.sum(axis=1, keepdims=True)
