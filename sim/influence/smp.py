"""KTAB's Spatial Model of Politics (SMP), batched over runs.

Arrays put the run axis first: R runs, N actors, K dimensions. Positions and saliences are on [0, 1]
(KTAB's 0-100 inputs divided by 100); capabilities are used as given. The rules are those of KTAB
(github.com/KAPSARC/KTAB, examples/smp and kmodel) that reproduce its reference run of SOE-Pol-Comp
line by line; defaults: Linear victory law, Prop voting, Conditional PCE, Deterministic transition,
Mid risk range, OneThird risk adjustment, SemiCommit third parties, S2P2 bargains, InitOnlyInterp
(the only bargain model here: each bargain is queued with its initiator and its receiver).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sim.influence.pce import PceModel, VictoryLaw, VotingRule, coalitions, pce, victory_matrix, vote

BigRRange = Literal["mid", "min", "max"]
BigRAdjust = Literal["none", "half", "one_third", "two_thirds", "full"]
ThirdPartyCommit = Literal["semi", "none", "full"]
InterVecBargain = Literal["s2p2", "s1p1", "s2pmax"]

TARGET_THRESHOLD = 1e-5  # least expected gain for an actor to challenge anyone
OPTION_RADIUS = 1e-3  # positions this close count as one option for the winning probabilities


@dataclass(frozen=True)
class SmpOptions:
    """KTAB's model parameters; the defaults are KTAB's."""

    victory_law: VictoryLaw = "linear"
    voting_rule: VotingRule = "prop"
    pce: PceModel = "conditional"
    transition: Literal["deterministic", "stochastic"] = "deterministic"
    big_r_range: BigRRange = "mid"
    big_r_adjust: BigRAdjust = "one_third"
    third_party: ThirdPartyCommit = "semi"
    bargain: InterVecBargain = "s2p2"
    max_steps: int = 100
    stop_ratio: float = 0.02


def bs_util(distance: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """KTAB's risk-adjusted utility of a distance in [0, 1]: (1 - d)(1 + d R), or (1 - d)(1 + R) if d > 1."""
    return (1.0 - distance) * (1.0 + np.minimum(distance, 1.0) * risk)


def distances(ideal: np.ndarray, salience: np.ndarray, position: np.ndarray) -> np.ndarray:
    """d[r, i, j] = sqrt(sum_k s_ik^2 (idl_ik - x_jk)^2 / sum_k s_ik^2): how far j's position is from i's ideal."""
    s2 = salience**2
    gap = (ideal[:, :, None, :] - position[:, None, :, :]) ** 2
    total = s2.sum(axis=2)[:, :, None]  # an actor that cares about nothing is indifferent: distance 0
    return np.sqrt((s2[:, :, None, :] * gap).sum(axis=3) / np.where(total > 0, total, 1.0))


def big_r(p: np.ndarray, mode: BigRRange) -> np.ndarray:
    """Risk attitudes R (R, N) from the actors' PCE probabilities."""
    high, low = p.max(axis=1, keepdims=True), p.min(axis=1, keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    if mode == "mid":
        return (3 * p - high - 2 * low) / (2 * span)
    if mode == "min":
        return (p - low) / span
    return (2 * p - high - low) / span


def perspective_risk(risk: np.ndarray, mode: BigRAdjust) -> np.ndarray:
    """R[r, h, i]: the risk attitude h attributes to i."""
    own, other = risk[:, :, None], risk[:, None, :]
    weight = {"none": 0.0, "half": 0.5, "one_third": 1 / 3, "two_thirds": 2 / 3, "full": 1.0}[mode]
    return (1 - weight) * own + weight * other


@dataclass
class StateView:
    """Step A of one state: distances d[r,i,j], PCE p, risk R and perspective utilities A[r,h,i,j]."""

    d: np.ndarray
    p: np.ndarray
    risk: np.ndarray
    a: np.ndarray


def assess(position, salience, capability, options: SmpOptions) -> StateView:
    """Step A: utilities, risk attitudes and every actor's perspective matrix for the current state."""
    d = distances(position, salience, position)  # ideals = positions (identity accommodation)
    p = pce(1.0 - d, capability, rule=options.voting_rule, law=options.victory_law, model=options.pce)
    risk = big_r(p, options.big_r_range)
    a = bs_util(d[:, None, :, :], perspective_risk(risk, options.big_r_adjust)[:, :, :, None])
    return StateView(d, p, risk, a)


def challenge(a: np.ndarray, capability, total_salience, options: SmpOptions) -> np.ndarray:
    """P[r, h, i, j]: h's estimate of the probability that i beats j when i challenges j (Step B)."""
    n = a.shape[2]
    rows = np.arange(n)

    def get(x, y):  # A^h_{x y} as [r, h, i, j]; x, y are "i", "j" or an actor index
        pick = {"i": rows[None, :, None], "j": rows[None, None, :]}
        return a[:, rows[:, None, None], pick.get(x, x), pick.get(y, y)]

    return _contest(get, total_salience * capability, n, options, extra_axis=True)


def challenge_own(a: np.ndarray, capability, total_salience, options: SmpOptions) -> np.ndarray:
    """P[r, i, j]: i's own estimate of the probability that it beats j when it challenges j. The same
    as ``challenge(...)[:, i, i, j]`` at a fraction of the cost."""
    n = a.shape[2]
    rows = np.arange(n)
    initiator = rows[:, None]

    def get(x, y):  # A^i_{x y} as [r, i, j]
        pick = {"i": rows[:, None], "j": rows[None, :]}
        return a[:, initiator, pick.get(x, x), pick.get(y, y)]

    return _contest(get, total_salience * capability, n, options, extra_axis=False)


def _contest(get, w: np.ndarray, n: int, options: SmpOptions, extra_axis: bool) -> np.ndarray:
    """Coalition strengths for and against i's challenge of j, principals and third parties, -> P."""
    rule = options.voting_rule
    w_i = w[:, None, :, None] if extra_axis else w[:, :, None]
    w_j = w[:, None, None, :] if extra_axis else w[:, None, :]
    v_i = vote(w_i, get("i", "i") - get("i", "j"), rule)  # S_i c_i (A_ii - A_ij)
    v_j = vote(w_j, get("j", "i") - get("j", "j"), rule)  # S_j c_j (A_ji - A_jj)
    gamma_i = 1e-10 + np.maximum(v_i, 0) + np.maximum(v_j, 0)
    gamma_j = 1e-10 + np.maximum(-v_i, 0) + np.maximum(-v_j, 0)
    c_ij, c_ji = gamma_i.copy(), gamma_j.copy()
    if options.third_party == "semi":
        for third in range(n):
            a_ni, a_nj, a_nn = get(third, "i"), get(third, "j"), get(third, third)
            w_n = w[:, third].reshape((-1,) + (1,) * (c_ij.ndim - 1))
            v = vote(w_n, a_ni - a_nj, rule)
            pi = (gamma_i + np.maximum(v, 0)) / (gamma_i + gamma_j + np.abs(v))
            t = vote(w_n, pi * (a_nn - a_ni) - (1 - pi) * (a_nn - a_nj), rule)
            outside = np.ones((n, n), dtype=bool)
            outside[third, :] = outside[:, third] = False
            c_ij += np.where(outside & (t > 0), t, 0.0)
            c_ji += np.where(outside & (t < 0), -t, 0.0)
    return c_ij / (c_ij + c_ji)


def own_challenge_gain(a: np.ndarray, p: np.ndarray, total_salience: np.ndarray) -> np.ndarray:
    """dEU[r, i, j]: i's expected gain, as i sees it, from challenging j with P = p[r, i, j] (Step B.4
    with h = k = i): (1 - S_j) 2A_ii + S_j [P 2A_ii + (1 - P) 2A_ij] - (A_ii + A_ij)."""
    n = a.shape[2]
    rows = np.arange(n)
    own = a[:, rows, rows, :]  # A^i_{i x}: [r, i, x]
    a_ki = own[:, rows, rows][:, :, None]
    a_kj = own
    s_j = total_salience[:, None, :]
    contest = p * 2 * a_ki + (1 - p) * 2 * a_kj
    return (1 - s_j) * 2 * a_ki + s_j * contest - (a_ki + a_kj)


def challenge_effect(position, salience, capability, view: StateView, options: SmpOptions, *, perspective: int,
                     initiator: int, target: int, affected: int) -> np.ndarray:  # fmt: skip
    """Actor ``perspective``'s estimate (R,) of what ``initiator`` challenging ``target`` is worth to
    ``affected``: (1 - S_j) 2A_ki + S_j [P 2A_ki + (1 - P) 2A_kj] - (A_ki + A_kj), with A = A^h."""
    total = salience.sum(axis=2)
    p = challenge(view.a, capability, total, options)[:, perspective, initiator, target]
    a = view.a[:, perspective]
    a_ki, a_kj = a[:, affected, initiator], a[:, affected, target]
    s_j = total[:, target]
    contest = p * 2 * a_ki + (1 - p) * 2 * a_kj
    return (1 - s_j) * 2 * a_ki + s_j * contest - (a_ki + a_kj)


def round4(z: np.ndarray) -> np.ndarray:
    """KTAB's rounding to 1e-4 on the [0, 1] scale: floor(0.5 + 10000 z) / 10000."""
    return np.floor(0.5 + 10000.0 * z) / 10000.0


def bargain_points(x_i, x_j, s_i, s_j, p, mode: InterVecBargain) -> tuple[np.ndarray, np.ndarray]:
    """Initiator's and receiver's new positions (..., K) from positions, saliences (..., K) and P (...)."""
    p = p[..., None]
    if mode == "s2pmax":
        p_i, p_j = p, 1 - p
        d_i, d_j = np.maximum(0, p_j - p_i), np.maximum(0, p_i - p_j)
        f_i = d_i * s_j**2 / (d_i * s_j**2 + 1e-6 + (1 - d_i) * s_i**2)
        f_j = d_j * s_i**2 / (d_j * s_i**2 + 1e-6 + (1 - d_j) * s_j**2)
        return x_i + f_i * (x_j - x_i), x_j + f_j * (x_i - x_j)
    if mode == "s2p2":
        w_i, w_j = s_i**2 * p**2, s_j**2 * (1 - p) ** 2
    else:  # s1p1
        w_i, w_j = s_i * p, s_j * (1 - p)
    initiator = round4(((w_i + 1e-6) * x_i + w_j * x_j) / (w_i + w_j + 1e-6))
    receiver = round4((w_i * x_i + (w_j + 1e-6) * x_j) / (w_i + w_j + 1e-6))
    return initiator, receiver


@dataclass
class Bargains:
    """The bargain each actor proposes this state (R, N): target (-1 for none), P, and both new positions."""

    target: np.ndarray
    p: np.ndarray
    initiator: np.ndarray  # (R, N, K)
    receiver: np.ndarray  # (R, N, K)
    gain: np.ndarray = field(repr=False)  # (R, N, N): i's expected gain from challenging j, as i sees it


def propose(position, salience, capability, view: StateView, options: SmpOptions) -> Bargains:
    """Step C: each actor's best target (largest expected gain above 1e-5, lowest index on ties) and bargain."""
    total = salience.sum(axis=2)
    own_p = challenge_own(view.a, capability, total, options)  # [r, i, j], seen by i
    own_gain = own_challenge_gain(view.a, own_p, total)  # [r, i, j], to i, seen by i
    n = position.shape[1]
    gain = own_gain
    own_gain = np.where(np.eye(n, dtype=bool)[None], -np.inf, own_gain)
    best = np.argmax(own_gain, axis=2)  # first index among equal maxima
    best_gain = np.take_along_axis(own_gain, best[:, :, None], axis=2)[:, :, 0]
    target = np.where(best_gain > TARGET_THRESHOLD, best, -1)
    chosen_p = np.take_along_axis(own_p, best[:, :, None], axis=2)[:, :, 0]
    x_j = np.take_along_axis(position, best[:, :, None], axis=1)
    s_j = np.take_along_axis(salience, best[:, :, None], axis=1)
    initiator, receiver = bargain_points(position, x_j, salience, s_j, chosen_p, options.bargain)
    return Bargains(target, chosen_p, initiator, receiver, gain)


def item_values(position, salience, view: StateView, bargains: Bargains) -> np.ndarray:
    """V[r, a, m]: actor a's value of queue item m, where m = 0 is the status quo and m = 1 + i is actor
    i's bargain: the mean over actors of a's utility of their positions after the item."""
    n = position.shape[1]
    rows = np.arange(n)
    own = view.a[:, rows, rows, :]  # A^a_{a n}: [r, a, n]
    status_quo = own.mean(axis=2)
    own_risk = view.risk[:, :, None]

    def utility_of(points: np.ndarray) -> np.ndarray:  # points (R, N_items, K) -> [r, a, item]
        return bs_util(distances(position, salience, points), own_risk)

    u_init, u_recv = utility_of(bargains.initiator), utility_of(bargains.receiver)
    target = np.maximum(bargains.target, 0)
    others = own.sum(axis=2)[:, :, None] - own[:, :, :] - np.take_along_axis(own, target[:, None, :].repeat(n, 1), 2)
    values = (u_init + u_recv + others) / n
    return np.concatenate([status_quo[:, :, None], values], axis=2)


def resolve(
    position, capability, values, bargains: Bargains, options: SmpOptions, draws: np.ndarray | None
) -> np.ndarray:
    """Step D: each actor's queue (status quo, then the bargains involving it by initiator index) is
    decided by a PCE weighted by capability; the actor moves to its side of the winning bargain."""
    n = position.shape[1]
    rows = np.arange(n)
    has = bargains.target >= 0  # [r, i]
    involved = has[:, None, :] & (
        (rows[None, :, None] == rows[None, None, :]) | (bargains.target[:, None, :] == rows[None, :, None])
    )
    queues = np.concatenate([np.ones((len(position), n, 1), dtype=bool), involved], axis=2)  # [r, k, item]
    p = queue_pce(values, capability, queues, options)  # [r, k, item]
    if draws is None:
        winner = np.argmax(p, axis=2)  # first item on ties: the status quo, then by initiator
    else:
        winner = np.minimum((np.cumsum(p, axis=2) < draws[:, :, None]).sum(axis=2), p.shape[2] - 1)
    chosen = winner - 1  # [r, k]: initiator of the bargain k's queue chose, -1 for the status quo
    initiator_side = bargains.initiator  # [r, i, K]: i's own point in its bargain
    receiver_side = np.take_along_axis(bargains.receiver, np.maximum(chosen, 0)[:, :, None], axis=1)
    own = chosen == rows[None, :]
    return np.where(own[:, :, None], initiator_side, np.where((chosen >= 0)[:, :, None], receiver_side, position))


def queue_pce(values: np.ndarray, capability: np.ndarray, queues: np.ndarray, options: SmpOptions) -> np.ndarray:
    """Probabilities [r, k, item] of the items in every queue k at once. The victory probability of one
    item over another does not depend on the queue, so for the conditional PCE one matrix serves all."""
    if options.pce != "conditional":
        return np.stack([pce(values, capability, queues[:, k], options.voting_rule, options.victory_law,
                             options.pce) for k in range(queues.shape[1])], axis=1)  # fmt: skip
    pv = victory_matrix(coalitions(values, capability, options.voting_rule), options.victory_law)  # [r, o, o']
    inside = queues[:, :, None, :]  # [r, k, ., o']
    p = np.where(queues, np.prod(np.where(inside, pv[:, None], 1.0), axis=3), 0.0)
    return p / p.sum(axis=2, keepdims=True)


def win_probabilities(position, capability, view: StateView, options: SmpOptions) -> np.ndarray:
    """KTAB's reported winning probability of each actor's position (R, N): positions within 1e-3 form
    one option held by its first actor; a PCE over the options with U[a, o] = A^a_{a, holder(o)}."""
    r_count, n, _ = position.shape
    gap = np.sqrt(((position[:, :, None, :] - position[:, None, :, :]) ** 2).sum(axis=3))
    near = gap <= OPTION_RADIUS
    holder = np.zeros((r_count, n), dtype=bool)
    for i in range(n):
        holder[:, i] = ~(holder[:, :i] & near[:, i, :i]).any(axis=1)
    rows = np.arange(n)
    own = view.a[:, rows, rows, :]  # [r, a, holder]
    p = pce(own, capability, holder, options.voting_rule, options.victory_law, options.pce)
    last = np.where(holder[:, None, :] & near, rows[None, None, :], -1).max(axis=2)
    return np.take_along_axis(p, last, axis=1)


@dataclass
class SmpResult:
    """A batch of SMP runs: positions of every state (S, R, N, K), states per run, ratios, win probabilities."""

    positions: np.ndarray
    states: np.ndarray  # (R,) number of states of each run (steps + 1)
    ratios: np.ndarray  # (S - 1, R) stopping ratios, NaN after a run stopped
    win: np.ndarray  # (R, N) winning probabilities of the final state
    first_view: StateView = field(repr=False)
    first_bargains: Bargains = field(repr=False)

    def final(self) -> np.ndarray:
        """Final positions (R, N, K)."""
        return self.positions[self.states - 1, np.arange(len(self.states))]


def step(position, salience, capability, options: SmpOptions, draws=None) -> tuple[np.ndarray, StateView, Bargains]:
    """One state transition (Steps A to D)."""
    view = assess(position, salience, capability, options)
    bargains = propose(position, salience, capability, view, options)
    values = item_values(position, salience, view, bargains)
    return resolve(position, capability, values, bargains, options, draws), view, bargains


def run_smp(
    position: np.ndarray,
    salience: np.ndarray,
    capability: np.ndarray,
    options: SmpOptions = SmpOptions(),
    uniforms=None,
) -> SmpResult:
    """Run SMP until every run's stopping rule fires. ``uniforms(step)`` gives (R, N) draws for
    stochastic transitions."""
    r_count = len(position)
    positions = [position]
    ratios = []
    running = np.ones(r_count, dtype=bool)
    states = np.ones(r_count, dtype=int)
    first_distance = None
    view0 = bargains0 = None
    for t in range(1, options.max_steps + 1):
        draws = uniforms(t) if options.transition == "stochastic" else None
        live = np.flatnonzero(running)  # stopped runs are carried along, not computed
        moved = positions[-1].copy()
        moved[live], view, bargains = step(positions[-1][live], salience[live], capability[live], options,
                                           None if draws is None else draws[live])  # fmt: skip
        if view0 is None:
            view0, bargains0 = view, bargains
        distance = np.sqrt(((moved - positions[-1]) ** 2).sum(axis=2)).sum(axis=1)
        if first_distance is None:
            first_distance = distance
        ratio = distance / (first_distance + 1e-4)
        positions.append(moved)
        ratios.append(np.where(running, ratio, np.nan))
        states = np.where(running, t + 1, states)
        running &= ~((t >= 2) & (ratio < options.stop_ratio))
        if t >= options.max_steps or not running.any():
            break
    stacked = np.stack(positions)
    final = stacked[states - 1, np.arange(r_count)]
    final_view = assess(final, salience, capability, options)
    return SmpResult(stacked, states, np.stack(ratios), win_probabilities(final, capability, final_view, options),
                     view0, bargains0)  # fmt: skip
