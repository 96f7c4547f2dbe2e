"""Capability x salience weighted pull: stakeholders lobby, parties' ideals move towards them.

Each stakeholder k exerts pressure w_ki = c_k * s_ki on issue i (capability times normalised
salience) at its position x_ki. A party j with weight w_ji moves its ideal a share
    rate * W_i / (W_i + w_ji)
of the way to the stakeholders' weighted mean position sum_k w_ki x_ki / W_i, where W_i = sum_k w_ki:
strong, committed lobbies move an indifferent party most; a party that cares as much as all the
lobbies together moves half as far. This is the weighting of the compromise model (Achen 2006;
van den Bos 1991) applied as a partial adjustment each round.

One compiled pass per run does the whole stage, on views of that run's rows (which the compiler indexes
faster than the batch arrays): the sums over lobbies in plain order, then every party's move.
"""

from __future__ import annotations

import numpy as np

from sim.numerics import compiled


@compiled
def _pull(capability, weight, position, lobbies, parties, ideal, rate, active, total, total_at) -> None:
    issues = weight.shape[2]
    for r in range(ideal.shape[0]):
        if not active[r]:
            continue
        capability_r, weight_r, position_r, ideal_r = capability[r], weight[r], position[r], ideal[r]  # one run's
        for i in range(issues):  # every lobby's pressure first: a party may also lobby
            summed, summed_at = 0.0, 0.0
            for k in range(lobbies.shape[0]):
                a = lobbies[k]
                pressing = capability_r[a] * weight_r[a, i]
                summed += pressing
                summed_at += pressing * position_r[a, i]
            total[i], total_at[i] = summed, summed_at
        for p in range(parties.shape[0]):
            j = parties[p]
            for i in range(issues):
                if total[i] > 0:
                    target = total_at[i] / total[i]
                    strength = total[i] / (total[i] + capability_r[j] * weight_r[j, i])
                else:
                    target, strength = 0.0, 0.0
                ideal_r[j, i] = ideal_r[j, i] + rate[r] * strength * (target - ideal_r[j, i])


def pull(
    capability: np.ndarray,
    weight: np.ndarray,
    position: np.ndarray,
    lobbies: np.ndarray,
    parties: np.ndarray,
    ideal: np.ndarray,
    rate: np.ndarray,
    active: np.ndarray,
) -> None:
    """Move the ideals ``ideal`` (R, A, I; in place) of the ``parties`` (actor indices) in the ``active``
    (R,) runs a share ``rate`` (R,) of the way towards the pressure of the ``lobbies`` (actor indices),
    from this round's capabilities (R, A), normalised saliences (R, A, I) and positions (R, A, I)."""
    issues = weight.shape[2]
    _pull(
        np.asarray(capability, dtype=np.float64), np.asarray(weight, dtype=np.float64),
        np.asarray(position, dtype=np.float64), np.asarray(lobbies, dtype=np.int64),
        np.asarray(parties, dtype=np.int64), ideal, np.asarray(rate, dtype=np.float64),
        np.asarray(active, dtype=np.bool_), np.empty(issues), np.empty(issues),
    )  # fmt: skip
