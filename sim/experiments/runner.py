"""A run of ``basing run``, from start to a complete results folder: plan, manifest, chunks, merge.

Starting writes the manifest (status ``running``) before any chunk; an interruption marks it
``incomplete`` and keeps the finished chunks; resuming takes the plan and the scenario from the
manifest and runs only the missing chunks, so the finished folder is the same as an uninterrupted run's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.experiments.stream import Plan, execute
from sim.outputs.folder import ResultsFolder
from sim.outputs.store import OutputError, _plain, manifest, versions, write_text
from sim.scenario.load import LoadedScenario
from sim.scenario.schema import Scenario


def start(loaded: LoadedScenario, plan: Plan, out: Path | None, overrides: list[str], command: list[str]):
    """A new folder with its manifest; returns (folder, plan, scenario)."""
    folder = ResultsFolder.create(out, loaded.spec.name)
    record = manifest(scenario=loaded.resolved, files=loaded.files, overrides=overrides, seed=plan.seed,
                      runs=plan.runs, chunk_size=plan.chunk_size, command=command)  # fmt: skip
    folder.write_manifest({**record, "status": "running", "trace_runs": [list(r) for r in plan.trace_runs]})
    return folder, plan, loaded.spec


def reopen(path: Path, loaded: LoadedScenario | None) -> tuple[ResultsFolder, Plan, Scenario]:
    """An incomplete folder to finish, after checking that it can be finished as it was begun."""
    folder = ResultsFolder.open(path)
    record = folder.manifest()
    if record.get("status") == "complete":
        raise OutputError(f"{path}: this run is complete; there is nothing to resume")
    made_with, now = record.get("versions", {}).get("basing"), versions()["basing"]
    if made_with != now:
        raise OutputError(f"{path}: made with basing {made_with}, this is {now}; results would mix two versions")
    if loaded is not None and canonical(loaded.resolved) != canonical(record["scenario"]):
        raise OutputError(f"{path}: was made from another scenario than {loaded.path.name} (as resolved)")
    spec = scenario_of(record)
    ranges = tuple(tuple(r) for r in record.get("trace_runs", []))
    plan = Plan(record["runs"], record["seed"], record["chunk_size"], ranges)
    if not folder.chunks.is_dir():
        raise OutputError(f"{path}: its chunk files are gone; the run cannot be resumed")
    return folder, plan, spec


def complete(
    folder: ResultsFolder, plan: Plan, spec: Scenario, workers: int, on_progress: Callable[[int], None] | None
) -> dict[str, Any]:
    """Run what is missing, merge, write the report and seal the folder, holding its lock throughout;
    on any interruption or failure the folder is left ``incomplete`` (and resumable)."""
    from sim.experiments.compare import run_report

    with folder.finishing({start: stop - start for start, stop in plan.chunks()}):
        execute(spec, plan, folder, workers, on_progress)
        summary = folder.finalise(spec, plan.chunks())
        write_text(folder.path / "report.html", run_report(folder.path))
        folder.seal(rows=plan.runs)
    return summary


def scenario_of(record: dict[str, Any]) -> Scenario:
    """The scenario a manifest was made from, as resolved then."""
    return Scenario.model_validate(record["scenario"])


def canonical(data: Any) -> str:
    """A resolved scenario as one JSON text, the same for the scenario as loaded and as a manifest
    holds it (keys sorted, dates as text)."""
    return json.dumps(_plain(data), sort_keys=True)
