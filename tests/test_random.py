"""Counter-based streams: reproducible, batch-independent, uniform; distributions stay in support."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.engine.random import stream_id, uniforms
from sim.scenario.distributions import Beta, Normal, Triangular, Uniform


def test_draws_depend_only_on_the_key():
    all_runs = uniforms(7, np.arange(1000), stream_id("x"), 3, 4)
    some_runs = uniforms(7, np.array([999, 5, 500]), stream_id("x"), 3, 4)
    np.testing.assert_array_equal(some_runs, all_runs[[999, 5, 500]])
    assert not np.array_equal(
        uniforms(8, np.arange(10), stream_id("x"), 3), uniforms(7, np.arange(10), stream_id("x"), 3)
    )
    assert not np.array_equal(
        uniforms(7, np.arange(10), stream_id("y"), 3), uniforms(7, np.arange(10), stream_id("x"), 3)
    )
    assert not np.array_equal(
        uniforms(7, np.arange(10), stream_id("x"), 4), uniforms(7, np.arange(10), stream_id("x"), 3)
    )


def test_uniformity_and_independence_of_slots():
    draws = uniforms(123, np.arange(200_000), stream_id("check"), 0, 2)
    assert draws.min() >= 0.0 and draws.max() < 1.0
    counts = np.histogram(draws[:, 0], bins=20, range=(0, 1))[0]
    expected = len(draws) / 20
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 43.8  # 99.9th percentile of chi-square with 19 degrees of freedom
    assert abs(np.corrcoef(draws[:, 0], draws[:, 1])[0, 1]) < 0.01
    assert abs(np.corrcoef(draws[:-1, 0], draws[1:, 0])[0, 1]) < 0.01


DISTS = [
    Normal(dist="normal", mean=0.5, sd=0.2, low=0.0, high=1.0),
    Normal(dist="normal", mean=10, sd=3),
    Uniform(dist="uniform", low=-1, high=2),
    Triangular(dist="triangular", low=0, mode=0.2, high=1),
    Beta(dist="beta", a=2, b=5, low=10, high=20),
]


@given(st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=50))
def test_draws_stay_in_support(us):
    u = np.array(us)
    for dist in DISTS:
        low, high = dist.support()
        values = dist.ppf(u)
        assert np.all(np.isfinite(values))
        assert np.all((values >= low) & (values <= high))


def test_sample_means_match_the_believed_means():
    u = uniforms(1, np.arange(100_000), stream_id("means"), 0)[:, 0]
    for dist in DISTS:
        values = dist.ppf(u)
        assert abs(values.mean() - dist.mean()) < 0.02 * (1 + abs(dist.mean())), dist
