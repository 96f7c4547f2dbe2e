"""What results are written as, and the record of what made them.

Tables are Parquet (zstd, no pandas index), summaries and manifests JSON with their keys in order.
Files themselves are written by ``sim.files`` (new, atomic, never through a link); this module gives
the writers, the manifest's provenance fields (versions, git commit, the scenario files' hashes) and
the new folder a run writes into (``sim.outputs.folder``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import OutputError
from sim.files import Folder, FolderExistsError, Writer, file_kind, read_bounded, text_writer, write_new
from sim.scenario.limits import MAX_FILE_BYTES

if TYPE_CHECKING:
    import pandas as pd


def utc_stamp() -> str:
    """Now, as 20250215T120000Z."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def check_new_folder(out: Path | None, option: str = "--out") -> Path | None:
    """Fail early if ``out`` is given and exists (as anything, a link included), a part of its name is
    too long, or no folder can be made there. Returns ``out`` with ``..`` resolved (``a/../b`` is ``b``,
    and no folder ``a`` is made on the way)."""
    if out is None:
        base = file_kind(DEFAULT_BASE, follow=True)
        if base not in (None, "folder"):
            raise OutputError(f"{DEFAULT_BASE}: not a folder, so no results folder can be made in it (remove it, or "
                              "give --out)")  # fmt: skip
        return None
    out = Path(os.path.normpath(out))
    if file_kind(out) is not None:
        raise OutputError(f"{option} {out}: already exists; results are never overwritten (choose another)")
    _check_name_lengths(out, option)
    parent = next((p for p in out.absolute().parents if file_kind(p, follow=True) is not None), None)
    if parent is None or file_kind(parent, follow=True) != "folder":
        raise OutputError(f"{option} {out}: cannot create a folder there ({parent} is not a folder)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {out}: cannot create a folder there (no permission to write into {parent})")
    return out


def check_new_file(path: Path, option: str, make_folder: bool = False) -> Path:
    """Fail early, before any work, if the new file ``path`` could not be written: the name is taken,
    a part of it is too long, or its folder is missing (``make_folder``: cannot be made) or is not a
    folder. Returns ``path`` with ``..`` resolved."""
    path = Path(os.path.normpath(path))
    if file_kind(path) is not None:
        raise OutputError(f"{option} {path}: already exists; nothing is ever overwritten (choose a new name)")
    _check_name_lengths(path, option)
    parent = path.parent
    kind = file_kind(parent, follow=True)
    if kind is None and make_folder:
        check_new_folder(parent, option)
    elif kind != "folder":
        raise OutputError(f"{option} {path}: {parent} is {'missing' if kind is None else 'not a folder'}")
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: cannot write into {parent} (permission denied)")
    return path


def check_image_folder(path: Path, option: str = "--png") -> Path:
    """A folder for new images: a new one (that can be made), or an existing empty one (a link to a
    folder is followed). Returns ``path`` with ``..`` resolved."""
    path = Path(os.path.normpath(path))
    kind = file_kind(path, follow=True)
    if kind is None:
        check_new_folder(path, option)
    elif kind != "folder":
        raise OutputError(f"{option} {path}: not a folder; give a new or empty folder for the images")
    else:
        try:
            with os.scandir(path) as entries:
                empty = next(entries, None) is None
        except OSError as exc:
            raise OutputError(f"{option} {path}: cannot read it: {exc.strerror or exc}") from None
        if not empty:
            raise OutputError(f"{option} {path}: exists and is not empty; choose a new folder")
    return path


def make_folders(path: Path) -> None:
    """Make the folder ``path`` and its parents where missing."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        raise OutputError(f"{path}: cannot create the folder: {getattr(exc, 'strerror', None) or exc}") from None


def _check_name_lengths(path: Path, option: str) -> None:
    """Refuse a name with a part longer than a file name may be (255 bytes on most file systems)."""
    try:
        there = next((p for p in path.absolute().parents if file_kind(p, follow=True) == "folder"), Path("/"))
        limit = os.pathconf(there, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    long = [part for part in path.parts if len(os.fsencode(part)) > limit]
    if long:
        raise OutputError(f"{option}: the name part '{long[0][:40]}...' is longer than the {limit} bytes a "
                          "file name may have")  # fmt: skip


#: Where results folders go when no --out is given.
DEFAULT_BASE = Path("results")


def create_results_dir(out: Path | None, name: str, base: Path = DEFAULT_BASE) -> Folder:
    """A new, empty results folder: ``out`` if given (it must not exist), else
    ``base/<name>-<UTC timestamp>`` with a numeric suffix if that name is taken."""
    if out is not None:
        return Folder.make(out)
    stem = base / f"{name}-{utc_stamp()}"
    for folder in [stem, *(stem.with_name(f"{stem.name}-{k}") for k in range(2, 100))]:
        if file_kind(folder) is None:
            try:
                return Folder.make(folder)
            except FolderExistsError:  # another run took the name a moment ago: the next one
                continue
    raise OutputError(f"{stem}: too many results folders with this name")


def table_bytes(table: pd.DataFrame) -> bytes:
    """``table`` as the bytes of a Parquet file (zstd, without the pandas index)."""
    import pyarrow as pa  # here, not above: the command line checks its options without loading pyarrow
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()  # native: no Python file object for pyarrow to hold
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def table_writer(table: pd.DataFrame) -> Writer:
    """A writer of ``table`` as Parquet, without the pandas index."""
    data = table_bytes(table)
    return lambda handle: handle.write(data)


def plain(value: Any) -> Any:
    """JSON-ready copy: NaN and infinities become null, dates become ISO strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def canonical(data: Any) -> str:
    """A resolved scenario as one JSON text, the same for the scenario as loaded and as a manifest
    holds it (keys sorted, dates as text)."""
    return json.dumps(plain(data), sort_keys=True)


def json_writer(data: Any) -> Writer:
    """A writer of JSON (keys in their order, which is meaningful: actor order; 2-space indent)."""
    return text_writer(json.dumps(plain(data), indent=2, ensure_ascii=False) + "\n")


def write_new_text(path: Path, text: str) -> None:
    """A new text file (a page, a scenario) outside any results folder; an existing one is refused."""
    write_new(path, text_writer(text))


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


def this_version() -> str:
    """The version of basing running now."""
    return versions()["basing"]


def require_this_version(path: Path | str, made_with: str, why: str) -> None:
    """Refuse a results folder made by another version of basing; ``why`` says what mixing would break.
    The one place a folder's version is checked before it is resumed or replayed."""
    if made_with != this_version():
        raise OutputError(f"{path}: made with basing {made_with}, this is {this_version()}; {why}")


def sha256(path: Path) -> str:
    """The SHA-256 of a scenario or sweep file (read through the bounded reader)."""
    return hashlib.sha256(read_bounded(path, MAX_FILE_BYTES)).hexdigest()


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
        "kind": "run",
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
