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

from dataclasses import dataclass

import numpy as np

from sim.numerics import compiled, inlined

STATUS_ACTIVE, STATUS_AGREEMENT, STATUS_WALKOUT, STATUS_BREAKDOWN, STATUS_NO_DEAL = range(5)
STATUS_CONVERGED, STATUS_HORIZON = 5, 6  # influence-only runs: the model's stopping rule, or out of rounds
STATUS_SIGNED, STATUS_REJECTED, STATUS_FROZEN = 7, 8, 9  # awaiting ratification; rejected, talks over; collapsed
STATUS_NAMES = ("active", "agreement", "walkout", "breakdown", "no_deal", "converged", "horizon", "signed",
                "rejected", "frozen")  # fmt: skip


# The kernels below pass only numbers to their helpers: an array handed to a helper costs a reference
# count in the innermost loop (measured: four times slower).
@inlined
def loss_of(distance: float, risk: float) -> float:
    """Utility loss of a distance d in [0, 1]: d - r d (1 - d), monotone for r in [-1, 1].

    r = 1 gives d^2 (risk-averse, convex loss), r = 0 linear, r = -1 gives 2d - d^2 (risk-acceptant)."""
    bent = risk * distance
    bent *= 1.0 - distance
    return distance - bent


@inlined
def distance_of(position: float, ideal: float, span: float) -> float:
    """|position - ideal| as a share of the issue's range, at most 1 (NaN stays NaN, as in np.minimum)."""
    distance = abs(position - ideal) / span
    return 1.0 if distance > 1.0 else distance


@compiled
def _utilities(package, ideal, weight, risk, span, out) -> None:
    for r in range(ideal.shape[0]):
        for a in range(ideal.shape[1]):
            lost = 0.0
            for i in range(ideal.shape[2]):
                lost += weight[r, a, i] * loss_of(distance_of(package[r, a, i], ideal[r, a, i], span[i]), risk[r, a])
            out[r, a] = 1.0 - lost


def _as_runs_actors_issues(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` broadcast to ``shape`` and viewed as (R, A, I) (no copy)."""
    view = np.broadcast_to(np.asarray(array, dtype=np.float64), shape)
    return view.reshape((1,) * (3 - view.ndim) + view.shape) if view.ndim < 3 else view


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
    shape = np.broadcast_shapes(np.shape(package), np.shape(ideal), np.shape(weight), np.shape(risk) + (1,))
    if len(shape) > 3:
        raise ValueError(f"utility takes at most (R, A, I) arrays, not {shape}")
    views = [_as_runs_actors_issues(a, shape) for a in (package, ideal, weight)]
    risks = _as_runs_actors_issues(np.asarray(risk, dtype=np.float64)[..., None], shape)[..., 0]
    out = np.empty(views[0].shape[:2])
    _utilities(*views, risks, np.asarray(span, dtype=np.float64), out)
    return out.reshape(shape[:-1])


@dataclass
class Values:
    """Actors' values as one side sees them, for every batch row: ideals (R, A, I), normalised
    saliences (R, A, I) and risks (R, A)."""

    ideal: np.ndarray
    weight: np.ndarray
    risk: np.ndarray


@compiled
def _utilities_in(rows, actors, package, ideal, weight, risk, span, out) -> None:
    for k in range(rows.shape[0]):
        r = rows[k]
        offered = package[k]
        for n in range(actors.shape[0]):
            a = actors[n]
            at, weight_of, risk_of = ideal[r, a], weight[r, a], risk[r, a]  # views: indexed faster than the batch's
            lost = 0.0
            for i in range(ideal.shape[2]):
                lost += weight_of[i] * loss_of(distance_of(offered[i], at[i], span[i]), risk_of)
            out[k, n] = 1.0 - lost


def utility_in(
    rows: np.ndarray, actors: np.ndarray, package: np.ndarray, values: Values, span: np.ndarray
) -> np.ndarray:
    """Utility (R', K), 0-1, of the packages (R', I) offered in the batch rows ``rows`` (R',) to the
    ``actors`` (K,), with their values ``values`` (read in place: no gathered copies); the same
    numbers as ``utility`` of the gathered arrays."""
    out = np.empty((len(rows), len(actors)))
    _utilities_in(
        np.asarray(rows, dtype=np.int64), np.asarray(actors, dtype=np.int64), np.asarray(package, dtype=np.float64),
        np.asarray(values.ideal, dtype=np.float64), np.asarray(values.weight, dtype=np.float64),
        np.asarray(values.risk, dtype=np.float64), np.asarray(span, dtype=np.float64), out,
    )  # fmt: skip
    return out


def counterpart(ideal: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the other parties stand as one counterpart: salience-weighted mean ideal (R, I) over
    axis 1 of (R, P, I) arrays (their plain mean on an issue none of them cares about), and their
    summed saliences (R, I)."""
    ideal, weight = np.asarray(ideal, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    target, summed = np.empty(ideal.shape[::2]), np.empty(ideal.shape[::2])
    _counterparts(ideal, weight, target, summed)
    return target, summed


@inlined
def counterpart_issue(ideal, weight, r: int, others, i: int) -> tuple[float, float]:
    """The counterpart's ideal and summed salience on issue ``i`` in batch row ``r``, from the (R, A, I)
    arrays at the actors ``others`` (plain order, as numpy sums a short axis)."""
    summed, weighted, plain = 0.0, 0.0, 0.0
    for k in range(others.shape[0]):
        o = others[k]
        summed += weight[r, o, i]
        weighted += weight[r, o, i] * ideal[r, o, i]
        plain += ideal[r, o, i]
    return (weighted / summed if summed > 0 else plain / others.shape[0]), summed


@compiled
def _counterparts(ideal, weight, target, summed) -> None:
    everyone = np.arange(ideal.shape[1])
    for r in range(ideal.shape[0]):
        for i in range(ideal.shape[2]):
            target[r, i], summed[r, i] = counterpart_issue(ideal, weight, r, everyone, i)


PATH_MIN_RISK = 0.1  # least curvature of the losses the trade-off path is laid out with

#: What the curve holds per run and issue, in ``curve_issue``'s order (rows of a kernel's scratch array).
CURVE_FIELDS = ("start", "direction", "distance", "own_weight", "own_risk", "keep", "give", "own_bend", "other_bend",
                "other_weight", "other_risk", "own_full", "other_full")  # fmt: skip
START, DIRECTION, DISTANCE, OWN_WEIGHT, OWN_RISK, KEEP, GIVE, OWN_BEND, OTHER_BEND, OTHER_WEIGHT, OTHER_RISK, \
    OWN_FULL, OTHER_FULL = range(len(CURVE_FIELDS))  # fmt: skip


@inlined
def _at_least(value: float, floor: float) -> float:
    return value if (value >= floor or value != value) else floor  # np.maximum: NaN stays


@inlined
def curve_issue(start: float, target: float, weight: float, risk: float, other_weight: float, other_risk: float,
                span: float) -> tuple:  # fmt: skip
    """One issue of the curve: its 13 values, in the order of ``CURVE_FIELDS``."""
    direction = target - start
    distance = distance_of(direction, 0.0, span)
    own_shape, other_shape = _at_least(risk, PATH_MIN_RISK), _at_least(other_risk, PATH_MIN_RISK)
    return (
        start, direction, distance, weight, risk,
        weight * (1.0 - own_shape),  # keep
        other_weight * (1.0 - other_shape + 2.0 * other_shape * distance),  # give
        2.0 * distance * weight * own_shape,  # own_bend
        2.0 * distance * other_weight * other_shape,  # other_bend
        other_weight, other_risk,
        weight * loss_of(distance, own_shape),  # own_full
        other_weight * loss_of(distance, other_shape),  # other_full
    )  # fmt: skip


@inlined
def share_of(s: float, give: float, keep: float, own_bend: float, other_bend: float, own_full: float,
             other_full: float) -> float:  # fmt: skip
    """Share of an issue's gap conceded at point ``s`` of the curve, 0-1, from the curve's values there
    (numbers only: an array handed to a helper costs a reference count in the innermost loop)."""
    rest = 1.0 - s
    numerator = s * give
    numerator -= rest * keep
    bend = rest * own_bend
    bend += s * other_bend
    if bend > 0:
        share = numerator / bend
        if share < 0.0:  # np.clip's order: NaN stays, -0.0 stays
            share = 0.0
        return 1.0 if share > 1.0 else share
    return 1.0 if rest * own_full < s * other_full else 0.0  # not strictly convex here: all or nothing


@inlined
def share_at(curve, i: int, s: float) -> float:
    """``share_of`` issue ``i`` of a laid-out curve (rows ``CURVE_FIELDS``, a column per issue)."""
    return share_of(s, curve[GIVE, i], curve[KEEP, i], curve[OWN_BEND, i], curve[OTHER_BEND, i], curve[OWN_FULL, i],
                    curve[OTHER_FULL, i])  # fmt: skip


@inlined
def own_cost_of(curve, shares) -> float:
    """Utility the proposer gives up by conceding ``shares`` (I,)."""
    lost = 0.0
    for i in range(shares.shape[0]):
        lost += curve[OWN_WEIGHT, i] * loss_of(shares[i] * curve[DISTANCE, i], curve[OWN_RISK, i])
    return lost


@inlined
def counterpart_utility_of(curve, shares) -> float:
    """Utility to the counterpart of conceding ``shares`` (I,): it remains (1 - share) of the gap away."""
    lost = 0.0
    for i in range(shares.shape[0]):
        lost += curve[OTHER_WEIGHT, i] * loss_of((1.0 - shares[i]) * curve[DISTANCE, i], curve[OTHER_RISK, i])
    return 1.0 - lost


@dataclass
class ContractCurve:
    """The efficient trade-off path between a proposer and its (believed) counterpart, laid out for
    R runs: ``values`` (R, 13, I), one (R, I) array per name of ``CURVE_FIELDS`` (``curve.give``).

    Points on it are indexed by s in [0, 1]: s = 0 is the proposer's ideal, s = 1 the counterpart's.
    In between, each issue is conceded where the proposer's marginal loss equals mu = s / (1 - s)
    times the counterpart's marginal gain, so an issue the counterpart cares about more (relative to
    the proposer) is conceded sooner and further: logrolling. With quadratic losses (risk 1) this is
    the contract curve x_i = (w_p x_p + mu w_o x_o) / (w_p + mu w_o); as losses approach linear,
    whole issues switch one at a time in order of w_o / w_p. The curve is laid out as if both sides
    were at least slightly risk-averse (risk >= ``PATH_MIN_RISK``) so that it passes continuously
    through the partial concessions between whole-issue trades (with exactly linear losses those
    points are all equally efficient but the marginal-rate rule cannot reach them); utilities along
    it always use the true risk attitudes. Per issue: ``keep`` w_p (1 - r_p) is the proposer's marginal
    loss at no concession, ``give`` w_o (1 - r_o + 2 r_o d) the counterpart's marginal gain, ``own_bend``
    2 d w_p r_p and ``other_bend`` 2 d w_o r_o how they change, ``own_full`` and ``other_full`` the
    losses of conceding the issue fully or not at all.

    The offer search (``trade_off``) lays the same curve out one run at a time inside its kernel, with the
    same helpers; this form holds it for all runs at once, for the tests of its shape and for inspection.
    """

    values: np.ndarray

    def __getattr__(self, name: str) -> np.ndarray:
        if name in CURVE_FIELDS:
            return self.values[:, CURVE_FIELDS.index(name)]
        raise AttributeError(name)


@compiled
def _lay_out(start, weight, risk, target, others_weight, others_risk, span, out) -> None:
    for r in range(start.shape[0]):
        for i in range(start.shape[1]):
            values = curve_issue(start[r, i], target[r, i], weight[r, i], risk[r], others_weight[r, i],
                                 others_risk[r], span[i])  # fmt: skip
            for field in range(len(values)):
                out[r, field, i] = values[field]


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
    arrays = [np.asarray(a, dtype=np.float64) for a in (start, weight, risk, target, others_weight, others_risk, span)]
    out = np.empty((arrays[0].shape[0], len(CURVE_FIELDS), arrays[0].shape[1]))
    _lay_out(*arrays, out)
    return ContractCurve(out)


@compiled
def _at_points(curve, s, what: int, out) -> None:
    """At points ``s`` (R,) of the curves (R, 13, I): the conceded shares (``what`` 0) or the packages
    (1) into ``out`` (R, I), or the proposer's cost (2) into ``out[:, 0]``."""
    shares = np.empty(curve.shape[2])
    for r in range(curve.shape[0]):
        for i in range(curve.shape[2]):
            shares[i] = share_at(curve[r], i, s[r])
            if what == 1:
                out[r, i] = curve[r, START, i] + shares[i] * curve[r, DIRECTION, i]
            elif what == 0:
                out[r, i] = shares[i]
        if what == 2:
            out[r, 0] = own_cost_of(curve[r], shares)


def _points(curve: ContractCurve, s: np.ndarray, what: int) -> np.ndarray:
    out = np.empty(curve.values[:, 0].shape)
    _at_points(curve.values, np.asarray(s, dtype=np.float64), what, out)
    return out


def conceded(curve: ContractCurve, s: np.ndarray) -> np.ndarray:
    """Share of each issue's gap conceded (R, I), 0-1, at points ``s`` (R,) of the curve."""
    return _points(curve, s, 0)


def package_at(curve: ContractCurve, s: np.ndarray) -> np.ndarray:
    """The package (R, I) at points ``s`` (R,) of the curve."""
    return _points(curve, s, 1)


def own_cost(curve: ContractCurve, s: np.ndarray) -> np.ndarray:
    """Utility (R,) the proposer gives up at points ``s`` (R,) of the curve, 0-1."""
    return _points(curve, s, 2)[:, 0]


@compiled
def _counterpart_utilities(curve, shares, out) -> None:
    for r in range(curve.shape[0]):
        out[r] = counterpart_utility_of(curve[r], shares[r])


def counterpart_utility(curve: ContractCurve, shares: np.ndarray) -> np.ndarray:
    """Utility (R,) to the counterpart, whose ideal is the curve's end, of conceding ``shares`` (R, I):
    its remaining distance on each issue is (1 - share) times the gap."""
    out = np.empty(len(curve.values))
    _counterpart_utilities(curve.values, np.asarray(shares, dtype=np.float64), out)
    return out
