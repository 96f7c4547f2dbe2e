"""A run of ``basing run``, from start to a complete results folder: plan, manifest, chunks, merge.

Starting writes the manifest (status ``running``) before any chunk; an interruption marks it
``incomplete`` and keeps the finished chunks; resuming takes the plan and the scenario from the
manifest and runs only the missing chunks, so the finished folder is the same as an uninterrupted run's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.errors import OutputError
from sim.experiments.made_from import run_manifest, scenario_of, spans
from sim.experiments.pool import Plan, check_plan, execute
from sim.outputs.folder import ResultsFolder
from sim.outputs.store import canonical, manifest, require_this_version
from sim.scenario.loaded import LoadedScenario
from sim.scenario.schema import Scenario


def start(loaded: LoadedScenario, plan: Plan, out: Path | None, overrides: list[str], command: list[str]):
    """A new folder with its manifest; returns (folder, plan, scenario)."""
    record = manifest(scenario=loaded.resolved, files=loaded.files, overrides=overrides, seed=plan.seed,
                      runs=plan.runs, chunk_size=plan.chunk_size, command=command)  # fmt: skip
    record.update(status="running", trace_runs=[list(r) for r in plan.trace_runs])
    return ResultsFolder.begin(out, loaded.spec.name, record, spans(plan)), plan, loaded.spec


def reopen(path: Path, loaded: LoadedScenario | None) -> tuple[ResultsFolder, Plan, Scenario]:
    """An incomplete folder to finish, after checking that it can be finished as it was begun."""
    folder = ResultsFolder.open(path)
    record = run_manifest(folder)
    if record.status == "complete":
        raise OutputError(f"{path}: this run is complete; there is nothing to resume")
    require_this_version(path, record.made_with, "results would mix two versions")
    if loaded is not None and canonical(loaded.resolved) != canonical(record.scenario):
        raise OutputError(f"{path}: was made from another scenario than {loaded.path.name} (as resolved)")
    spec = scenario_of(record, path)
    plan = Plan(record.runs, record.seed, record.chunk_size, tuple((a, b) for a, b in record.trace_runs))
    check_plan(spec, plan)  # a manifest edited to ask for more than memory or disk allows
    folder.check_resumable()
    folder.expected = spans(plan)
    return folder, plan, spec


def complete(
    folder: ResultsFolder, plan: Plan, spec: Scenario, workers: int, on_progress: Callable[[int], None] | None
) -> dict[str, Any]:
    """Run what is missing, merge, write the report and seal the folder, holding its lock throughout;
    on any interruption or failure the folder is left ``incomplete`` (and resumable)."""
    with folder.finishing(spans(plan)):
        execute(spec, plan, folder, workers, on_progress)
        # The report's modules (scipy.stats, scikit-learn, plotly: 50 MB) are loaded only now, so that the main
        # process stays small while the workers run: a million runs peak with all three processes alive.
        # So is the engine (Mesa and numba, 100 MB), which the report's fan chart may need (``with_fans``).
        from sim.experiments.discovery import REPORT_RUNS, drivers
        from sim.experiments.sources import results_of, with_fans
        from sim.outputs.comparison import run_report

        summary = folder.finalise(spec, plan.chunks())  # runs, trace and inputs, as the workers wrote them
        item = with_fans(results_of(folder, run_manifest(folder)))
        folder.write_text("report.html", run_report(item, drivers(item), REPORT_RUNS))
        folder.seal(rows=plan.runs)
    return summary
