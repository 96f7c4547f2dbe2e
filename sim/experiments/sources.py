"""Where results come from: a results folder (verified), or a scenario run now with one seed; and the
traced runs their fan charts need.

Fan charts come from traces: a folder's ``trace.parquet`` if it has one, else the first runs simulated
again with tracing on. Run k depends only on (seed, k), so those are the very runs in the runs table
(checked row by row); results made with another version of basing get no fan chart.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import numpy as np

from sim.errors import FileError, OutputError
from sim.experiments.audit import require_verified
from sim.experiments.ensemble import run_chunk
from sim.experiments.made_from import run_manifest, scenario_of, spans
from sim.experiments.pool import Plan, check_plan, chunk_limit, default_chunk, execute
from sim.experiments.replay import differing_columns
from sim.files import file_kind
from sim.outputs.folder import ResultsFolder
from sim.outputs.manifest import RunManifest, SweepManifest
from sim.outputs.results import Results
from sim.outputs.store import sha256, this_version
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario

FAN_RUNS = 200  # runs traced for the position fan charts
FAN_TRACE_ROWS = 2_000_000  # at most this many traced rows per scenario (rounds x actors x issues per run)


def fan_count(spec: Scenario, wanted: int, runs: int) -> int:
    """How many runs to trace for the fan charts: ``wanted``, fewer for a scenario so large that their
    trace would not fit in FAN_TRACE_ROWS rows or one chunk (0: no fan chart)."""
    per_run = spec.protocol.horizon * len(spec.actors) * len(spec.issues)
    return min(wanted, runs, FAN_TRACE_ROWS // per_run, chunk_limit(spec))


def open_folder(path: Path) -> Results:
    """A complete results folder of ``basing run`` that verifies against its manifest (its tables are
    read when first used); anything else is refused with a message."""
    folder = _folder_at(path)
    return _run_results(path, folder, run_manifest(folder))


def _folder_at(path: Path) -> ResultsFolder:
    if file_kind(path, follow=True) != "folder":
        raise OutputError(f"{path}: no such results folder or scenario file")
    return ResultsFolder.open(path)


def _run_results(path: Path, folder: ResultsFolder, record: RunManifest) -> Results:
    if record.status != "complete":
        raise OutputError(f"{path}: the run is {record.status}; finish it with basing run --resume {path}")
    require_verified(path, folder.dir)
    return results_of(folder, record)


def open_any_folder(path: Path) -> Results:
    """A complete, verified folder of ``basing run`` (as ``open_folder``) or of ``basing sweep``. A
    sweep's results are its runs at every point, in one table with a ``point`` column, read with the
    swept scenario (without the varied values) for its indicators' names and labels; the scenario file
    must be as it was when the sweep ran."""
    folder = _folder_at(path)
    record = folder.manifest()
    if not isinstance(record, SweepManifest):
        return _run_results(path, folder, record)
    if record.status != "complete":
        raise OutputError(f"{path}: the sweep is {record.status}; finish it with basing sweep --resume {path}")
    require_verified(path, folder.dir)
    try:
        same = sha256(Path(record.scenario)) == record.scenario_sha256
        spec = load_scenario(record.scenario, list(record.overrides)).spec if same else None
    except (FileError, ScenarioError):
        same = False
    if not same:
        raise OutputError(f"{path}: its scenario {record.scenario} is gone or has changed since the sweep ran, "
                          "so its indicators cannot be read with it")  # fmt: skip
    return Results(spec, {"runs": record.expected_rows()}, path=folder.path, seed=record.seed,
                   made_with=record.made_with, overrides=list(record.overrides), trace=None)  # fmt: skip


def results_of(folder: ResultsFolder, record: RunManifest) -> Results:
    """A folder's results as its manifest describes them (also of a folder being sealed, for its report)."""
    return Results(scenario_of(record, folder.path), folder.read_json("summary.json"), path=folder.path,
                   seed=record.seed, made_with=record.made_with, resolved=record.scenario,
                   overrides=list(record.overrides))  # fmt: skip


def with_fans(item: Results, fan_runs: int = FAN_RUNS) -> Results:
    """A copy of ``item`` whose trace is the first ``fan_runs`` traced runs, or, if it holds none, those
    runs simulated again with tracing on (none, with a note, where that cannot be trusted)."""
    out = copy.copy(item)
    out.notes = list(item.notes)
    out.trace = item.first_traced(fan_runs)
    if out.trace is not None:
        return out
    if item.made_with != this_version():
        out.notes.append(f"{item.origin}: made with basing {item.made_with} and holds no traces, "
                         "so it has no position fan chart")  # fmt: skip
        return out
    count = fan_count(item.spec, fan_runs, item.runs_count)
    if count == 0:
        out.notes.append(f"{item.origin}: a traced run would be too large for a fan chart")
        return out
    again = run_chunk(item.spec, np.arange(count), item.seed, trace=True)
    stored = item.first_runs(count)
    if differing_columns(again.runs, stored):
        out.notes.append(f"{item.origin}: its first runs do not simulate again to the stored rows, "
                         "so it has no position fan chart")  # fmt: skip
        return out
    out.trace = again.trace
    return out


def from_scenario(path: Path, runs: int, seed: int, workers: int, fan_runs: int = FAN_RUNS) -> Results:
    """Run a scenario file on the spot (in a temporary folder that is removed afterwards), its first
    runs traced for the fan charts."""
    loaded = load_scenario(path)
    spec = loaded.spec
    traced = fan_count(spec, fan_runs, runs)
    plan = Plan(runs, seed, default_chunk(runs, workers, chunk_limit(spec)), ((0, traced),) if traced else ())
    check_plan(spec, plan)
    with tempfile.TemporaryDirectory(prefix="basing-compare-") as temporary:
        folder = ResultsFolder.create(Path(temporary) / "run", spec.name, spans(plan))  # no lock, no manifest
        execute(spec, plan, folder, workers)
        summary = folder.finalise(spec, plan.chunks())
        table = folder.read_table("runs.parquet")
        trace = folder.read_table("trace.parquet") if traced else None
    return Results(spec, summary, table, trace=trace, seed=seed, resolved=loaded.resolved, origin=str(path))
