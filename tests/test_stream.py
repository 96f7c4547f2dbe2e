"""Ensembles at scale: worker- and chunk-invariance, interruption and resume, replay, row counts, faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import BASELINE, ROOT
from test_engine import walkout_prone

from sim.errors import OutputError
from sim.experiments import runner
from sim.experiments.ensemble import run_ensemble
from sim.experiments.options import parse_trace_runs
from sim.experiments.pool import Plan, execute
from sim.outputs.chunks import ChunkStore
from sim.outputs.folder import ResultsFolder
from sim.outputs.summary import Histogram
from sim.scenario.load import load_scenario


def basing(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stream")
    (folder / "seed.txt").write_text("Alpha wants the port. Beta wants money.\n")
    (folder / "toy.yaml").write_text(yaml.safe_dump(walkout_prone()))
    done = basing("run", "toy.yaml", "-n", "3000", "-q", "--workers", "1", "--chunk-size", "3000", "--out", "ref",
                  cwd=folder)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder


def same_files(a: Path, b: Path) -> None:
    for name in ("runs.parquet", "inputs.parquet", "summary.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize(("workers", "chunk"), [("2", "500"), ("2", "1234"), ("1", "77")])
def test_any_workers_and_chunks_give_the_same_bytes(toy, workers, chunk):
    out = f"w{workers}-c{chunk}"
    done = basing("run", "toy.yaml", "-n", "3000", "-q", "--workers", workers, "--chunk-size", chunk, "--out", out,
                  cwd=toy)  # fmt: skip
    assert done.returncode == 0, done.stderr
    same_files(toy / "ref", toy / out)
    manifest = json.loads((toy / out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["rows"] == 3000
    assert not (toy / out / ".chunks").exists()


def test_interrupt_then_resume_equals_an_uninterrupted_run(toy):
    out = toy / "interrupted"
    process = subprocess.Popen([sys.executable, "-m", "sim", "run", "toy.yaml", "-n", "3000", "-q", "--workers", "1",
                                "--chunk-size", "100", "--out", str(out)], cwd=toy, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline and len(list((out / ".chunks").glob("runs-*"))) < 3:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "resume with basing run --resume" in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and not (out / "runs.parquet").exists()
    kept = len(list((out / ".chunks").glob("runs-*")))
    assert 3 <= kept < 30
    done = basing("run", "--resume", str(out), "-q", cwd=toy)
    assert done.returncode == 0, done.stderr
    chunked = basing("run", "toy.yaml", "-n", "3000", "-q", "--workers", "1", "--chunk-size", "100", "--out", "whole",
                     cwd=toy)  # fmt: skip
    assert chunked.returncode == 0
    same_files(toy / "whole", out)
    same_files(toy / "ref", out)


def test_resume_refuses_what_it_cannot_finish(toy, tmp_path):
    complete = basing("run", "--resume", "ref", cwd=toy)
    assert complete.returncode == 2 and "complete" in complete.stderr
    spec = load_scenario(toy / "toy.yaml")
    folder, _, _ = runner.start(spec, Plan(200, 1, 100), tmp_path / "half", [], ["test"])
    execute(spec.spec, Plan(100, 1, 100), folder, 1)  # only the first chunk
    folder.mark("incomplete")
    other = basing("run", str(BASELINE), "--resume", str(tmp_path / "half"), cwd=toy)
    assert other.returncode == 2 and "another scenario" in other.stderr
    with_options = basing("run", "--resume", str(tmp_path / "half"), "--runs", "5", cwd=toy)
    assert with_options.returncode == 2 and "drop --runs" in with_options.stderr
    manifest = json.loads((tmp_path / "half" / "manifest.json").read_text())
    manifest["versions"]["basing"] = "0.0.1"
    (tmp_path / "half" / "manifest.json").write_text(json.dumps(manifest))
    version = basing("run", "--resume", str(tmp_path / "half"), cwd=toy)
    assert version.returncode == 2 and "made with basing 0.0.1" in version.stderr


def test_rows_always_match_the_runs_claimed(toy, tmp_path):
    spec = load_scenario(toy / "toy.yaml")
    folder, plan, _ = runner.start(spec, Plan(300, 1, 100), tmp_path / "gap", [], ["test"])
    execute(spec.spec, plan, folder, 1)
    (folder.path / ".chunks" / "runs-000000000100.json").unlink()
    with pytest.raises(OutputError, match="missing"):
        folder.finalise(spec.spec, plan.chunks())
    assert not (tmp_path / "gap" / "runs.parquet").exists()


def test_a_failing_runs_merge_stops_the_merge_beside_it(toy, tmp_path, monkeypatch):
    """The inputs merge beside the runs stops at its next chunk when the runs merge fails, so the error
    is not held up by it and no inputs.parquet is written."""
    spec = load_scenario(toy / "toy.yaml")
    folder, plan, _ = runner.start(spec, Plan(300, 1, 50), tmp_path / "bad", [], ["test"])
    execute(spec.spec, plan, folder, 1)
    read = ChunkStore.table

    def slow_inputs(store, key, kind):
        if kind == "inputs":
            time.sleep(0.2)  # 6 chunks: 1.2 s, against a runs merge that fails at its first
        return read(store, key, kind)

    def refuse(rows):
        raise ValueError("not the columns of this run")

    monkeypatch.setattr(ChunkStore, "table", slow_inputs)
    started = time.monotonic()
    with pytest.raises(OutputError, match="runs-000000000000"):
        folder.merge_all([start for start, _ in plan.chunks()], ("inputs",), refuse)
    assert time.monotonic() - started < 1.0
    assert not (tmp_path / "bad" / "inputs.parquet").exists() and not (tmp_path / "bad" / "runs.parquet").exists()
    assert not list((tmp_path / "bad").glob(".*.partial"))


def test_a_dying_worker_costs_a_retry_not_a_row(toy, tmp_path):
    marker = tmp_path / "killed-once"
    done = basing("run", "toy.yaml", "-n", "3000", "-q", "--workers", "2", "--chunk-size", "500", "--out", "fault",
                  cwd=toy, env={"BASING_FAULT_CHUNK": f"1000:{marker}"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert marker.exists(), "the fault was injected"
    same_files(toy / "ref", toy / "fault")


def test_replay_is_exact_and_tells_the_story(toy):
    runs = pd.read_parquet(toy / "ref" / "runs.parquet")
    walked = int(runs.index[runs["status"] == "walkout"][0])
    done = basing("replay", "ref", "--run", str(walked), "--html", "timeline.html", cwd=toy)
    assert done.returncode == 0, done.stderr
    assert f"Run {walked} of toy: walkout by" in done.stdout and "walks out" in done.stdout
    assert (toy / "ref" / f"replay-run-{walked}.parquet").exists()
    html = (toy / "timeline.html").read_text()
    assert "plotly" in html and "position" in html
    assert basing("replay", "ref", "--run", "3000", cwd=toy).returncode == 2


def test_replay_notices_a_changed_result(toy, tmp_path):
    import shutil

    copy = tmp_path / "tampered"
    shutil.copytree(toy / "ref", copy)
    runs = pd.read_parquet(copy / "runs.parquet")
    runs.loc[5, "round"] = runs.loc[5, "round"] + 1
    runs.to_parquet(copy / "runs.parquet", index=False)
    done = basing("replay", str(copy), "--run", "5", cwd=toy)
    assert done.returncode == 2 and "fails verification" in done.stderr and "runs.parquet" in done.stderr
    from sim.files import Folder
    from sim.outputs.integrity import file_records  # as if the code, not the file, had changed: re-record it

    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "files": file_records(Folder.open(copy))}))
    done = basing("replay", str(copy), "--run", "5", cwd=toy)
    assert done.returncode == 2 and "replays differently (round)" in done.stderr


def test_traced_runs_only(toy):
    done = basing("run", "toy.yaml", "-n", "1000", "-q", "--trace-runs", "0:5,990", "--out", "traced", cwd=toy)
    assert done.returncode == 0, done.stderr
    trace = pd.read_parquet(toy / "traced" / "trace.parquet")
    assert sorted(set(trace["run"])) == [0, 1, 2, 3, 4, 990]
    bad = basing("run", "toy.yaml", "-n", "10", "--trace-runs", "5:50", "--out", "x", cwd=toy)
    assert bad.returncode == 2 and "--trace-runs" in bad.stderr
    assert basing("run", "toy.yaml", "--workers", "0", cwd=toy).returncode == 2
    assert basing("run", "toy.yaml", "--chunk-size", "-5", cwd=toy).returncode == 2


def test_trace_run_ranges():
    assert parse_trace_runs("0:100", 1000) == ((0, 100),)
    assert parse_trace_runs("5, 7:9, 995:", 1000) == ((5, 6), (7, 9), (995, 1000))
    with pytest.raises(ValueError):
        parse_trace_runs("900:2000", 1000)
    plan = Plan(1000, 1, 300, ((250, 320), (999, 1000)))
    assert plan.traced(0, 300).tolist() == list(range(250, 300))
    assert plan.traced(300, 600).tolist() == list(range(300, 320))
    assert plan.traced(900, 1000).tolist() == [999]


def test_histogram_spreads_are_order_free_and_exact_on_whole_numbers():
    rng = np.random.default_rng(0)
    rounds = rng.integers(1, 53, 5001)
    histogram = Histogram.of_integers(52)
    for part in np.array_split(rng.permutation(rounds), 7):
        histogram.add(part)
    spread = histogram.spread()
    assert [spread[k] for k in ("p10", "median", "p90")] == list(np.percentile(rounds, [10, 50, 90]))
    values = rng.uniform(0, 100, 10_001)
    continuous = Histogram(0, 100)
    continuous.add(values)
    got = continuous.spread()
    assert abs(got["median"] - np.median(values)) <= 100 / 65_536


def test_in_memory_ensembles_match_the_streamed_files(toy):
    spec = load_scenario(toy / "toy.yaml").spec
    streamed = pd.read_parquet(toy / "ref" / "runs.parquet")
    in_memory = run_ensemble(spec, 3000, seed=1).runs
    pd.testing.assert_frame_equal(streamed, in_memory, check_exact=True)


def test_results_folder_needs_a_manifest(tmp_path):
    with pytest.raises(OutputError, match="not a results folder"):
        ResultsFolder.open(tmp_path)
    assert ROOT.exists()
