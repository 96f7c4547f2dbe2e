"""Parameter sweeps: a design's points, each a scenario with some values overridden, run as blocks of
runs on a process pool; per-point summaries; sensitivity indices with SALib.

Every point uses the same seed, so two points differ only by their parameters (common random numbers).
Tasks are a point and a block of its runs; each finished task is kept as a file, so a sweep resumes where
it stopped and gives the same files whatever the worker count or block size.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import OutputError
from sim.experiments.designs import Design, Factor, column_of, expand, problem
from sim.experiments.ensemble import run_chunk
from sim.experiments.inputs import SweepInputs
from sim.experiments.pool import injected_fault, run_jobs
from sim.outputs.folder import ResultsFolder, Span
from sim.outputs.summary import Summary
from sim.scenario.columns import POINT
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.limits import MAX_SWEEP_POINTS
from sim.scenario.load import assignment, load_scenario
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep runs: the design's points, ``runs`` runs per point with ``seed``, in blocks."""

    scenario: str
    overrides: tuple[str, ...]
    factors: tuple[Factor, ...]
    design: Design
    samples: int | None
    runs: int
    seed: int
    block: int

    def tasks(self, points: int) -> list[tuple[int, int, int]]:
        """(point, first run, stop) of every task, in order."""
        return [(p, s, min(s + self.block, self.runs)) for p in range(points) for s in range(0, self.runs, self.block)]

    def spans(self, points: int) -> dict[str, Span]:
        """Every task's runs, keyed by its chunk key."""
        return {task_key(p, s): Span(s, e, p) for p, s, e in self.tasks(points)}


def point_scenarios(plan: SweepPlan, points: list[dict[str, Any]]) -> list[Scenario]:
    """Each point's scenario, all validated before anything runs; problems name their point."""
    specs, problems = [], {}
    for index, point in enumerate(points):
        try:
            overrides = [*plan.overrides, *(assignment(path, value) for path, value in point.items())]
            specs.append(load_scenario(plan.scenario, overrides).spec)
        except ScenarioError as exc:
            for p in exc.problems:  # the same problem at many points is told once, with the points
                varied = p.file == "--set" and any(p.path.startswith(path) for path in point)
                source = "--vary" if varied else p.file
                problems.setdefault((source, p.line, p.path, p.message), []).append((index, point))
    if problems:
        raise ScenarioError([
            Problem(file, line, path, f"{message} (at {_where(at, len(points))})")
            for (file, line, path, message), at in problems.items()
        ])  # fmt: skip
    return specs


def _where(at: list[tuple[int, dict[str, Any]]], total: int) -> str:
    if len(at) == total:
        return "the one point" if total == 1 else f"all {total} points"
    index, point = at[0]
    more = f" and {len(at) - 1} more" if len(at) > 1 else ""
    return f"point {index}: {_show(point)}{more}"


def _show(point: dict[str, Any]) -> str:
    return ", ".join(f"{path}={value:.4g}" if isinstance(value, float) else f"{path}={value}"
                     for path, value in point.items())  # fmt: skip


def simulate_task(spec: Scenario, point: int, start: int, stop: int, seed: int,
                  inputs: SweepInputs) -> tuple[str, pd.DataFrame, None, pd.DataFrame]:  # fmt: skip
    """One point's runs [start, stop) (in a worker process), with the point's id in front; as a chunk
    (its key, its rows, no trace, and its rows of ``inputs.parquet``, laid out by ``inputs``)."""
    injected_fault(task_key(point, start))
    chunk = run_chunk(spec, np.arange(start, stop), seed, inputs=True)
    rows = chunk.runs
    rows.insert(0, POINT, np.full(len(rows), point, dtype=np.int64))
    return task_key(point, start), rows, None, inputs.rows(point, chunk.inputs)


def task_key(point: int, start: int) -> str:
    return f"p{point:06d}-r{start:012d}"


def execute_sweep(
    plan: SweepPlan, specs: list[Scenario], inputs: SweepInputs, folder: ResultsFolder, workers: int,
    on_progress=None, client=None,
):  # fmt: skip
    """Run every task the folder does not hold yet: on a Dask ``client`` if given, else in this process
    (one worker) or a local process pool. The tasks are pure, so the executor does not change results."""
    todo = [t for t in plan.tasks(len(specs)) if not folder.has_chunk(task_key(t[0], t[1]))]
    if client is not None:
        _on_dask(client, plan, specs, inputs, folder, todo, on_progress)
        return
    if workers == 1:
        for point, start, stop in todo:
            folder.save_chunk(*simulate_task(specs[point], point, start, stop, plan.seed, inputs))
            if on_progress:
                on_progress(stop - start)
        return
    jobs = [(task_key(p, s), e - s, (specs[p], p, s, e, plan.seed, inputs)) for p, s, e in todo]
    run_jobs(simulate_task, jobs, folder, workers, on_progress, f"basing sweep --resume {folder.path}")


def _on_dask(client, plan: SweepPlan, specs: list[Scenario], inputs: SweepInputs, folder: ResultsFolder, todo,
             on_progress) -> None:  # fmt: skip
    """Submit the tasks to a Dask cluster and keep each result as it arrives."""
    from distributed import as_completed

    pending = {client.submit(simulate_task, specs[p], p, s, e, plan.seed, inputs, pure=False): e - s
               for p, s, e in todo}  # fmt: skip
    try:
        for done in as_completed(list(pending)):
            folder.save_chunk(*done.result())
            if on_progress:
                on_progress(pending[done])
    except KeyboardInterrupt:
        client.cancel(list(pending))
        raise


def flatten(summary: dict[str, Any]) -> dict[str, float]:
    """One row of numbers from a run summary: shares as name, name_low, name_high; spreads as
    name_median, name_p10, name_p90 (e.g. status_agreement, terms_tartus_median, indicators_deal)."""
    out: dict[str, float] = {}

    def put(name: str, value: float) -> None:
        if name in out:  # an outcome 'deal_low' beside 'deal', say: refused before a sweep runs
            raise OutputError(f"two entries of the summary make the sweep column '{name}': rename an outcome, "
                              "actor or issue whose name ends in _low, _high, _median, _p10 or _p90, or "
                              "repeats another's with a prefix such as in_force_")  # fmt: skip
        out[name] = value

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict) and "share" in node:
            for suffix, key in (("", "share"), ("_low", "low"), ("_high", "high")):
                put(prefix + suffix, node[key])
        elif isinstance(node, dict) and "median" in node:
            for key in ("median", "p10", "p90"):
                put(f"{prefix}_{key}", node[key])
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}_{key}" if prefix else str(key), value)

    walk("", {k: v for k, v in summary.items() if k not in ("runs", "kind", "agreement_date")})
    return out


def finalise_sweep(plan: SweepPlan, specs: list[Scenario], points: list[dict[str, Any]], folder: ResultsFolder,
                   outcomes: list[str]) -> pd.DataFrame:  # fmt: skip
    """Merge the tasks into runs.parquet and inputs.parquet, write points.parquet, summary.parquet and, for
    Sobol and Morris designs, sensitivity.parquet; returns the per-point summary."""
    tasks = plan.tasks(len(specs))
    missing = [t for t in tasks if not folder.has_chunk(task_key(t[0], t[1]))]
    if missing:
        raise OutputError(f"{folder.path}: {len(missing)} tasks are missing; resume the sweep")
    # Tasks arrive in point order, so one point's summary (megabytes of histograms) is open at a time.
    results: list[dict[str, float]] = []
    current: list[Summary] = []

    def visit(rows: pd.DataFrame) -> None:
        point = int(rows["point"].iloc[0])
        if point == len(results) + len(current):  # a new point: close the previous one
            if current:
                results.append(flatten(current.pop().result()))
            current.append(Summary(specs[point]))
        current[0].add(rows)

    keys = [task_key(p, s) for p, s, _ in tasks]
    merged = folder.merge_all(keys, ("inputs",), visit)
    count = merged["runs"]
    if count != plan.runs * len(specs):
        raise OutputError(f"{folder.path}: {count} rows for {plan.runs * len(specs)} runs")
    if merged["inputs"] != count:
        raise OutputError(f"{folder.path}: the tasks' inputs do not cover their {count} runs; the task files are "
                          "inconsistent")  # fmt: skip
    table = pd.DataFrame({"point": np.arange(len(points), dtype=np.int64)})
    for path in points[0] if points else ():
        cells, dtype = column_of([p[path] for p in points])
        table[path] = pd.Series(cells, dtype=dtype)
    folder.write_table("points.parquet", table)
    results.extend(flatten(s.result()) for s in current)
    summary = pd.DataFrame([{"point": i, **row} for i, row in enumerate(results)])
    folder.write_table("summary.parquet", summary)
    if plan.design in ("sobol", "morris"):
        folder.write_table("sensitivity.parquet", sensitivity(plan, points, summary, outcomes))
    return summary


def sensitivity(plan: SweepPlan, points: list[dict[str, Any]], summary: pd.DataFrame, outcomes: list[str]):
    """First-order and total Sobol indices, or Morris mu* and sigma, of each outcome, with 95% intervals."""
    from SALib.analyze import morris, sobol

    definition = problem(list(plan.factors))
    x = np.array([[p[f.path] for f in plan.factors] for p in points])
    rows = []
    for outcome in outcomes:
        y = summary[outcome].to_numpy(dtype=float)
        why = None
        if not np.isfinite(y).all():  # never invent values: say how many points have none
            why = f"{int((~np.isfinite(y)).sum())} points have no value"
        elif np.ptp(y) == 0:
            why = "the outcome is the same at every point, so no parameter moves it"
        if why is not None:
            rows += [{"outcome": outcome, "parameter": f.path, "index": "not computed", "value": math.nan,
                      "conf": math.nan, "note": why} for f in plan.factors]  # fmt: skip
            continue
        with warnings.catch_warnings(record=True) as caught:  # SALib's doubts go into the table's notes
            warnings.simplefilter("always")
            if plan.design == "sobol":
                result = sobol.analyze(definition, y, calc_second_order=False, seed=plan.seed)
            else:
                result = morris.analyze(definition, x, y, num_levels=4, seed=plan.seed)
        note = "; ".join(dict.fromkeys(str(w.message) for w in caught)) or None
        if plan.design == "sobol":
            for i, factor in enumerate(plan.factors):
                rows += [{"outcome": outcome, "parameter": factor.path, "index": name, "value": result[name][i],
                          "conf": result[f"{name}_conf"][i], "note": note} for name in ("S1", "ST")]  # fmt: skip
        else:
            for i, factor in enumerate(plan.factors):
                row = {"outcome": outcome, "parameter": factor.path, "note": note}
                rows.append(
                    {**row, "index": "mu_star", "value": result["mu_star"][i], "conf": result["mu_star_conf"][i]}
                )
                rows.append({**row, "index": "sigma", "value": result["sigma"][i], "conf": math.nan})
    return pd.DataFrame(rows)


def design_points(plan: SweepPlan) -> list[dict[str, Any]]:
    return expand(list(plan.factors), plan.design, plan.samples, plan.seed, limit=MAX_SWEEP_POINTS)


__all__ = ["SweepPlan", "design_points", "execute_sweep", "finalise_sweep", "point_scenarios"]
