"""Engine invariants on the baseline and on small scenarios built to test one mechanism each."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, two_party
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.bargaining import utility
from sim.engine.events import EventSchedule
from sim.engine.model import NegotiationModel, simulate
from sim.engine.state import Layout, actor_arrays, draw
from sim.engine.strategies import going_on
from sim.engine.tactics import time_demand
from sim.experiments.ensemble import run_chunk, run_ensemble
from sim.numerics import normalised
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


def walkout_prone() -> dict:
    """The small scenario with outside options that sometimes beat any deal: runs end every which way."""
    data = two_party()
    for name in ("alpha", "beta"):
        data["actors"][name]["outside_option"]["value"] = {"dist": "triangular", "low": 0.1, "mode": 0.3, "high": 0.95}
    data["protocol"]["breakdown_risk"] = 0.02
    return data


def test_chunking_with_every_kind_of_ending(write_scenario):
    spec = load_scenario(write_scenario(walkout_prone())).spec
    whole = run_ensemble(spec, 900, seed=3, chunk_size=900).runs
    assert {"agreement", "walkout", "breakdown"} <= set(whole["status"])
    for chunk in (7, 450):
        pd.testing.assert_frame_equal(whole, run_ensemble(spec, 900, seed=3, chunk_size=chunk).runs, check_exact=True)
    for run in (0, 451, 899):
        alone = run_chunk(spec, np.array([run]), seed=3).runs
        pd.testing.assert_frame_equal(alone, whole.iloc[[run]].reset_index(drop=True), check_exact=True)


def test_seed_changes_results_and_repeats_exactly(baseline):
    first = run_ensemble(baseline, 300, seed=1).runs
    again = run_ensemble(baseline, 300, seed=1).runs
    other = run_ensemble(baseline, 300, seed=2).runs
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert not first.equals(other)


def _three_parties(proposer: str = "alternating") -> dict:
    data = two_party(influence={"model": "none"})
    data["actors"]["delta"] = {
        "label": "Delta",
        "role": "party",
        "capability": 0.3,
        "patience": 0.97,
        "risk": 0.2,
        "outside_option": {"value": {"dist": "uniform", "low": 0.2, "high": 0.8}, "label": "abroad"},
        "preferences": {"port": {"ideal": 50, "salience": 0.5}, "money": {"ideal": 5, "salience": 0.5}},
        "strategy": {"kind": "conceder", "deadline": 20},
    }
    data["protocol"]["proposer"] = proposer
    return data


def test_a_deal_needs_every_party(write_scenario):
    # Recompute, from the drawn values alone, each responder's utility of the agreed terms and the least
    # it accepts in the round of agreement: every responder, not just a majority, must be satisfied.
    spec = load_scenario(write_scenario(_three_parties())).spec
    run_ids = np.arange(400)
    runs = pd.DataFrame(simulate(spec, run_ids, 2).results())
    layout = Layout.of(spec)
    own = actor_arrays(spec, layout, run_ids, 2)
    agreed = (runs["status"] == "agreement").to_numpy()
    assert agreed.sum() > 20
    terms = runs[[f"term_{i}" for i in layout.issues]].to_numpy()
    weight = normalised(own.salience)
    rounds = runs["round"].to_numpy() - 1
    proposer = layout.parties[rounds % len(layout.parties)]  # alternating, first party first
    for a in layout.parties:
        name = layout.actors[a]
        worth = utility(terms, own.ideal[:, a], weight[:, a], own.risk[:, a], layout.span)
        strategy = spec.actors[name].strategy
        beta = draw(strategy.beta, f"actors.{name}.strategy.beta", 2, run_ids)
        deadline = draw(strategy.deadline, f"actors.{name}.strategy.deadline", 2, run_ids)
        upcoming = time_demand(rounds + 1, deadline, beta, own.outside[:, a])
        needed = np.maximum(own.outside[:, a], going_on(own.patience[:, a], 0.0, upcoming, 0.0, own.outside[:, a]))
        responding = agreed & (proposer != a)
        assert responding.any()
        assert np.all(worth[responding] >= needed[responding]), layout.actors[a]


def test_capability_recognition_follows_capability(write_scenario):
    spec = load_scenario(write_scenario(_three_parties("capability"))).spec
    model = NegotiationModel(spec, np.arange(6000), 0)
    model.step()
    share = np.bincount(model.table.proposer, minlength=4)[[0, 1, 3]] / 6000
    np.testing.assert_allclose(share, np.array([0.6, 0.4, 0.3]) / 1.3, atol=0.02)


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
    # Both believe the other's outside option is low (mean 1/3) but in some runs both are in fact
    # 0.55-0.65: no package pleases both, yet each still expects a deal worth ~0.67, so nobody walks
    # out and the talks run out of time.
    data = _one_issue(0.3, 0.3, horizon=3, belief_step=0.0)
    for name in ("alpha", "beta"):
        data["actors"][name]["outside_option"]["value"] = {"dist": "triangular", "low": 0, "mode": 0, "high": 1}
        data["actors"][name]["patience"] = 1.0
        data["actors"][name]["strategy"]["deadline"] = 3  # deadlines inside the window
    spec = load_scenario(write_scenario(data)).spec
    runs = pd.DataFrame(simulate(spec, np.arange(3000), 0).results())
    layout = Layout.of(spec)
    outside = actor_arrays(spec, layout, np.arange(3000), 0).outside[:, layout.parties]  # each run's own draws
    stuck = ((outside > 0.55) & (outside < 0.65)).all(axis=1)
    assert stuck.sum() >= 3
    assert (runs.loc[stuck, "status"] == "no_deal").all() and (runs.loc[stuck, "round"] == 3).all()
    assert (runs["status"] == "agreement").any()


def test_breakdown_risk_ends_talks_geometrically(write_scenario):
    data = _one_issue(0.3, 0.3, breakdown_risk=0.5)
    for name in ("alpha", "beta"):  # both hold out, so only breakdowns end runs early
        data["actors"][name]["strategy"] = {"kind": "boulware", "beta": 0.05, "deadline": 20}
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
            "round": 3,
            "effects": [{"field": "actors.beta.outside_option.value", "op": "set", "value": 0.99}],
        }
    }
    data["actors"]["beta"]["strategy"] = {"kind": "boulware", "beta": 0.05, "deadline": 20}
    spec = load_scenario(write_scenario(data)).spec
    runs = pd.DataFrame(simulate(spec, np.arange(10), 0).results())
    assert (runs["status"] == "walkout").all() and (runs["round"] == 3).all()


def test_temporary_effects_expire(write_scenario):
    data = _one_issue(0.3, 0.3)
    data["events"] = {
        "pressure": {
            "label": "Pressure on Alpha",
            "round": 1,
            "effects": [{"field": "actors.alpha.preferences.port.ideal", "op": "set", "value": 40, "rounds": 2}],
        }
    }
    data["actors"]["beta"]["strategy"] = {"kind": "boulware", "beta": 0.05, "deadline": 20}
    data["actors"]["alpha"]["strategy"] = {"kind": "boulware", "beta": 0.05, "deadline": 20}
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
    assert all(hasattr(a, "lobby") for a in model.stakeholder_agents)
    model.step()
    model.step()
    assert model.steps == 2 and model.round_index == 2


def test_hazards_fire_at_their_rate_and_once_unless_repeating(write_scenario):
    data = _one_issue(0.3, 0.3, horizon=6)
    for name in ("alpha", "beta"):  # both hold out to the last round, so every run lasts six rounds
        data["actors"][name]["strategy"] = {"kind": "boulware", "beta": 0.05, "deadline": 20}
    data["events"] = {
        "once": {"label": "Once", "hazard": 0.5,
                 "effects": [{"field": "actors.beta.preferences.port.ideal", "op": "add", "value": 5}]},
    }  # fmt: skip
    spec = load_scenario(write_scenario(data)).spec
    trace = pd.DataFrame(simulate(spec, np.arange(2000), 0, trace=True).recorder.columns())
    beta = trace[trace["actor"] == "beta"].pivot(index="run", columns="round", values="position")
    for k in range(1, 6):
        assert abs((beta[k] == 5).mean() - (1 - 0.5**k)) < 0.04, k  # fired once by round k
    assert set(np.unique(beta.to_numpy())) <= {0.0, 5.0}  # never twice


def test_repeated_temporary_effects_extend_but_do_not_stack(write_scenario):
    data = _one_issue(0.3, 0.3, horizon=6)
    for name in ("alpha", "beta"):
        data["actors"][name]["strategy"] = {"kind": "boulware", "beta": 0.05, "deadline": 20}
    data["events"] = {
        "every_round": {"label": "Every round", "hazard": 1.0, "repeat": True,
                        "effects": [{"field": "actors.alpha.preferences.port.ideal", "op": "multiply", "value": 0.5,
                                     "rounds": 2}]},
    }  # fmt: skip
    spec = load_scenario(write_scenario(data)).spec
    model = NegotiationModel(spec, np.arange(5), 0, trace=True)
    for _ in range(4):
        model.step()
        assert np.all(model.own_now.ideal[:, 0, 0] == 50.0)  # base 100 halved once, not again and again
        assert np.all(model.public_now.ideal[:, 0, 0] == 50.0)  # others see the shock too
        assert np.all(model.state.own.ideal[:, 0, 0] == 100.0)  # the base value is untouched


def test_a_finished_model_is_freed_once_dropped(baseline):
    """Nothing keeps a model alive after its user drops it (Mesa 3.3's id counter did: a worker grew
    by megabytes a chunk until the pool ended)."""
    model = weakref.ref(simulate(baseline, np.arange(20), seed=1))
    gc.collect()
    assert model() is None


def test_every_scratch_array_follows_the_batch_when_runs_retire(baseline):
    """Scratch arrays are allocated from one declaration and cut down with the batch: after finished
    runs are dropped, each still has a row per remaining run."""
    from dataclasses import fields

    model = NegotiationModel(baseline, np.arange(400), seed=2)
    names = [f.name for f in fields(model.table)]
    assert len(names) == 8 and model.table.offer.shape == (400, len(baseline.issues))
    while model.running and len(model.run_ids) == 400:
        model.step()
    assert 0 < len(model.run_ids) < 400
    left = len(model.run_ids)
    assert {name: len(getattr(model.table, name)) for name in names} == dict.fromkeys(names, left)


@pytest.mark.parametrize("case", ["russia_syria_baseline", "cases/kharkiv_pact_2010", "cases/djibouti_2014"])
def test_layering_again_only_what_moved_gives_the_full_layering(case, monkeypatch):
    # Each round re-layers temporary effects only in the runs where an event fired or an effect ran out
    # (and the ideals after the influence stage): at every call that must equal layering everything.
    path = BASELINE.parent / f"{case}.yaml"
    events = load_scenario(path).spec.events
    spec = load_scenario(path, [f"events.{name}.hazard=0.25" for name, e in events.items() if e.hazard]).spec
    incremental = EventSchedule.effective
    calls = []

    def checked(self, state, round_, rows=None, names=None):
        own, public = incremental(self, state, round_, rows, names)
        kept, self.layers = self.layers, None
        full = incremental(self, state, round_)
        self.layers = kept
        for got, want in zip((own, public), full, strict=True):
            for name in ("ideal", "salience", "capability", "patience", "risk", "outside", "status_quo"):
                assert getattr(got, name).tobytes() == getattr(want, name).tobytes(), (round_, name)
        calls.append(kept is not None and (rows is not None or names is not None))
        return own, public

    monkeypatch.setattr(EventSchedule, "effective", checked)
    simulate(spec, np.arange(300), seed=5)
    assert sum(calls) > 20  # the partial re-layering was exercised, not only full ones
