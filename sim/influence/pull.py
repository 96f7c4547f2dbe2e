"""Capability x salience weighted pull: stakeholders lobby, parties' ideals move towards them.

Each stakeholder k exerts pressure w_ki = c_k * s_ki on issue i (capability times normalised
salience) at its position x_ki. A party j with weight w_ji moves its ideal a share
    rate * W_i / (W_i + w_ji)
of the way to the stakeholders' weighted mean position sum_k w_ki x_ki / W_i, where W_i = sum_k w_ki:
strong, committed lobbies move an indifferent party most; a party that cares as much as all the
lobbies together moves half as far. This is the weighting of the compromise model (Achen 2006;
van den Bos 1991) applied as a partial adjustment each round.
"""

from __future__ import annotations

import numpy as np

from sim.numerics import total


def pressure(capability: np.ndarray, weight: np.ndarray, position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lobbies' summed pressure: weights (R, I), the sum over lobbies of capability (R, K) x normalised
    salience (R, K, I), and the sum of weight x position (R, K, I), both (R, I)."""
    w = capability[:, :, None] * weight
    return total(w, axis=1), total(w * position, axis=1)


def pull_towards(
    ideal: np.ndarray, own_weight: np.ndarray, total: np.ndarray, total_at: np.ndarray, rate: np.ndarray
) -> np.ndarray:
    """New ideals (R, P, I) of parties with ideals and capability x salience weights (R, P, I),
    pulled by summed pressure ``total`` (R, I) at summed ``total_at`` (R, I) with ``rate`` (R,)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(total > 0, total_at / total, 0.0)[:, None, :]
        strength = np.where(total[:, None] > 0, total[:, None] / (total[:, None] + own_weight), 0.0)
    return ideal + rate[:, None, None] * strength * (target - ideal)
