"""The Python API: everything the command line does, for notebooks and scripts. The CLI is a client of
this module: it parses options, calls one function here, renders what comes back and sets the exit code.

    import sim
    base = sim.load("scenarios/russia_syria_baseline.yaml")
    variant = sim.load("scenarios/russia_syria_baseline.yaml", set={"actors.syria.outside_option.value": 0.6})
    a, b = sim.run(base, runs=2_000), sim.run(variant, runs=2_000)
    a.share("agreement"), b.share("agreement")          # (share, low, high): every probability has its interval
    figures = sim.compare(a, b)                          # plotly figures

A model is, to the experiment layer, a function from a scenario and a seed to outcomes: ``run`` returns
the runs table (one row per run, the columns of ``runs.parquet``) and its summary. With ``out=None``
nothing is written; with a folder, the folder is the one ``basing run`` writes, byte for byte.
Bad input of any kind raises ``sim.errors.InputError`` (a ``ScenarioError`` or an ``OutputError``) with
one message naming the file, line and path.
"""

from __future__ import annotations

import copy
import importlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from sim.errors import OutputError
from sim.experiments.options import check_workers, parse_trace_runs
from sim.scenario.load import load_scenario
from sim.scenario.loaded import LoadedScenario

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from sim.experiments.pool import Plan
    from sim.outputs.results import Results

# The machinery behind the API (the engine, pandas, plotly) is imported on first use, so that the
# command line checks options and scenarios, and refuses bad ones, without loading it.
LAZY = {"Results": ("sim.outputs.results", "Results"), "BACKTEST_SCORES": ("sim.experiments.backtest", "SCORES")}


def __getattr__(name: str) -> Any:
    if name in LAZY:
        module, attribute = LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'sim.api' has no attribute {name!r}")


DEFAULT_RUNS = 10_000
DEFAULT_SWEEP_RUNS = 1_000


class Progress(Protocol):
    """What a long call reports to: ``start`` once (what runs, how many runs in all, how many are done
    already, as when resuming), then ``advance`` with the runs finished since."""

    def start(self, label: str, total: int, done: int) -> None: ...

    def advance(self, runs: int) -> None: ...


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C while a results folder was being written: its finished chunks are kept in ``path``, and
    ``resume`` is the command that finishes it."""

    def __init__(self, path: Path, resume: str, parts: str = "chunks") -> None:
        super().__init__(f"interrupted: finished {parts} are kept; resume with {resume}")
        self.path, self.resume = path, resume


def load(path: str | Path, set: dict[str, Any] | list[str] | None = None) -> LoadedScenario:
    """A scenario file, validated (schema, cross-references, quotes), with overrides applied.

    ``set`` is ``{"dotted.path": value}`` or the command line's ``["dotted.path=yaml value", ...]``. The
    result's ``.spec`` is the validated ``Scenario``; it keeps where each value came from, so a run of it
    stamps its results with the files and overrides it was made from."""
    overrides = [f"{key}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"
                 for key, value in set.items()] if isinstance(set, dict) else list(set or [])  # fmt: skip
    return load_scenario(path, overrides)


def _simulate(spec, plan: Plan, workers: int, progress: Progress | None) -> tuple[pd.DataFrame, pd.DataFrame | None,
                                                                                 pd.DataFrame]:  # fmt: skip
    """Every chunk of the plan in memory, in run order: the same rows, trace and inputs as the chunk files
    of a folder."""
    import pandas as pd

    from sim.experiments.pool import map_in_order, simulate_chunk

    chunks = list(plan.chunks())
    jobs = [(spec, start, stop, plan.seed, plan.traced(start, stop)) for start, stop in chunks]
    on_each = None
    if progress is not None:
        progress.start(spec.name, plan.runs, 0)
        on_each = lambda k: progress.advance(chunks[k][1] - chunks[k][0])  # noqa: E731
    done = map_in_order(simulate_chunk, jobs, workers, on_each)
    runs = pd.concat([rows for _, rows, _, _ in done], ignore_index=True)
    traces = [trace for _, _, trace, _ in done if trace is not None]
    inputs = pd.concat([drawn for _, _, _, drawn in done], ignore_index=True)
    return runs, (pd.concat(traces, ignore_index=True) if traces else None), inputs


def run(
    scenario: LoadedScenario | str | Path,
    runs: int = DEFAULT_RUNS,
    seed: int = 1,
    workers: int | None = None,
    out: str | Path | bool | None = None,
    trace_runs: Sequence[tuple[int, int]] = (),
    chunk_size: int | None = None,
    progress: Progress | None = None,
    command: list[str] | None = None,
) -> Results:
    """Run a scenario ``runs`` times; run k depends only on the seed and k, whatever the workers or chunks.

    ``out``: None (or False) keeps everything in memory and writes nothing; a path is a new results
    folder, as ``basing run --out`` writes it; True is a new folder named from the scenario and the time
    under ``results/``. ``trace_runs`` are ranges ``(first, stop)`` of runs to trace (see
    ``parse_trace_runs``). ``command`` is what the folder's manifest records as the call that made it."""

    from sim.experiments import runner
    from sim.experiments.pool import Plan, check_plan, chunk_limit, default_chunk
    from sim.outputs.results import Results
    from sim.outputs.store import check_new_folder
    from sim.outputs.summary import summarise

    loaded = scenario if isinstance(scenario, LoadedScenario) else load(scenario)
    workers = check_workers(workers)
    plan = Plan(runs, seed, chunk_size or default_chunk(runs, workers, chunk_limit(loaded.spec)), tuple(trace_runs))
    check_plan(loaded.spec, plan)
    if out is None or out is False:
        table, trace, inputs = _simulate(loaded.spec, plan, workers, progress)
        return Results(loaded.spec, summarise(loaded.spec, table), table, trace=trace, seed=seed,
                       resolved=loaded.resolved, overrides=loaded.overrides, inputs=inputs)  # fmt: skip
    target = check_new_folder(None if out is True else Path(out))
    command = command or ["python", "-c", "sim.run(...)"]
    folder, plan, spec = runner.start(loaded, plan, target, loaded.overrides, command)
    return _finish_run(folder, plan, spec, workers, progress)


def resume(
    path: str | Path, scenario: str | Path | None = None, workers: int | None = None, progress: Progress | None = None
) -> Results:
    """Finish an interrupted ``run`` in its folder (only the missing chunks run; the finished folder is
    the same as an uninterrupted run's). With ``scenario``, refuse a folder made from another one."""
    from sim.experiments import runner

    workers = check_workers(workers)
    loaded = load_scenario(scenario) if scenario is not None else None
    folder, plan, spec = runner.reopen(Path(path), loaded)
    return _finish_run(folder, plan, spec, workers, progress)


def _finish_run(folder, plan, spec, workers: int, progress: Progress | None) -> Results:
    from sim.experiments import runner
    from sim.experiments.made_from import run_manifest

    on_progress = None
    if progress is not None:
        progress.start(spec.name, plan.runs, folder.done_runs())
        on_progress = progress.advance
    try:
        runner.complete(folder, plan, spec, workers, on_progress)
    except KeyboardInterrupt:
        raise RunInterrupted(folder.path, f"basing run --resume {folder.path}") from None
    from sim.experiments.sources import results_of  # after the workers: it loads the engine (runner.complete)

    return results_of(folder, run_manifest(folder))


def open_results(path: str | Path) -> Results:
    """A complete results folder of ``basing run``, its manifest and checksums checked; its tables are
    read when first used."""
    from sim.experiments.sources import open_folder

    return open_folder(Path(path))


@dataclass
class Comparison:
    """Results side by side: ``items`` (labelled for legends), ``notes`` for the page, the ``figures``."""

    items: list[Results]
    notes: list[str]
    figures: list[go.Figure]

    def page(self) -> str:
        """The comparison as one self-contained HTML page (``basing compare``'s)."""
        from sim.outputs.comparison import compare_page

        return compare_page(self.items, self.notes, self.figures)


def comparison(
    *items: Results | str | Path,
    runs: int = DEFAULT_RUNS,
    seed: int = 1,
    workers: int | None = None,
    fan_runs: int = 200,
    on_item: Callable[[str, str], None] | None = None,
) -> Comparison:
    """Compare results, results folders and scenario files (run now, ``runs`` each with ``seed``); the
    first is the reference for differences; ``fan_runs`` runs of each are traced for the fan charts.
    ``on_item(verb, name)`` is told of each before its turn."""
    from sim.experiments.sources import from_scenario, open_folder, with_fans
    from sim.files import file_kind
    from sim.outputs.comparison import figures, label_and_check
    from sim.outputs.results import Results
    from sim.scenario.limits import MAX_COMPARE_RUNS

    workers = check_workers(workers)
    if runs > MAX_COMPARE_RUNS:
        raise OutputError(f"--runs {runs:,}: compare runs at most {MAX_COMPARE_RUNS:,} runs of each "
                          "scenario (run a larger one with basing run, then compare its folder)")  # fmt: skip
    kinds = [None if isinstance(item, Results) else file_kind(Path(item), follow=True) for item in items]
    for item, kind in zip(items, kinds, strict=True):
        if isinstance(item, Results):
            continue
        if kind is None:
            raise OutputError(f"{item}: no such scenario file or results folder")
        if kind != "folder" and Path(item).suffix.lower() not in (".yaml", ".yml"):
            raise OutputError(f"{item}: neither a scenario file (.yaml) nor a results folder")
    gathered = []
    for k, (item, kind) in enumerate(zip(items, kinds, strict=True)):
        if isinstance(item, Results):
            if item.path is None and item.origin == "in memory":
                item = copy.copy(item)
                item.origin = f"in memory #{k + 1}"
        elif kind == "folder":
            on_item and on_item("reading", str(item))
            item = open_folder(Path(item))
        else:
            on_item and on_item("running", str(item))
            item = from_scenario(Path(item), runs, seed, workers, fan_runs)
        gathered.append(with_fans(item, fan_runs))
    notes = label_and_check(gathered)
    return Comparison(gathered, notes, figures(gathered, notes))


def compare(*items: Results | str | Path, **options: Any) -> list[go.Figure]:
    """The comparison figures (plotly) of ``basing compare``, the first item as the reference (see
    ``comparison`` for the options)."""
    return comparison(*items, **options).figures


def replay(path: str | Path, run_index: int, keep: bool = False):
    """Run ``run_index`` of a results folder again, checked against its stored row; ``.trace`` holds its
    rounds and ``.narrative()`` tells what happened. With ``keep``, its trace is also written into the
    folder as ``replay-run-K.parquet`` (``.kept`` says its name and whether an earlier replay had)."""
    from sim.experiments.replay import keep_trace
    from sim.experiments.replay import replay as replay_run

    result = replay_run(Path(path), run_index)
    if keep:
        keep_trace(result)
    return result


@dataclass
class SweepResults:
    """A sweep's tables: ``points`` (the design, a row per point), ``summary`` (each point's summary
    columns), ``sensitivity`` (indices, or None for a grid), the ``outcomes`` ranked and, if kept, the
    folder ``path``."""

    name: str
    points: pd.DataFrame
    summary: pd.DataFrame
    sensitivity: pd.DataFrame | None
    outcomes: list[str]
    path: Path | None


def is_sweep_file(path: str | Path) -> bool:
    """True if ``path`` reads as a sweep file (``scenario:``, ``vary:``, ...) rather than a scenario."""
    from sim.experiments import sweep_runner

    return sweep_runner.is_sweep_file(Path(path))


def sweep(
    scenario: str | Path,
    vary: dict[str, str] | list[str] | None = None,
    design: str = "grid",
    samples: int | None = None,
    runs: int = DEFAULT_SWEEP_RUNS,
    seed: int = 1,
    outcomes: list[str] | None = None,
    set: list[str] | None = None,
    workers: int | None = None,
    out: str | Path | bool | None = None,
    block: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    progress: Progress | None = None,
    command: list[str] | None = None,
) -> SweepResults:
    """``basing sweep``: run a scenario over a design of parameter values.

    ``scenario`` is a scenario file, with ``vary`` mapping dotted paths to ``lo:hi:n``, ``lo:hi``
    (sampled) or ``v1,v2,...`` (or the command line's ``["path=lo:hi:n", ...]``), or a sweep file, which
    holds all of that itself. ``out`` as for ``run`` (without one, the sweep runs in a temporary folder
    that is removed afterwards). ``scheduler`` (a Dask address) or ``dask_local`` (workers of a new
    local cluster) run it on Dask; ``block`` is the runs per task."""
    from sim.experiments import sweep_runner
    from sim.outputs.store import check_new_folder

    workers = check_workers(workers)
    if dask_local is not None:
        check_workers(dask_local, "--dask-local")
    path = Path(scenario)
    if sweep_runner.is_sweep_file(path):
        plan, wanted = sweep_runner.read_sweep_file(path)
        plan = plan if block is None else replace(plan, block=block)
    else:
        if not vary:
            raise OutputError(f"{scenario}: a scenario file; to sweep it give --vary PATH=lo:hi:n (repeatable), "
                              "or write a sweep file (see sweeps/)")  # fmt: skip
        vary = [f"{p}={values}" for p, values in vary.items()] if isinstance(vary, dict) else list(vary)
        plan = sweep_runner.make_plan(path, list(set or []), vary, design, samples, runs, seed, block)
        wanted = outcomes or ["status_agreement"]
    points, specs = sweep_runner.prepare(plan)
    plan = sweep_runner.check_size(plan, specs, block is not None)
    wanted = sweep_runner.check_outcomes(specs[0], wanted)
    command = command or ["python", "-c", "sim.sweep(...)"]
    if out is None or out is False:
        with tempfile.TemporaryDirectory(prefix="basing-sweep-") as temporary:
            done = _sweep_in(plan, points, specs, wanted, Path(temporary) / "sweep", workers, scheduler, dask_local,
                             progress, command)  # fmt: skip
        done.path = None
        return done
    target = check_new_folder(None if out is True else Path(out))
    return _sweep_in(plan, points, specs, wanted, target, workers, scheduler, dask_local, progress, command)


def _sweep_in(plan, points, specs, outcomes, target, workers, scheduler, dask_local, progress, command):
    from sim.experiments import sweep_runner

    def begin_and_finish(client) -> SweepResults:
        folder = sweep_runner.start(plan, points, outcomes, target, specs[0].name, command)
        return _finish_sweep(folder, plan, points, specs, outcomes, workers, client, progress)

    return _on_dask(plan, points, scheduler, dask_local, begin_and_finish)


def _on_dask(plan, points, scheduler: str | None, dask_local: int | None, work: Callable) -> SweepResults:
    """``work(client)`` with the Dask client asked for (None: the local pool), closed however it ends."""
    from sim.experiments import sweep_runner

    tasks = len(plan.tasks(len(points)))  # never more local Dask workers than there are tasks
    client = sweep_runner.dask_client(scheduler, dask_local and min(dask_local, tasks))  # an unreachable one fails here
    try:
        return work(client)
    finally:
        sweep_runner.close_dask(client)


def resume_sweep(
    path: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    progress: Progress | None = None,
) -> SweepResults:
    """Finish an interrupted sweep in its folder."""
    from sim.experiments import sweep_runner

    workers = check_workers(workers)
    if dask_local is not None:
        check_workers(dask_local, "--dask-local")
    folder, plan, points, specs, outcomes = sweep_runner.reopen(Path(path))

    def finish(client) -> SweepResults:
        return _finish_sweep(folder, plan, points, specs, outcomes, workers, client, progress)

    return _on_dask(plan, points, scheduler, dask_local, finish)


def _finish_sweep(folder, plan, points, specs, outcomes, workers, client, progress) -> SweepResults:
    from sim.experiments import sweep_runner

    on_progress = None
    if progress is not None:
        progress.start(f"{specs[0].name}: {len(points)} points", plan.runs * len(points), folder.done_runs())
        on_progress = progress.advance
    try:
        sweep_runner.complete(plan, specs, points, folder, outcomes, workers, on_progress, client)
    except KeyboardInterrupt:
        raise RunInterrupted(folder.path, f"basing sweep --resume {folder.path}", "tasks") from None
    sensitivity = folder.read_table("sensitivity.parquet") if folder.has("sensitivity.parquet") else None
    return SweepResults(specs[0].name, folder.read_table("points.parquet"), folder.read_table("summary.parquet"),
                        sensitivity, outcomes, folder.path)  # fmt: skip


def discover(
    results: Results | str | Path,
    outcome: str,
    threshold: float | None = None,
    below: bool = False,
    method: str = "prim",
    boxes: int = 1,
    write: bool = True,
):
    """Scenario discovery: under which drawn inputs does ``outcome`` happen, and which inputs matter
    (see ``sim.experiments.discovery``; ``outcome`` is an indicator, ``status=...``-style condition or a
    number column with ``threshold``). ``results`` is a folder of ``run`` or ``sweep`` (a sweep's
    inputs add its varied values to the draws), or Results; for a folder, with ``write``, the page and
    table are added to it as ``discovery-<method>-<outcome>.html`` and ``.parquet`` (``.files`` names
    them). Returns the ``Discovery``: ``.summary``, ``.boxes``, ``.trajectory``, ``.scores`` and
    ``.sentence()``."""
    from sim.experiments.discovery import discover as find
    from sim.experiments.discovery import discovery_table, input_labels, outcome_of
    from sim.experiments.sources import open_any_folder
    from sim.outputs.discovery_page import discovery_page
    from sim.outputs.folder import ResultsFolder
    from sim.outputs.results import Results
    from sim.outputs.store import table_bytes

    item = results if isinstance(results, Results) else open_any_folder(Path(results))
    inputs = item.inputs
    if inputs is None:
        raise OutputError(
            f"{item.origin}: made before basing wrote inputs.parquet (by basing {item.made_with}), "
            "so its runs' inputs are unknown; run its scenario again to discover what drives it"
        )
    wanted = outcome_of(item.runs, item.spec, outcome, threshold, below)
    found = find(inputs, wanted, method, boxes, item.seed)
    found.labels = labels = input_labels(item.spec, list(inputs.columns))
    if write and item.path is not None:
        stem = discovery_stem(method, outcome, threshold, below, boxes)
        page = discovery_page(f"{item.spec.name}: what drives '{wanted.text}'", found.sentence(), method,
                              found.trajectory, found.boxes, found.summary, found.scores, inputs, wanted.cases,
                              labels, wanted.text, [])  # fmt: skip
        folder = ResultsFolder.open(item.path)
        try:
            for name, data in ((f"{stem}.parquet", table_bytes(discovery_table(found))),
                               (f"{stem}.html", page.encode("utf-8"))):  # fmt: skip
                folder.keep(name, data, "this discovery's output")
                found.files.append(item.path / name)
        finally:
            folder.close()
    return found


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def explorer(scenario: str | Path, runs: int | None = None, seed: int = 1):
    """A scenario opened for ``basing explore`` (``sim.experiments.explore.Explorer``): its controls, its
    runs as written (``.base``), ``.evaluate({path: text})`` of a change (validated as a file is, run with
    the same seed and runs), ``.drivers()`` and ``.save_variant(texts, name, question)``. From a notebook
    this is the page without the page."""
    from sim.experiments.explore import EXPLORE_RUNS, Explorer

    return Explorer(scenario, EXPLORE_RUNS if runs is None else runs, seed)


def explore(
    scenario: str | Path,
    runs: int | None = None,
    seed: int = 1,
    host: str = "127.0.0.1",
    port: int = 8050,
    on_ready: Callable[[str], None] | None = None,
    on_start: Callable[[], None] | None = None,
) -> None:
    """``basing explore``: serve the page of ``explorer(scenario, runs, seed)`` on ``host``:``port``
    until Ctrl-C. The options are checked first; then ``on_start()`` is called, the scenario is run as
    written, and ``on_ready(url)`` is called as the server starts. Only loopback is served unless
    another host is asked for (the CLI then warns that anyone who can reach it can run the model)."""
    import logging
    import socket

    from sim.experiments.explore import check_runs
    from sim.outputs.explore_page import make_app, serve

    if runs is not None:
        check_runs(runs)
    if not 1 <= port <= 65535:
        raise OutputError(f"--port {port}: a port is 1 to 65535")
    from werkzeug.serving import get_sockaddr, select_address_family

    family = select_address_family(host, port)  # the address the server will bind, as it chooses it
    try:
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise OSError("a network address is needed")
        socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        address = get_sockaddr(host, port, family)
    except (OSError, UnicodeError) as exc:
        raise OutputError(f"--host {host}: not an address of this machine ({exc})") from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:  # refuse a busy port with one line
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is free
        try:
            probe.bind(address)
        except OSError as exc:
            raise OutputError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc}); "
                              "choose another --port") from None  # fmt: skip
    if on_start is not None:
        on_start()
    opened = explorer(scenario, runs, seed)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request in the terminal
    app = make_app(opened, f"{opened.loaded.spec.name}: explore", None if host not in LOOPBACK else port)
    try:
        serve(app, host, port, on_ready)
    finally:
        opened.close()


def discovery_stem(method: str, outcome: str, threshold: float | None, below: bool, boxes: int) -> str:
    """A discovery's file name, from what it was asked (so two questions never share a file)."""
    text = outcome.replace("=", "-is-").replace(",", "+")
    if threshold is not None:
        text += f"-{'below' if below else 'above'}-{threshold:g}"
    if boxes > 1:
        text += f"-{boxes}-boxes"
    safe = "".join(c if c.isalnum() or c in "._+-" else "_" for c in text)[:120]
    return f"discovery-{method}-{safe}"


def verify(path: str | Path):
    """Audit a results folder (of ``run`` or ``sweep``): its manifest, every file's checksum, size and
    row count, every run id, that it holds no link, and that its tables are what its scenario makes.
    ``.problems`` lists what fails (none: verified); ``.manifest`` is the folder's record."""
    from sim.experiments.audit import audit

    return audit(Path(path))


def backtest(
    cases: Sequence[str | Path] = (),
    runs: int = DEFAULT_RUNS,
    seed: int = 1,
    workers: int | None = None,
    out: str | Path | bool = True,
    on_case: Callable[[str], None] | None = None,
    command: list[str] | None = None,
):
    """Score the forecasts of historical cases (default: every ``scenarios/cases/*.yaml``) against their
    observed outcomes, beside three baselines; write the backtest folder (``out`` as for ``run``: True
    names it from the time, None writes nothing). Returns ``(folder path or None, Backtest)``; the
    Backtest holds the ``cases``, ``terms`` and ``aggregate`` tables."""
    from sim.experiments import backtest as backtesting
    from sim.outputs.store import check_new_folder

    workers = check_workers(workers)
    keep = out is not None and out is not False
    target = check_new_folder(None if out is True else Path(out)) if keep else None
    loaded, result = backtesting.run_backtest([Path(c) for c in cases], runs, seed, workers, on_case)
    if not keep:
        return None, result
    folder = backtesting.write_backtest(target, loaded, result, runs, seed,
                                        command or ["python", "-c", "sim.backtest(...)"])  # fmt: skip
    return folder, result


def reproduce(cases: list[str] | None = None):
    """Reproduce the published numbers of the reference models (all, or the named ``cases``): a list of
    checks, each with ``case``, ``quantity``, ``expected``, ``got`` and ``passed``."""
    from sim.reference.cases import CASES, run_all

    unknown = sorted(set(cases or []) - set(CASES))
    if unknown:
        raise OutputError(f"--case: unknown case {', '.join(unknown)} (cases: {', '.join(CASES)})")
    return run_all(cases)


def import_table(kind: str, source: str | Path, output: str | Path) -> Path:
    """Turn a KTAB (``ktab``: SMP CSV) or BDM (``bdm``) input table into an influence-only scenario file
    ``output`` (a new file; an existing one is refused)."""
    from sim.outputs.store import check_new_file
    from sim.scenario.imports import write_imported

    if kind not in ("ktab", "bdm"):
        raise OutputError(f"unknown format '{kind}' (ktab or bdm)")
    target = check_new_file(Path(output), "--output")
    write_imported(kind, Path(source), target)
    return target


def scenario_schema() -> dict[str, Any]:
    """The scenario JSON Schema (for editor completion and checks)."""
    from sim.scenario.schema import Scenario

    return Scenario.model_json_schema(by_alias=True)


def shares(results: Results) -> pd.DataFrame:
    """Every status's share with its interval, one row each (a table for a notebook)."""
    import pandas as pd

    rows = [{"status": name, **entry} for name, entry in results.summary["status"].items()]
    return pd.DataFrame(rows)


__all__ = [
    "BACKTEST_SCORES",  # noqa: F822 - resolved on first use by __getattr__
    "DEFAULT_RUNS",
    "DEFAULT_SWEEP_RUNS",
    "Comparison",
    "Progress",
    "Results",
    "RunInterrupted",
    "SweepResults",
    "backtest",
    "check_workers",
    "compare",
    "comparison",
    "discover",
    "explore",
    "explorer",
    "import_table",
    "is_sweep_file",
    "load",
    "open_results",
    "parse_trace_runs",
    "replay",
    "reproduce",
    "resume",
    "resume_sweep",
    "run",
    "scenario_schema",
    "shares",
    "sweep",
    "verify",
]
