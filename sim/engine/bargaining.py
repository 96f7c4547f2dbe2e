"""Pure array functions of the bargaining stage: utilities and trade-off offers.

Shapes put the run axis first: R runs, A actors, I issues. Positions are in issue units, distances
are shares of an issue's range (0-1), utilities are on the 0-1 scale (1 = the actor's ideal).

The offer rule is the trade-off heuristic (Faratin, Sierra & Jennings 2002; Raiffa 1982): the proposer
moves along the efficient contract curve between itself and the other parties as it believes them,
giving ground first on the issues they care most about relative to itself, which is how logrolling
emerges. It concedes along this curve just far enough that it believes every responder accepts, and
never past its demand, which its tactic sets (``sim.engine.tactics``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.numerics import total

STATUS_ACTIVE, STATUS_AGREEMENT, STATUS_WALKOUT, STATUS_BREAKDOWN, STATUS_NO_DEAL = range(5)
STATUS_CONVERGED, STATUS_HORIZON = 5, 6  # influence-only runs: the model's stopping rule, or out of rounds
STATUS_SIGNED, STATUS_REJECTED, STATUS_FROZEN = 7, 8, 9  # awaiting ratification; rejected, talks over; collapsed
STATUS_NAMES = ("active", "agreement", "walkout", "breakdown", "no_deal", "converged", "horizon", "signed",
                "rejected", "frozen")  # fmt: skip


def loss(distance: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """Utility loss of a distance d in [0, 1]: d - r d (1 - d), monotone for r in [-1, 1].

    r = 1 gives d^2 (risk-averse, convex loss), r = 0 linear, r = -1 gives 2d - d^2 (risk-acceptant)."""
    bent = risk * distance
    bent *= 1.0 - distance
    if isinstance(bent, np.ndarray):  # in place: this is the innermost arithmetic of every search
        return np.subtract(distance, bent, out=bent)
    return distance - bent


def utility(
    package: np.ndarray, ideal: np.ndarray, weight: np.ndarray, risk: np.ndarray, span: np.ndarray
) -> np.ndarray:
    """Utility of packages to actors, 0-1.

    Args:
        package: (..., I) positions; broadcast against ideal (e.g. (R, 1, I) against (R, A, I)).
        ideal: (..., I) ideal points.
        weight: (..., I) normalised saliences.
        risk: (...) risk attitudes in [-1, 1].
        span: (I,) width of each issue's range.
    """
    distance = np.minimum(np.abs(package - ideal) / span, 1.0)
    return 1.0 - total(weight * loss(distance, risk[..., None]))


def counterpart(ideal: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the other parties stand as one counterpart: salience-weighted mean ideal (R, I) over
    axis 1 of (R, P, I) arrays, and their summed saliences (R, I)."""
    summed = total(weight, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(summed > 0, total(weight * ideal, axis=1) / summed, ideal.mean(axis=1))
    return target, summed


PATH_MIN_RISK = 0.1  # least curvature of the losses the trade-off path is laid out with


@dataclass
class ContractCurve:
    """The efficient trade-off path between a proposer and its (believed) counterpart.

    Points on it are indexed by s in [0, 1]: s = 0 is the proposer's ideal, s = 1 the counterpart's.
    In between, each issue is conceded where the proposer's marginal loss equals mu = s / (1 - s)
    times the counterpart's marginal gain, so an issue the counterpart cares about more (relative to
    the proposer) is conceded sooner and further: logrolling. With quadratic losses (risk 1) this is
    the contract curve x_i = (w_p x_p + mu w_o x_o) / (w_p + mu w_o); as losses approach linear,
    whole issues switch one at a time in order of w_o / w_p. The curve is laid out as if both sides
    were at least slightly risk-averse (risk >= ``PATH_MIN_RISK``) so that it passes continuously
    through the partial concessions between whole-issue trades (with exactly linear losses those
    points are all equally efficient but the marginal-rate rule cannot reach them); utilities along
    it always use the true risk attitudes. All arrays are (R, I), per-run values repeated over issues
    included: the bisection's arithmetic on full arrays is faster than broadcasting (R, 1) against them.
    """

    start: np.ndarray  # proposer's ideal
    direction: np.ndarray  # counterpart's ideal - start
    distance: np.ndarray  # |direction| as a share of the range, 0-1
    own_weight: np.ndarray  # proposer's normalised salience
    own_risk: np.ndarray  # the proposer's risk attitude, repeated over issues
    keep: np.ndarray  # proposer's marginal loss at no concession: w_p (1 - r_p)
    give: np.ndarray  # counterpart's marginal gain at no concession: w_o (1 - r_o + 2 r_o d)
    own_bend: np.ndarray  # 2 d w_p r_p: growth of the proposer's marginal loss
    other_bend: np.ndarray  # 2 d w_o r_o: fall of the counterpart's marginal gain
    other_weight: np.ndarray  # counterpart's normalised salience
    other_risk: np.ndarray  # the counterpart's, repeated over issues
    own_full: np.ndarray  # proposer's loss from conceding the issue fully
    other_full: np.ndarray  # counterpart's loss if the issue is not conceded at all
    convex: bool  # every issue strictly convex for both sides: no all-or-nothing issue anywhere


def contract_curve(
    start: np.ndarray,
    weight: np.ndarray,
    risk: np.ndarray,
    target: np.ndarray,
    others_weight: np.ndarray,
    others_risk: np.ndarray,
    span: np.ndarray,
) -> ContractCurve:
    """The trade-off path from ``start`` (R, I) towards ``target`` (R, I), for a proposer with
    normalised saliences ``weight`` (R, I) and risk (R,), and a counterpart with ``others_weight``
    (R, I) and ``others_risk`` (R,)."""
    direction = target - start
    distance = np.minimum(np.abs(direction) / span, 1.0)
    own_risk, other_risk = (np.repeat(r[:, None], start.shape[1], axis=1) for r in (risk, others_risk))
    own_shape, other_shape = np.maximum(own_risk, PATH_MIN_RISK), np.maximum(other_risk, PATH_MIN_RISK)
    own_bend = 2.0 * distance * weight * own_shape
    other_bend = 2.0 * distance * others_weight * other_shape
    return ContractCurve(
        start=start,
        direction=direction,
        distance=distance,
        own_weight=weight,
        own_risk=own_risk,
        keep=weight * (1.0 - own_shape),
        give=others_weight * (1.0 - other_shape + 2.0 * other_shape * distance),
        own_bend=own_bend,
        other_bend=other_bend,
        other_weight=others_weight,
        other_risk=other_risk,
        own_full=weight * loss(distance, own_shape),
        other_full=others_weight * loss(distance, other_shape),
        convex=bool(((own_bend > 0) & (other_bend > 0)).all()),
    )


def conceded(curve: ContractCurve, s: np.ndarray) -> np.ndarray:
    """Share of each issue's gap conceded (R, I), 0-1, at points ``s`` (R,) of the curve."""
    # in place and on full (R, I) arrays: the bisection calls this 12 times a search
    s = np.repeat(s[:, None], curve.give.shape[1], axis=1)
    rest = 1.0 - s
    numerator = s * curve.give
    numerator -= rest * curve.keep
    bend = rest * curve.own_bend
    bend += s * curve.other_bend
    if curve.convex:
        numerator /= bend
        return np.clip(numerator, 0.0, 1.0, out=numerator)
    with np.errstate(divide="ignore", invalid="ignore"):
        interior = np.clip(numerator / bend, 0.0, 1.0)
    corner = rest * curve.own_full < s * curve.other_full  # not strictly convex: all or nothing
    return np.where(bend > 0, interior, corner)


def package_at(curve: ContractCurve, s: np.ndarray) -> np.ndarray:
    """The package (R, I) at points ``s`` (R,) of the curve."""
    return curve.start + conceded(curve, s) * curve.direction


def own_cost(curve: ContractCurve, s: np.ndarray) -> np.ndarray:
    """Utility (R,) the proposer gives up at points ``s`` (R,) of the curve, 0-1."""
    return _own_cost(curve, conceded(curve, s))


def _own_cost(curve: ContractCurve, shares: np.ndarray) -> np.ndarray:
    return total(curve.own_weight * loss(shares * curve.distance, curve.own_risk))


def counterpart_utility(curve: ContractCurve, shares: np.ndarray) -> np.ndarray:
    """Utility (R,) to the counterpart, whose ideal is the curve's end, of conceding ``shares`` (R, I):
    its remaining distance on each issue is (1 - share) times the gap."""
    return 1.0 - total(curve.other_weight * loss((1.0 - shares) * curve.distance, curve.other_risk))


def cheapest_acceptable(
    curve: ContractCurve,
    acceptable: Callable[[np.ndarray], np.ndarray],
    cap: np.ndarray | None = None,
    iterations: int = 12,
) -> tuple[np.ndarray, np.ndarray]:
    """The first point s (R,) along the curve at which ``acceptable(shares)`` holds (``shares`` (R, I)
    as from :func:`conceded`) or, with a ``cap`` (R,), at which the proposer would give up ``cap``
    utility, whichever comes first; found by bisection to 2**-iterations. Also whether full
    concession is acceptable at all."""
    feasible = acceptable(np.ones_like(curve.start))
    low, high = np.zeros(len(curve.start)), np.ones(len(curve.start))
    for _ in range(iterations):
        middle = 0.5 * (low + high)
        shares = conceded(curve, middle)
        ok = acceptable(shares)
        if cap is not None:
            ok |= _own_cost(curve, shares) >= cap
        high = np.where(ok, middle, high)
        low = np.where(ok, low, middle)
    return high, feasible
