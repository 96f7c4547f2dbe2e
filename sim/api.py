"""The Python API: what the command line does, for notebooks and scripts.

    import sim
    base = sim.load("scenarios/russia_syria_baseline.yaml")
    variant = sim.load("scenarios/russia_syria_baseline.yaml", set={"actors.syria.outside_option.value": 0.6})
    a, b = sim.run(base, runs=2_000), sim.run(variant, runs=2_000)
    a.share("agreement"), b.share("agreement")          # (share, low, high): every probability has its interval
    figures = sim.compare(a, b)                          # plotly figures

A model is, to the experiment layer, a function from a scenario and a seed to outcomes: ``run`` returns
the runs table (one row per run, the columns of ``runs.parquet``) and its summary. With ``out=None``
nothing is written; with a folder, the folder is the one ``basing run`` writes, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.experiments import runner
from sim.experiments.pool import (
    Plan,
    check_plan,
    check_workers,
    chunk_limit,
    default_chunk,
    map_in_order,
    simulate_chunk,
)
from sim.outputs.folder import ResultsFolder
from sim.outputs.store import this_version
from sim.outputs.summary import summarise
from sim.scenario.load import load_scenario
from sim.scenario.loaded import LoadedScenario
from sim.scenario.schema import Scenario

DEFAULT_RUNS = 10_000


def load(path: str | Path, set: dict[str, Any] | list[str] | None = None) -> LoadedScenario:
    """A scenario file, validated (schema, cross-references, quotes), with overrides applied.

    ``set`` is ``{"dotted.path": value}`` or the command line's ``["dotted.path=yaml value", ...]``. The
    result's ``.spec`` is the validated ``Scenario``; it keeps where each value came from, so a run of it
    stamps its results with the files and overrides it was made from."""
    overrides = [f"{key}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"
                 for key, value in set.items()] if isinstance(set, dict) else list(set or [])  # fmt: skip
    return load_scenario(path, overrides)


@dataclass
class Results:
    """An ensemble's outcomes: ``runs`` (a row per run, the columns of ``runs.parquet``), ``summary`` (as
    ``summary.json`` holds it), ``trace`` (traced runs, or None) and, if written, the folder ``path``."""

    spec: Scenario
    runs: pd.DataFrame
    summary: dict[str, Any]
    trace: pd.DataFrame | None = None
    path: Path | None = None
    seed: int | None = None
    made_with: str | None = None  # the basing version of a folder read back (None: made by this one)

    def share(self, status: str) -> tuple[float, float, float]:
        """The share of runs that ended in ``status`` and its 95% Wilson interval: (share, low, high)."""
        entry = self.summary["status"].get(status)
        if entry is None:
            raise KeyError(f"{status!r}: not a status of this scenario ({', '.join(self.summary['status'])})")
        return entry["share"], entry["low"], entry["high"]


def _simulate(spec: Scenario, plan: Plan, workers: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Every chunk of the plan in memory, in run order: the same rows as the chunk files of a folder."""
    jobs = [(spec, start, stop, plan.seed, plan.traced(start, stop)) for start, stop in plan.chunks()]
    done = map_in_order(simulate_chunk, jobs, workers)
    runs = pd.concat([rows for _, rows, _ in done], ignore_index=True)
    traces = [trace for _, _, trace in done if trace is not None]
    return runs, (pd.concat(traces, ignore_index=True) if traces else None)


def run(
    scenario: LoadedScenario | str | Path,
    runs: int = DEFAULT_RUNS,
    seed: int = 1,
    workers: int | None = None,
    out: str | Path | None = None,
    trace_runs: tuple[tuple[int, int], ...] = (),
    chunk_size: int | None = None,
) -> Results:
    """Run a scenario ``runs`` times (run k depends only on the seed and k, whatever the workers or
    chunks). With ``out`` a new folder, write it as ``basing run --out`` does; else write nothing.
    ``trace_runs`` are ranges ``(first, stop)`` of runs to trace."""
    loaded = scenario if isinstance(scenario, LoadedScenario) else load(scenario)
    workers = check_workers(workers)
    plan = Plan(runs, seed, chunk_size or default_chunk(runs, workers, chunk_limit(loaded.spec)), tuple(trace_runs))
    check_plan(loaded.spec, plan)
    if out is None:
        table, trace = _simulate(loaded.spec, plan, workers)
        return Results(loaded.spec, table, summarise(loaded.spec, table), trace, None, seed)
    command = ["python", "-c", "sim.run(...)"]
    folder, plan, spec = runner.start(loaded, plan, Path(out), loaded.overrides, command)
    runner.complete(folder, plan, spec, workers, None)
    return open_results(folder.path)


def open_results(path: str | Path) -> Results:
    """A complete results folder of ``basing run`` (its manifest and checksums checked)."""
    from sim.experiments.compare import from_folder

    outcomes = from_folder(Path(path))
    folder = ResultsFolder.open(Path(path))
    trace = folder.read_table("trace.parquet") if folder.has("trace.parquet") else None
    return Results(outcomes.spec, outcomes.runs, outcomes.summary, trace, Path(path), outcomes.seed,
                   outcomes.made_with)  # fmt: skip


def compare(*items: Results) -> list:
    """The comparison figures (plotly) of ``basing compare``, the first item as the reference."""
    from sim.experiments import compare as comparing

    outcomes = []
    for k, item in enumerate(items):
        origin = str(item.path) if item.path is not None else f"in memory #{k + 1}"
        made_with = item.made_with or this_version()
        outcomes.append(comparing.Outcomes(item.spec.name, item.spec, item.spec.model_dump(mode="json"), item.runs,
                                           item.summary, None, origin, item.seed, made_with))  # fmt: skip
    comparing.label_and_check(outcomes)
    return comparing.figures(outcomes)


def replay(path: str | Path, run_index: int):
    """Run ``run_index`` of a results folder again, checked against its stored row; ``.trace`` holds its
    rounds and ``narrative(result)`` tells what happened."""
    from sim.experiments.replay import replay as replay_run

    return replay_run(Path(path), run_index)


@dataclass
class SweepResults:
    """A sweep's tables: ``points`` (the design, a row per point), ``summary`` (each point's summary
    columns), ``sensitivity`` (indices, or None for a grid) and, if kept, the folder ``path``."""

    points: pd.DataFrame
    summary: pd.DataFrame
    sensitivity: pd.DataFrame | None
    path: Path | None


def sweep(
    scenario: str | Path,
    vary: dict[str, str] | list[str],
    design: str = "grid",
    samples: int | None = None,
    runs: int = 1_000,
    seed: int = 1,
    outcomes: list[str] | None = None,
    set: list[str] | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
) -> SweepResults:
    """``basing sweep``: ``vary`` maps dotted paths to ``lo:hi:n``, ``lo:hi`` (sampled) or ``v1,v2,...``
    (or is the command line's ``["path=lo:hi:n", ...]``). With ``out`` a new folder, it is the folder the
    command line writes; without, the sweep runs in a temporary folder that is removed afterwards."""
    import tempfile

    from sim.experiments import sweep_runner

    vary = [f"{path}={values}" for path, values in vary.items()] if isinstance(vary, dict) else list(vary)
    workers = check_workers(workers)
    plan = sweep_runner.make_plan(Path(scenario), list(set or []), vary, design, samples, runs, seed, None)
    points, specs = sweep_runner.prepare(plan)
    plan = sweep_runner.check_size(plan, specs, False)
    wanted = sweep_runner.check_outcomes(specs[0], outcomes or ["status_agreement"])

    def execute(target: Path) -> SweepResults:
        folder = sweep_runner.start(plan, points, wanted, target, specs[0].name, ["python", "-c", "sim.sweep(...)"])
        sweep_runner.complete(plan, specs, points, folder, wanted, workers, None)
        sensitivity = folder.read_table("sensitivity.parquet") if folder.has("sensitivity.parquet") else None
        return SweepResults(folder.read_table("points.parquet"), folder.read_table("summary.parquet"), sensitivity,
                            target)  # fmt: skip

    if out is not None:
        return execute(Path(out))
    with tempfile.TemporaryDirectory(prefix="basing-sweep-") as temporary:
        result = execute(Path(temporary) / "sweep")
    result.path = None
    return result


def shares(results: Results) -> pd.DataFrame:
    """Every status's share with its interval, one row each (a table for a notebook)."""
    rows = [{"status": name, **entry} for name, entry in results.summary["status"].items()]
    return pd.DataFrame(rows)


__all__ = [
    "DEFAULT_RUNS",
    "Results",
    "SweepResults",
    "compare",
    "load",
    "open_results",
    "replay",
    "run",
    "shares",
    "sweep",
]
