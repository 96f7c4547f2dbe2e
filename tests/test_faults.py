"""Faults: runs and sweeps killed with SIGKILL at several points, a full disk, a read-only folder, two
processes on one folder. Each leaves only complete files and a resumable state, and resuming gives the
same bytes as an uninterrupted run. Marked slow; CI runs them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import SEED_TEXT, two_party

from sim.outputs.integrity import verify

pytestmark = pytest.mark.slow
KILL_POINTS = 6  # SIGKILL times per kind of job, drawn from a fixed generator
RESULTS = ("runs.parquet", "summary.json", "report.html")
SWEEP_RESULTS = ("points.parquet", "runs.parquet", "summary.parquet", "sweep.html")


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sim", *args]


def basing(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faults")
    (folder / "seed.txt").write_text(SEED_TEXT)
    (folder / "s.yaml").write_text(yaml.safe_dump(two_party()))
    return folder


RUN = ["run", "s.yaml", "-n", "30000", "--chunk-size", "1500", "--workers", "2", "-q"]
SWEEP = ["sweep", "s.yaml", "--vary", "actors.alpha.patience=0.9:0.99:4", "--vary", "protocol.breakdown_risk=0,0.02",
         "-n", "1500", "--block", "500", "--workers", "2", "-q"]  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(project) -> dict[str, Path]:
    done = basing(*RUN, "--out", "whole-run", cwd=project)
    assert done.returncode == 0, done.stderr
    done = basing(*SWEEP, "--out", "whole-sweep", cwd=project)
    assert done.returncode == 0, done.stderr
    return {"run": project / "whole-run", "sweep": project / "whole-sweep"}


def kill_after(args: list[str], cwd: Path, seconds: float) -> None:
    """Start a job in its own process group and SIGKILL the whole group (workers too) after ``seconds``."""
    process = subprocess.Popen(command(*args), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # fmt: skip
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    time.sleep(0.2)  # let the killed workers go


def only_complete_files(folder: Path) -> None:
    """Every file but the hidden half-written ones (which a resume removes) is whole."""
    for path in folder.rglob("*"):
        if path.is_dir() or path.name.endswith(".partial") or path.name == ".lock":
            continue
        if path.suffix == ".parquet":
            pq.read_table(path)  # raises on a truncated file
        elif path.suffix == ".json":
            json.loads(path.read_text())


KILL_TIMES = np.random.default_rng(20250215).uniform(0.5, 9.0, KILL_POINTS).round(2)


@pytest.mark.parametrize("kind", ["run", "sweep"])
@pytest.mark.parametrize("seconds", KILL_TIMES.tolist())
def test_sigkill_then_resume_gives_the_same_bytes(project, uninterrupted, kind, seconds):
    out = project / f"killed-{kind}-{seconds}"
    kill_after([*(RUN if kind == "run" else SWEEP), "--out", out.name], project, seconds)
    if not (out / "manifest.json").exists():
        assert not out.exists() or not any(out.glob("*.parquet")), "results without a manifest"
        return  # killed before anything was kept: nothing to resume, nothing lost
    only_complete_files(out)
    status = json.loads((out / "manifest.json").read_text())["status"]
    if status != "complete":
        done = basing(kind, "--resume", out.name, "-q", cwd=project)
        assert done.returncode == 0, done.stderr
    assert verify(out) == []
    for name in RESULTS if kind == "run" else SWEEP_RESULTS:
        assert (out / name).read_bytes() == (uninterrupted[kind] / name).read_bytes(), name
    assert not list(out.rglob("*.partial")) and not (out / ".chunks").exists()


def test_a_second_process_on_the_same_folder_is_refused(project):
    process = subprocess.Popen(command("run", "s.yaml", "-n", "20000000", "--workers", "1", "-q", "--out", "busy"),
                               cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # fmt: skip
    try:
        deadline = time.time() + 60
        while not (project / "busy" / "manifest.json").exists() and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        done = basing("run", "--resume", "busy", "-q", cwd=project)
        assert done.returncode == 2 and "another basing process" in done.stderr, done.stderr
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def small_disk(tmp_path):
    """A 12 MB filesystem of its own (tmpfs), or skip where this process may not mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here ({done.stderr.decode().strip()}); needs root")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def earlier_result(project: Path, disk: Path) -> dict[str, bytes]:
    """A finished run on ``disk``, and the bytes of its files."""
    shutil.copy(project / "seed.txt", disk / "seed.txt")
    shutil.copy(project / "s.yaml", disk / "s.yaml")
    done = basing("run", "s.yaml", "-n", "100", "-q", "--workers", "1", "--out", "earlier", cwd=disk)
    assert done.returncode == 0, done.stderr
    return {p.name: p.read_bytes() for p in (disk / "earlier").iterdir()}


def test_a_full_disk_gives_a_message_and_keeps_earlier_results(project, small_disk):
    before = earlier_result(project, small_disk)
    stat = os.statvfs(small_disk)
    (small_disk / "filler").write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 1_500_000))  # 1.5 MB left
    done = basing("run", "s.yaml", "-n", "2000", "-q", "--workers", "1", "--out", "too-big", cwd=small_disk)
    assert done.returncode == 2, done.stderr
    assert "No space left on device" in done.stderr and "Traceback" not in done.stderr
    assert {p.name: p.read_bytes() for p in (small_disk / "earlier").iterdir()} == before
    assert verify(small_disk / "earlier") == []
    manifest = json.loads((small_disk / "too-big" / "manifest.json").read_text())
    assert manifest["status"] == "incomplete"
    (small_disk / "filler").unlink()  # room again: the run resumes and completes
    done = basing("run", "--resume", "too-big", "-q", cwd=small_disk)
    assert done.returncode == 0, done.stderr
    assert verify(small_disk / "too-big") == []


def test_a_read_only_folder_gives_a_message_and_keeps_results(project, small_disk):
    before = earlier_result(project, small_disk)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for args in (["run", "s.yaml", "-n", "10", "-q", "--out", "new"], ["replay", "earlier", "--run", "1"],
                 ["compare", "earlier", "--out", "c.html"]):  # fmt: skip
        done = basing(*args, cwd=small_disk)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and ("Read-only file system" in done.stderr or "cannot" in done.stderr)
    assert {p.name: p.read_bytes() for p in (small_disk / "earlier").iterdir()} == before


def test_a_resume_that_lost_the_race_leaves_the_finished_folder_alone(project):
    """Two resumes of one folder both open it; the first finishes it; the second, once it has the lock,
    sees that and refuses, and the folder stays complete."""
    from sim.errors import OutputError
    from sim.experiments import runner
    from sim.experiments.pool import Plan
    from sim.scenario.load import load_scenario

    loaded = load_scenario(project / "s.yaml")
    folder, _, _ = runner.start(loaded, Plan(2000, 1, 500), project / "race", [], ["test"])
    folder.mark("incomplete")
    first, second = runner.reopen(folder.path, None), runner.reopen(folder.path, None)
    runner.complete(*first, workers=1, on_progress=None)
    with pytest.raises(OutputError, match="completed by another process"):
        runner.complete(*second, workers=1, on_progress=None)
    assert verify(folder.path) == []
