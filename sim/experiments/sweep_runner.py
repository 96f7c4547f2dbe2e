"""``basing sweep`` from start to a complete folder: plan, validation of every point, manifest, tasks,
merge, summaries and sensitivity; resuming an interrupted sweep from its manifest."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field, ValidationError, model_validator

from sim.errors import OutputError
from sim.experiments.designs import DesignError, Factor, check_design, list_factor, parse_vary, range_factor
from sim.experiments.inputs import SweepInputs
from sim.experiments.pool import chunk_limit
from sim.experiments.sweep_engine import (
    SweepPlan,
    design_points,
    execute_sweep,
    finalise_sweep,
    flatten,
    point_scenarios,
)
from sim.outputs.figures.sweeps import sweep_figures
from sim.outputs.folder import ResultsFolder
from sim.outputs.manifest import FactorRecord
from sim.outputs.report import page
from sim.outputs.store import git_commit, require_this_version, sha256, utc_stamp, versions
from sim.outputs.summary import Summary
from sim.scenario.base import Real, Strict
from sim.scenario.errors import ScenarioError
from sim.scenario.limits import MAX_RUNS, MAX_SEED, MAX_SWEEP_POINTS, MAX_SWEEP_RUNS
from sim.scenario.load import locate, problems_from, read_yaml, shown
from sim.scenario.schema import Scenario


class VaryEntry(Strict):
    """One varied parameter in a sweep file: a range (with a count for grids) or a list of values."""

    range: list[Real] | None = Field(None, min_length=2, max_length=2, description="[low, high], low < high.")
    count: int | None = Field(None, ge=2, le=MAX_SWEEP_POINTS, description="Grid values across the range.")
    values: list[Any] | None = Field(None, description="Explicit values (any scenario value), at least one.")

    @model_validator(mode="after")
    def _one(self) -> VaryEntry:
        if (self.range is None) == (self.values is None):
            raise ValueError("give either 'range' (with 'count' for a grid) or 'values'")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"the range's low ({self.range[0]}) must be below its high ({self.range[1]})")
        if self.values is not None and not self.values:
            raise ValueError("the list of values is empty")
        if self.count is not None and self.range is None:
            raise ValueError("'count' spaces values across a 'range'; a list of 'values' takes none")
        return self


class SweepFile(Strict):
    """A sweep written down: the scenario, what varies and how, and how many runs per point."""

    scenario: str = Field(description="Scenario file, relative to this file.")
    set: list[str] = Field(default_factory=list, description="Overrides applied at every point (path=value).")
    vary: dict[str, VaryEntry] = Field(min_length=1, description="Dotted scenario paths and their values.")
    design: Literal["grid", "lhs", "sobol", "morris"] = Field("grid", description="Experimental design.")
    samples: int | None = Field(
        None, ge=1, le=MAX_SWEEP_POINTS, description="Base samples of lhs, sobol (a power of two), morris."
    )
    runs: int = Field(1000, ge=1, le=MAX_RUNS, description="Runs per point.")
    seed: int = Field(1, ge=0, le=MAX_SEED, description="Seed, the same at every point, 0 to 2^63 - 1.")
    outcomes: list[str] = Field(default_factory=lambda: ["status_agreement"], description="Summary columns.")


def _resembles(keys: list[str], fields: list[str]) -> int:
    return sum(bool(key in fields or difflib.get_close_matches(key, fields, n=1, cutoff=0.75)) for key in keys)


def is_sweep_file(path: Path) -> bool:
    """A file with a top-level ``vary`` or ``scenario`` is a sweep file; one whose keys resemble a sweep
    file's more than a scenario's (a typo like ``varry``) is read as a sweep file too, so that its
    problems are told with their lines. A file that cannot be read as YAML is refused here, with why."""
    keys = [str(key) for key in read_yaml(path)[0]]
    if {"vary", "scenario"} & set(keys):
        return True
    return _resembles(keys, list(SweepFile.model_fields)) > _resembles(keys, list(Scenario.model_fields))


def read_sweep_file(path: Path) -> tuple[SweepPlan, list[str]]:
    """A sweep file's plan and outcomes; problems name the file, line and path."""
    data, origins = read_yaml(path)
    try:
        sweep = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, data, origins, shown(path))) from None
    factors = []
    for name, entry in sweep.vary.items():
        if entry.values is not None:
            factors.append(list_factor(name, entry.values))
        else:
            factors.append(range_factor(name, entry.range[0], entry.range[1], entry.count))
    try:
        check_design(factors, sweep.design, sweep.samples)
    except DesignError as exc:
        raise ScenarioError([locate(origins, ("design",), str(exc), shown(path))]) from None
    scenario = os.path.normpath(path.resolve().parent / sweep.scenario)  # a link is named, not followed
    plan = SweepPlan(str(scenario), tuple(sweep.set), tuple(factors), sweep.design, sweep.samples, sweep.runs,
                     sweep.seed, min(sweep.runs, 1000))  # fmt: skip
    return plan, sweep.outcomes


def make_plan(scenario: Path, overrides: list[str], vary: list[str], design: str, samples: int | None, runs: int,
              seed: int, block: int | None) -> SweepPlan:  # fmt: skip
    if design not in ("grid", "lhs", "sobol", "morris"):
        raise DesignError(f"--design {design}: choose grid, lhs, sobol or morris")
    factors = tuple(parse_vary(text) for text in vary)
    return SweepPlan(os.path.abspath(scenario), tuple(overrides), factors, design, samples, runs, seed,
                     block or min(runs, 1000))  # fmt: skip


def check_size(plan: SweepPlan, specs: list[Scenario], block_given: bool) -> SweepPlan:
    """The plan within the documented limits: a default block shrinks to what memory allows; a block
    the user chose, or too many runs, is refused."""
    total = plan.runs * len(specs)
    if plan.runs > MAX_RUNS or total > MAX_SWEEP_RUNS:
        raise OutputError(f"{len(specs):,} points x {plan.runs:,} runs: the limits are {MAX_RUNS:,} runs per point "
                          f"and {MAX_SWEEP_RUNS:,} in all (see Limits in the README)")  # fmt: skip
    limit = min(chunk_limit(spec) for spec in specs)
    if plan.block <= limit:
        return plan
    if block_given:
        raise OutputError(f"--block {plan.block:,}: at most {limit:,} runs at once for this scenario (memory; "
                          "see Limits in the README)")  # fmt: skip
    return replace(plan, block=limit)


def prepare(plan: SweepPlan) -> tuple[list[dict[str, Any]], list[Scenario]]:
    """The design's points and every point's validated scenario."""
    points = design_points(plan)
    return points, point_scenarios(plan, points)


def check_outcomes(spec: Scenario, outcomes: list[str]) -> list[str]:
    """Outcomes must be columns of the per-point summary (status_agreement, indicators_deal, ...)."""
    known = list(flatten(Summary(spec).result()))
    for outcome in outcomes:
        if outcome not in known:
            close = difflib.get_close_matches(outcome, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; e.g. {', '.join(known[:4])}"
            raise OutputError(f"--outcome {outcome}: not a summary column{hint}")
    return outcomes


def start(plan: SweepPlan, points: list[dict[str, Any]], outcomes: list[str], out: Path | None, name: str,
          command: list[str]) -> ResultsFolder:  # fmt: skip
    return ResultsFolder.begin(out, f"{name}-sweep", {
        "created": utc_stamp(), "command": command, "kind": "sweep", "status": "running",
        "scenario": plan.scenario, "overrides": list(plan.overrides),
        "factors": [factor_record(f) for f in plan.factors],
        "design": plan.design, "samples": plan.samples, "runs": plan.runs, "seed": plan.seed, "block": plan.block,
        "scenario_sha256": sha256(Path(plan.scenario)),
        "points": len(points), "outcomes": outcomes, "versions": versions(),
        "git": git_commit(Path(__file__).resolve().parent),
    }, plan.spans(len(points)))  # fmt: skip


def reopen(path: Path):
    """An incomplete sweep folder, its plan, points, scenarios and outcomes."""
    folder = ResultsFolder.open(path)
    record = folder.manifest("sweep")
    if record.status == "complete":
        raise OutputError(f"{path}: this sweep is complete; there is nothing to resume")
    require_this_version(path, record.made_with, "results would mix two versions")
    factors = tuple(factor_of(f) for f in record.factors)
    plan = SweepPlan(record.scenario, tuple(record.overrides), factors, record.design, record.samples, record.runs,
                     record.seed, record.block)  # fmt: skip
    if record.scenario_sha256 != sha256(Path(plan.scenario)):
        raise OutputError(f"{path}: {plan.scenario} has changed since the sweep began; results would mix versions")
    try:
        points, specs = prepare(plan)
    except DesignError as exc:
        raise OutputError(f"{path}: its manifest's design cannot be made again: {exc}") from None
    if len(points) != record.points:
        raise OutputError(f"{path}: its design now has {len(points)} points, not the {record.points} it began with")
    if check_size(plan, specs, True) != plan:  # a manifest edited to ask for more than memory allows
        raise OutputError(f"{path}: its manifest asks for more than the limits allow")
    try:
        outcomes = check_outcomes(specs[0], record.outcomes)
    except OutputError as exc:
        raise OutputError(f"{path}: its manifest's outcomes: {exc}") from None
    folder.expected = plan.spans(len(points))
    return folder, plan, points, specs, outcomes


def factor_record(factor: Factor) -> dict[str, Any]:
    """A design factor as the manifest keeps it (``FactorRecord``)."""
    data = {k: v for k, v in vars(factor).items() if v is not None}
    return {**data, "values": list(data["values"])} if "values" in data else data


def factor_of(record: FactorRecord) -> Factor:
    """The design factor a manifest's factor record describes."""
    data = record.model_dump(exclude_none=True)
    return Factor(**{**data, "values": tuple(data["values"])} if "values" in data else data)


def dask_client(scheduler: str | None, local: int | None):
    """A Dask client: of the cluster at ``scheduler``, or of a new local cluster of ``local`` workers on
    loopback; None for neither. An unreachable scheduler fails within seconds."""
    if scheduler is None and local is None:
        return None
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise OutputError("Dask is not installed: pip install 'dask[distributed]'") from None
    from sim.experiments.dask_workers import SweepWorkerSetup

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="5s")
        except Exception as exc:  # each transport (tcp, tls, ucx, inproc) fails in its own way
            raise OutputError(f"--scheduler {scheduler}: cannot reach it ({exc.__class__.__name__}: "
                              f"{str(exc)[:200]})") from None  # fmt: skip
    else:
        cluster = LocalCluster(n_workers=local, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)  # fmt: skip
        client = Client(cluster)
    client.register_plugin(SweepWorkerSetup())
    return client


def close_dask(client) -> None:
    """Close a client, and the local cluster it started if any (its worker processes with it)."""
    if client is None:
        return
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close(timeout=10)


def complete(plan: SweepPlan, specs: list[Scenario], points: list[dict[str, Any]], folder: ResultsFolder,
             outcomes: list[str], workers: int, on_progress: Callable[[int], None] | None,
             client=None) -> pd.DataFrame:  # fmt: skip
    """Run what is missing, merge, write sweep.html and seal the folder, holding its lock throughout."""
    with folder.finishing(plan.spans(len(specs))):
        execute_sweep(plan, specs, SweepInputs.of(specs, points, plan.seed), folder, workers, on_progress, client)
        summary = finalise_sweep(plan, specs, points, folder, outcomes)  # runs and inputs, as the workers wrote them
        sensitivity = folder.read_table("sensitivity.parquet") if folder.has("sensitivity.parquet") else None
        drawn = sweep_figures(folder.read_table("points.parquet"), folder.read_table("summary.parquet"), outcomes,
                              plan.design == "grid", sensitivity)  # fmt: skip
        folder.write_text("sweep.html", page(drawn, f"{specs[0].name}: sweep"))
        folder.seal(rows=plan.runs * len(points))
    return summary
