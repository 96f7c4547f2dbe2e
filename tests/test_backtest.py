"""The backtest: its scores against hand-computed values, its baselines, the separation of a case's
outcome from its scenario, and ``basing backtest`` end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, SEED_TEXT, two_party

from sim.experiments import scores
from sim.experiments.backtest import score_cases
from sim.scenario.load import load_scenario

P = np.array([0.5, 0.1, 0.2, 0.1, 0.1, 0.0])  # agreement, signed, no_deal, rejected, walkout, breakdown


def test_the_brier_score_by_hand():
    assert scores.brier(P, "agreement") == pytest.approx(0.5**2 + 0.1**2 + 0.2**2 + 0.1**2 + 0.1**2)
    assert scores.brier(P, "no_deal") == pytest.approx(0.5**2 + 0.1**2 + 0.8**2 + 0.1**2 + 0.1**2)
    assert scores.brier(scores.onehot("walkout"), "walkout") == 0.0
    assert scores.brier(scores.onehot("walkout"), "agreement") == 2.0


def test_the_log_score_by_hand_and_its_floor():
    assert scores.log_score(P, "agreement") == pytest.approx(np.log(2))
    assert scores.log_score(P, "breakdown") == pytest.approx(np.log(1000))  # p = 0, floored at 0.001


def test_the_ranked_probability_score_by_hand():
    # levels: ended without a deal 0.2, still open 0.2, signed 0.1, in force 0.5
    assert list(scores.levels(P)) == pytest.approx([0.2, 0.2, 0.1, 0.5])
    assert scores.rps(P, "agreement") == pytest.approx(0.2**2 + 0.4**2 + 0.5**2)
    assert scores.rps(P, "walkout") == pytest.approx(0.8**2 + 0.6**2 + 0.5**2)
    assert scores.rps(P, "rejected") == scores.rps(P, "breakdown")  # the same level


def test_the_crps_by_hand():
    # ensemble 1, 2, 3, 4 at 3: E|X - 3| = 1, E|X - X'| / 2 = 0.625, CRPS 0.375; over a range of 10
    assert scores.crps_scaled(np.array([1.0, 2.0, 3.0, 4.0]), 3.0, 10.0) == pytest.approx(0.0375)
    assert scores.crps_scaled(np.array([7.0]), 3.0, 10.0) == pytest.approx(0.4)  # a point: |error| / range
    # uniform on [0, 10] at its middle: 2.5 - 10 / 6 = 0.8333, over 10
    assert scores.crps_uniform_scaled(0.0, 10.0, 5.0) == pytest.approx(0.25 - 1 / 6)


def test_the_baselines():
    assert list(scores.uniform_forecast()) == pytest.approx([1 / 6] * 6)
    base = scores.base_rate_forecast(["agreement", "agreement", "walkout", "no_deal"])
    assert list(base) == pytest.approx([0.5, 0, 0.25, 0, 0.25, 0])
    assert list(scores.status_quo_forecast()) == [0, 0, 1, 0, 0, 0]


def test_the_bootstrap_interval_covers_the_mean_and_is_seeded():
    values = np.array([0.1, 0.5, 0.3, 0.9, 0.2])
    mean, low, high = scores.bootstrap_mean(values, np.random.default_rng(3))
    assert mean == pytest.approx(0.4) and low < mean < high
    assert scores.bootstrap_mean(values, np.random.default_rng(3)) == (mean, low, high)
    assert all(np.isnan(scores.bootstrap_mean(np.array([np.nan]), np.random.default_rng(3))))


class FakeCase:
    """What ``score_cases`` reads of a case, without running anything."""

    def __init__(self, spec, observed, terms=None):
        from sim.scenario.outcome import ObservedOutcome

        self.spec = spec
        source = {"quote": "as it happened", "cite": "https://a.example"}
        self.outcome = ObservedOutcome(case=spec.name, observed=observed, date="2025-03-01", terms=terms or {},
                                       summary="x", sources=[source])  # fmt: skip
        self.window_end = spec.start_date


def test_each_forecaster_is_scored_on_every_case_with_a_leave_one_out_base_rate(tmp_path):
    (tmp_path / "seed.txt").write_text(SEED_TEXT)
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(two_party()))
    spec = load_scenario(tmp_path / "a.yaml").spec
    cases = [FakeCase(spec, "agreement", {"money": 4.0}), FakeCase(spec, "walkout"), FakeCase(spec, "agreement")]
    runs = pd.DataFrame({"class": ["agreement"] * 3 + ["walkout"], "port": [50.0] * 4, "money": [2.0, 4, 6, np.nan]})
    table, terms = score_cases(cases, [runs, runs, runs])
    assert len(table) == 12 and set(table["forecaster"]) == {"model", "uniform", "base_rate", "status_quo"}
    model = table[table["forecaster"] == "model"].reset_index()
    assert list(model["p_observed"]) == [0.75, 0.25, 0.75]
    assert model.loc[0, "p_observed_low"] < 0.75 < model.loc[0, "p_observed_high"]
    base = table[table["forecaster"] == "base_rate"].reset_index()
    assert list(base["p_observed"]) == [0.5, 0.0, 0.5]  # case 1 is a walkout; the others agreed
    assert base.loc[1, "log"] == pytest.approx(np.log(1000))
    # CRPS only where a term was observed: the model's ensemble 2, 4, 6 at 4 over a range of 10
    assert model.loc[0, "crps"] == pytest.approx((4 / 3 - 0.5 * 16 / 9) / 10)
    assert np.isnan(model.loc[1, "crps"])
    model_terms = terms[terms["forecaster"] == "model"]
    assert list(model_terms["issue"]) == ["money"] and model_terms["median"].iloc[0] == 4.0
    # uniform on [0, 10] at 4: E|X - 4| = (16 + 36) / 20 = 2.6, less 10 / 6, over the range of 10
    assert terms[terms["forecaster"] == "uniform"]["crps"].iloc[0] == pytest.approx((2.6 - 10 / 6) / 10)


def write_case(folder, name, observed, **changes):
    data = two_party(name=name, **changes)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(data))
    outcome = {"case": name, "observed": observed, "date": "2025-04-01", "summary": "What happened.",
               "sources": [{"quote": "what the record says", "cite": "https://example.org/record"}]}  # fmt: skip
    (folder / "outcomes").mkdir(exist_ok=True)
    (folder / "outcomes" / f"{name}.yaml").write_text(yaml.safe_dump(outcome))


def basing(*args, cwd):
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_a_case_runs_without_its_outcome_file(tmp_path):
    """The scenario never reads the outcome: it validates and runs with the outcome file missing or broken."""
    (tmp_path / "seed.txt").write_text(SEED_TEXT)
    write_case(tmp_path, "first", "agreement")
    (tmp_path / "outcomes" / "first.yaml").write_text("observed: [not, an, outcome\n")
    assert basing("validate", "first.yaml", cwd=tmp_path).returncode == 0
    assert basing("run", "first.yaml", "-n", "50", "-q", "--workers", "1", cwd=tmp_path).returncode == 0
    (tmp_path / "outcomes" / "first.yaml").unlink()
    assert basing("run", "first.yaml", "-n", "50", "-q", "--workers", "1", cwd=tmp_path).returncode == 0


def test_backtest_end_to_end_on_two_cases(tmp_path):
    (tmp_path / "seed.txt").write_text(SEED_TEXT)
    write_case(tmp_path, "first", "agreement")
    write_case(tmp_path, "second", "walkout")
    args = ["backtest", "first.yaml", "second.yaml", "-n", "300", "--out", "bt"]
    done = basing(*args, "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "model" in done.stdout and "base_rate" in done.stdout
    folder = tmp_path / "bt"
    cases = pd.read_parquet(folder / "backtest.parquet")
    assert len(cases) == 8 and list(cases["case"].unique()) == ["first", "second"]
    assert (cases["p_observed"].between(0, 1)).all() and cases["brier"].notna().all()
    aggregate = pd.read_parquet(folder / "scores.parquet")
    assert set(aggregate["forecaster"]) == {"model", "uniform", "base_rate", "status_quo"}
    stamp = json.loads((folder / "backtest.json").read_text())
    assert stamp["runs"] == 300 and [c["name"] for c in stamp["cases"]] == ["first", "second"]
    assert set(stamp["files"]) == {"backtest.parquet", "scores.parquet", "terms.parquet", "backtest.html"}
    page = (folder / "backtest.html").read_text()
    assert "Reliability" in page and "Probability given to what happened" in page
    # the same seed gives the same table whatever the number of workers
    again = basing(*args[:-1], "bt1", "--workers", "1", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (folder / "backtest.parquet").read_bytes() == (tmp_path / "bt1" / "backtest.parquet").read_bytes()
    assert basing(*args, cwd=tmp_path).returncode == 2  # results are never overwritten


def test_the_shipped_cases_have_outcomes_and_validate():
    folder = ROOT / "scenarios" / "cases"
    cases = sorted(folder.glob("*.yaml"))
    if not cases:
        pytest.skip("no cases shipped yet")
    from sim.experiments.backtest import load_case

    for path in cases:
        case = load_case(path)
        assert case.outcome.case == case.spec.name
        assert case.spec.start_date <= case.outcome.date <= case.window_end
