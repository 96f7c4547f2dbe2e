"""The command line end to end, as a user runs it: files written, exit codes, messages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, ROOT, two_party


def basing(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("BASING_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def baseline_result(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "baseline"
    done = basing("run", str(BASELINE), "--runs", "400", "--seed", "9", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Terms of agreements" in done.stdout and "95% interval" in done.stdout
    return out


def test_run_writes_the_results_folder(baseline_result):
    names = ["inputs.parquet", "manifest.json", "report.html", "runs.parquet", "summary.json"]
    assert sorted(p.name for p in baseline_result.iterdir() if p.name != ".lock") == names
    runs = pd.read_parquet(baseline_result / "runs.parquet")
    assert len(runs) == 400 and runs["run"].tolist() == list(range(400))
    expected = {"run", "status", "walkout_actor", "round", "term_tartus", "utility_russia", "russia_keeps_tartus"}
    assert expected <= set(runs.columns)
    assert runs["russia_keeps_tartus"].dtype == bool
    summary = json.loads((baseline_result / "summary.json").read_text())
    assert summary["runs"] == 400
    agreement = summary["status"]["agreement"]
    assert agreement["low"] <= agreement["share"] <= agreement["high"]
    assert agreement["count"] == (runs["status"] == "agreement").sum()
    assert summary["agreement_date"]["p10"] <= summary["agreement_date"]["median"] <= summary["agreement_date"]["p90"]
    assert summary["agreement_date"]["p10"] > "2025-02-15"
    manifest = json.loads((baseline_result / "manifest.json").read_text())
    assert manifest["seed"] == 9 and manifest["runs"] == 400
    assert manifest["scenario"]["name"] == "russia_syria_baseline"
    assert {"python", "mesa", "numpy", "basing"} <= set(manifest["versions"])
    assert manifest["scenario_files"][0]["sha256"]
    assert not list(baseline_result.glob(".*partial"))


def test_same_command_same_bytes(baseline_result, tmp_path):
    again = tmp_path / "again"
    done = basing(
        "run", str(BASELINE), "--runs", "400", "--seed", "9", "--out", str(again), "--chunk-size", "150", "-q"
    )
    assert done.returncode == 0, done.stderr
    for name in ("runs.parquet", "summary.json"):
        assert (again / name).read_bytes() == (baseline_result / name).read_bytes(), name


def test_same_bytes_whatever_the_chunking_when_runs_walk_out(tmp_path):
    import yaml
    from test_engine import walkout_prone

    (tmp_path / "seed.txt").write_text("Alpha wants the port. Beta wants money.\n")
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(walkout_prone()))
    for chunk in ("600", "7"):
        done = basing("run", "toy.yaml", "-n", "600", "-q", "--chunk-size", chunk, "--out", chunk, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(tmp_path / "7" / "runs.parquet")
    assert (runs["status"] == "walkout").any() and not (runs["status"] == "walkout").all()
    for name in ("runs.parquet", "summary.json"):
        assert (tmp_path / "600" / name).read_bytes() == (tmp_path / "7" / name).read_bytes(), name


def test_existing_folder_is_never_overwritten(baseline_result):
    before = (baseline_result / "runs.parquet").read_bytes()
    done = basing("run", str(BASELINE), "--runs", "10", "--out", str(baseline_result))
    assert done.returncode == 2
    assert "already exists" in done.stderr and "Traceback" not in done.stderr
    assert (baseline_result / "runs.parquet").read_bytes() == before


def test_default_folder_name_and_trace(tmp_path):
    scenario = tmp_path / "toy.yaml"
    (tmp_path / "seed.txt").write_text("Alpha wants the port. Beta wants money.\n")
    import yaml

    scenario.write_text(yaml.safe_dump(two_party()))
    done = basing("run", str(scenario), "--runs", "5", "--trace", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("toy-") and folder.name.endswith("Z")
    trace = pd.read_parquet(folder / "trace.parquet")
    expected = [
        "run",
        "round",
        "actor",
        "issue",
        "position",
        "offer",
        "proposer",
        "accepted",
        "utility",
        "needed",
        "demand",
    ]
    assert list(trace.columns) == expected
    assert set(trace["run"]) == set(range(5))


def test_set_override_reaches_the_manifest(tmp_path):
    out = tmp_path / "set"
    done = basing("run", str(BASELINE), "-n", "20", "-q", "--out", str(out), "--set", "protocol.horizon=10")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["overrides"] == ["protocol.horizon=10"] and manifest["scenario"]["protocol"]["horizon"] == 10
    assert pd.read_parquet(out / "runs.parquet")["round"].max() <= 10


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "BASELINE", "--runs", "0"], "--runs"),
        (["run", "BASELINE", "--set", "actors.russia.patiense=0.9"], "--set: actors.russia.patiense: unknown key"),
        (["run", "BASELINE", "--set", "actors.rusia.patience=0.9"], "did you mean 'actors.russia'"),
        (["run", "missing.yaml"], "missing.yaml: file not found"),
        (["validate", "BAD"], "bad.yaml:4: actors.russia.patiense: unknown key 'patiense'; did you mean 'patience'?"),
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path, args, fragment):
    for tree in ("scenarios", "seeds"):  # extends stays within the scenario's folder
        shutil.copytree(ROOT / tree, tmp_path / tree)
    bad = tmp_path / "scenarios" / "bad.yaml"
    bad.write_text(f"extends: {BASELINE.name}\nactors:\n  russia:\n    patiense: 0.9\n")
    args = [str(BASELINE) if a == "BASELINE" else str(bad) if a == "BAD" else a for a in args]
    done = basing(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "results").exists() and not (tmp_path / "scenarios" / "results").exists()


def test_validate_and_schema():
    done = basing("validate", str(BASELINE))
    assert done.returncode == 0 and "valid" in done.stdout
    schema = json.loads(basing("schema").stdout)
    assert "actors" in schema["properties"] and schema["additionalProperties"] is False


ENGINE_BEFORE_WORKERS = """
import sys
import sim.experiments.runner as runner

def stop(*args, **kwargs):
    print(",".join(name for name in ("numba", "mesa", "sim.engine.model") if name in sys.modules))
    raise SystemExit(0)

runner.execute = stop
from sim.cli import main
sys.argv = ["basing", "run", sys.argv[1], "-n", "100", "-q", "--workers", "2", "--out", sys.argv[2]]
main()
"""


def test_the_main_process_leaves_the_engine_to_its_workers(tmp_path):
    """With a pool of workers, `basing run` has not loaded the engine (Mesa, numba: 100 MB) in the main
    process when the workers start: a million runs peak with all three processes alive."""
    done = subprocess.run([sys.executable, "-c", ENGINE_BEFORE_WORKERS, str(BASELINE), str(tmp_path / "r")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"loaded before the workers: {done.stdout.strip()}"


def test_verify_says_a_sweeps_runs_are_per_point(tmp_path):
    import yaml

    (tmp_path / "seed.txt").write_text("Alpha wants the port. Beta wants money.\n")
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(two_party()))
    swept = basing("sweep", "toy.yaml", "--vary", "actors.alpha.risk=0.2,0.5,0.8", "-n", "6", "-q", "--workers", "1",
                   "--out", "s", cwd=tmp_path)  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    ran = basing("run", "toy.yaml", "-n", "7", "-q", "--workers", "1", "--out", "r", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "verified (a sweep of 3 points of 6 runs each written by" in basing("verify", "s", cwd=tmp_path).stdout
    assert "verified (a run of 7 runs written by" in basing("verify", "r", cwd=tmp_path).stdout
