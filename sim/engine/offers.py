"""The offer search: how far along its contract curve a proposer concedes, one compiled pass per run.

A proposer lays out the trade-off path towards the other parties as it believes them (one counterpart:
their salience-weighted ideal, summed saliences and mean risk; ``sim.engine.bargaining``) and bisects
it for the first point at which every judge of the offer (the other parties, and any ratifying body
among theirs) is believed to get what it needs, or at which the proposer would give up more than it
allows itself. The same search serves the proposals, the walkout test and the equilibrium.

Shapes put the run axis first: R batch rows, A actors (or parties), I issues, J judges. Utilities are
on the 0-1 scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.bargaining import (
    CURVE_FIELDS,
    DIRECTION,
    DISTANCE,
    GIVE,
    KEEP,
    OTHER_BEND,
    OTHER_FULL,
    OTHER_RISK,
    OTHER_WEIGHT,
    OWN_BEND,
    OWN_FULL,
    OWN_RISK,
    OWN_WEIGHT,
    START,
    Values,
    counterpart_issue,
    curve_issue,
    distance_of,
    loss_of,
    share_of,
)
from sim.numerics import compiled

ITERATIONS = 12  # bisection steps: the point is found to 2**-12 of the curve


@dataclass
class TradeOff:
    """What the search found, per searched row: the point s (R',) on the curve (1 where even full
    concession is not enough), whether full concession is acceptable at all, the package there
    (R', I) and the utility the proposer gives up for it (R',)."""

    point: np.ndarray
    feasible: np.ndarray
    package: np.ndarray
    cost: np.ndarray


def trade_off(
    rows: np.ndarray,
    proposer: int,
    others: np.ndarray,
    own: Values,
    believed: Values,
    needed: np.ndarray,
    span: np.ndarray,
    bodies: Values | None = None,
    cap: np.ndarray | None = None,
    iterations: int = ITERATIONS,
) -> TradeOff:
    """Search the batch rows ``rows`` (R',) for the cheapest offer ``proposer`` (an index of axis 1)
    believes every other party in ``others`` (P,) and every body accepts.

    Args:
        own: the proposer's own values (its ideal, weight and risk are read).
        believed: the others' values as the proposer believes them.
        needed: (R', P + B) least utility each other party, then each body, is believed to accept.
        span: (I,) width of each issue's range.
        bodies: the ratifying bodies of the others (B of them) as the proposer believes them: ideals
            (R', B, I), normalised saliences and risks (R', B) of the searched rows; or None.
        cap: (R',) most utility the proposer gives up (its demand's complement), or None: no cap.
    """
    count, issues = len(rows), own.ideal.shape[2]
    if bodies is None:
        bodies = Values(np.empty((count, 0, issues)), np.empty((count, 0, issues)), np.empty((count, 0)))
    point, feasible = np.empty(count), np.empty(count, dtype=np.bool_)
    package, cost = np.empty((count, issues)), np.empty(count)
    f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    _search(
        np.asarray(rows, dtype=np.int64), proposer, np.asarray(others, dtype=np.int64),
        f64(own.ideal), f64(own.weight), f64(own.risk), f64(believed.ideal), f64(believed.weight), f64(believed.risk),
        f64(bodies.ideal), f64(bodies.weight), f64(bodies.risk), f64(needed).reshape(count, -1), f64(span),
        np.empty(0) if cap is None else f64(cap), iterations, point, feasible, package, cost,
    )  # fmt: skip
    return TradeOff(point, feasible, package, cost)


BLOCK = 32  # runs bisected side by side, a lane each: the innermost loops run over lanes (SIMD)


@compiled
def _search(rows, j, others, own_ideal, own_weight, own_risk, ideal, weight, risk, body_ideal, body_weight,
            body_risk, needed, span, cap, iterations, point, feasible, package, cost) -> None:  # fmt: skip
    issues, parties, body_count = own_ideal.shape[2], others.shape[0], body_ideal.shape[1]
    judges = 0 if parties == 1 and body_count == 0 else parties + body_count  # 0: the counterpart judges itself
    count, capped = rows.shape[0], cap.shape[0] > 0
    curve = np.empty((len(CURVE_FIELDS), issues, BLOCK))  # lanes last: contiguous for the inner loops
    at, wt = np.empty((judges, issues, BLOCK)), np.empty((judges, issues, BLOCK))
    rho, want = np.empty((judges, BLOCK)), np.empty((max(judges, 1), BLOCK))
    shares, limit = np.empty((issues, BLOCK)), np.empty(BLOCK)
    low, high, middle, lost = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    ok, judged = np.empty(BLOCK), np.empty(BLOCK)
    for first in range(0, count, BLOCK):
        for b in range(BLOCK):  # each lane's run; the spare lanes of a short last block repeat its first run
            k = first + b if first + b < count else first
            r = rows[k]
            mean_risk = 0.0
            for o in range(parties):
                mean_risk += risk[r, others[o]]
            mean_risk /= parties
            for i in range(issues):
                target, summed = counterpart_issue(ideal, weight, r, others, i)
                values = curve_issue(own_ideal[r, j, i], target, own_weight[r, j, i], own_risk[r, j], summed,
                                     mean_risk, span[i])  # fmt: skip
                for field in range(len(values)):
                    curve[field, i, b] = values[field]
            for n in range(judges):
                for i in range(issues):
                    if n < parties:
                        at[n, i, b], wt[n, i, b] = ideal[r, others[n], i], weight[r, others[n], i]
                    else:
                        at[n, i, b], wt[n, i, b] = body_ideal[k, n - parties, i], body_weight[k, n - parties, i]
                rho[n, b] = risk[r, others[n]] if n < parties else body_risk[k, n - parties]
            for n in range(max(judges, 1)):
                want[n, b] = needed[k, n]
            limit[b] = cap[k] if capped else 0.0
            low[b], high[b] = 0.0, 1.0
        for step in range(-1, iterations):  # step -1: full concession, whether it is acceptable at all
            for b in range(BLOCK):
                middle[b] = 0.5 * (low[b] + high[b])
            for i in range(issues):
                give, keep, own_bend = curve[GIVE, i], curve[KEEP, i], curve[OWN_BEND, i]
                other_bend, own_full, other_full = curve[OTHER_BEND, i], curve[OWN_FULL, i], curve[OTHER_FULL, i]
                row = shares[i]
                for b in range(BLOCK):
                    row[b] = 1.0 if step < 0 else share_of(middle[b], give[b], keep[b], own_bend[b], other_bend[b],
                                                           own_full[b], other_full[b])  # fmt: skip
            if judges == 0:
                lost[:] = 0.0
                for i in range(issues):
                    other_weight, distance, other_risk, row = curve[OTHER_WEIGHT, i], curve[DISTANCE, i], \
                        curve[OTHER_RISK, i], shares[i]  # fmt: skip
                    for b in range(BLOCK):
                        lost[b] += other_weight[b] * loss_of((1.0 - row[b]) * distance[b], other_risk[b])
                for b in range(BLOCK):
                    ok[b] = 1.0 if 1.0 - lost[b] >= want[0, b] else 0.0
            else:
                ok[:] = 1.0
                for n in range(judges):
                    judged[:] = 0.0
                    for i in range(issues):
                        start, direction, row = curve[START, i], curve[DIRECTION, i], shares[i]
                        position, w = at[n, i], wt[n, i]
                        for b in range(BLOCK):
                            offer = start[b] + row[b] * direction[b]
                            judged[b] += w[b] * loss_of(distance_of(offer, position[b], span[i]), rho[n, b])
                    for b in range(BLOCK):
                        ok[b] = ok[b] if 1.0 - judged[b] >= want[n, b] else 0.0
            if step < 0:
                for b in range(min(BLOCK, count - first)):
                    feasible[first + b] = ok[b] > 0
                continue
            if capped:  # or where the proposer would give up its cap
                lost[:] = 0.0
                for i in range(issues):
                    own_weight_i, distance, own_risk_i, row = curve[OWN_WEIGHT, i], curve[DISTANCE, i], \
                        curve[OWN_RISK, i], shares[i]  # fmt: skip
                    for b in range(BLOCK):
                        lost[b] += own_weight_i[b] * loss_of(row[b] * distance[b], own_risk_i[b])
                for b in range(BLOCK):
                    ok[b] = 1.0 if (ok[b] > 0 or lost[b] >= limit[b]) else 0.0
            for b in range(BLOCK):
                high[b] = middle[b] if ok[b] > 0 else high[b]
                low[b] = low[b] if ok[b] > 0 else middle[b]
        for b in range(min(BLOCK, count - first)):
            k = first + b
            point[k] = high[b]
            spent = 0.0
            for i in range(issues):
                share = share_of(high[b], curve[GIVE, i, b], curve[KEEP, i, b], curve[OWN_BEND, i, b],
                                 curve[OTHER_BEND, i, b], curve[OWN_FULL, i, b], curve[OTHER_FULL, i, b])  # fmt: skip
                package[k, i] = curve[START, i, b] + share * curve[DIRECTION, i, b]
                spent += curve[OWN_WEIGHT, i, b] * loss_of(share * curve[DISTANCE, i, b], curve[OWN_RISK, i, b])
            cost[k] = spent
