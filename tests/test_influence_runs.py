"""Influence-only scenarios through the whole engine: imported KTAB and BDM inputs reproduce their
published numbers, and the published models also run inside a negotiation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT

from sim.experiments.ensemble import run_ensemble
from sim.reference.cases import DATA
from sim.scenario.load import load_scenario


def basing(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imports")
    for kind, source in (("ktab", DATA / "ktab" / "SOE-Pol-Comp.csv"), ("bdm", DATA / "bdm" / "ec_car_emissions.csv")):
        done = basing("import", kind, str(source), "-o", f"{kind}.yaml", cwd=folder)
        assert done.returncode == 0, done.stderr
    return folder


def test_imported_ktab_scenario_reproduces_the_reference_run(imported):
    spec = load_scenario(imported / "ktab.yaml").spec
    assert spec.influence.model == "smp" and not spec.parties()
    runs = run_ensemble(spec, 2, seed=0).runs
    assert (runs["status"] == "converged").all() and (runs["round"] == 27).all()  # 28 states
    assert runs["position_xj_policy"].iloc[0] == pytest.approx(43.18, abs=1e-6)
    assert runs["position_wy_competitive"].iloc[0] == pytest.approx(60.0, abs=1e-6)
    assert runs["forecast_mean_policy"].iloc[0] == pytest.approx(37.28, abs=0.005)
    assert runs["win_mof"].iloc[0] == pytest.approx(0.2330, abs=5e-5)


def test_imported_bdm_scenario_reproduces_the_trajectory(imported):
    spec = load_scenario(imported / "bdm.yaml").spec
    runs = run_ensemble(spec, 1, seed=0).runs
    assert runs["round"].iloc[0] == 10 and runs["status"].iloc[0] == "horizon"
    assert runs["forecast_mean_issue"].iloc[0] == pytest.approx(7.242131, abs=5e-7)
    assert runs["position_belgium_issue"].iloc[0] == pytest.approx(4.2915, abs=5e-5)


def test_stochastic_smp_through_the_cli(imported):
    done = basing("run", "ktab.yaml", "-n", "60", "-q", "--set", "influence.transition=stochastic", "--out", "s",
                  cwd=imported)  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(imported / "s" / "runs.parquet")
    assert runs["round"].nunique() > 1  # runs differ for real
    assert set(runs["status"]) <= {"converged", "horizon"}


def test_import_refuses_bad_files_and_existing_outputs(imported):
    bad = imported / "bad.csv"
    bad.write_text("actor,capability,position,salience\na,1,4,0.5\n")
    done = basing("import", "bdm", "bad.csv", "-o", "new.yaml", cwd=imported)
    assert done.returncode == 2 and "at least 3 actors" in done.stderr and "Traceback" not in done.stderr
    done = basing("import", "ktab", str(DATA / "ktab" / "SOE-Pol-Comp.csv"), "-o", "ktab.yaml", cwd=imported)
    assert done.returncode == 2 and "already exists" in done.stderr


@pytest.mark.parametrize("model", ["compromise", "median", "eum", "smp"])
def test_published_models_run_inside_the_baseline(model):
    spec = load_scenario(BASELINE, [f"influence={{model: {model}}}"]).spec
    runs = run_ensemble(spec, 200, seed=1).runs
    assert {"agreement", "breakdown"} & set(runs["status"])
    for name, issue in spec.issues.items():
        agreed = runs["status"] == "agreement"
        assert runs.loc[agreed, f"term_{name}"].between(*issue.range).all()


def test_reference_command(tmp_path):
    done = basing("reference", "--case", "ec-eum", "--case", "victory-laws", cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "88 passed, 0 failed" in done.stdout
    assert basing("reference", "--case", "nope", cwd=ROOT).returncode == 2


def test_compromise_moves_everyone_to_the_weighted_mean():
    spec = load_scenario(BASELINE, ["influence={model: compromise}"]).spec
    from sim.engine.model import NegotiationModel

    model = NegotiationModel(spec, np.arange(3), 0)
    model.step()
    ideal = model.state.own.ideal
    assert np.allclose(ideal[:, :, 0], ideal[:, :1, 0])  # one position per issue after one round at rate 1
