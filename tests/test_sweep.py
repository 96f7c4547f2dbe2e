"""Sweeps: design expansion, validation of every point, identical results for any workers and blocks,
resume, per-point summaries and sensitivity indices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_engine import walkout_prone

from sim.experiments.designs import DesignError, expand, list_factor, parse_vary, range_factor


def basing(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ), timeout=600)  # fmt: skip


def test_grid_sizes_and_values():
    factors = [parse_vary("a.b=0:1:3"), parse_vary("c.d=1,2"), parse_vary("e.f=x,y,z")]
    points = expand(factors, "grid", None, 0)
    assert len(points) == 3 * 2 * 3
    assert points[0] == {"a.b": 0.0, "c.d": 1, "e.f": "x"}
    assert sorted({p["a.b"] for p in points}) == [0.0, 0.5, 1.0]


def test_sampling_designs_stay_in_bounds_and_repeat():
    factors = [range_factor("a", 0.9, 0.99), range_factor("b", 0.0, 0.05)]
    for design, samples, size in (("lhs", 20, 20), ("sobol", 16, 16 * 4), ("morris", 5, 5 * 3)):
        points = expand(factors, design, samples, seed=3)
        assert len(points) == size
        values = np.array([[p["a"], p["b"]] for p in points])
        assert (values[:, 0] >= 0.9).all() and (values[:, 0] <= 0.99).all()
        assert (values[:, 1] >= 0.0).all() and (values[:, 1] <= 0.05).all()
        assert points == expand(factors, design, samples, seed=3)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: parse_vary("a=0.9:0.9:3"), "must be below"),
        (lambda: parse_vary("a=0:1:1"), "at least 2 values"),
        (lambda: parse_vary("a=0:1:x"), "whole number"),
        (lambda: parse_vary("a"), "expected dotted.path"),
        (lambda: list_factor("a", []), "empty"),
        (lambda: list_factor("a", "0.9"), "must be a list"),
        (lambda: expand([range_factor("a", 0, 1)], "sobol", 6, 0), "power of two"),
        (lambda: expand([list_factor("a", [1, 2])], "lhs", 4, 0), "samples ranges"),
        (lambda: expand([range_factor("a", 0, 1)], "grid", None, 0), "lo:hi:n"),
        (lambda: expand([range_factor("a", 0, 1)], "lhs", None, 0), "--samples"),
    ],
)
def test_bad_designs(call, fragment):
    with pytest.raises(DesignError, match=fragment):
        call()


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "seed.txt").write_text("Alpha wants the port. Beta wants money.\n")
    (folder / "toy.yaml").write_text(yaml.safe_dump(walkout_prone()))
    done = basing("sweep", "toy.yaml", "--vary", "actors.alpha.patience=0.9:0.99:3", "--vary",
                  "protocol.breakdown_risk=0,0.05", "-n", "300", "--workers", "1", "--block", "300", "-q",
                  "--out", "ref", cwd=folder)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder


def test_sweep_writes_points_runs_and_summaries(toy):
    points = pd.read_parquet(toy / "ref" / "points.parquet")
    runs = pd.read_parquet(toy / "ref" / "runs.parquet")
    summary = pd.read_parquet(toy / "ref" / "summary.parquet")
    assert len(points) == 6 and list(points.columns) == ["point", "actors.alpha.patience", "protocol.breakdown_risk"]
    assert len(runs) == 6 * 300 and runs.groupby("point").size().eq(300).all()
    assert {"status_agreement", "status_agreement_low", "status_agreement_high", "terms_port_median"} <= set(summary)
    for point, rows in runs.groupby("point"):
        share = (rows["status"] == "agreement").mean()
        assert summary.loc[point, "status_agreement"] == pytest.approx(share)
    risky = points["protocol.breakdown_risk"] == 0.05
    assert (summary.loc[risky, "status_breakdown"] > 0).all() and (summary.loc[~risky, "status_breakdown"] == 0).all()
    manifest = json.loads((toy / "ref" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["rows"] == 1800


def test_same_files_whatever_the_workers_and_blocks(toy):
    done = basing("sweep", "toy.yaml", "--vary", "actors.alpha.patience=0.9:0.99:3", "--vary",
                  "protocol.breakdown_risk=0,0.05", "-n", "300", "--workers", "2", "--block", "70", "-q",
                  "--out", "other", cwd=toy)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for name in ("points.parquet", "runs.parquet", "inputs.parquet", "summary.parquet"):
        assert (toy / "ref" / name).read_bytes() == (toy / "other" / name).read_bytes(), name


def test_points_share_their_random_numbers(toy):
    # every point uses the same seed: two points with the same values repeat each other run for run
    done = basing("sweep", "toy.yaml", "--vary", "protocol.belief_step=0.02,0.02,0.2", "-n", "200", "-q", "--out",
                  "twins", cwd=toy)  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(toy / "twins" / "runs.parquet")
    first, twin, other = (runs[runs["point"] == k].drop(columns="point").reset_index(drop=True) for k in range(3))
    pd.testing.assert_frame_equal(first, twin)
    assert not first.equals(other)


def test_resume_a_sweep(toy, tmp_path):
    from sim.experiments import sweep_runner
    from sim.experiments.inputs import SweepInputs
    from sim.experiments.sweep_engine import execute_sweep

    plan = sweep_runner.make_plan(toy / "toy.yaml", [], ["actors.alpha.patience=0.9:0.99:3"], "grid", None, 200, 1, 100)
    points, specs = sweep_runner.prepare(plan)
    folder = sweep_runner.start(plan, points, ["status_agreement"], tmp_path / "half", "toy", ["test"])
    execute_sweep(plan, specs[:1], SweepInputs.of(specs, points, plan.seed), folder, 1)  # the first point only
    folder.mark("incomplete")
    done = basing("sweep", "--resume", str(tmp_path / "half"), "-q", cwd=tmp_path)  # from anywhere
    assert done.returncode == 0, done.stderr
    whole = basing("sweep", "toy.yaml", "--vary", "actors.alpha.patience=0.9:0.99:3", "-n", "200", "--block", "100",
                   "-q", "--out", "whole", cwd=toy)  # fmt: skip
    assert whole.returncode == 0
    for name in ("runs.parquet", "inputs.parquet", "summary.parquet"):
        assert (tmp_path / "half" / name).read_bytes() == (toy / "whole" / name).read_bytes()
    again = basing("sweep", "--resume", str(tmp_path / "half"), cwd=toy)
    assert again.returncode == 2 and "complete" in again.stderr


def test_sobol_sensitivity_ranks_the_parameter_that_matters(toy):
    done = basing("sweep", "toy.yaml", "--vary", "protocol.breakdown_risk=0:0.1", "--vary",
                  "actors.gamma.capability=0.1:0.9", "--design", "sobol", "--samples", "16", "-n", "200",
                  "--outcome", "status_breakdown", "-q", "--out", "sobol", cwd=toy)  # fmt: skip
    assert done.returncode == 0, done.stderr
    indices = pd.read_parquet(toy / "sobol" / "sensitivity.parquet")
    total = indices[indices["index"] == "ST"].set_index("parameter")["value"]
    assert total["protocol.breakdown_risk"] > 0.5 > total["actors.gamma.capability"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--vary", "actors.alpha.patiense=0.9:0.99:3"], "did you mean 'patience'? (at all 3 points)"),
        (["--vary", "actors.alpha.patience=0.9:1.5:3"], "must lie within [0.0, 1.0] (got 1.2) (at point 1"),
        (["--vary", "actors.alpha.patience=0.9:0.99:3", "--outcome", "status_agreemnt"], "did you mean"),
        (["--vary", "actors.alpha.patience=0.9:0.99", "--design", "sobol", "--samples", "6"], "power of two"),
        (["--vary", "actors.alpha.patience=0.9:0.99:3", "--design", "fancy"], "choose grid"),
        ([], "to sweep it give --vary"),
    ],
)
def test_bad_sweeps_exit_2_before_running(toy, args, fragment):
    done = basing("sweep", "toy.yaml", *args, "-n", "10", "--out", "never", cwd=toy)
    assert done.returncode == 2, done.stdout + done.stderr
    assert fragment in done.stderr and "Traceback" not in done.stderr
    assert not (toy / "never").exists()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A real Dask scheduler and worker on loopback, as separate processes."""
    import time

    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(scheduler_file)], cwd=folder,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 60
    while not scheduler_file.exists() and time.time() < deadline:
        time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                               "--nworkers", "2", "--no-dashboard", "--host", "127.0.0.1"], cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
    yield address
    for process in (worker, scheduler):
        process.terminate()
        process.wait(timeout=30)


def test_a_dask_cluster_gives_the_same_bytes(toy, dask_cluster):
    done = basing("sweep", "toy.yaml", "--vary", "actors.alpha.patience=0.9:0.99:3", "--vary",
                  "protocol.breakdown_risk=0,0.05", "-n", "300", "--block", "150", "--scheduler", dask_cluster, "-q",
                  "--out", "on-dask", cwd=toy)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for name in ("points.parquet", "runs.parquet", "inputs.parquet", "summary.parquet"):
        assert (toy / "ref" / name).read_bytes() == (toy / "on-dask" / name).read_bytes(), name


def test_the_sweep_sets_up_every_dask_worker(toy, dask_cluster):
    """After a sweep, each worker carries the plugin that undoes the nanny's malloc trim setting."""
    from distributed import Client

    from sim.experiments.dask_workers import relax_malloc_trim

    basing("sweep", "toy.yaml", "--vary", "actors.alpha.patience=0.9,0.95", "-n", "20", "--scheduler", dask_cluster,
           "-q", "--out", "setup", cwd=toy)  # fmt: skip
    with Client(dask_cluster, timeout="30s") as client:
        # a lambda travels by value; a function of this module would need the module on the workers
        carries = client.run(lambda dask_worker: "basing-sweep-setup" in dask_worker.plugins)
        assert set(carries.values()) == {True}
    assert relax_malloc_trim() is sys.platform.startswith("linux")


def test_an_unreachable_scheduler_fails_fast(toy):
    import time

    start = time.time()
    done = basing("sweep", "toy.yaml", "--vary", "actors.alpha.patience=0.9:0.99:3", "--scheduler",
                  "tcp://127.0.0.1:9", "--out", "nowhere", cwd=toy)  # fmt: skip
    assert done.returncode == 2 and "cannot reach it" in done.stderr
    assert time.time() - start < 30 and not (toy / "nowhere").exists()


def test_sweep_page_and_figures(toy):
    from sim.outputs.figures import sweeps as plots

    html = (toy / "ref" / "sweep.html").read_text()
    assert html.count('class="plotly-graph-div"') == 3  # two parameters, one heatmap, status_agreement
    assert '<script src="http' not in html and "plotly.js v" in html  # plotly.js embedded: opens offline
    points = pd.read_parquet(toy / "ref" / "points.parquet")
    summary = pd.read_parquet(toy / "ref" / "summary.parquet")
    figure = plots.outcome_against(points, summary, "actors.alpha.patience", "status_agreement")
    lines = [t for t in figure.data if t.mode == "lines+markers"]
    assert len(lines) == 2 and figure.layout.xaxis.title.text == "alpha.patience"  # one line per breakdown risk
    assert len(figure.data) == 4  # and a band for each
    heat = plots.heatmap(points, summary, "actors.alpha.patience", "protocol.breakdown_risk", "status_agreement")
    assert np.asarray(heat.data[0].z).shape == (2, 3)
    parameters = ["protocol.breakdown_risk", "actors.gamma.capability"] * 2
    indices = pd.DataFrame(
        {"outcome": "p", "parameter": parameters, "index": ["ST", "ST", "S1", "S1"], "value": [0.9, 0.1, 0.8, 0.05]}
    ).assign(conf=0.05)
    bars = plots.sensitivity_bars(indices, "p")
    assert list(bars.data[0].y) == ["gamma.capability", "protocol.breakdown_risk"]  # largest on top
    assert list(bars.data[0].x) == [0.1, 0.9]


def test_a_sweep_file_runs_like_the_command_line(toy):
    (toy / "file.yaml").write_text(
        "scenario: toy.yaml\nvary:\n  actors.alpha.patience: {range: [0.9, 0.99], count: 3}\n"
        "  protocol.breakdown_risk: {values: [0, 0.05]}\nruns: 300\n"
    )
    done = basing("sweep", "file.yaml", "--workers", "1", "--block", "300", "-q", "--out", "from-file", cwd=toy)
    assert done.returncode == 0, done.stderr
    for name in ("points.parquet", "runs.parquet", "inputs.parquet", "summary.parquet"):
        assert (toy / "ref" / name).read_bytes() == (toy / "from-file" / name).read_bytes(), name
    clash = basing("sweep", "file.yaml", "-n", "5", cwd=toy)
    assert clash.returncode == 2 and "set --runs in it" in clash.stderr
    (toy / "typo.yaml").write_text(
        "scenario: toy.yaml\nvary:\n  actors.alpha.patience: {range: [0.9, 0.99], cout: 3}\n"
    )
    typo = basing("sweep", "typo.yaml", cwd=toy)
    assert typo.returncode == 2 and "typo.yaml:3: vary.actors.alpha.patience.cout: unknown key 'cout'" in typo.stderr
    (toy / "split.yaml").write_text("scenario: toy.yaml\nvary:\n  protocol.breakdown_risk: {values: '0.05'}\n")
    split = basing("sweep", "split.yaml", cwd=toy)
    assert split.returncode == 2 and "vary.protocol.breakdown_risk.values" in split.stderr  # never 3 characters


def test_a_dying_worker_loses_no_point(toy, tmp_path):
    marker = tmp_path / "killed"
    fault = {**os.environ, "BASING_FAULT_CHUNK": f"p000003-r{0:012d}:{marker}"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "sweep",
            "toy.yaml",
            "--vary",
            "actors.alpha.patience=0.9:0.99:3",
            "--vary",
            "protocol.breakdown_risk=0,0.05",
            "-n",
            "300",
            "--workers",
            "2",
            "--block",
            "300",
            "-q",
            "--out",
            "killed",
        ],
        cwd=toy,
        capture_output=True,
        text=True,
        env=fault,
    )
    assert done.returncode == 0, done.stderr
    assert marker.exists()
    for name in ("runs.parquet", "inputs.parquet", "summary.parquet"):
        assert (toy / "ref" / name).read_bytes() == (toy / "killed" / name).read_bytes(), name


def test_values_of_any_kind_and_their_figures(toy):
    done = basing("sweep", "toy.yaml", "--vary", "influence=[{model: none}, {model: pull, rate: 0.2}]", "--vary",
                  "protocol.breakdown_risk=1e-3,5e-3", "-n", "100", "-q", "--out", "kinds", cwd=toy)  # fmt: skip
    assert done.returncode == 0, done.stderr
    points = pd.read_parquet(toy / "kinds" / "points.parquet")
    assert points["protocol.breakdown_risk"].tolist() == [0.001, 0.005, 0.001, 0.005]
    assert json.loads(points["influence"][0]) == {"model": "none"}
    html = (toy / "kinds" / "sweep.html").read_text()
    assert html.count('class="plotly-graph-div"') == 2  # one per parameter; no heatmap for text values
    text = basing("sweep", "toy.yaml", "--vary", "protocol.first_proposer=alpha,beta", "-n", "50", "-q", "--out",
                  "text", cwd=toy)  # fmt: skip
    assert text.returncode == 0 and (toy / "text" / "sweep.html").read_text().count("plotly-graph-div") >= 1
    wrong = basing("sweep", "toy.yaml", "--vary", "protocol.breakdown_risk=0.1,high", "-n", "5", cwd=toy)
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: --vary: protocol.breakdown_risk")


def test_sensitivity_is_not_computed_on_missing_values(toy):
    done = basing("sweep", "toy.yaml", "--vary", "actors.beta.outside_option.value=0.9:0.95", "--vary",
                  "protocol.breakdown_risk=0:0.01", "--design", "sobol", "--samples", "4", "-n", "30", "--outcome",
                  "terms_port_median", "-q", "--out", "nan", cwd=toy)  # fmt: skip
    assert done.returncode == 0, done.stderr
    indices = pd.read_parquet(toy / "nan" / "sensitivity.parquet")
    assert (indices["index"] == "not computed").all() and indices["note"].str.contains("points have no value").all()
