"""``basing sweep`` from start to a complete folder: plan, validation of every point, manifest, tasks,
merge, summaries and sensitivity; resuming an interrupted sweep from its manifest."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field, ValidationError, model_validator
from rich.console import Console
from rich.table import Table

from sim.experiments.designs import DesignError, Factor, list_factor, parse_vary, range_factor
from sim.experiments.stream import chunk_limit
from sim.experiments.sweep import (
    SweepPlan,
    design_points,
    execute_sweep,
    finalise_sweep,
    flatten,
    point_scenarios,
    task_key,
)
from sim.outputs.folder import ResultsFolder
from sim.outputs.store import OutputError, git_commit, sha256, utc_stamp, versions, write_text
from sim.outputs.summary import Summary
from sim.scenario.base import Strict
from sim.scenario.errors import ScenarioError
from sim.scenario.limits import MAX_RUNS, MAX_SWEEP_RUNS
from sim.scenario.load import _problems_from, read_yaml, shown
from sim.scenario.schema import Scenario


class VaryEntry(Strict):
    """One varied parameter in a sweep file: a range (with a count for grids) or a list of values."""

    range: list[float] | None = Field(None, min_length=2, max_length=2, description="[low, high].")
    count: int | None = Field(None, ge=2, description="Grid values across the range.")
    values: list[Any] | None = Field(None, description="Explicit values (any scenario value).")

    @model_validator(mode="after")
    def _one(self) -> VaryEntry:
        if (self.range is None) == (self.values is None):
            raise ValueError("give either 'range' (with 'count' for a grid) or 'values'")
        return self


class SweepFile(Strict):
    """A sweep written down: the scenario, what varies and how, and how many runs per point."""

    scenario: str = Field(description="Scenario file, relative to this file.")
    set: list[str] = Field(default_factory=list, description="Overrides applied at every point (path=value).")
    vary: dict[str, VaryEntry] = Field(min_length=1, description="Dotted scenario paths and their values.")
    design: Literal["grid", "lhs", "sobol", "morris"] = Field("grid", description="Experimental design.")
    samples: int | None = Field(None, ge=1, description="Base samples of lhs, sobol (a power of two), morris.")
    runs: int = Field(1000, ge=1, description="Runs per point.")
    seed: int = Field(1, ge=0, description="Seed, the same at every point.")
    outcomes: list[str] = Field(default_factory=lambda: ["status_agreement"], description="Summary columns.")


def is_sweep_file(path: Path) -> bool:
    """A YAML mapping with a top-level 'vary' is a sweep file, not a scenario."""
    try:
        return "vary" in read_yaml(path)[0]
    except ScenarioError:
        return False


def read_sweep_file(path: Path) -> tuple[SweepPlan, list[str]]:
    """A sweep file's plan and outcomes; problems name the file, line and path."""
    data, origins = read_yaml(path)
    try:
        sweep = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems_from(exc, data, origins, shown(path))) from None
    factors = []
    for name, entry in sweep.vary.items():
        if entry.values is not None:
            factors.append(list_factor(name, entry.values))
        else:
            factors.append(range_factor(name, entry.range[0], entry.range[1], entry.count))
    scenario = (path.resolve().parent / sweep.scenario).resolve()
    plan = SweepPlan(str(scenario), tuple(sweep.set), tuple(factors), sweep.design, sweep.samples, sweep.runs,
                     sweep.seed, min(sweep.runs, 1000))  # fmt: skip
    return plan, sweep.outcomes


def make_plan(scenario: Path, overrides: list[str], vary: list[str], design: str, samples: int | None, runs: int,
              seed: int, block: int | None) -> SweepPlan:  # fmt: skip
    if design not in ("grid", "lhs", "sobol", "morris"):
        raise DesignError(f"--design {design}: choose grid, lhs, sobol or morris")
    factors = tuple(parse_vary(text) for text in vary)
    return SweepPlan(str(Path(scenario).resolve()), tuple(overrides), factors, design, samples, runs, seed,
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
    folder = ResultsFolder.create(out, f"{name}-sweep")
    folder.write_manifest({
        "created": utc_stamp(), "command": command, "kind": "sweep", "status": "running",
        "scenario": plan.scenario, "overrides": list(plan.overrides),
        "factors": [{k: v for k, v in vars(f).items() if v is not None} for f in plan.factors],
        "design": plan.design, "samples": plan.samples, "runs": plan.runs, "seed": plan.seed, "block": plan.block,
        "scenario_sha256": sha256(Path(plan.scenario)),
        "points": len(points), "outcomes": outcomes, "versions": versions(),
        "git": git_commit(Path(__file__).resolve().parent),
    })  # fmt: skip
    return folder


def reopen(path: Path):
    """An incomplete sweep folder, its plan, points, scenarios and outcomes."""
    folder = ResultsFolder.open(path)
    record = folder.manifest()
    if record.get("kind") != "sweep":
        raise OutputError(f"{path}: not a sweep folder")
    if record.get("status") == "complete":
        raise OutputError(f"{path}: this sweep is complete; there is nothing to resume")
    if record["versions"]["basing"] != versions()["basing"]:
        raise OutputError(f"{path}: made with basing {record['versions']['basing']}; results would mix versions")
    factors = tuple(Factor(**{**f, "values": tuple(f["values"])} if "values" in f else f) for f in record["factors"])
    plan = SweepPlan(record["scenario"], tuple(record["overrides"]), factors, record["design"], record["samples"],
                     record["runs"], record["seed"], record["block"])  # fmt: skip
    if record.get("scenario_sha256") != sha256(Path(plan.scenario)):
        raise OutputError(f"{path}: {plan.scenario} has changed since the sweep began; results would mix versions")
    points, specs = prepare(plan)
    return folder, plan, points, specs, record["outcomes"]


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
        except (OSError, TimeoutError) as exc:
            raise OutputError(f"--scheduler {scheduler}: cannot reach it ({exc.__class__.__name__})") from None
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
    from sim.outputs.report import page

    with folder.finishing({task_key(p, s): e - s for p, s, e in plan.tasks(len(specs))}):
        execute_sweep(plan, specs, folder, workers, on_progress, client)
        summary = finalise_sweep(plan, specs, points, folder, outcomes)
        write_text(folder.path / "sweep.html", page(figures(folder, outcomes), f"{specs[0].name}: sweep"))
        folder.seal(rows=plan.runs * len(points))
    return summary


def figures(folder: ResultsFolder, outcomes: list[str]) -> list:
    """The sweep's figures: each outcome against each parameter; a heatmap over the first two parameters of
    a grid; the sensitivity indices."""
    from sim.outputs import plots

    points = pd.read_parquet(folder.path / "points.parquet")
    summary = pd.read_parquet(folder.path / "summary.parquet")
    grid = folder.manifest().get("design") == "grid"
    parameters = [c for c in points.columns if c != "point"]  # numbers, or text (mappings as JSON): one axis each
    out = [plots.outcome_against(points, summary, p, o, lines=grid) for o in outcomes for p in parameters]
    numeric = [p for p in parameters if pd.api.types.is_numeric_dtype(points[p])]
    if grid and len(numeric) >= 2 and all(points[p].nunique() <= 50 for p in numeric[:2]):
        out += [plots.heatmap(points, summary, numeric[0], numeric[1], o) for o in outcomes]
    if (folder.path / "sensitivity.parquet").exists():
        indices = pd.read_parquet(folder.path / "sensitivity.parquet")
        out += [plots.sensitivity_bars(indices, o) for o in outcomes]
    return out


def render(summary: pd.DataFrame, points: list[dict[str, Any]], outcomes: list[str], folder: ResultsFolder,
           console: Console) -> None:  # fmt: skip
    """The first points with their outcomes, and the sensitivity indices if there are any."""
    table = Table(title=f"{len(points)} points (first 20)", title_justify="left")
    for column in ["point", *points[0], *outcomes]:
        table.add_column(column, justify="right")
    for index, point in enumerate(points[:20]):
        values = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in point.values()]
        table.add_row(str(index), *values, *(f"{summary.loc[index, o]:.4g}" for o in outcomes))
    console.print(table)
    path = folder.path / "sensitivity.parquet"
    if path.exists():
        indices = pd.read_parquet(path)
        ranked = Table(title="Sensitivity (95% interval half-width)", title_justify="left")
        for column in ("outcome", "parameter", "index", "value", "conf"):
            ranked.add_column(column, justify="right" if column in ("value", "conf") else "left")
        for row in indices.itertuples():
            ranked.add_row(row.outcome, row.parameter, row.index, f"{row.value:.4f}", f"{row.conf:.4f}")
        console.print(ranked)
