"""The ``basing`` command line: parse, call, print, exit codes. Nothing else lives here.

Exit codes: 0 success, 1 internal error (a bug: set BASING_DEBUG=1 for the traceback),
2 bad input (scenario, options or output folder), 130 interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from sim import api
from sim.errors import InputError, OutputError, WorkerError
from sim.outputs.console import Terminal, install_warning_lines, render, render_sweep, too_narrow, visible
from sim.outputs.store import check_image_folder, check_new_file, make_folders, write_new_text
from sim.scenario.limits import MAX_COMPARE_RUNS, MAX_SEED

app = typer.Typer(
    name="basing",
    help="Simulate international basing negotiations as an agent-based model.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out_console = Terminal()  # every string is shown as the text it is: no markup, no control characters
err_console = Terminal(stderr=True)

ScenarioPath = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
SetOption = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Override a scenario value: dotted.path=value (YAML syntax). Repeatable."),
]


class RateColumn(ProgressColumn):
    """Runs per second so far."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} runs/s")


@app.command()
def run(
    scenario: Annotated[Optional[Path], typer.Argument(help="Scenario YAML file.", show_default=False)] = None,
    runs: Annotated[
        Optional[int], typer.Option("--runs", "-n", min=1, help="Monte Carlo runs [default: 10000].")
    ] = None,
    seed: Annotated[
        Optional[int], typer.Option(min=0, max=MAX_SEED, help="Run k depends only on (seed, k) [default: 1].")
    ] = None,
    out: Annotated[Optional[Path], typer.Option(help="New results folder (default results/<name>-<UTC time>).")] = None,
    overrides: SetOption = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="Trace every run (large: runs x rounds x actors x issues rows).")
    ] = False,
    trace_runs: Annotated[Optional[str], typer.Option(help="Trace only these runs, e.g. 0:100 or 0:10,500.")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Worker processes [default: all cores].")] = None,
    chunk_size: Annotated[
        Optional[int], typer.Option(min=1, help="Runs per chunk; bounds memory, not results.")
    ] = None,
    resume: Annotated[Optional[Path], typer.Option(help="Finish an interrupted run in this folder.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or tables.")] = False,
) -> None:
    """Run a scenario many times and report outcome distributions."""
    api.check_workers(workers)
    bar = ProgressBar(quiet)
    if resume is not None:
        options = {"--runs": runs, "--seed": seed, "--out": out, "--set": overrides, "--trace": trace or None,
                   "--trace-runs": trace_runs, "--chunk-size": chunk_size}  # fmt: skip
        given = [name for name, value in options.items() if value is not None and value != []]
        if given:
            raise OutputError(f"--resume takes its plan from the manifest; drop {', '.join(given)}")
        with resumable(), bar:
            results = api.resume(resume, scenario, workers, bar)
    else:
        if scenario is None:
            raise OutputError("give a scenario file (or --resume FOLDER)")
        loaded = api.load(scenario, overrides or [])
        runs = runs or api.DEFAULT_RUNS
        if trace and trace_runs is not None:
            raise OutputError("give --trace (every run) or --trace-runs (some), not both")
        ranges = ((0, runs),) if trace else parse_runs(trace_runs, runs) if trace_runs is not None else ()
        with resumable(), bar:
            results = api.run(loaded, runs, 1 if seed is None else seed, workers, out or True, ranges, chunk_size,
                              bar, ["basing", *sys.argv[1:]])  # fmt: skip
    if not quiet:
        render(results.summary, results.spec.name, results.spec.question, out_console)
    out_console.print(f"results: {results.path} (report: {results.path / 'report.html'})")


@contextlib.contextmanager
def resumable() -> Iterator[None]:
    """Ctrl-C while a folder is written: say how to resume it, exit code 130."""
    try:
        yield
    except api.RunInterrupted as exc:
        err_console.print(str(exc))
        raise typer.Exit(130) from None


class ProgressBar:
    """The API's progress report as a bar of runs done, runs per second and the time left, on standard
    error (nothing with --quiet); used as ``with bar:``, which takes it down however the call ends."""

    def __init__(self, quiet: bool) -> None:
        self.bar = Progress(
            TextColumn("{task.description}", style="bold", markup=False), BarColumn(), MofNCompleteColumn(),
            RateColumn(), TimeRemainingColumn(), console=err_console, disable=quiet, transient=True,
        )  # fmt: skip
        self.task = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        if self.task is not None:
            self.bar.stop()

    def start(self, label: str, total: int, done: int) -> None:
        """Show the bar: only now, once every input has been checked (an error shows alone)."""
        self.bar.start()
        self.task = self.bar.add_task(label, total=total, completed=done)

    def advance(self, runs: int) -> None:
        self.bar.advance(self.task, runs)


def parse_runs(text: str, runs: int) -> tuple[tuple[int, int], ...]:
    try:
        return api.parse_trace_runs(text, runs)
    except ValueError as exc:
        raise OutputError(f"--trace-runs: {exc}") from None


@app.command()
def sweep(
    scenario: Annotated[Optional[Path], typer.Argument(help="Scenario YAML file.", show_default=False)] = None,
    vary: Annotated[
        Optional[list[str]], typer.Option(help="path=lo:hi:n, path=lo:hi (sampled) or path=v1,v2,...")
    ] = None,
    design: Annotated[Optional[str], typer.Option(help="grid, lhs, sobol or morris [default: grid].")] = None,
    samples: Annotated[
        Optional[int], typer.Option(help="Base samples for lhs, sobol (a power of two), morris.")
    ] = None,
    runs: Annotated[Optional[int], typer.Option("--runs", "-n", min=1, help="Runs per point [default: 1000].")] = None,
    seed: Annotated[Optional[int], typer.Option(min=0, max=MAX_SEED, help="Seed for every point [default: 1].")] = None,
    outcome: Annotated[Optional[list[str]], typer.Option(help="Summary column(s) to rank parameters by.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="New results folder.")] = None,
    overrides: SetOption = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Worker processes [default: all cores].")] = None,
    block: Annotated[Optional[int], typer.Option(min=1, help="Runs per task [default: up to 1,000].")] = None,
    resume: Annotated[Optional[Path], typer.Option(help="Finish an interrupted sweep in this folder.")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Run on this Dask cluster, e.g. tcp://host:8786.")] = None,
    dask_local: Annotated[
        Optional[int], typer.Option(min=1, help="Run on a new local Dask cluster of N workers.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or tables.")] = False,
) -> None:
    """Run a scenario over a design of parameter values; summaries per point and sensitivity indices."""
    api.check_workers(workers)
    bar = ProgressBar(quiet)
    if resume is not None:
        with resumable(), bar:
            done = api.resume_sweep(resume, workers, scheduler, dask_local, bar)
    elif scenario is not None and api.is_sweep_file(scenario):
        given = {"--vary": vary, "--set": overrides, "--outcome": outcome, "--design": design, "--samples": samples,
                 "--runs": runs, "--seed": seed}  # fmt: skip
        named = [name for name, value in given.items() if value is not None and value != []]
        if named:
            raise OutputError(f"{scenario} is a sweep file: set {', '.join(named)} in it, not here")
        with resumable(), bar:
            done = api.sweep(scenario, workers=workers, out=out or True, block=block, scheduler=scheduler,
                             dask_local=dask_local, progress=bar, command=["basing", *sys.argv[1:]])  # fmt: skip
    else:
        if scenario is None:
            raise OutputError("give a sweep file, or a scenario file with --vary PATH=lo:hi:n (or --resume FOLDER)")
        with resumable(), bar:
            done = api.sweep(scenario, vary, design or "grid", samples, runs or api.DEFAULT_SWEEP_RUNS,
                             1 if seed is None else seed, outcome, overrides, workers, out or True, block, scheduler,
                             dask_local, bar, ["basing", *sys.argv[1:]])  # fmt: skip
    if not quiet:
        render_sweep(done.points, done.summary, done.outcomes, done.sensitivity, out_console)
    out_console.print(f"results: {done.path}")


@app.command()
def replay(
    folder: Annotated[Path, typer.Argument(help="A complete results folder.", show_default=False)],
    run: Annotated[int, typer.Option("--run", min=0, help="The run to replay.", show_default=False)],
    html: Annotated[
        Optional[Path], typer.Option(help="Also write a plotly timeline of the run (a new HTML file).")
    ] = None,
) -> None:
    """Re-run one run exactly, check it against the stored row and tell what happened in it."""
    if html is not None:
        html = check_new_file(html, "--html")
    result = api.replay(folder, run, keep=True)
    name, kept = result.kept
    for line in result.narrative():
        out_console.print(line)
    out_console.print(f"drawn inputs of run {run} (as in inputs.parquet):")
    for line in result.input_lines():
        out_console.print(line)
    out_console.print(f"trace: {folder / name}" + (" (written by an earlier replay, unchanged)" if kept else ""))
    if html is not None:
        from sim.outputs.figures.timeline import timeline
        from sim.outputs.report import page

        spec = result.spec
        issues = {name: (issue.label, issue.unit) for name, issue in spec.issues.items()}
        parties = {name: spec.actors[name].label for name in spec.parties() or list(spec.actors)}
        figure = timeline(result.trace, result.events, parties, issues, f"{result.spec.name}: run {run}")
        write_new_text(html, page([figure], f"{result.spec.name}: run {run}"))
        out_console.print(f"timeline: {html}")


@app.command()
def compare(
    inputs: Annotated[
        list[Path], typer.Argument(help="Scenario YAML files (run now) or results folders; the first is the reference.")
    ],
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Runs of each scenario file run now.")] = 10_000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed shared by the scenario files run now.")] = 1,
    out: Annotated[
        Optional[Path],
        typer.Option(help="The HTML page to write (must not exist) [default: results/compare-<UTC time>.html]."),
    ] = None,
    png: Annotated[
        Optional[Path], typer.Option(help="Also write each figure as a PNG into this new or empty folder (kaleido).")
    ] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Worker processes [default: all cores].")] = None,
    fan_runs: Annotated[int, typer.Option(min=1, help="Runs traced for the position fan charts.")] = 200,
) -> None:
    """Compare outcome distributions across scenarios in one self-contained HTML page."""
    from sim.outputs.comparison import check_kaleido, write_pngs
    from sim.outputs.store import utc_stamp

    target = check_new_file(out or Path("results") / f"compare-{utc_stamp()}.html", "--out", make_folder=True)
    if png is not None:
        png = check_image_folder(png)
        check_kaleido()
    with err_console.status("comparing", spinner="dots") as status:

        def on_item(verb: str, name: str) -> None:
            status.update(Text(f"{verb} {visible(name)}"))

        done = api.comparison(*inputs, runs=runs, seed=seed, workers=workers, fan_runs=fan_runs, on_item=on_item)
        make_folders(target.parent)
        write_new_text(target, done.page())
    for note in done.notes:
        err_console.print(f"note: {note}")
    out_console.print(f"comparison: {target}")
    if png is not None:
        for image in write_pngs(done.figures, png):
            out_console.print(f"image: {image}")


@app.command()
def discover(
    folder: Annotated[Path, typer.Argument(help="A complete results folder of basing run.", show_default=False)],
    outcome: Annotated[
        str,
        typer.Option(
            help="An indicator, status=agreement (or in_force=, walkout_actor=), "
            "or a number column such as term_tartus with --threshold."
        ),
    ],
    threshold: Annotated[Optional[float], typer.Option(help="Cases: a number column above this value.")] = None,
    below: Annotated[bool, typer.Option("--below", help="Cases: below --threshold instead.")] = False,
    method: Annotated[str, typer.Option(help="prim or cart.")] = "prim",
    boxes: Annotated[int, typer.Option(min=1, max=10, help="Boxes found in turn (PRIM) or leaves shown (CART).")] = 1,
) -> None:
    """Which drawn inputs drive an outcome: boxes (PRIM or CART) and feature scores, written beside the runs."""
    with err_console.status("discovering", spinner="dots"):
        found = api.discover(folder, outcome, threshold, below, method, boxes)
    out_console.print(found.sentence())
    table = Table(title="Feature scores (top 10; 95% interval over bootstrap refits)", title_justify="left")
    for column in ("rank", "input", "score", "interval"):
        table.add_column(column, justify="right" if column in ("rank", "score") else "left")
    for row in found.scores.head(10).itertuples():
        table.add_row(str(row.rank), found.labels.get(row.input, row.input), f"{row.score:.3f}",
                      f"{row.low:.3f}-{row.high:.3f}")  # fmt: skip
    out_console.print(table)
    for path in found.files:
        out_console.print(f"discovery: {path}")


@app.command()
def explore(
    scenario: ScenarioPath,
    runs: Annotated[Optional[int], typer.Option("--runs", "-n", help="Runs per change (default 2,000).")] = None,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of every run.")] = 1,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8050,
    host: Annotated[str, typer.Option(help="Address to serve on; anything but loopback is warned about.")] = (
        "127.0.0.1"
    ),
) -> None:
    """Change an assumption in the browser and watch the distributions move (a local web page)."""

    def start() -> None:  # once the options are checked
        if host not in api.LOOPBACK:
            err_console.print(f"warning: serving on {host}, not only this machine: anyone who can reach port "
                              f"{port} can run the model and save variant files beside the scenario")  # fmt: skip
        err_console.print("explore: running the scenario as written")

    def ready(url: str) -> None:
        out_console.print(f"explore: {url} (Ctrl-C stops)")

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the page is closed: a clean stop, at any moment
        api.explore(scenario, runs, seed, host, port, ready, start)
    out_console.print("explore: stopped")


@app.command()
def verify(
    folder: Annotated[Path, typer.Argument(help="A results folder (of basing run or sweep).", show_default=False)],
) -> None:
    """Check a results folder: its manifest, every file's checksum, size and row count, every run id, that
    it holds no symbolic link, and that its tables and summary are what its scenario makes."""
    found = api.verify(folder)
    if found.problems:
        raise OutputError(f"{folder}: fails verification:\n" + "\n".join(f"  {p}" for p in found.problems))
    record = found.manifest
    files = list(record.files or {})
    points = getattr(record, "points", None)  # a sweep's runs are per point
    each = f"{record.runs:,} runs"
    what = f"a run of {each}" if points is None else f"a sweep of {points:,} points of {each} each"
    out_console.print(f"{folder}: verified ({what} written by basing {record.made_with}; {len(files)} files: "
                      f"{', '.join(files)})")  # fmt: skip


@app.command()
def validate(scenario: ScenarioPath, overrides: SetOption = None) -> None:
    """Check a scenario: schema, names, ranges, and that every quote is in the seed article."""
    spec = api.load(scenario, overrides or []).spec
    out_console.print(
        f"{scenario}: valid ({len(spec.issues)} issues, {len(spec.actors)} actors, {len(spec.events)} events, "
        f"{len(spec.outcomes)} outcomes)"
    )


@app.command()
def reference(
    case: Annotated[Optional[list[str]], typer.Option("--case", help="Run only these cases (repeatable).")] = None,
    failures_only: Annotated[bool, typer.Option("--failures", help="List only the checks that fail.")] = False,
) -> None:
    """Reproduce the published numbers of every reference model; exit code 1 if any check fails."""
    checks = api.reproduce(case)
    table = Table(title="Reference cases", title_justify="left")
    for column in ("case", "quantity", "expected", "got", "result"):
        table.add_column(column, justify="right" if column in ("expected", "got") else "left")
    for check in checks:
        if failures_only and check.passed:
            continue
        verdict = Text("pass", "green") if check.passed else Text("FAIL", "bold red")
        table.add_row(check.case, check.quantity, f"{check.expected:.10g}", f"{check.got:.10g}", verdict)
    out_console.print(table)
    failed = sum(not c.passed for c in checks)
    out_console.print(f"{len(checks) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@app.command()
def backtest(
    cases: Annotated[
        Optional[list[Path]], typer.Argument(help="Case scenario files [default: every scenarios/cases/*.yaml].")
    ] = None,
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, max=MAX_COMPARE_RUNS, help="Runs of each case.")] = 10_000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of every case's runs and the bootstrap.")] = 1,
    out: Annotated[Optional[Path], typer.Option(help="New folder (default results/backtest-<UTC time>).")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Worker processes [default: all cores].")] = None,
) -> None:
    """Score the forecasts of historical cases against their observed outcomes, beside three baselines."""
    with err_console.status("backtest: loading the cases", spinner="dots") as status:
        done = []

        def on_case(name: str) -> None:
            done.append(name)
            status.update(Text(f"backtest: {len(done)} cases run (last: {visible(name)})"))

        folder, result = api.backtest(cases or [], runs, seed, workers, out or True, on_case, ["basing", *sys.argv[1:]])
    table = Table(title="Mean score over the cases, 95% interval (lower is better)", title_justify="left")
    for column in ("forecaster", *api.BACKTEST_SCORES):
        table.add_column(column, justify="left" if column == "forecaster" else "right")
    for forecaster, part in result.aggregate.groupby("forecaster", sort=False):
        cells = ["-" if r.mean != r.mean else f"{r.mean:.3f} ({r.low:.3f}-{r.high:.3f})" for r in part.itertuples()]
        table.add_row(forecaster, *cells)
    out_console.print(table)
    out_console.print(f"backtest: {folder} (page: {folder / 'backtest.html'})")


@app.command("import")
def import_(
    kind: Annotated[
        str, typer.Argument(help="Input format: ktab (SMP CSV) or bdm (actor, capability, position, salience).")
    ],
    source: Annotated[Path, typer.Argument(help="The file to import.", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="Scenario YAML to write (must not exist).")],
) -> None:
    """Turn a KTAB or BDM input table into an influence-only scenario (smp or eum)."""
    out_console.print(f"wrote {api.import_table(kind, source, output)}")


@app.command()
def schema() -> None:
    """Print the scenario JSON Schema (for editor completion and checks)."""
    print(json.dumps(api.scenario_schema(), indent=2))


def _not_utf8(arguments: list[str]) -> str | None:
    """The first command-line argument that is not UTF-8 text (a name or path in another encoding)."""
    for argument in arguments:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            return argument
    return None


def _error(message: str, code: int) -> None:
    err_console.print(Text.assemble(("error: ", "bold red"), visible(message)), soft_wrap=True)
    sys.exit(code)


def _is_usage_error(exc: Exception) -> bool:
    """A click (or typer) error about the command line: an unknown option, a bad value, no arguments.
    Known by its interface, as typer may bring click's classes itself or take them from click."""
    return callable(getattr(exc, "format_message", None)) and isinstance(getattr(exc, "exit_code", None), int)


def _usage(exc: Exception) -> None:
    """A usage error as one message, shown as text like any other (exit code 2); no arguments at all
    show the help."""
    context = getattr(exc, "ctx", None)
    message = exc.format_message()
    if not message and context is not None:
        err_console.print(visible(context.get_help()), soft_wrap=True)
        sys.exit(2)
    hint = f"\n{context.get_usage()}\nTry '{context.command_path} --help' for help." if context is not None else ""
    _error(message + hint, 2)


def main() -> None:
    """Entry point: bad input of any kind, usage errors included, exits 2 with one message; nothing the
    user does shows a traceback. A library's warning is one line on standard error. Text the terminal's
    encoding cannot show is written as escapes (\\xfc), never a crash."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):  # not a text stream, or closed
            stream.reconfigure(errors="backslashreplace")
    install_warning_lines()
    if too_narrow():
        os.environ["COLUMNS"] = "80"  # for typer's help, which would otherwise print nothing
    bad = _not_utf8(sys.argv[1:])
    if bad is not None:
        _error(f"the argument {bad!r} is not UTF-8 text; basing takes names and paths in UTF-8", 2)
    try:
        code = app(standalone_mode=False)  # click's own errors come back here, to be shown as text
    except InputError as exc:
        _error(str(exc), 2)
    except WorkerError as exc:
        _error(str(exc), 1)
    except (KeyboardInterrupt, typer.Abort):
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if _is_usage_error(exc):
            _usage(exc)
        if os.environ.get("BASING_DEBUG"):
            raise
        err_console.print(f"internal error: {exc.__class__.__name__}: {exc} (set BASING_DEBUG=1 for details)")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
