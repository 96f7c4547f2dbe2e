"""A results folder checked against what its own manifest says the code makes from it.

``sim.outputs.integrity`` checks a folder against the records of its manifest: checksums, sizes, rows,
run ids. A file can be changed and recorded again, though, and a manifest edited by hand, so for a
folder made by this version of basing the audit also asks the code: runs.parquet (and trace.parquet)
must have the columns and types that a run of the manifest's scenario makes, and summary.json must be
the summary of runs.parquet. ``verify``, ``compare`` and ``replay`` all use it, so a folder that fails
is refused with the same message everywhere.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import FileError, OutputError
from sim.experiments.ensemble import run_chunk
from sim.experiments.made_from import scenario_of
from sim.files import Folder
from sim.outputs.folder import ResultsFolder
from sim.outputs.integrity import Verification, check
from sim.outputs.manifest import RunManifest
from sim.outputs.store import plain, table_bytes, this_version
from sim.outputs.summary import Summary

#: Relative tolerance when comparing a stored summary with one made again (sums of floats may be
#: added in another order; anything tampered with differs by far more).
SUMMARY_TOLERANCE = 1e-9


def audit(path: Path, folder: Folder | None = None) -> Verification:
    """``integrity.check``, then, for a complete run folder of this version of basing, that its tables
    have the columns the code makes and that its summary is the summary of its runs."""
    found = check(path, folder)
    record = found.manifest
    if found.problems or not isinstance(record, RunManifest) or record.made_with != this_version():
        return found
    try:
        results = ResultsFolder(folder if folder is not None else Folder.open(path, follow=True))
        found.problems += content_problems(results, record, path)
    except (OutputError, FileError) as exc:
        found.problems.append(str(exc))
    return found


def content_problems(folder: ResultsFolder, record: RunManifest, path: Path) -> list[str]:
    """How the folder's tables and summary differ from what its scenario makes (none: they agree)."""
    spec = scenario_of(record, path)
    sample = run_chunk(spec, np.array([0]), record.seed, trace=bool(record.trace_runs))
    problems = _schema_problems(folder, "runs.parquet", sample.runs)
    if sample.trace is not None and folder.has("trace.parquet"):
        problems += _schema_problems(folder, "trace.parquet", sample.trace)
    if problems:
        return problems
    summary = Summary(spec)
    for group in folder.read_arrow("runs.parquet").to_batches(max_chunksize=100_000):
        summary.add(pa.Table.from_batches([group]).to_pandas())
    again = json.loads(json.dumps(plain(summary.result())))
    if not same_data(folder.read_json("summary.json"), again):
        problems.append("summary.json: not the summary of runs.parquet")
    return problems


def _schema_problems(folder: ResultsFolder, name: str, sample: Any) -> list[str]:
    """The columns of ``name`` that a run of the scenario does not make, or makes of another type."""
    # as written to Parquet and read back, as every stored table is (large_string comes back as string)
    want = pq.read_schema(pa.BufferReader(table_bytes(sample))).remove_metadata()
    got = folder.read_arrow(name).schema.remove_metadata() if folder.has(name) else None
    if got is None or got.equals(want):
        return []
    missing = [f.name for f in want if f.name not in got.names]
    extra = [f.name for f in got if f.name not in want.names]
    typed = [f.name for f in want if f.name in got.names and not got.field(f.name).type.equals(f.type)]
    parts = [f"{label} {', '.join(names[:4])}{' ...' if len(names) > 4 else ''}"
             for label, names in (("lacks", missing), ("has unknown columns", extra), ("has other types in", typed))
             if names]  # fmt: skip
    return [f"{name}: not the columns a run of its scenario makes ({'; '.join(parts) or 'another order'})"]


def same_data(a: Any, b: Any) -> bool:
    """JSON data equal, numbers within SUMMARY_TOLERANCE (booleans and text exactly)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_data(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=SUMMARY_TOLERANCE, abs_tol=1e-12)
    return type(a) is type(b) and a == b


def require_verified(path: Path, folder: Folder | None = None) -> RunManifest:
    """Refuse a folder that does not pass the audit, naming what is wrong; its manifest."""
    found = audit(path, folder)
    if found.problems or found.manifest is None:
        problems = found.problems
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise OutputError(f"{path}: fails verification: {shown} (basing verify {path})")
    return found.manifest
