"""The pure bargaining functions: losses, aspirations, the contract curve and the offer search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.engine.bargaining import (
    Values,
    conceded,
    contract_curve,
    counterpart,
    counterpart_utility,
    loss_of,
    own_cost,
    package_at,
    utility,
)
from sim.engine.offers import trade_off
from sim.engine.strategies import going_on
from sim.engine.tactics import time_demand
from sim.numerics import normalised

unit = st.floats(0, 1)
risk = st.floats(-1, 1)


@given(unit, unit, risk)
def test_loss_is_monotone_with_fixed_ends(a, b, r):
    low, high = sorted((a, b))
    assert loss_of(low, r) <= loss_of(high, r) + 1e-12
    assert loss_of(0.0, r) == 0.0
    assert abs(loss_of(1.0, r) - 1.0) < 1e-12


def test_time_dependent_demand_ends_and_shapes():
    floor, beta, deadline = np.array([0.4]), np.array([0.3]), np.array([52.0])
    assert time_demand(0, deadline, beta, floor)[0] == 1.0
    assert time_demand(51, deadline, beta, floor)[0] == 0.4  # the deadline's round reaches the floor
    assert time_demand(80, deadline, beta, floor)[0] == 0.4  # and stays there
    mid = {b: time_demand(26, np.array([53.0]), np.array([b]), floor)[0] for b in (0.3, 1.0, 3.0)}
    assert mid[0.3] > mid[1.0] > mid[3.0]  # Boulware holds out, Conceder gives in early
    assert abs(mid[1.0] - 0.7) < 1e-12
    assert time_demand(500, np.array([np.inf]), beta, floor)[0] == 1.0  # no deadline: no concession
    assert time_demand(0, np.array([1.0]), beta, floor)[0] == 0.4  # a deadline of one round: at once


def test_the_value_of_going_on_counts_the_status_quo_flow():
    patience, breakdown, outside = np.array([0.9]), np.array([0.0]), np.array([0.3])
    assert going_on(patience, 0.0, np.array([0.8]), breakdown, outside)[0] == pytest.approx(0.72)
    assert going_on(patience, np.array([0.5]), np.array([0.8]), breakdown, outside)[0] == pytest.approx(0.77)
    frozen = going_on(patience, np.array([0.5]), np.array([0.8]), np.array([1.0]), np.array([0.5]))
    assert frozen[0] == pytest.approx(0.5)


def _random_curve(seed: int, n: int = 64, issues: int = 5):
    rng = np.random.default_rng(seed)
    span = rng.uniform(1, 100, issues)
    start = rng.uniform(0, 1, (n, issues)) * span
    target = rng.uniform(0, 1, (n, issues)) * span
    weight = normalised(rng.uniform(0.01, 1, (n, issues)))
    other = normalised(rng.uniform(0.01, 1, (n, issues)))
    own_risk, other_risk = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    curve = contract_curve(start, weight, own_risk, target, other, other_risk, span)
    return curve, (target, other, other_risk, span, start, weight, own_risk)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0, 1), st.floats(0, 1))
def test_curve_ends_and_monotone_concessions(seed, s1, s2):
    curve, (target, *_) = _random_curve(seed)
    n = len(curve.start)
    np.testing.assert_allclose(package_at(curve, np.zeros(n)), curve.start)
    np.testing.assert_allclose(package_at(curve, np.ones(n)), target)
    low, high = sorted((s1, s2))
    assert np.all(conceded(curve, np.full(n, low)) <= conceded(curve, np.full(n, high)) + 1e-12)
    assert np.all(own_cost(curve, np.full(n, low)) <= own_cost(curve, np.full(n, high)) + 1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0, 1))
def test_counterpart_utility_matches_the_general_utility(seed, s):
    curve, (target, other, other_risk, span, *_) = _random_curve(seed)
    shares = conceded(curve, np.full(len(curve.start), s))
    direct = utility(curve.start + shares * curve.direction, target, other, other_risk, span)
    np.testing.assert_allclose(counterpart_utility(curve, shares), direct, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), arrays(float, 64, elements=st.floats(0, 1)))
def test_offer_search_finds_the_first_acceptable_point(seed, needed):
    _, (target, other, other_risk, span, start, weight, own_risk) = _random_curve(seed)
    # the proposer (actor 0) and one other party (actor 1): the search lays out the curve towards it
    both = Values(np.stack([start, target], 1), np.stack([weight, other], 1), np.stack([own_risk, other_risk], 1))
    towards, summed = counterpart(both.ideal[:, 1:], both.weight[:, 1:])
    curve = contract_curve(start, weight, own_risk, towards, summed, other_risk, span)
    found = trade_off(np.arange(len(start)), 0, np.array([1]), both, both, needed[:, None], span)
    point, feasible = found.point, found.feasible
    np.testing.assert_array_equal(found.package, package_at(curve, point))
    np.testing.assert_array_equal(found.cost, own_cost(curve, point))
    at_point = counterpart_utility(curve, conceded(curve, point))
    assert np.all(at_point[feasible] >= needed[feasible])
    just_before = counterpart_utility(curve, conceded(curve, np.maximum(point - 2.0**-12, 0)))
    strictly_inside = feasible & (point > 2.0**-12)
    assert np.all(just_before[strictly_inside] < needed[strictly_inside])
    assert np.all(point[~feasible] == 1.0)


def test_logrolling_gives_ground_where_the_other_cares_more():
    # Issue 0 matters to the proposer, issue 1 to the counterpart: midway along the curve the
    # proposer has conceded issue 1 much further than issue 0.
    start, target, span = np.array([[100.0, 0.0]]), np.array([[0.0, 100.0]]), np.array([100.0, 100.0])
    curve = contract_curve(
        start, np.array([[0.8, 0.2]]), np.array([0.5]), target, np.array([[0.2, 0.8]]), np.array([0.5]), span
    )
    shares = conceded(curve, np.array([0.5]))[0]
    assert shares[1] > 0.9 and shares[0] < 0.1
