"""The machinery of the bad-input catalogue (``test_catalogue.py``): a case, the files it writes, the
results folders it may use, and running the command line in this process."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from conftest import SEED_TEXT, two_party

from sim.cli import main
from sim.experiments import runner, sweep_runner
from sim.experiments.inputs import SweepInputs
from sim.experiments.pool import Plan, simulate_chunk
from sim.experiments.sweep_engine import execute_sweep
from sim.files import Folder
from sim.outputs.chunks import file_of, names
from sim.outputs.integrity import file_records
from sim.scenario.limits import MAX_ACTORS, MAX_ISSUES
from sim.scenario.load import load_scenario

VALID = two_party()
FIFO = object()  # as a file's content: make a named pipe there


@dataclass(frozen=True)
class Link:
    """As a file's content: a symbolic link to ``target`` (relative to the link's folder)."""

    target: str


@dataclass
class Case:
    """A bad input: ``files`` to write (name -> text, bytes, a scenario mapping, FIFO or a Link), a
    ``prepare`` step on the case's folder, the command's arguments, the exit code, the words its
    message must hold, words it must not hold, and a ``check`` of the folder afterwards."""

    name: str
    args: list[str]
    code: int
    words: list[str]
    files: dict[str, Any] = field(default_factory=dict)
    prepare: Callable[[Path], None] | None = None
    absent: list[str] = field(default_factory=list)
    check: Callable[[Path], None] | None = None


def changed(edit: Callable[[dict], None], **top: Any) -> dict:
    data = two_party(**top)
    edit(data)
    return data


def text_of(data: dict, *replacements: tuple[str, str]) -> str:
    """A scenario as YAML text with literal replacements (for what a mapping cannot say: an unquoted
    date, a key YAML reads as true, an escape in double quotes)."""
    text = yaml.safe_dump(copy.deepcopy(data), allow_unicode=True, sort_keys=False)
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def port_of_alpha(data: dict) -> dict:
    return data["actors"]["alpha"]["preferences"]["port"]


def rename(section: str, old: str, new: str) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        data[section][new] = data[section].pop(old)

    return edit


def many_actors(count: int) -> dict:
    data = two_party()
    for k in range(count - len(data["actors"])):
        data["actors"][f"extra_{k}"] = {"label": f"Extra {k}", "role": "stakeholder", "capability": 0.1,
                                        "outside_option": {"value": 0.3, "label": "o"},
                                        "preferences": {"port": {"ideal": 50, "salience": 1}}}  # fmt: skip
    return data


def many_issues(count: int) -> dict:
    data = two_party()
    for k in range(count - len(data["issues"])):
        data["issues"][f"extra_{k}"] = {"label": f"Extra {k}", "unit": "u", "range": [0, 1]}
    return data


def big_scenario() -> dict:
    """The largest scenario allowed: its chunks must be small."""
    data = many_issues(MAX_ISSUES)
    names = list(data["issues"])
    preferences = {n: {"ideal": 0.5, "salience": 1} for n in names[2:]}
    for k in range(MAX_ACTORS - 3):
        data["actors"][f"extra_{k}"] = {"label": f"Extra {k}", "role": "stakeholder", "capability": 0.1,
                                        "outside_option": {"value": 0.3, "label": "o"},
                                        "preferences": copy.deepcopy(preferences)}  # fmt: skip
    return data


def invoke(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run the command line in this process; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            old_argv, sys.argv = sys.argv, ["basing", *args]
            try:
                main()
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            finally:
                sys.argv = old_argv
    finally:
        os.chdir(previous)
    return code, out.getvalue(), err.getvalue()


def write(folder: Path, files: dict[str, Any]) -> None:
    (folder / "seed.txt").write_text(SEED_TEXT)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is FIFO:
            os.mkfifo(path)
        elif isinstance(content, Link):
            path.symlink_to(content.target)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, dict):
            path.write_text(yaml.safe_dump(copy.deepcopy(content), allow_unicode=True), encoding="utf-8")
        else:
            path.write_text(content, encoding="utf-8")


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry below ``folder`` (links not followed) with what it is and, for files, their size and
    modification time; a folder's lock file is left out (taking a lock writes to it, and so changes its
    folder's own time)."""
    seen = {}
    for path in sorted(folder.rglob("*")):
        if path.name == ".lock" and not path.is_symlink():
            continue
        stat = path.lstat()
        kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
        seen[str(path.relative_to(folder))] = (kind, stat.st_size, stat.st_mtime_ns) if kind == "file" else (kind,)
    return seen


# -- results folders the cases use, made once (a case copies those its arguments name)


def interrupted(project: Path, name: str, done: tuple[int, ...] = (0, 10)) -> Path:
    """A run of 40 runs in chunks of 10 stopped with the chunks starting at ``done`` finished."""
    loaded = load_scenario(project / "s.yaml")
    plan = Plan(40, 1, 10)
    folder, _, _ = runner.start(loaded, plan, project / name, [], ["basing", "run", "s.yaml"])
    for start in done:
        folder.save_chunk(*simulate_chunk(loaded.spec, start, start + 10, 1, plan.traced(start, start + 10)))
    folder.mark("incomplete")
    return folder.path


def rerecord(folder: Path) -> None:
    """Record the folder's files in its manifest again, as if the code (not the file) had made them."""
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "files": file_records(Folder.open(folder))}))


def make_folders(project: Path) -> None:
    """done (a complete run), tampered (a changed runs.parquet), half (interrupted), broken (a damaged
    chunk), broken-inputs (a damaged inputs file of a chunk), no-inputs (a chunk's record edited to hold no
    inputs), swapped (chunk 0 copied over chunk 10), dupes (runs.parquet with runs twice, re-recorded),
    a-sweep (a complete sweep), sweep-half (an interrupted sweep: its first point done)."""
    (project / "seed.txt").write_text(SEED_TEXT)
    (project / "s.yaml").write_text(yaml.safe_dump(VALID))
    code, _, err = invoke(["run", "s.yaml", "-n", "40", "-q", "--workers", "1", "--trace-runs", "0:5", "--out", "done"],
                          project)  # fmt: skip
    assert code == 0, err
    code, _, err = invoke(["sweep", "s.yaml", "--vary", "actors.alpha.risk=0.2,0.8", "-n", "10", "-q", "--workers",
                           "1", "--out", "a-sweep"], project)  # fmt: skip
    assert code == 0, err
    shutil.copytree(project / "done", project / "tampered")
    runs = project / "tampered" / "runs.parquet"
    runs.write_bytes(runs.read_bytes()[:-1] + b"\0")
    half = interrupted(project, "half")
    for name in ("broken", "swapped", "broken-inputs", "no-inputs"):
        shutil.copytree(half, project / name)
    for name, (key, kind) in (("broken", (0, "runs")), ("broken-inputs", (10, "inputs"))):
        chunk = project / name / ".chunks" / file_of(key, kind)
        chunk.write_bytes(chunk.read_bytes()[:-9] + b"\0" * 9)
    record = project / "no-inputs" / ".chunks" / names(0)[-1]
    record.write_text(json.dumps({**json.loads(record.read_text()), "inputs": None}))
    chunks = project / "swapped" / ".chunks"
    for first, other in ((file_of(0, "runs"), file_of(10, "runs")), (names(0)[-1], names(10)[-1])):
        shutil.copy(chunks / first, chunks / other)
    shutil.copytree(project / "done", project / "dupes")
    first = pd.read_parquet(project / "dupes" / "runs.parquet").iloc[:20]
    pd.concat([first, first], ignore_index=True).to_parquet(project / "dupes" / "runs.parquet", index=False)
    rerecord(project / "dupes")
    interrupted_sweep(project, "sweep-half")


def interrupted_sweep(project: Path, name: str) -> Path:
    """A sweep of two points of 10 runs in tasks of 5, stopped with its first point finished."""
    plan = sweep_runner.make_plan(project / "s.yaml", [], ["actors.alpha.risk=0.2,0.8"], "grid", None, 10, 1, 5)
    points, specs = sweep_runner.prepare(plan)
    folder = sweep_runner.start(plan, points, ["status_agreement"], project / name, "toy", ["basing", "sweep"])
    execute_sweep(plan, specs[:1], SweepInputs.of(specs, points, plan.seed), folder, 1)
    folder.mark("incomplete")
    return folder.path


def edit_manifest(folder: str, edit: Callable[[dict], Any] | None = None, text: Callable[[str], str] | None = None):
    """A prepare step: change ``folder``'s manifest as data (``edit``) or as text (``text``)."""

    def prepare(root: Path) -> None:
        path = root / folder / "manifest.json"
        if edit is not None:
            data = json.loads(path.read_text())
            edit(data)
            path.write_text(json.dumps(data))
        if text is not None:
            path.write_text(text(path.read_text()))

    return prepare


def unchanged(name: str, content: str) -> Callable[[Path], None]:
    """A check: the file ``name`` still holds ``content``."""

    def check(root: Path) -> None:
        assert (root / name).read_text() == content, f"{name} was written to"

    return check
