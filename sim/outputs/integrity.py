"""Integrity of results folders: a checksum and size (and for tables the row count) of every results
file in the manifest; ``verify`` checks them; a lock keeps a second process from writing into a folder
that one is already writing.

A folder is sealed (status ``complete`` with its file records) in one atomic write of the manifest,
after every results file is in place, so a folder either verifies or says it is unfinished.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from sim.outputs.store import OutputError

RESULT_FILES = ("runs.parquet", "trace.parquet", "summary.json", "report.html", "points.parquet",
                "summary.parquet", "sensitivity.parquet", "sweep.html")  # fmt: skip


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: Path) -> dict[str, Any]:
    """sha256, bytes and, for a Parquet table, rows."""
    record: dict[str, Any] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
    if path.suffix == ".parquet":
        record["rows"] = pq.ParquetFile(path).metadata.num_rows
    return record


def file_records(folder: Path) -> dict[str, dict[str, Any]]:
    """The records of every results file the folder holds."""
    return {name: file_record(folder / name) for name in RESULT_FILES if (folder / name).is_file()}


def verify(folder: Path) -> list[str]:
    """Every way the folder differs from what its manifest records; empty when it verifies."""
    manifest_path = folder / "manifest.json"
    if not folder.is_dir():
        return [f"{folder}: no such folder"]
    if not manifest_path.is_file():
        return [f"{folder}: not a results folder (no manifest.json)"]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"{manifest_path}: unreadable ({exc.__class__.__name__})"]
    if not isinstance(manifest, dict):
        return [f"{manifest_path}: not a manifest"]
    if manifest.get("status") != "complete":
        return [f"{folder}: the {manifest.get('kind', 'run')} is {manifest.get('status', 'unfinished')}, not complete"]
    recorded = manifest.get("files")
    if not isinstance(recorded, dict) or "runs.parquet" not in recorded:
        return [f"{folder}: its manifest records no file checksums (made before they were recorded?)"]
    problems = []
    for name, expected in recorded.items():
        path = folder / name
        if not isinstance(expected, dict):
            problems.append(f"{name}: the manifest's record of it is not a mapping")
        elif name not in RESULT_FILES:
            problems.append(f"{name}: not a results file name")
        elif not path.is_file():
            problems.append(f"{name}: missing")
        else:
            try:
                found = file_record(path)
            except Exception as exc:  # a damaged Parquet footer, for one
                problems.append(f"{name}: unreadable ({exc.__class__.__name__})")
                continue
            for key in ("bytes", "sha256", "rows"):
                if key in expected and found.get(key) != expected[key]:
                    problems.append(f"{name}: {key} {found.get(key)} where the manifest records {expected[key]}")
    runs = recorded["runs.parquet"].get("rows") if isinstance(recorded["runs.parquet"], dict) else None
    if "rows" in manifest and runs is not None and runs != manifest["rows"]:
        problems.append(f"runs.parquet: {runs} rows recorded where the manifest claims {manifest['rows']} runs")
    return problems


def require_verified(folder: Path) -> None:
    """Refuse a folder that does not verify, naming what is wrong."""
    problems = verify(folder)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise OutputError(f"{folder}: fails verification: {shown} (basing verify {folder})")


class FolderLock:
    """An exclusive lock on a results folder for as long as this process writes into it. A second
    process asking for it is refused at once (the lock dies with its holder, so a killed run never
    leaves a folder locked). The hidden ``.lock`` file stays: deleting it would let two processes lock
    two different files. Whoever takes the lock must look at the folder again, as another process may
    have finished it meanwhile."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / ".lock"
        self.handle: Any = None

    def __enter__(self) -> FolderLock:
        try:
            self.handle = open(self.path, "a+")
        except OSError as exc:
            raise OutputError(f"{self.folder}: cannot write here: {exc.strerror or exc}") from None
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise OutputError(f"{self.folder}: another basing process ({holder}) is writing to this folder; "
                              "wait for it to finish") from None  # fmt: skip
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()}")
        self.handle.flush()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
