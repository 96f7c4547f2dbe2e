"""What a run's results folder was made from: its manifest, its plan's chunks and its scenario as resolved.

Read by resuming (``runner``), replaying, auditing and comparing alike, so it sits below all of them.
"""

from __future__ import annotations

from pathlib import Path

from sim.errors import OutputError
from sim.experiments.pool import Plan
from sim.outputs.folder import ResultsFolder, Span
from sim.outputs.manifest import RunManifest
from sim.scenario.errors import ScenarioError
from sim.scenario.load import validate_resolved
from sim.scenario.schema import Scenario


def run_manifest(folder: ResultsFolder) -> RunManifest:
    """The folder's manifest, which must be one of ``basing run``."""
    record = folder.manifest("run")
    return record


def spans(plan: Plan) -> dict[int, Span]:
    """The chunks of a plan, keyed by their first run."""
    return {start: Span(start, stop) for start, stop in plan.chunks()}


def scenario_of(record: RunManifest, path: Path | str) -> Scenario:
    """The scenario a manifest was made from, as resolved then, validated again."""
    try:
        return validate_resolved(record.scenario, str(Path(path) / "manifest.json"))
    except ScenarioError as exc:
        raise OutputError(f"{path}: its manifest holds no valid scenario: {exc.render(5)}") from None


__all__ = ["run_manifest", "scenario_of", "spans"]
