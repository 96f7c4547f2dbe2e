"""Bueno de Mesquita's expected-utility model, as reconstructed by Scholz, Calbert & Smith (2011).

One issue at a time, batched over runs: arrays are (R, N) for R runs and N actors. The rules are those
that reproduce the published EC car-emissions trajectory to the digit, including the probability
denominator Z summed over every voter and every ordered pair of actor positions (the printed per-pair
denominator does not reproduce it), Delta fixed from the initial positions, Q = 1, and the receiver's
offer choice (nearest confrontation, else the compromise with the smallest weighted position).

References: Bueno de Mesquita (1994, 1997); Scholz, Calbert & Smith (2011), J. Theoretical Politics
23(4): 510-531; the reproducing code jmckib/bdm-scholz-expected-utility-model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def votes(capability: np.ndarray, salience: np.ndarray, position: np.ndarray, risk: np.ndarray, delta: np.ndarray):
    """v[r, k, a, b] = c_k s_k [(|x_k - x_b|/D)^r_k - (|x_k - x_a|/D)^r_k]: voter k's vote for actor a's
    position over actor b's, for every ordered pair of actors (R, N, N, N)."""
    distance = np.abs(position[:, :, None] - position[:, None, :]) / delta[:, None, None]  # [r, k, m]
    scaled = distance ** risk[:, :, None]
    weight = (capability * salience)[:, :, None, None]
    return weight * (scaled[:, :, None, :] - scaled[:, :, :, None])


def win_probability(capability, salience, position, risk, delta) -> np.ndarray:
    """P[r, a, b] = P(x_a beats x_b) = sum_k max(0, v_k(a, b)) / Z, 0 where x_a == x_b, with
    Z = sum_k sum_m sum_n |v_k(x_m, x_n)| (Scholz et al.'s replicating denominator)."""
    v = votes(capability, salience, position, risk, delta)
    z = np.abs(v).sum(axis=(1, 2, 3))
    z = np.where(z > 0, z, 1.0)  # nobody cares (all saliences 0): every P is 0
    p = np.maximum(v, 0.0).sum(axis=1) / z[:, None, None]
    same = position[:, :, None] == position[:, None, :]
    return np.where(same, 0.0, p)


def expected_utility(p_win, target_salience, distance, risk):
    """E^h(U_ij) for a challenger i and target j as seen by h, Q = 1: with delta = |x_i - x_j|/D,
    s_j [P U_s + (1 - P) U_f] + (1 - s_j) U_s - U_sq, where U = 2 - 4(.)^r_h."""
    u_success = 2.0 - 4.0 * (0.5 - 0.5 * distance) ** risk
    u_failure = 2.0 - 4.0 * (0.5 + 0.5 * distance) ** risk
    u_status_quo = 2.0 - 4.0 * 0.5**risk
    return (
        target_salience * (p_win * u_success + (1.0 - p_win) * u_failure)
        + (1.0 - target_salience) * u_success
        - (u_status_quo)
    )


def risk_exponents(capability, salience, position, delta) -> tuple[np.ndarray, np.ndarray]:
    """Dangers D_i = sum_{j != i} E^j(U_ji) with every r = 1, and the exponents r_i = (1 - R_i/3)/(1 + R_i/3)
    with R_i = (2 D_i - max D - min D)/(max D - min D), in [0.5, 2]. Both (R, N)."""
    ones = np.ones_like(position)
    p = win_probability(capability, salience, position, ones, delta)
    distance = np.abs(position[:, :, None] - position[:, None, :]) / delta[:, None, None]  # [r, j, i]
    # E^j(U_ji): challenger j, target i, seen by j; target salience s_i; P(x_j beats x_i) = p[r, j, i]
    eu = expected_utility(p, salience[:, None, :], distance, 1.0)
    n = position.shape[1]
    danger = (eu * (1 - np.eye(n))[None]).sum(axis=1)
    high, low = danger.max(axis=1, keepdims=True), danger.min(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        big_r = np.where(high > low, (2 * danger - high - low) / (high - low), 0.0)
    return danger, (1 - big_r / 3) / (1 + big_r / 3)


@dataclass
class Quadrants:
    """Receiver i's view of every other actor j (R, N, N) = [r, i, j]: X = E^i(U_ij), Y = E^i(U_ji)."""

    x: np.ndarray
    y: np.ndarray


def quadrants(capability, salience, position, risk, delta) -> Quadrants:
    """Each receiver's X (it challenges j) and Y (j challenges it), with its own exponent and the P of the
    offer phase (computed with every actor's current exponent)."""
    p = win_probability(capability, salience, position, risk, delta)
    distance = np.abs(position[:, :, None] - position[:, None, :]) / delta[:, None, None]  # [r, i, j]
    own_risk = risk[:, :, None]
    x = expected_utility(p, salience[:, None, :], distance, own_risk)  # i challenges j: target s_j, P(i beats j)
    y = expected_utility(np.swapaxes(p, 1, 2), salience[:, :, None], distance, own_risk)  # j challenges i
    return Quadrants(x, y)


def eum_round(capability, salience, position, delta) -> tuple[np.ndarray, np.ndarray]:
    """One round: reset exponents, compute risk, then every receiver accepts at most one offer; all moves
    apply at once. Returns the new positions (R, N) and the exponents used (R, N)."""
    risk = risk_exponents(capability, salience, position, delta)[1]
    q = quadrants(capability, salience, position, risk, delta)
    xi, xj = position[:, :, None], position[:, None, :]
    differs = xi != xj
    confront = differs & (q.y > q.x) & (q.x > 0)
    compromise = differs & (q.y > 0) & (q.x < 0) & (q.y > np.abs(q.x))
    gap = np.abs(xj - xi)
    nearest = np.argmin(np.where(confront, gap, np.inf), axis=2)  # first index on ties
    with np.errstate(divide="ignore", invalid="ignore"):
        offer = xi + (xj - xi) * np.abs(q.x / q.y)
        key = (np.abs(q.x) * xi + np.abs(q.y) * xj) / (np.abs(q.x) + np.abs(q.y))
    best_compromise = np.argmin(np.where(compromise, key, np.inf), axis=2)
    take = lambda a, idx: np.take_along_axis(a, idx[:, :, None], axis=2)[:, :, 0]  # noqa: E731
    moved = np.where(
        confront.any(axis=2),
        take(np.broadcast_to(xj, confront.shape), nearest),
        np.where(compromise.any(axis=2), take(offer, best_compromise), position),
    )
    return moved, risk


def weighted_mean(capability, salience, position) -> np.ndarray:
    """The c.s weighted mean position (R,): the model's forecast."""
    w = capability * salience
    return (w * position).sum(axis=1) / w.sum(axis=1)


def run_eum(capability, salience, position, rounds: int) -> np.ndarray:
    """Positions after each round, (rounds + 1, R, N), starting from ``position``; Delta is fixed from
    the initial positions."""
    delta = position.max(axis=1) - position.min(axis=1)
    delta = np.where(delta > 0, delta, 1.0)
    path = [position]
    for _ in range(rounds):
        path.append(eum_round(capability, salience, path[-1], delta)[0])
    return np.stack(path)
