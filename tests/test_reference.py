"""Every golden case of the reference models reproduces its published numbers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.influence import smp
from sim.reference.cases import CASES, DATA
from sim.scenario.errors import ScenarioError
from sim.scenario.imports import read_bdm, read_ktab


@pytest.mark.parametrize("name", list(CASES))
def test_golden_case(name):
    checks = CASES[name]()
    assert checks, "a case without checks proves nothing"
    failed = [f"{c.quantity}: expected {c.expected}, got {c.got}" for c in checks if not c.passed]
    assert not failed, "\n".join(failed)


def test_a_check_can_fail():
    from sim.reference.cases import Check

    assert not Check("x", "y", 1.0, 1.001, 1e-4).passed
    assert not Check("x", "y", 1.0, float("nan"), 1.0).passed


def test_smp_batches_are_run_independent():
    table = read_ktab(DATA / "ktab" / "SOE-Pol-Comp.csv")
    x, s, c = table.position[None] / 100, table.salience[None] / 100, table.capability[None]
    single = smp.run_smp(x, s, c)
    many = smp.run_smp(np.repeat(x, 3, 0), np.repeat(s, 3, 0), np.repeat(c, 3, 0))
    assert (many.states == single.states[0]).all()
    np.testing.assert_array_equal(many.final()[2], single.final()[0])


def test_stochastic_smp_differs_between_runs_and_repeats_exactly():
    from sim.engine.random import stream_id, uniforms

    table = read_ktab(DATA / "ktab" / "SOE-Pol-Comp.csv")
    runs = 40
    x = np.repeat(table.position[None] / 100, runs, 0)
    s = np.repeat(table.salience[None] / 100, runs, 0)
    c = np.repeat(table.capability[None], runs, 0)
    options = smp.SmpOptions(transition="stochastic")
    draws = lambda step: uniforms(7, np.arange(runs), stream_id("smp"), step, x.shape[1])  # noqa: E731
    first, again = smp.run_smp(x, s, c, options, draws), smp.run_smp(x, s, c, options, draws)
    np.testing.assert_array_equal(first.final(), again.final())
    assert len({tuple(np.round(f.ravel(), 6)) for f in first.final()}) > 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("t, d, 3, 1,\nActor, Desc, Power, P, S,\na, x, 10, 50, 50,\nb, x, 10, 50, 50,\n", "announces 3 actors"),
        ("t, d, 2, 1,\nActor, Desc, Power, P, S,\na, x, 10, 50, 50,\nb, x, 10, 50, 50,\n", "at least 3 actors"),
        (
            "t, d, 3, 1,\nActor, Desc, Power, P, S,\na, x, 10, 50, 50,\nb, x, ten, 50, 50,\nc, x, 1, 2, 3,\n",
            ":4: Power: not a number",
        ),
        (
            "t, d, 3, 2,\nA, D, P, p1, s1, p2, s2,\na, x, 1, 5, 60, 5, 60,\n"
            "b, x, 1, 5, 5, 5, 5,\nc, x, 1, 5, 5, 5, 5,\n",
            ":3: saliences sum to 120, over 100",
        ),
        ("t, d, 3, 1,\nActor, Desc, Power, P, S,\na, x, 10, 50,\nb, x, 10, 50, 50,\nc, x, 1, 2, 3,\n", ":3: 4 columns"),
    ],
)
def test_malformed_ktab_files_name_the_line(tmp_path, text, fragment):
    path = tmp_path / "k.csv"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        read_ktab(path)
    assert fragment in str(caught.value)


def test_malformed_bdm_files(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("actor,capability,position,salience\na,1,4,0.5\nb,1,7,1.5\nc,1,4,0.2\n")
    with pytest.raises(ScenarioError, match=r":3: salience: 1.5 must lie within"):
        read_bdm(path)
    path.write_text("actor,capability,position,salience\na,1,4,0.5\n")
    with pytest.raises(ScenarioError, match="at least 3 actors"):
        read_bdm(path)
