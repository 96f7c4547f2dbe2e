"""The results folder: add-only, every file written under a temporary name and then renamed.

A folder holds ``runs.parquet`` (one row per run), ``summary.json``, ``manifest.json`` (what was run,
with which versions, from which commit) and, on request, ``trace.parquet``. An existing folder is
never written into, so a result, once made, stays as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


class OutputError(Exception):
    """A results folder cannot be created or written; the CLI exits with code 2."""


def utc_stamp() -> str:
    """Now, as 20250215T120000Z."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def check_new_folder(out: Path | None) -> None:
    """Fail early if ``out`` is given and exists, or its parent cannot hold a new folder."""
    if out is None:
        return
    if out.exists():
        raise OutputError(f"{out}: already exists; results are never overwritten (choose another --out)")
    parent = next((p for p in out.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputError(f"{out}: cannot create a folder there")


def create_results_dir(out: Path | None, name: str, base: Path = Path("results")) -> Path:
    """Make a new, empty results folder: ``out`` if given (it must not exist), else
    ``base/<name>-<UTC timestamp>`` with a numeric suffix if that name is taken."""
    if out is not None:
        if out.exists():
            raise OutputError(f"{out}: already exists; results are never overwritten (choose another --out)")
        candidates = [out]
    else:
        stem = base / f"{name}-{utc_stamp()}"
        candidates = [stem, *(stem.with_name(f"{stem.name}-{k}") for k in range(2, 100))]
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=False)
            return folder
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"{folder}: cannot create results folder: {exc.strerror or exc}") from None
    raise OutputError(f"{candidates[-1]}: too many results folders with this name")


def _atomic(path: Path, write) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    try:
        write(temporary)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # on a read-only or full disk even this may fail
            temporary.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write a table as Parquet, atomically, without the pandas index."""
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    _atomic(path, lambda tmp: pq.write_table(arrow, tmp, compression="zstd"))


def _plain(value: Any) -> Any:
    """JSON-ready copy: NaN and infinities become null, dates become ISO strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(data: Any, path: Path) -> None:
    """Write JSON (keys in their order, 2-space indent), atomically."""
    text = json.dumps(_plain(data), indent=2, ensure_ascii=False) + "\n"  # key order is meaningful (actor order)
    _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def git_commit(folder: Path) -> dict[str, Any] | None:
    """Commit and dirty flag of the git checkout holding ``folder``, or None outside one."""
    # S603/S607: a fixed argument list, no shell, git found on PATH as a user's own shell would; the only
    # variable part is this package's own folder.
    try:
        head = subprocess.run(  # noqa: S603
            ["git", "-C", str(folder), "rev-parse", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "dirty": bool(dirty)}


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a result depends on."""
    out = {"python": platform.python_version()}
    for package in ("basing", "mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "pyyaml"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(
    *,
    scenario: dict[str, Any],
    files: list[Path],
    overrides: list[str],
    seed: int,
    runs: int,
    chunk_size: int,
    command: list[str],
) -> dict[str, Any]:
    """What a result was made from: the resolved scenario, its files and their hashes, the seed,
    the number of runs, package versions and the git commit of the code."""
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "scenario": scenario,
        "scenario_files": [{"path": str(p), "sha256": sha256(p)} for p in files],
        "overrides": overrides,
        "seed": seed,
        "runs": runs,
        "chunk_size": chunk_size,
        "versions": versions(),
        "git": git_commit(Path(__file__).resolve().parent),
    }
