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


def test_replay_through_the_api(cli_folder):
    replayed = sim.replay(cli_folder, 2)
    assert replayed.spec.name == "russia_syria_baseline" and len(replayed.trace)


def test_a_worker_process_does_not_load_the_api():
    """Workers import the engine and the pool only: the API (and the figures it brings) loads on first use."""
    code = "import sys, sim.experiments.pool; print('sim.api' in sys.modules, 'plotly' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr
    assert subprocess.run([sys.executable, "-c", "import sim; sim.run"], cwd=ROOT, timeout=120).returncode == 0
