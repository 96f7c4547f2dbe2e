"""Talks that can drag on: the window is nobody's deadline, the status quo flows while talks go on,
imitative tactics answer concessions, and a signed package must pass ratification."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from conftest import two_party

from sim.engine.model import simulate
from sim.experiments.ensemble import run_chunk, run_ensemble
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario

RUNS = 600


def one_issue(**changes) -> dict:
    """Two parties over one issue (a port: alpha wants it all, beta none), no influence, no shocks."""
    data = two_party(influence={"model": "none"}, **changes)
    data["issues"] = {"port": data["issues"]["port"]}
    for name, ideal in (("alpha", 100), ("beta", 0)):
        actor = data["actors"][name]
        actor["preferences"] = {"port": {"ideal": ideal, "salience": 1.0}}
        actor["outside_option"]["value"] = 0.2
    data["actors"]["gamma"]["preferences"] = {"port": {"ideal": 50, "salience": 1.0}}
    data["protocol"] = {"horizon": 30, "breakdown_risk": 0.0, "belief_step": 0.0}
    return data


def strategies(data: dict, **strategy) -> dict:
    for name in ("alpha", "beta"):
        data["actors"][name]["strategy"] = copy.deepcopy(strategy)
    return data


def statuses(write_scenario, data: dict, runs: int = RUNS) -> pd.DataFrame:
    spec = load_scenario(write_scenario(data)).spec
    return run_ensemble(spec, runs, seed=7).runs


def share(runs: pd.DataFrame, status: str) -> float:
    return float((runs["status"] == status).mean())


def test_deadlines_inside_the_window_give_deals(write_scenario):
    runs = statuses(write_scenario, strategies(one_issue(), kind="linear", deadline=10))
    assert share(runs, "agreement") > 0.95
    assert runs["round"].max() <= 11


def test_the_window_is_nobodys_deadline(write_scenario):
    """The same parties, their deadlines far beyond the 30-round window: talks are still open when it
    closes (their demands have not met yet), where the old code would have made every run settle."""
    runs = statuses(write_scenario, strategies(one_issue(), kind="linear", deadline={"dist": "uniform", "low": 200,
                                                                                         "high": 400}))  # fmt: skip
    assert share(runs, "no_deal") > 0.9
    assert (runs.loc[runs["status"] == "no_deal", "round"] == 30).all()


def test_no_deadline_means_no_concession_with_time(write_scenario):
    runs = statuses(write_scenario, strategies(one_issue(), kind="boulware", deadline="none"))
    assert share(runs, "no_deal") == 1.0


def test_tough_imitators_with_deadlines_beyond_the_window_stall(write_scenario):
    """Two relative tit-for-tat players who both open at their ideal wait for each other to move; with
    time tactics' deadlines beyond the window in their mixtures, most runs end with talks still open."""
    data = one_issue()
    mix = {"kind": "mixture", "tactics": [
        {"kind": "relative_tft", "weight": 0.8},
        {"kind": "linear", "deadline": {"dist": "uniform", "low": 60, "high": 200}, "weight": 0.2}]}  # fmt: skip
    for name in ("alpha", "beta"):
        data["actors"][name]["strategy"] = copy.deepcopy(mix)
    runs = statuses(write_scenario, data)
    assert share(runs, "no_deal") > 0.75


def test_imitators_follow_a_conceder(write_scenario):
    """A relative tit-for-tat player facing a time-dependent conceder concedes in turn: deals."""
    data = one_issue()
    data["actors"]["alpha"]["strategy"] = {"kind": "conceder", "deadline": 15}
    data["actors"]["beta"]["strategy"] = {"kind": "relative_tft"}
    runs = statuses(write_scenario, data)
    assert share(runs, "agreement") > 0.9


def with_status_quo(data: dict, position, after: str = "outside_options") -> dict:
    data["status_quo"] = {"label": "the old lease", "positions": {"port": position}, "after_breakdown": after}
    return data


def test_a_status_quo_flow_lowers_urgency_so_deals_come_later(write_scenario):
    """The status quo halfway flows to both while talks go on: the floor of their demands and the value
    of waiting rise, so they settle later than with nothing flowing (and on its side of the split)."""
    base = strategies(one_issue(), kind="linear", deadline={"dist": "uniform", "low": 10, "high": 25})
    for name in ("alpha", "beta"):
        base["actors"][name]["patience"] = 0.9
    without = statuses(write_scenario, copy.deepcopy(base))
    quo = statuses(write_scenario, with_status_quo(copy.deepcopy(base), 50))
    agreed_without, agreed_quo = without["status"] == "agreement", quo["status"] == "agreement"
    assert agreed_without.mean() > 0.9
    assert quo.loc[agreed_quo, "round"].median() > without.loc[agreed_without, "round"].median()
    assert (quo.loc[~agreed_quo, "in_force"] == "status_quo").all()


def test_a_status_quo_preferred_to_every_acceptable_package_never_ends_in_a_deal(write_scenario):
    data = strategies(one_issue(), kind="conceder", deadline=5)
    runs = statuses(write_scenario, with_status_quo(data, 0))  # beta's ideal: it never needs to move
    assert share(runs, "agreement") == 0.0
    assert set(runs["status"]) <= {"walkout", "no_deal"}


def test_a_frozen_breakdown_keeps_the_status_quo(write_scenario):
    data = strategies(one_issue(), kind="boulware", deadline="none")
    data["protocol"]["breakdown_risk"] = 0.2
    runs = statuses(write_scenario, with_status_quo(data, 40, after="status_quo"))
    frozen = runs["status"] == "frozen"
    assert frozen.mean() > 0.9 and "breakdown" not in set(runs["status"])
    assert (runs.loc[frozen, "force_port"] == 40).all() and (runs.loc[frozen, "in_force"] == "status_quo").all()


def test_the_status_quo_moves_with_events(write_scenario):
    data = with_status_quo(strategies(one_issue(), kind="boulware", deadline="none"), 40)
    data["events"] = {"eviction": {"label": "Eviction notice", "round": 3,
                                   "effects": [{"field": "status_quo.port", "op": "set", "value": 30}]}}  # fmt: skip
    runs = statuses(write_scenario, data, runs=20)
    assert (runs["force_port"] == 30).all()


def ratified(data: dict, **body) -> dict:
    data["actors"]["beta"]["ratification"] = {"label": "Assembly", "on_rejection": "end", **body}
    return data


def test_a_ratifier_whose_win_set_excludes_every_acceptable_package_blocks_every_deal(write_scenario):
    """Beta's assembly wants the port closed: it accepts only packages worth at least 0.6 to it (its
    ideal 0, so a port of at most 40), while alpha takes nothing below the status quo at 50. The win-sets
    do not meet, so no agreement is ever in force, whatever the assembly's exact threshold."""
    data = with_status_quo(strategies(one_issue(), kind="linear", deadline=8), 50)
    data = ratified(data, preferences={"port": {"ideal": 0, "salience": 1.0}},
                    threshold={"dist": "uniform", "low": 0.6, "high": 1.0}, delay=2)  # fmt: skip
    runs = statuses(write_scenario, data)
    assert share(runs, "agreement") == 0.0
    assert set(runs["status"]) <= {"no_deal", "walkout", "rejected", "signed"}
    assert set(runs["in_force"]) <= {"status_quo", "outside_options"}
    without = statuses(write_scenario, with_status_quo(strategies(one_issue(), kind="linear", deadline=8), 50))
    assert share(without, "agreement") > 0.9  # the same talks without the assembly settle


def test_ratification_takes_its_delay_and_can_reject(write_scenario):
    data = strategies(one_issue(), kind="linear", deadline=8)
    data = ratified(data, threshold={"dist": "uniform", "low": 0.0, "high": 0.9}, delay=3, on_rejection="resume")
    runs = statuses(write_scenario, data)
    agreed = runs["status"] == "agreement"
    assert agreed.any() and (runs["rejections"] > 0).any()
    first_try = agreed & (runs["rejections"] == 0)
    assert (runs.loc[first_try, "round"] >= 4).all()  # signed in round 1 at the earliest, voted 3 rounds later


def test_a_package_signed_near_the_window_end_is_still_awaiting(write_scenario):
    data = strategies(one_issue(), kind="linear", deadline=8)
    data["protocol"]["horizon"] = 10
    runs = statuses(write_scenario, ratified(data, threshold=0.0, delay=50, on_rejection="end"))
    assert share(runs, "signed") > 0.9 and (runs.loc[runs["status"] == "signed", "round"] == 10).all()
    assert (runs.loc[runs["status"] == "signed", "force_port"].isna()).all()  # no status quo: nothing in force


@pytest.mark.parametrize(
    "strategy",
    [
        {"kind": "random_tft", "noise": 0.05},
        {"kind": "averaged_tft", "window": 3},
        {
            "kind": "mixture",
            "tactics": [
                {"kind": "random_tft", "weight": 0.5},
                {"kind": "conceder", "deadline": {"dist": "uniform", "low": 5, "high": 40}, "weight": 0.5},
            ],
        },
    ],
)
def test_run_k_is_the_same_in_any_batch_with_the_new_draws(write_scenario, strategy):
    data = with_status_quo(one_issue(), {"dist": "uniform", "low": 20, "high": 80})
    data["actors"]["alpha"]["strategy"] = copy.deepcopy(strategy)
    data["actors"]["beta"]["strategy"] = {"kind": "linear", "deadline": {"dist": "uniform", "low": 5, "high": 60}}
    data = ratified(data, threshold={"dist": "uniform", "low": 0.2, "high": 0.8}, delay={"dist": "uniform", "low": 0,
                    "high": 4}, on_rejection="resume")  # fmt: skip
    data["protocol"]["breakdown_risk"] = 0.01
    spec = load_scenario(write_scenario(data)).spec
    whole = run_ensemble(spec, 400, seed=3, chunk_size=400).runs
    assert len(set(whole["status"])) >= 3
    for chunk in (7, 150):
        pd.testing.assert_frame_equal(whole, run_ensemble(spec, 400, seed=3, chunk_size=chunk).runs, check_exact=True)
    for run in (0, 199, 399):
        alone = run_chunk(spec, np.array([run]), seed=3).runs
        pd.testing.assert_frame_equal(alone, whole.iloc[[run]].reset_index(drop=True), check_exact=True)


def test_a_party_needs_a_strategy_and_time_tactics_a_deadline(write_scenario):
    data = one_issue()
    del data["actors"]["alpha"]["strategy"]
    with pytest.raises(ScenarioError, match="a party needs a strategy"):
        load_scenario(write_scenario(data))
    data = one_issue()
    data["actors"]["alpha"]["strategy"] = {"kind": "linear"}
    with pytest.raises(ScenarioError, match="concedes towards a deadline"):
        load_scenario(write_scenario(data))
    data = one_issue()
    data["actors"]["alpha"]["strategy"] = {
        "kind": "mixture",
        "tactics": [{"kind": "relative_tft", "weight": 0.5}, {"kind": "relative_tft", "weight": 0.4}],
    }
    with pytest.raises(ScenarioError, match="sum to 1"):
        load_scenario(write_scenario(data))


def test_imitative_demands_answer_the_others_concessions(write_scenario):
    """Through the engine: a relative tit-for-tat proposer's demand is its last demand times the ratio
    of the other's believed worth of its own last two offers, bounded below by its floor."""
    data = one_issue()
    data["actors"]["alpha"]["strategy"] = {"kind": "relative_tft"}
    data["actors"]["beta"]["strategy"] = {"kind": "linear", "deadline": 30}
    spec = load_scenario(write_scenario(data)).spec  # every value fixed: beliefs are the truth
    model = simulate(spec, np.arange(1), 0, trace=True)
    trace = pd.DataFrame(model.recorder.columns())
    offers = trace[trace["proposer"]].drop_duplicates("round").set_index("round")
    beta_rounds = offers.index[offers["actor"] == "beta"]
    d = offers.loc[beta_rounds, "offer"] / 100  # beta's ideal is 0, risk 0.5: its utility of its own offer
    beta_worth = 1 - (d - 0.5 * d * (1 - d))
    alpha = offers[offers["actor"] == "alpha"]["demand"]
    assert alpha.iloc[:2].tolist() == [1.0, 1.0]  # before beta's second offer there is no concession to answer
    checked = 0
    for round_ in alpha.index[2:]:
        newer, older = beta_worth.loc[round_ - 1], beta_worth.loc[round_ - 3]
        expected = max(0.2, alpha.loc[round_ - 2] * newer / older)
        assert alpha.loc[round_] == pytest.approx(expected, abs=1e-12)
        checked += 1
    assert checked >= 3 and alpha.iloc[-1] < 1.0


def test_the_readme_worked_example_ends_every_which_way():
    from conftest import ROOT

    spec = load_scenario(ROOT / "scenarios" / "examples" / "port_lease.yaml").spec
    runs = run_ensemble(spec, 600, seed=1).runs
    assert {"agreement", "signed", "no_deal", "frozen"} <= set(runs["status"])
    assert set(runs["in_force"]) == {"agreement", "status_quo"}
