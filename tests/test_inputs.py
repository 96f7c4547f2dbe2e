"""Every run's drawn inputs: what the engine drew for run k, whatever the batch, and written to
inputs.parquet beside the runs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT

import sim
from sim.engine.model import NegotiationModel
from sim.experiments.inputs import DERIVED, inputs_of

SEED = 11


@pytest.fixture(scope="module")
def spec():
    return sim.load(BASELINE).spec


def test_the_inputs_of_run_k_are_what_the_engine_drew(spec):
    runs = np.arange(300)
    inputs = inputs_of(spec, SEED, runs)
    model = NegotiationModel(spec, runs, SEED)
    actors = model.layout.actors
    russia, syria = actors.index("russia"), actors.index("syria")
    own = model.state.own
    assert np.array_equal(inputs["actors.russia.patience"], own.patience[:, russia])
    assert np.array_equal(inputs["actors.syria.outside_option.value"], own.outside[:, syria])
    aid = model.layout.issues.index("aid")
    assert np.array_equal(inputs["actors.syria.preferences.aid.salience"], own.salience[:, syria, aid])
    assert np.array_equal(inputs["protocol.breakdown_risk"], model.state.breakdown_risk)
    assert np.array_equal(
        inputs["actors.russia.strategy.deadline"], model.strategy_of[russia].components[0][1].deadline
    )
    assert inputs["run"].tolist() == runs.tolist()


def test_run_ks_inputs_do_not_depend_on_its_batch(spec):
    batch = inputs_of(spec, SEED, np.arange(200))
    for k in (0, 57, 199):
        alone = inputs_of(spec, SEED, np.array([k]))
        pd.testing.assert_frame_equal(alone, batch.iloc[[k]].reset_index(drop=True))


def test_an_events_first_round_is_when_it_fired_while_the_talks_went_on(spec):
    runs = np.arange(150)
    inputs = inputs_of(spec, SEED, runs)
    model = NegotiationModel(spec, runs, SEED, trace=True)
    model.run_to_end()
    fired = model.recorder.events().groupby(["run", "event"])["round"].min()
    ended = pd.DataFrame(model.results())["round"].to_numpy()
    names = [c.split(".")[1] for c in inputs if c.endswith(".first_round")]
    assert names
    for name in names:
        latent = inputs[f"events.{name}.first_round"].to_numpy()
        for run in runs:
            if (run, name) in fired.index:
                assert latent[run] == fired[(run, name)]
            else:  # it never fired: its draw came up only after the run ended, or never
                assert np.isnan(latent[run]) or latent[run] > ended[run]


def test_the_derived_inputs_are_declared_and_present(spec):
    inputs = inputs_of(spec, SEED, np.arange(50))
    assert {d.pattern for d in DERIVED} == {"events.<event>.first_round", "derived.<party>.outside_less_status_quo"}
    gap = inputs["derived.syria.outside_less_status_quo"]
    assert gap.between(-1, 1).all() and gap.std() > 0


def test_results_carry_their_inputs_in_memory_and_in_a_folder(tmp_path):
    held = sim.run(BASELINE, runs=400, seed=SEED, workers=1)
    kept = sim.run(BASELINE, runs=400, seed=SEED, workers=2, chunk_size=150, out=tmp_path / "kept")
    stored = pd.read_parquet(tmp_path / "kept" / "inputs.parquet")
    pd.testing.assert_frame_equal(held.inputs, stored)
    pd.testing.assert_frame_equal(kept.inputs, stored)
    assert len(stored) == 400 and stored["run"].tolist() == list(range(400))


def test_replay_prints_the_runs_inputs(tmp_path):
    sim.run(BASELINE, runs=30, seed=SEED, workers=1, out=tmp_path / "r")
    done = subprocess.run([sys.executable, "-m", "sim", "replay", str(tmp_path / "r"), "--run", "7"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    value = pd.read_parquet(tmp_path / "r" / "inputs.parquet").loc[7, "actors.russia.patience"]
    assert f"actors.russia.patience = {value:.4g}" in done.stdout


def test_a_sweeps_inputs_are_its_varied_values_and_each_points_draws(tmp_path):
    vary = {"actors.russia.patience": "[0.985, {dist: uniform, low: 0.975, high: 0.995}]",
            "protocol.breakdown_risk": "0.005,0.01"}  # fmt: skip
    sim.sweep(BASELINE, vary=vary, runs=120, seed=SEED, workers=1, out=tmp_path / "sweep")
    folder = tmp_path / "sweep"
    inputs, runs = pd.read_parquet(folder / "inputs.parquet"), pd.read_parquet(folder / "runs.parquet")
    points = pd.read_parquet(folder / "points.parquet")
    assert inputs[["point", "run"]].equals(runs[["point", "run"]])  # the rows of runs.parquet, in order
    assert inputs["varied.protocol.breakdown_risk"].tolist() == points["protocol.breakdown_risk"].repeat(120).tolist()
    patience = inputs["varied.actors.russia.patience"]  # a number at one point, a mapping at the other: text
    assert set(patience) == {"0.985", '{"dist": "uniform", "high": 0.995, "low": 0.975}'}
    base = inputs_of(sim.load(BASELINE).spec, SEED, np.arange(120))
    for _, rows in inputs.groupby("point"):
        # the same seed at every point: a value no point varies is the same draw at each
        assert np.array_equal(rows["actors.syria.outside_option.value"], base["actors.syria.outside_option.value"])
        drawn = rows["actors.russia.patience"].to_numpy()
        if patience[rows.index[0]] == "0.985":
            assert np.isnan(drawn).all()  # a plain number here: nothing drawn, the column empty
        else:
            assert np.array_equal(drawn, base["actors.russia.patience"])
    found = sim.discover(folder, "deal", write=False)  # discovery reads a sweep's folder too
    assert "varied.protocol.breakdown_risk" in set(found.scores["input"])
    assert "varied.actors.russia.patience" not in set(found.scores["input"])  # text has no order for a box
