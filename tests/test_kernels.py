"""The compiled kernels give the numpy formulas' numbers to the bit.

Each kernel replaced numpy code that did the same arithmetic on whole arrays; the numpy forms are kept
here, written out as plainly as possible, and the kernels must match them byte for byte on random
inputs: the same IEEE operations in the same order, so no result of the engine depends on which of the
two computed it (and a numba or LLVM change that reordered arithmetic would fail here first).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.arrays import ActorArrays
from sim.engine.bargaining import PATH_MIN_RISK, Values, utility, utility_in
from sim.engine.events import CompiledEffect
from sim.engine.offers import trade_off
from sim.engine.random import uniforms
from sim.influence.pull import pull
from sim.numerics import normalised


def plain_sum(values: np.ndarray, axis: int) -> np.ndarray:
    """Term by term from 0.0, numpy's order on a short axis."""
    terms = np.moveaxis(values, axis, 0)
    out = terms[0] + 0.0
    for term in terms[1:]:
        out = out + term
    return out


def numpy_loss(distance, risk):
    bent = risk * distance
    bent = bent * (1.0 - distance)
    return distance - bent


def numpy_utility(package, ideal, weight, risk, span):
    distance = np.minimum(np.abs(package - ideal) / span, 1.0)
    return 1.0 - plain_sum(weight * numpy_loss(distance, risk[..., None]), -1)


def numpy_search(start, weight, risk, ideal, others_weight, others_risk, span, needed, judges, cap, iterations=12):
    """The offer search as numpy did it before it was compiled: lay out the curve, bisect it."""
    summed = plain_sum(others_weight, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(
            summed > 0, plain_sum(others_weight * ideal, 1) / summed, plain_sum(ideal, 1) / ideal.shape[1]
        )
    mean_risk = plain_sum(others_risk, 1) / others_risk.shape[1]
    direction = target - start
    distance = np.minimum(np.abs(direction) / span, 1.0)
    own_risk, other_risk = (np.repeat(r[:, None], start.shape[1], axis=1) for r in (risk, mean_risk))
    own_shape, other_shape = np.maximum(own_risk, PATH_MIN_RISK), np.maximum(other_risk, PATH_MIN_RISK)
    keep, give = weight * (1.0 - own_shape), summed * (1.0 - other_shape + 2.0 * other_shape * distance)
    own_bend, other_bend = 2.0 * distance * weight * own_shape, 2.0 * distance * summed * other_shape
    own_full, other_full = weight * numpy_loss(distance, own_shape), summed * numpy_loss(distance, other_shape)

    def conceded(s):
        s = s[:, None]
        rest = 1.0 - s
        numerator = s * give - rest * keep
        bend = rest * own_bend + s * other_bend
        with np.errstate(divide="ignore", invalid="ignore"):
            interior = np.clip(numerator / bend, 0.0, 1.0)
        return np.where(bend > 0, interior, rest * own_full < s * other_full)

    def acceptable(shares):
        if judges is None:
            lost = plain_sum(summed * numpy_loss((1.0 - shares) * distance, other_risk), 1)
            return 1.0 - lost >= needed[:, 0]
        package = start + shares * direction
        return (numpy_utility(package[:, None, :], *judges, span) >= needed).all(axis=1)

    def cost(shares):
        return plain_sum(weight * numpy_loss(shares * distance, own_risk), 1)

    feasible = acceptable(np.ones_like(start))
    low, high = np.zeros(len(start)), np.ones(len(start))
    for _ in range(iterations):
        middle = 0.5 * (low + high)
        shares = conceded(middle)
        ok = acceptable(shares)
        if cap is not None:
            ok |= cost(shares) >= cap
        high, low = np.where(ok, middle, high), np.where(ok, low, middle)
    shares = conceded(high)
    return high, feasible, start + shares * direction, cost(shares)


def _values(rng, runs, actors, issues, span):
    ideal = rng.uniform(0, 1, (runs, actors, issues)) * span
    weight = normalised(rng.uniform(0, 1, (runs, actors, issues)) * (rng.uniform(size=(runs, actors, issues)) > 0.2))
    return Values(ideal, weight, rng.choice([-1.0, 0.0, 0.05, 0.5, 1.0, 0.3], (runs, actors)))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 70), st.integers(2, 6), st.integers(1, 9))
def test_utility_kernels_are_the_numpy_formula(seed, runs, actors, issues):
    rng = np.random.default_rng(seed)
    span = rng.uniform(0.5, 100, issues)
    values = _values(rng, runs, actors, issues, span)
    package = rng.uniform(-0.2, 1.2, (runs, issues)) * span
    package[rng.uniform(size=runs) < 0.1] = np.nan  # no offer on the table
    expected = numpy_utility(package[:, None, :], values.ideal, values.weight, values.risk, span)
    assert utility(package[:, None, :], values.ideal, values.weight, values.risk, span).tobytes() == expected.tobytes()
    rows, chosen = rng.permutation(runs)[: max(1, runs // 2)], rng.permutation(actors)[:2]
    got = utility_in(rows, chosen, package[rows], values, span)
    assert got.tobytes() == np.ascontiguousarray(expected[rows][:, chosen]).tobytes()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 80), st.integers(1, 4), st.integers(1, 8), st.booleans(),
       st.integers(0, 2))  # fmt: skip
def test_the_offer_search_is_the_numpy_bisection(seed, runs, others_count, issues, capped, body_count):
    rng = np.random.default_rng(seed)
    span = rng.uniform(0.5, 100, issues)
    actors = others_count + 1
    values = _values(rng, runs, actors + 2, issues, span)
    rows = np.sort(rng.permutation(runs)[: max(1, runs - 3)])
    proposer, others = 0, np.arange(1, actors)
    bodies = None if body_count == 0 else _values(rng, len(rows), body_count, issues, span)
    judges_count = others_count + body_count
    needed = rng.uniform(0, 1, (len(rows), judges_count if judges_count > 1 or bodies else 1))
    cap = rng.uniform(0, 0.6, len(rows)) if capped else None
    found = trade_off(rows, proposer, others, values, values, needed, span, bodies, cap)

    pick = lambda a: a[rows][:, others]  # noqa: E731
    judges = None
    if others_count > 1 or bodies is not None:
        judges = [pick(values.ideal), pick(values.weight), pick(values.risk)]
        if bodies is not None:
            judges = [
                np.concatenate([j, b], axis=1)
                for j, b in zip(judges, (bodies.ideal, bodies.weight, bodies.risk), strict=True)
            ]
    expected = numpy_search(
        values.ideal[rows, proposer], values.weight[rows, proposer], values.risk[rows, proposer], pick(values.ideal),
        pick(values.weight), pick(values.risk), span, needed, judges, cap,
    )  # fmt: skip
    for got, want in zip((found.point, found.feasible, found.package, found.cost), expected, strict=True):
        assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(want).tobytes()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(1, 7))
def test_the_pull_kernel_is_the_numpy_pull(seed, runs, issues):
    rng = np.random.default_rng(seed)
    span = np.full(issues, 100.0)
    values = _values(rng, runs, 6, issues, span)
    capability, rate = rng.uniform(0, 1, (runs, 6)), rng.uniform(0, 0.1, runs)
    active = rng.uniform(size=runs) < 0.8
    lobbies, parties = np.array([2, 3, 4, 5]), np.array([0, 1])
    base = values.ideal + rng.uniform(-1, 1, values.ideal.shape)

    pressing = capability[:, lobbies, None] * values.weight[:, lobbies]
    total, total_at = plain_sum(pressing, 1), plain_sum(pressing * values.ideal[:, lobbies], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(total > 0, total_at / total, 0.0)[:, None, :]
        own = capability[:, parties, None] * values.weight[:, parties]
        strength = np.where(total[:, None] > 0, total[:, None] / (total[:, None] + own), 0.0)
    moved = base[:, parties] + rate[:, None, None] * strength * (target - base[:, parties])
    expected = base.copy()
    expected[:, parties] = np.where(active[:, None, None], moved, base[:, parties])

    pull(capability, values.weight, values.ideal, lobbies, parties, base, rate, active)
    assert base.tobytes() == expected.tobytes()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12))
def test_normalised_saliences_are_the_numpy_division(seed, issues):
    rng = np.random.default_rng(seed)
    salience = rng.uniform(0, 1, (30, 4, issues)) * (rng.uniform(size=(30, 4, issues)) > 0.3)
    salience[0, 0] = -0.0  # an all-zero row stays zero
    sums = plain_sum(salience, -1)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(sums > 0, salience / sums, 0.0)
    assert normalised(salience).tobytes() == expected.tobytes()


def numpy_mix(x):
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def numpy_uniforms(seed, runs, stream, round_, n):
    """The streams' chain of SplitMix64 finalisers over (seed, run, stream, round, slot), on whole arrays."""
    golden, m1, m2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
    runs = np.asarray(runs, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = numpy_mix(np.full(runs.shape, seed, dtype=np.uint64) + golden)
        h = numpy_mix(h ^ (runs * golden + m1))
        h = numpy_mix(h ^ np.uint64(stream) * m2)
        h = numpy_mix(h ^ np.uint64(round_) * golden)
        h = numpy_mix(h[:, None] ^ (np.arange(n, dtype=np.uint64) * m1 + m2)[None, :])
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**64 - 1), st.lists(st.integers(0, 2**63 - 1), max_size=40), st.integers(0, 2**32 - 1),
       st.integers(0, 10**6), st.integers(1, 9))  # fmt: skip
def test_the_streams_kernel_is_the_numpy_hash_chain(seed, runs, stream, round_, n):
    got = uniforms(seed, np.array(runs, dtype=np.int64), stream, round_, n)
    assert got.tobytes() == numpy_uniforms(seed, runs, stream, round_, n).tobytes()


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["set", "add", "multiply"]),
       st.sampled_from(["ideal", "capability", "status_quo"]), st.booleans())  # fmt: skip
def test_the_effects_kernel_is_the_numpy_clip(seed, op, array, as_rows):
    rng = np.random.default_rng(seed)
    runs, actors, issues = 40, 4, 3
    arrays = ActorArrays(
        ideal=rng.choice([-0.0, 0.0, 5.0, -5.0, 10.0, np.nan, 3.3], (runs, actors, issues)),
        salience=np.zeros((runs, actors, issues)),
        **{name: rng.choice([-0.0, 0.0, 0.5, 1.0, -1.0, np.nan], (runs, actors)) for name in
           ("capability", "patience", "risk", "outside")},
        status_quo=rng.choice([-0.0, 0.0, 7.0, -8.0, np.nan], (runs, issues)),
    )  # fmt: skip
    actor = None if array == "status_quo" else 1
    issue = None if array == "capability" else 2
    low, high = rng.choice([-0.0, 0.0, -5.0]), rng.choice([0.0, 5.0, 10.0])
    value = float(rng.choice([-0.0, 0.0, 2.0, -1.5, 0.85]))
    effect = CompiledEffect(0, actor, array, issue, op, value, None, low, high)
    mask = rng.uniform(size=runs) < 0.5
    target = getattr(arrays, array)
    index = (mask, issue) if actor is None else ((mask, actor) if issue is None else (mask, actor, issue))
    current = target[index]
    changed = np.full_like(current, value) if op == "set" else (current + value if op == "add" else current * value)
    expected = target.copy()
    expected[index] = np.clip(changed, low, high)
    effect.apply(arrays, np.flatnonzero(mask) if as_rows else mask)
    assert target.tobytes() == expected.tobytes()
