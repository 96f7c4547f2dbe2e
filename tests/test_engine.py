"""Engine invariants on the baseline and on small scenarios built to test one mechanism each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, two_party
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.model import NegotiationModel, simulate
from sim.experiments.ensemble import run_chunk, run_ensemble
from sim.scenario.load import load_scenario


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE).spec


@pytest.fixture(scope="module")
def baseline_runs(baseline):
    return run_ensemble(baseline, 1000, seed=11, chunk_size=1000).runs


def test_statuses_and_terms_are_consistent(baseline, baseline_runs):
    runs = baseline_runs
    assert set(runs["status"]) <= {"agreement", "walkout", "breakdown", "no_deal"}
    agreed = runs["status"] == "agreement"
    assert agreed.any()
    for name, issue in baseline.issues.items():
        terms = runs[f"term_{name}"]
        assert terms[agreed].between(*issue.range).all(), name
        assert terms[~agreed].isna().all(), name
    assert runs["round"].between(1, baseline.protocol.horizon).all()
    walked = runs["status"] == "walkout"
    assert runs["walkout_actor"][walked].isin(baseline.parties()).all()
    assert runs["walkout_actor"][~walked].isna().all()
    for actor in baseline.actors:
        assert runs[f"utility_{actor}"].between(0, 1).all(), actor


def test_indicators_follow_their_definitions(baseline_runs):
    runs = baseline_runs
    agreed = runs["status"] == "agreement"
    assert (runs["deal"] == agreed).all()
    assert (runs["russia_keeps_tartus"] == (agreed & (runs["term_tartus"] >= 25))).all()
    assert (runs["russia_walks_out"] == (runs["walkout_actor"] == "russia")).all()
    assert (runs["deal_within_3_months"] == (agreed & (runs["round"] <= 13))).all()


def test_run_k_is_the_same_in_any_chunking(baseline):
    whole = run_ensemble(baseline, 1000, seed=5, chunk_size=1000).runs
    quarters = run_ensemble(baseline, 1000, seed=5, chunk_size=250).runs
    pd.testing.assert_frame_equal(whole, quarters, check_exact=True)
    alone = run_chunk(baseline, np.array([737]), seed=5).runs
    pd.testing.assert_frame_equal(
        alone.reset_index(drop=True), whole.iloc[[737]].reset_index(drop=True), check_exact=True
    )


def test_seed_changes_results_and_repeats_exactly(baseline):
    first = run_ensemble(baseline, 300, seed=1).runs
    again = run_ensemble(baseline, 300, seed=1).runs
    other = run_ensemble(baseline, 300, seed=2).runs
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert not first.equals(other)


def test_a_deal_needs_every_party(baseline):
    model = simulate(baseline, np.arange(200), seed=3, trace=True)
    trace = pd.DataFrame(model.recorder.columns())
    results = pd.DataFrame(model.results())
    ended = results.set_index("run")
    votes = trace[trace["actor"].isin(baseline.parties())].drop_duplicates(["run", "round", "actor"])
    all_yes = votes.groupby(["run", "round"])["accepted"].all()
    for (run, round_), unanimous in all_yes.items():
        row = ended.loc[run]
        if unanimous:
            assert row["status"] == "agreement" and row["round"] == round_, (run, round_)
        else:
            assert not (row["status"] == "agreement" and row["round"] == round_), (run, round_)
    agreed = ended[ended["status"] == "agreement"]
    offers = trace.drop_duplicates(["run", "round", "issue"]).set_index(["run", "round", "issue"])["offer"]
    for run, row in agreed.head(20).iterrows():
        for issue in baseline.issues:
            assert offers[(run, row["round"], issue)] == row[f"term_{issue}"]


def test_stakeholders_never_vote_and_positions_stay_in_range(baseline):
    model = simulate(baseline, np.arange(50), seed=4, trace=True)
    trace = pd.DataFrame(model.recorder.columns())
    stakeholders = [a for a, actor in baseline.actors.items() if actor.role == "stakeholder"]
    assert trace[trace["actor"].isin(stakeholders)]["accepted"].isna().all()
    for name, issue in baseline.issues.items():
        assert trace[trace["issue"] == name]["position"].between(*issue.range).all()


def _one_issue(outside_a: float, outside_b: float, **protocol) -> dict:
    data = two_party()
    data["issues"] = {"port": data["issues"]["port"]}
    for name, ideal, outside in (("alpha", 100, outside_a), ("beta", 0, outside_b)):
        actor = data["actors"][name]
        actor["preferences"] = {"port": {"ideal": ideal, "salience": 1.0}}
        actor["outside_option"]["value"] = outside
        actor["risk"] = 0.0
    data["actors"]["gamma"]["preferences"] = {"port": {"ideal": 50, "salience": 1.0}}
    data["influence"] = {"model": "none"}
    data["protocol"].update(protocol)
    return data


@settings(max_examples=15, deadline=None)
@given(st.floats(0.05, 0.95), st.floats(0.05, 0.95), st.integers(0, 2**32))
def test_no_overlap_never_agrees(outside_a, outside_b, seed):
    # One issue, linear utilities: alpha accepts x >= 100 * outside_a, beta x <= 100 * (1 - outside_b).
    # When outside_a + outside_b > 1 no package is acceptable to both, and no run may agree.
    from sim.scenario.schema import Scenario

    spec = Scenario.model_validate(_one_issue(outside_a, outside_b, breakdown_risk=0.01))
    runs = pd.DataFrame(simulate(spec, np.arange(50), seed).results())
    if outside_a + outside_b > 1:
        assert not (runs["status"] == "agreement").any()
    elif outside_a + outside_b < 0.9:  # room for a deal even after a round's discounting: nobody leaves
        assert (runs["status"] != "walkout").all()


def test_an_actor_with_a_better_outside_option_walks_out(write_scenario):
    data = _one_issue(0.3, 0.3)
    data["actors"]["beta"]["outside_option"]["value"] = 0.99
    spec = load_scenario(write_scenario(data)).spec
    runs = pd.DataFrame(simulate(spec, np.arange(20), 0).results())
    assert (runs["status"] == "walkout").all()
    assert (runs["walkout_actor"] == "beta").all()
    assert (runs["round"] == 1).all()
    assert np.allclose(runs["utility_beta"], 0.99)


def test_the_horizon_ends_talks_without_a_deal(write_scenario):
    data = _one_issue(0.3, 0.3, horizon=3)
    for name in ("alpha", "beta"):  # both hold out: no aspiration falls far enough in three rounds
        data["actors"][name]["strategy"] = {"kind": "boulware", "beta": 0.05}
    spec = load_scenario(write_scenario(data)).spec
    runs = pd.DataFrame(simulate(spec, np.arange(20), 0).results())
    assert (runs["status"] == "no_deal").all() and (runs["round"] == 3).all()


def test_breakdown_risk_ends_talks_geometrically(write_scenario):
    data = _one_issue(0.3, 0.3, breakdown_risk=0.5)
    for name in ("alpha", "beta"):  # both hold out, so only breakdowns end runs early
        data["actors"][name]["strategy"] = {"kind": "boulware", "beta": 0.05}
    spec = load_scenario(write_scenario(data)).spec
    runs = pd.DataFrame(simulate(spec, np.arange(400), 0).results())
    assert (runs["status"] == "breakdown").all()
    first_round = (runs["round"] == 1).mean()
    assert 0.42 < first_round < 0.58  # P(round 1) = 0.5; 400 runs give a standard error of 0.025


def test_certain_breakdown_makes_leaving_now_better(write_scenario):
    spec = load_scenario(write_scenario(_one_issue(0.3, 0.3, breakdown_risk=1.0))).spec
    runs = pd.DataFrame(simulate(spec, np.arange(20), 0).results())
    assert (runs["status"] == "walkout").all() and (runs["round"] == 1).all()


def test_logrolling_each_side_wins_the_issue_it_cares_about(write_scenario):
    spec = load_scenario(write_scenario(two_party(influence={"model": "none"}))).spec
    runs = pd.DataFrame(simulate(spec, np.arange(50), 0).results())
    agreed = runs[runs["status"] == "agreement"]
    assert len(agreed) == 50
    # Each side gets most of what it wants on the issue it cares about most: a logroll, not a split.
    assert (agreed["term_port"] > 65).all()  # alpha: port (ideal 100, salience 0.7; beta's ideal 0)
    assert (agreed["term_money"] > 6.5).all()  # beta: money (ideal 10, salience 0.7; alpha's ideal 0)


def test_fixed_round_event_changes_the_actor(write_scenario):
    data = _one_issue(0.3, 0.3)
    data["events"] = {
        "offer_elsewhere": {
            "label": "Beta gets a better offer",
            "round": 2,
            "effects": [{"field": "actors.beta.outside_option.value", "op": "set", "value": 0.99}],
        }
    }
    data["actors"]["beta"]["strategy"] = {"kind": "boulware", "beta": 0.05}
    spec = load_scenario(write_scenario(data)).spec
    runs = pd.DataFrame(simulate(spec, np.arange(10), 0).results())
    assert (runs["status"] == "walkout").all() and (runs["round"] == 3).all()


def test_temporary_effects_expire(write_scenario):
    data = _one_issue(0.3, 0.3)
    data["events"] = {
        "pressure": {
            "label": "Pressure on Alpha",
            "round": 0,
            "effects": [{"field": "actors.alpha.preferences.port.ideal", "op": "set", "value": 40, "rounds": 2}],
        }
    }
    data["actors"]["beta"]["strategy"] = {"kind": "boulware", "beta": 0.05}
    data["actors"]["alpha"]["strategy"] = {"kind": "boulware", "beta": 0.05}
    data["influence"] = {"model": "none"}
    spec = load_scenario(write_scenario(data)).spec
    model = simulate(spec, np.arange(3), 0, trace=True)
    trace = pd.DataFrame(model.recorder.columns())
    alpha = trace[(trace["actor"] == "alpha") & (trace["run"] == 0)].set_index("round")["position"]
    assert alpha.loc[1] == 40 and alpha.loc[2] == 40 and alpha.loc[3] == 100


def test_influence_pulls_targets_towards_the_lobby(write_scenario):
    data = two_party(influence={"model": "pull", "rate": 0.2, "targets": ["beta"]})
    spec = load_scenario(write_scenario(data)).spec
    model = NegotiationModel(spec, np.arange(4), 0)
    before = model.state.own.ideal.copy()
    model.step()
    after = model.state.own.ideal
    port = 0
    alpha, beta = 0, 1
    assert np.all(after[:, alpha] == before[:, alpha])  # not a target
    assert np.all(after[:, beta, port] > before[:, beta, port])  # beta at 0, gamma lobbies for 20
    assert np.all(after[:, beta, port] < 20)
    assert np.all(model.public_now.ideal[:, beta, port] == after[:, beta, port])  # lobbying is public


def test_agents_are_mesa_agents(baseline):
    model = NegotiationModel(baseline, np.arange(3), 0)
    assert len(model.agents) == len(baseline.actors)
    assert [a.name for a in model.party_agents] == baseline.parties()
    assert model.rng is not None
