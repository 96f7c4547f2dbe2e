"""The Python API gives what the command line gives: the same runs, summary and folders."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import BASELINE, ROOT

import sim


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api") / "cli"
    command = [sys.executable, "-m", "sim", "run", str(BASELINE), "-n", "600", "--seed", "3", "-q", "--out",
               str(folder), "--trace-runs", "0:5"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return folder


def test_run_in_memory_equals_the_command_lines_runs_and_summary(cli_folder):
    result = sim.run(sim.load(BASELINE), runs=600, seed=3, workers=1, trace_runs=((0, 5),))
    assert result.path is None
    pd.testing.assert_frame_equal(result.runs, pd.read_parquet(cli_folder / "runs.parquet"))
    pd.testing.assert_frame_equal(result.trace, pd.read_parquet(cli_folder / "trace.parquet"))
    stored = json.loads((cli_folder / "summary.json").read_text())
    assert json.loads(json.dumps(result.summary, default=str)) == json.loads(json.dumps(stored, default=str))


def test_run_into_a_folder_writes_the_command_lines_bytes(cli_folder, tmp_path):
    result = sim.run(BASELINE, runs=600, seed=3, workers=2, out=tmp_path / "api", trace_runs=((0, 5),))
    assert result.path == tmp_path / "api"
    for name in ("runs.parquet", "trace.parquet", "summary.json"):
        assert (tmp_path / "api" / name).read_bytes() == (cli_folder / name).read_bytes(), name
    assert subprocess.run([sys.executable, "-m", "sim", "verify", str(tmp_path / "api")], timeout=300).returncode == 0


def test_the_same_runs_whatever_the_workers():
    one = sim.run(BASELINE, runs=300, seed=5, workers=1, chunk_size=100)
    two = sim.run(BASELINE, runs=300, seed=5, workers=2)
    pd.testing.assert_frame_equal(one.runs, two.runs)


def test_a_variant_in_code_and_its_comparison(cli_folder):
    variant = sim.load(BASELINE, set={"actors.syria.outside_option.value": 0.9, "name": "syria_walks"})
    assert variant.spec.actors["syria"].outside_option.value == 0.9
    assert variant.overrides[0].startswith("actors.syria.outside_option.value=")
    base, other = sim.open_results(cli_folder), sim.run(variant, runs=300, seed=3)
    assert base.share("agreement")[0] > other.share("agreement")[0]
    low, share, high = other.share("walkout")[1], other.share("walkout")[0], other.share("walkout")[2]
    assert low <= share <= high
    assert set(sim.shares(other)["status"]) >= {"agreement", "walkout", "breakdown", "no_deal"}
    figures = sim.compare(base, other)
    assert len(figures) >= 4 and all(f.data for f in figures)
    names = {trace.name for trace in figures[0].data}
    assert names == {"russia_syria_baseline", "syria_walks"}  # no version tag: both made by this basing
    with pytest.raises(KeyError, match="not a status"):
        other.share("converged")


def test_replay_through_the_api_and_its_timeline_in_labels(cli_folder):
    from sim.outputs.escape import esc
    from sim.outputs.figures.timeline import timeline

    replayed = sim.replay(cli_folder, 2)
    assert replayed.spec.name == "russia_syria_baseline" and len(replayed.trace) and replayed.kept is None
    assert replayed.narrative() and not (cli_folder / "replay-run-2.parquet").exists()
    spec = replayed.spec
    parties = {name: spec.actors[name].label for name in spec.parties()}
    issues = {name: (issue.label, issue.unit) for name, issue in spec.issues.items()}
    figure = timeline(replayed.trace, replayed.events, parties, issues, "run 2")
    names = {trace.name for trace in figure.data}
    assert {f"{esc(label)} position" for label in parties.values()} <= names
    assert [a.text for a in figure.layout.annotations][: len(issues)] == [esc(label) for label, _ in issues.values()]


def test_a_worker_process_does_not_load_the_api():
    """Workers import the engine and the pool only: the API (and the figures it brings) loads on first use."""
    code = "import sys, sim.experiments.pool; print('sim.api' in sys.modules, 'plotly' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr
    assert subprocess.run([sys.executable, "-c", "import sim; sim.run"], cwd=ROOT, timeout=120).returncode == 0


def test_the_package_re_exports_the_whole_api():
    from sim import api

    assert sorted(sim.API) == sorted(api.__all__)
    assert all(getattr(sim, name) is getattr(api, name) for name in api.__all__)


class Counting:
    """A progress object that records what it is told, and can press Ctrl-C once ``stop_after`` runs are
    done (one worker reports runs as they finish, inside a chunk)."""

    def __init__(self, stop_after: int | None = None):
        self.started, self.advanced, self.stop_after = [], [], stop_after

    def start(self, label, total, done):
        self.started.append((label, total, done))

    def advance(self, runs):
        self.advanced.append(runs)
        if self.stop_after is not None and sum(self.advanced) >= self.stop_after:
            raise KeyboardInterrupt


def test_progress_is_reported_in_memory_and_into_a_folder(tmp_path):
    for out in (None, tmp_path / "counted"):
        progress = Counting()
        sim.run(BASELINE, runs=250, seed=2, workers=1, chunk_size=100, out=out, progress=progress)
        assert progress.started == [("russia_syria_baseline", 250, 0)]
        assert sum(progress.advanced) == 250


def test_an_interrupted_run_resumes_to_the_bytes_of_an_uninterrupted_one(tmp_path):
    with pytest.raises(sim.RunInterrupted) as caught:
        sim.run(BASELINE, runs=400, seed=4, workers=1, chunk_size=100, out=tmp_path / "half",
                progress=Counting(stop_after=250))  # fmt: skip
    assert caught.value.path == tmp_path / "half" and caught.value.resume.startswith("basing run --resume")
    assert json.loads((tmp_path / "half" / "manifest.json").read_text())["status"] == "incomplete"
    progress = Counting()
    resumed = sim.resume(tmp_path / "half", workers=1, progress=progress)
    assert progress.started == [("russia_syria_baseline", 400, 200)] and sum(progress.advanced) == 200
    whole = sim.run(BASELINE, runs=400, seed=4, workers=1, chunk_size=100, out=tmp_path / "whole")
    assert (resumed.path / "runs.parquet").read_bytes() == (whole.path / "runs.parquet").read_bytes()
    pd.testing.assert_frame_equal(resumed.runs, whole.runs)


def test_a_comparison_of_a_folder_a_scenario_file_and_results_in_memory(cli_folder):
    told = []
    done = sim.comparison(cli_folder, BASELINE, sim.run(BASELINE, runs=200, seed=3), runs=200, seed=3,
                          on_item=lambda verb, name: told.append(verb))  # fmt: skip
    assert told == ["reading", "running"]
    assert [item.origin for item in done.items] == [str(cli_folder), str(BASELINE), "in memory #3"]
    assert len({item.label for item in done.items}) == 3  # one scenario three times: numbered labels
    page = done.page()
    assert page.startswith("<!DOCTYPE html>") and "Comparison" in page
    with pytest.raises(sim.errors.InputError, match="neither a scenario file"):
        sim.comparison(cli_folder, ROOT / "README.md")


def test_a_sweep_in_memory_and_into_a_folder_gives_the_command_lines_tables(tmp_path):
    vary = {"actors.syria.patience": "0.9:0.99:2"}
    progress = Counting()
    kept = sim.sweep(BASELINE, vary=vary, runs=60, seed=2, workers=1, out=tmp_path / "api", progress=progress)
    assert progress.started == [("russia_syria_baseline: 2 points", 120, 0)] and sum(progress.advanced) == 120
    command = [sys.executable, "-m", "sim", "sweep", str(BASELINE), "--vary", "actors.syria.patience=0.9:0.99:2",
               "-n", "60", "--seed", "2", "-q", "--workers", "1", "--out", str(tmp_path / "cli")]  # fmt: skip
    assert subprocess.run(command, capture_output=True, cwd=ROOT, timeout=300).returncode == 0
    for name in ("points.parquet", "summary.parquet", "runs.parquet"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    held = sim.sweep(BASELINE, vary=vary, runs=60, seed=2, workers=1)
    assert held.path is None and held.outcomes == ["status_agreement"]
    pd.testing.assert_frame_equal(held.summary, kept.summary)
    assert held.points["actors.syria.patience"].tolist() == [0.9, 0.99]
