"""Complete-information equilibrium of alternating-offers bargaining, batched over runs.

Stationary subgame-perfect offers (Rubinstein 1982; with outside options, Binmore, Shaked & Sutton
1989; with breakdown risk, Binmore, Rubinstein & Wolinsky 1986; n parties under unanimity, Baron &
Ferejohn 1989), found by backward induction over the rounds:

* a responder j accepts at round t anything worth at least
  V_j(t) = max(o_j, (1 - d_j) b_j + d_j[(1 - q) W_j(t+1) + q a_j]), its outside option or the value of
  going on: this round's inside option b_j (its utility of the status quo, Binmore, Rubinstein &
  Wolinsky 1986; Muthoo 1999, ch. 5), then W_j(t+1), its expected value at the start of the next
  round, unless talks break down (probability q) and it gets a_j (its outside option, or the status
  quo frozen for good);
* the proposer offers the package on its contract curve that gives every responder exactly V_j(t) and
  keeps the rest, if that beats its own V_p(t); otherwise there is no deal that round;
* W_j(t) averages over who is recognised at t.

With a finite horizon (the parties' common deadline T), W_j(T) is what holds when talks end: the
outside options (with no status quo, or where a party prefers its outside option to the status quo:
it leaves, and everyone gets theirs) or the status quo for good; the last proposer takes all. With an
infinite horizon the values are the fixed point of a whole cycle of the proposer schedule, found by
Newton's method. Every party is assumed to play this strategy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.engine.bargaining import Values, utility
from sim.engine.batch import Batch
from sim.engine.offers import trade_off
from sim.engine.protocol import recognition

PRECISION_STEPS = 52  # bisection steps: offers exact to about 2**-52 along the curve
NEWTON_STEPS = 40  # for the stationary values; two-party games need about three
LONG_HORIZON = 400  # rounds of the finite game used where no stationary values are found
EQUILIBRIUM_TOLERANCE = 1e-9  # utilities this close count as equal (offers at a threshold, values at an option)


@dataclass
class PartyValues:
    """The parties' own values (run axis first): ideal (R, P, I), weight (normalised salience, R, P, I),
    risk, patience, outside option, inside option (utility of the status quo, 0 without one) and the
    value after a breakdown (R, P), and the breakdown risk (R,)."""

    ideal: np.ndarray
    weight: np.ndarray
    risk: np.ndarray
    patience: np.ndarray
    outside: np.ndarray
    inside: np.ndarray
    after: np.ndarray
    breakdown: np.ndarray

    def terminal(self, status_quo: bool) -> np.ndarray:
        """What each party gets when talks end without a deal (R, P): the status quo for good, unless
        there is none or a party prefers its outside option (it leaves: everyone gets theirs)."""
        if not status_quo:
            return self.outside.copy()
        leaves = (self.outside > self.inside).any(axis=1, keepdims=True)
        return np.where(leaves, self.outside, self.inside)

    def take(self, rows: np.ndarray) -> PartyValues:
        """The same values for the runs ``rows`` only."""
        return PartyValues(*(getattr(self, f.name)[rows] for f in fields(self)))


def best_offer(values: PartyValues, proposer: int, needed: np.ndarray, span: np.ndarray):
    """The package (R, I) proposer ``proposer`` (index among the parties) offers so that every other
    party gets ``needed`` (R, P), whether that is possible, and every party's utility of it (R, P)."""
    count = values.ideal.shape[1]
    others = np.array([p for p in range(count) if p != proposer])
    seen = Values(values.ideal, values.weight, values.risk)
    rows = np.arange(len(values.ideal))
    best = trade_off(rows, proposer, others, seen, seen, needed[:, others], span, iterations=PRECISION_STEPS)
    worth = utility(best.package[:, None, :], values.ideal, values.weight, values.risk, span)
    return best.package, best.feasible, worth


def backward_step(values: PartyValues, going_on: np.ndarray, recognition: np.ndarray, span: np.ndarray):
    """One round of backward induction: from next round's values W (R, P) and this round's recognition
    probabilities (R, P), the thresholds V (R, P) and this round's values W (R, P)."""
    q = values.breakdown[:, None]
    later = (1 - q) * going_on + q * values.after
    threshold = np.maximum(values.outside, (1 - values.patience) * values.inside + values.patience * later)
    value = np.zeros_like(threshold)
    for proposer in range(recognition.shape[1]):
        chance = recognition[:, proposer]
        if not chance.any():
            continue
        _, feasible, worth = best_offer(values, proposer, threshold, span)
        deal = feasible & (worth[:, proposer] >= threshold[:, proposer])
        value += chance[:, None] * np.where(deal[:, None], worth, threshold)
    return threshold, value


def solve(
    values: PartyValues,
    schedule: np.ndarray,
    span: np.ndarray,
    infinite: bool,
    terminal: np.ndarray | None = None,
    tolerance: float = 1e-13,
) -> tuple[np.ndarray, np.ndarray]:
    """Acceptance thresholds V and start-of-round values W, both (T, R, P), for a schedule of recognition
    probabilities (T, R, P).

    Finite: backward induction from W(T) = ``terminal`` (default the outside options). Infinite: the
    schedule repeats with its shortest period forever, and the values at the end of a period are the
    fixed point of one period."""
    rounds = len(schedule)
    period = _period(schedule) if infinite else rounds
    end = values.outside.copy() if terminal is None else terminal
    going_on = _stationary(values, schedule[:period], span, tolerance) if infinite else end
    threshold = np.empty((period, *values.outside.shape))
    value = np.empty_like(threshold)
    for t in range(period - 1, -1, -1):
        threshold[t], value[t] = backward_step(values, going_on, schedule[t], span)
        going_on = value[t]
    index = np.arange(rounds) % period
    return threshold[index], value[index]


def _period(schedule: np.ndarray) -> int:
    for period in range(1, len(schedule) + 1):
        if all(np.array_equal(schedule[t], schedule[t % period]) for t in range(len(schedule))):
            return period
    return len(schedule)


def _stationary(values: PartyValues, cycle: np.ndarray, span: np.ndarray, tolerance: float) -> np.ndarray:
    """Fixed point W (R, P) of one cycle of backward induction, run by run: Newton's method on W - F(W) with
    a finite-difference Jacobian (the map is piecewise affine, so two-party games converge in a few
    steps), plain iteration where a Newton step does not help. Runs with no fixed point in reach (with
    three or more parties the stationary values need not be unique) get the values of a long finite
    horizon instead, LONG_HORIZON rounds, which is the limit those equilibria approach when they do."""

    def one_cycle(part: PartyValues, schedule: np.ndarray, w: np.ndarray) -> np.ndarray:
        for t in range(len(schedule) - 1, -1, -1):
            w = backward_step(part, w, schedule[t], span)[1]
        return w

    w = values.outside.copy()
    parties = w.shape[1]
    done = np.zeros(len(w), dtype=bool)
    step_size = 1e-7
    for _ in range(NEWTON_STEPS):
        live = np.flatnonzero(~done)
        if live.size == 0:
            return w
        part, schedule, current = values.take(live), cycle[:, live], w[live]
        f = one_cycle(part, schedule, current)
        residual = f - current
        converged = np.abs(residual).max(axis=1) <= tolerance
        w[live[converged]], done[live[converged]] = f[converged], True
        nudged = [one_cycle(part, schedule, current + step_size * np.eye(parties)[k]) for k in range(parties)]
        jacobian = np.stack([(g - f) / step_size for g in nudged], axis=2)
        system = np.eye(parties)[None] - jacobian
        solvable = np.abs(np.linalg.det(system)) > 1e-12
        safe = np.where(solvable[:, None, None], system, np.eye(parties)[None])
        newton = np.clip(current + np.linalg.solve(safe, residual[:, :, None])[:, :, 0], 0.0, 1.0)
        improves = np.abs(one_cycle(part, schedule, newton) - newton).max(axis=1) < np.abs(residual).max(axis=1)
        moving = ~converged
        w[live[moving]] = np.where((solvable & improves)[moving, None], newton[moving], f[moving])
    stuck = np.flatnonzero(~done)
    if stuck.size:
        part, schedule, long_run = values.take(stuck), cycle[:, stuck], values.outside[stuck].copy()
        for _ in range(LONG_HORIZON // len(cycle)):
            long_run = one_cycle(part, schedule, long_run)
        w[stuck] = long_run
    return w


def division_shares(patience: np.ndarray, recognition: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unanimity division of a pie of 1 among n parties (Baron & Ferejohn 1989, closed rule): stationary
    ex-ante values v (n,) with v_j = pi_j (1 - sum_{k != j} d_k v_k) + (1 - pi_j) d_j v_j, and what each
    proposer keeps (n,), 1 - sum_{k != p} d_k v_k."""
    n = len(patience)
    a = np.zeros((n, n))
    for j in range(n):
        for k in range(n):
            a[j, k] = recognition[j] * patience[k] if k != j else 1 - (1 - recognition[j]) * patience[j]
    ex_ante = np.linalg.solve(a, recognition.astype(float))
    offered = patience * ex_ante
    return ex_ante, 1 - (offered.sum() - offered)


class EquilibriumPlay:
    """The equilibrium thresholds and values of a batch, kept current as a run unfolds.

    Solved at round 0 for the rounds to come; solved again each round from the current values when
    events or influence can change them (the parties do not anticipate shocks)."""

    def __init__(self, model: Batch):
        self.model = model
        spec = model.spec
        strategy = spec.actors[spec.parties()[0]].strategy  # the same for every party (checked at load)
        self.infinite = strategy.horizon == "infinite"
        self.deadline = None if self.infinite else int(strategy.deadline)  # rounds: the game's last is T - 1
        self.dynamic = bool(spec.events) or spec.influence.model != "none"
        self.threshold: np.ndarray | None = None  # (T - start, R, P)
        self.value: np.ndarray | None = None
        self.terminal: np.ndarray | None = None  # (R, P): after the deadline
        self.start = 0

    def party_values(self) -> PartyValues:
        m, p = self.model, self.model.layout.parties
        own, values = m.own_now, m.values
        return PartyValues(
            own.ideal[:, p], m.own_weight[:, p], own.risk[:, p], own.patience[:, p], own.outside[:, p],
            values.flow[:, p], values.after[:, p], m.state.breakdown_risk,
        )  # fmt: skip

    def schedule(self, start: int) -> np.ndarray:
        """Recognition probabilities (T - start, R, P) of the parties in each remaining round of the game
        (to the deadline, or over the window for an infinite horizon)."""
        m = self.model
        rounds = m.layout.horizon if self.infinite else self.deadline
        chances = [
            recognition(m.spec.protocol.proposer, m.layout, m.own_now.capability, t) for t in range(start, rounds)
        ]
        return np.stack(chances) if chances else np.zeros((0, len(m.run_ids), len(m.layout.parties)))

    def refresh(self, round_: int) -> None:
        """Solve (again) from ``round_`` if nothing is solved yet or the values may have moved."""
        if self.threshold is None or self.dynamic:
            self.start = round_
            values = self.party_values()
            self.terminal = values.terminal(self.model.spec.status_quo is not None)
            schedule = self.schedule(round_)
            if len(schedule):
                self.threshold, self.value = solve(values, schedule, self.model.layout.span, self.infinite,
                                                   self.terminal)  # fmt: skip
            else:
                self.threshold = self.value = np.zeros((0, *self.terminal.shape))

    def take(self, rows: np.ndarray) -> None:
        """Keep only the batch rows ``rows``."""
        if self.threshold is not None:
            self.threshold, self.value = self.threshold[:, rows], self.value[:, rows]
            self.terminal = self.terminal[rows]

    def at(self, round_: int) -> tuple[np.ndarray, np.ndarray]:
        """Thresholds V and values W (R, P) of round ``round_``; after the deadline the game is over:
        nothing is accepted and each party's value is what holds without a deal."""
        index = round_ - self.start
        if index >= len(self.threshold):
            return np.full_like(self.terminal, np.inf), self.terminal
        return self.threshold[index], self.value[index]
