"""Integrity of results folders: a checksum and size (and for tables the row count) of every results
file in the manifest; ``verify`` checks them, the manifest itself, the run ids and that the folder holds
no link; a lock keeps a second process from writing into a folder that one is already writing.

A folder is sealed (status ``complete`` with its file records) in one atomic write of the manifest,
after every results file is in place, so a folder either verifies or says it is unfinished.
"""

from __future__ import annotations

import errno
import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import FileError, OutputError
from sim.files import Folder, digest, file_kind, native
from sim.outputs.manifest import RESULT_FILES, RunManifest, SweepManifest, read_manifest
from sim.scenario.errors import ScenarioError

#: The columns that name one row of trace.parquet.
TRACE_KEY = ("run", "round", "actor", "issue")


def file_record(folder: Folder, name: str) -> dict[str, Any]:
    """sha256, bytes and, for a Parquet table, rows, of a file of ``folder`` (never through a link)."""
    with folder.open_binary(name) as handle:
        sha, size = digest(handle)
        record: dict[str, Any] = {"sha256": sha, "bytes": size}
        if name.endswith(".parquet"):
            handle.seek(0)
            record["rows"] = pq.ParquetFile(native(handle)).metadata.num_rows
    return record


def file_records(folder: Folder, names: tuple[str, ...] = RESULT_FILES) -> dict[str, dict[str, Any]]:
    """The records of the results files ``names`` the folder holds."""
    return {name: file_record(folder, name) for name in names if folder.kind(name) == "file"}


@dataclass
class Verification:
    """What ``verify`` found: the problems (none: it verifies) and the manifest, if it could be read."""

    problems: list[str] = field(default_factory=list)
    manifest: RunManifest | SweepManifest | None = None


def verify(path: Path) -> list[str]:
    """Every way the folder differs from what its manifest records; empty when it verifies."""
    return check(path).problems


def check(path: Path, folder: Folder | None = None) -> Verification:
    """Verify a results folder (opened here, or the handle ``folder`` already open on it): its manifest
    (through its schema, the scenario too), that it is complete, that it holds no link and no results
    file the manifest does not record, every recorded file's checksum, size and rows, and that the runs
    (and traced runs) are each there exactly once."""
    if folder is None:
        if file_kind(path) in (None, "file", "other"):
            return Verification([f"{path}: no such folder"])
        try:
            folder = Folder.open(path, follow=True)
        except FileError as exc:
            return Verification([str(exc)])
    try:
        manifest = read_manifest(folder)
    except (FileError, OutputError) as exc:
        return Verification([str(exc)])
    found = Verification(manifest=manifest)
    if manifest.status != "complete":
        found.problems.append(f"{path}: the {manifest.kind} is {manifest.status}, not complete")
        return found
    found.problems += [f"{name}: a symbolic link; results folders hold none, and it is not followed"
                       for name, kind in folder.walk() if kind == "link"]  # fmt: skip
    found.problems += _file_problems(folder, manifest)
    if not found.problems:
        found.problems += _run_id_problems(folder, manifest)
    if isinstance(manifest, RunManifest):
        found.problems += _scenario_problems(manifest, path)
    return found


def _file_problems(folder: Folder, manifest: RunManifest | SweepManifest) -> list[str]:
    problems = [f"{name}: a results file the manifest does not record" for name in manifest.file_names()
                if folder.kind(name) is not None and name not in (manifest.files or {})]  # fmt: skip
    for name, expected in (manifest.files or {}).items():
        kind = folder.kind(name)
        if kind != "file":
            problems.append(f"{name}: {'missing' if kind is None else f'not a regular file ({kind})'}")
            continue
        try:
            got = file_record(folder, name)
        except (OSError, FileError, pa.ArrowException) as exc:  # a damaged Parquet footer, for one
            problems.append(f"{name}: unreadable ({exc.__class__.__name__})")
            continue
        for key in ("bytes", "sha256", "rows"):
            want = getattr(expected, key)
            if want is not None and got.get(key) != want:
                problems.append(f"{name}: {key} {got.get(key)} where the manifest records {want}")
    runs = manifest.files["runs.parquet"].rows if manifest.files and "runs.parquet" in manifest.files else None
    if runs is not None and runs != manifest.expected_rows():
        problems.append(f"runs.parquet: {runs} rows where the manifest claims {manifest.expected_rows()} runs")
    return problems


def _column(folder: Folder, name: str, columns: list[str]) -> pa.Table | str:
    """Some columns of a recorded table, or why they cannot be read."""
    try:
        with folder.open_binary(name) as handle:
            return pq.read_table(native(handle), columns=columns)
    except (OSError, FileError, pa.ArrowException) as exc:
        return f"{name}: its columns {', '.join(columns)} cannot be read ({exc.__class__.__name__})"


def _run_id_problems(folder: Folder, manifest: RunManifest | SweepManifest) -> list[str]:
    """runs.parquet holds every run once, in order (for a sweep: every point's runs); trace.parquet
    holds exactly the traced runs."""
    columns = ["point", "run"] if isinstance(manifest, SweepManifest) else ["run"]
    table = _column(folder, "runs.parquet", columns)
    if isinstance(table, str):
        return [table]
    runs = table.column("run").to_numpy()
    if isinstance(manifest, SweepManifest):
        points = table.column("point").to_numpy()
        want_points = np.repeat(np.arange(manifest.points), manifest.runs)
        want_runs = np.tile(np.arange(manifest.runs), manifest.points)
        if not (np.array_equal(points, want_points) and np.array_equal(runs, want_runs)):
            return ["runs.parquet: its (point, run) ids are not each point's runs 0 to runs - 1, once each"]
        return []
    if not np.array_equal(runs, np.arange(manifest.runs)):
        return [f"runs.parquet: its run ids are not 0 to {manifest.runs - 1}, each once and in order"]
    if folder.kind("trace.parquet") == "file":
        trace = _column(folder, "trace.parquet", ["run"])
        if isinstance(trace, str):
            return [trace]
        traced = np.unique(trace.column("run").to_numpy())
        want = np.concatenate([np.arange(a, b) for a, b in manifest.trace_runs] or [np.zeros(0, dtype=np.int64)])
        if not np.array_equal(traced, want):
            return ["trace.parquet: its runs are not the traced runs the manifest records"]
        return _trace_key_problems(folder)
    return []


def _trace_key_problems(folder: Folder) -> list[str]:
    """trace.parquet holds each (run, round, actor, issue) once."""
    keys = _column(folder, "trace.parquet", list(TRACE_KEY))
    if isinstance(keys, str):
        return [keys]
    frame = keys.to_pandas()
    if frame.duplicated().any():
        return [f"trace.parquet: holds some ({', '.join(TRACE_KEY)}) more than once"]
    return []


def _scenario_problems(manifest: RunManifest, path: Path) -> list[str]:
    from sim.scenario.load import validate_resolved

    try:
        validate_resolved(manifest.scenario, str(Path(path) / "manifest.json"))
    except ScenarioError as exc:
        return [str(p) for p in exc.problems[:5]]
    return []


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
    except OSError:
        return "another process"


class FolderLock:
    """An exclusive lock on a results folder for as long as this process writes into it. A second
    process asking for it is refused at once (the lock dies with its holder, so a killed run never
    leaves a folder locked). The hidden ``.lock`` file stays: deleting it would let two processes lock
    two different files. Whoever takes the lock must look at the folder again, as another process may
    have finished it meanwhile. A link or a pipe in the lock's place is refused."""

    def __init__(self, folder: Folder):
        self.folder = folder
        self.fd: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            self.fd = self.folder.open_lock(".lock")
        except FileError as exc:
            raise OutputError(str(exc)) from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            held = exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
            holder = _holder(self.fd) if held else ""
            os.close(self.fd)
            self.fd = None
            if held:
                raise OutputError(f"{self.folder.path}: another basing process ({holder}) is writing to this "
                                  "folder; wait for it to finish") from None  # fmt: skip
            raise OutputError(f"{self.folder.path / '.lock'}: cannot lock it: {exc.strerror or exc}") from None
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, f"pid {os.getpid()}".encode(), 0)
        except OSError:  # a read-only or full disk: the lock holds all the same; the holder stays unnamed
            pass
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
