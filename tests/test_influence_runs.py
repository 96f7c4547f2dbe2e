"""Influence-only scenarios through the whole engine: imported KTAB and BDM inputs reproduce their
published numbers, and the published models also run inside a negotiation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import BASELINE, ROOT

from sim.experiments.ensemble import run_ensemble
from sim.reference.cases import DATA
from sim.scenario.errors import ScenarioError
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
    assert runs["position.xj.policy"].iloc[0] == pytest.approx(43.18, abs=1e-6)
    assert runs["position.wy.competitive"].iloc[0] == pytest.approx(60.0, abs=1e-6)
    assert runs["forecast_mean_policy"].iloc[0] == pytest.approx(37.28, abs=0.005)
    assert runs["win_mof"].iloc[0] == pytest.approx(0.2330, abs=5e-5)


def test_imported_bdm_scenario_reproduces_the_trajectory(imported):
    spec = load_scenario(imported / "bdm.yaml").spec
    runs = run_ensemble(spec, 1, seed=0).runs
    assert runs["round"].iloc[0] == 10 and runs["status"].iloc[0] == "horizon"
    assert runs["forecast_mean_issue"].iloc[0] == pytest.approx(7.242131, abs=5e-7)
    assert runs["position.belgium.issue"].iloc[0] == pytest.approx(4.2915, abs=5e-5)


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


@pytest.mark.parametrize("kind", ["eum", "smp", "compromise"])
def test_joint_models_move_the_base_by_their_own_shift_only(kind):
    # Everyone effectively stands at 5 (actor 0 only because a temporary effect takes 2 off its base 7):
    # the models see nothing to move, so the base must stay at 7 rather than take the effective 5.
    from sim.arrays import ActorArrays
    from sim.influence import make_influence
    from sim.influence.stages import CompromiseStage

    def arrays(first: float) -> ActorArrays:
        ideal = np.array([[[first], [5.0], [5.0]]])
        return ActorArrays(ideal, np.full((1, 3, 1), 0.5), np.ones((1, 3)), np.ones((1, 3)), np.zeros((1, 3)),
                           np.zeros((1, 3)), np.ones((1, 3)))  # fmt: skip

    low, span = np.array([0.0]), np.array([10.0])
    if kind == "compromise":
        stage = CompromiseStage(np.ones(1), False, low, low + span)
    else:
        spec = load_scenario(BASELINE, [f"influence={{model: {kind}}}"]).spec.influence
        stage = make_influence(spec, np.ones(1), np.arange(2), low, span, lambda step: np.zeros((1, 3)))
    effective, base, public = arrays(5.0), arrays(7.0), arrays(7.0)
    stage.begin((effective, effective.salience), (effective, effective.salience))
    stage.apply(base, public, np.ones(1, dtype=bool))
    assert base.ideal[0, :, 0].tolist() == [7.0, 5.0, 5.0]
    assert public.ideal[0, :, 0].tolist() == [7.0, 5.0, 5.0]


def test_markov_pce_results_do_not_depend_on_the_batch(imported):
    spec = load_scenario(imported / "ktab.yaml", ["influence.pce=markov_uniform", "influence.transition=stochastic"])
    whole = run_ensemble(spec.spec, 24, seed=2, chunk_size=24).runs
    pd.testing.assert_frame_equal(whole, run_ensemble(spec.spec, 24, seed=2, chunk_size=5).runs, check_exact=True)


def test_equilibrium_players_never_sign_below_their_outside_option():
    from sim.reference.bargaining import pie_scenario

    spec = pie_scenario((0.9, 0.9), outside=(0.6, 0.6))  # no split gives both 0.6
    runs = run_ensemble(spec, 20, seed=0).runs
    assert (runs["status"] != "agreement").all()
    spec = pie_scenario((0.9, 0.9), outside=(0.3, 0.3))
    runs = run_ensemble(spec, 20, seed=0).runs
    assert (runs["status"] == "agreement").all() and (runs["round"] == 1).all()


def test_import_names_stay_distinct(tmp_path):
    from sim.scenario.imports import ktab_scenario, read_ktab

    path = tmp_path / "k.csv"
    path.write_text('t, d, 3, 1,\nActor, Desc, Power, P, S,\nA B, "x, with comma\nand newline", 10, 50, 50,\n'
                    "A-B, y, 10, 40, 50,\nA_B_2, z, 1, 2, 3,\n")  # fmt: skip
    table = read_ktab(path)
    assert table.descriptions[0] == "x, with comma\nand newline"
    assert list(ktab_scenario(table, path)["actors"]) == ["a_b", "a_b_2", "a_b_2_2"]
    path.write_bytes(b"t, d, 3.0, 1,\nActor, Desc, Power, P, S,\n")
    with pytest.raises(ScenarioError, match="number of actors: not a positive whole number"):
        read_ktab(path)
    path.write_bytes("t, d, 3, 1,\nActor, Desc, Power, P, S,\nJos\xe9, x, 1, 5, 5,\nb, x, 1, 5, 5,\nc, x, 1, 5, 5,\n"
                     .encode("latin-1"))  # fmt: skip
    assert read_ktab(path).actors[0] == "José"


def test_an_influence_only_issue_nobody_weighs_is_refused(imported, tmp_path):
    data = yaml.safe_load((imported / "bdm.yaml").read_text())
    data["seed"] = str(DATA / "bdm" / "ec_car_emissions.csv")
    for actor in data["actors"].values():
        actor["preferences"]["issue"]["salience"] = 0.0
    path = tmp_path / "flat.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match=r"issues\.issue: no actor has both capability and salience"):
        load_scenario(path)


def test_an_influence_only_results_folder_replays_exactly(imported):
    """Its walkout column has no possible value and comes back from Parquet as objects, not categories."""
    done = basing("run", "bdm.yaml", "-n", "20", "-q", "--out", "bdm-run", "--workers", "1", cwd=imported)
    assert done.returncode == 0, done.stderr
    done = basing("replay", "bdm-run", "--run", "3", cwd=imported)
    assert done.returncode == 0 and "replays differently" not in done.stderr, done.stderr


def test_every_influence_model_of_the_schema_has_a_stage_and_no_other_name_does():
    """The registry is the one place a stage is declared: every model the schema accepts has one, and a
    name without one is refused rather than silently running no influence."""
    import typing

    from sim.influence import STAGES, make_influence
    from sim.scenario.schema import Scenario

    def models(annotation) -> set[str]:
        found = set()
        for arg in typing.get_args(annotation) or ():
            if isinstance(arg, type) and "model" in getattr(arg, "model_fields", {}):
                found |= set(typing.get_args(arg.model_fields["model"].annotation))
            else:
                found |= models(arg)
        return found

    declared = models(Scenario.model_fields["influence"].annotation)
    assert declared and declared == set(STAGES)

    class Unknown:
        model = "telepathy"

    with pytest.raises(ValueError, match="telepathy"):
        make_influence(Unknown(), None, None, None, None, None)
