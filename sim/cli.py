"""The ``basing`` command line: parse, call, print, exit codes. Nothing else lives here.

Exit codes: 0 success, 1 internal error (a bug: set BASING_DEBUG=1 for the traceback),
2 bad input (scenario, options or output folder), 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from sim.experiments.ensemble import DEFAULT_CHUNK, run_ensemble
from sim.outputs.console import render
from sim.outputs.store import (
    OutputError,
    check_new_folder,
    create_results_dir,
    manifest,
    write_json,
    write_table,
    write_text,
)
from sim.outputs.summary import summarise
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario

app = typer.Typer(
    name="basing",
    help="Simulate international basing negotiations as an agent-based model.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)

ScenarioPath = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
SetOption = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Override a scenario value: dotted.path=value (YAML syntax). Repeatable."),
]


@app.command()
def run(
    scenario: ScenarioPath,
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Number of Monte Carlo runs.")] = 10_000,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Seed; run k depends only on (seed, k).")] = 1,
    out: Annotated[Optional[Path], typer.Option(help="New results folder (default results/<name>-<UTC time>).")] = None,
    overrides: SetOption = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="Also write trace.parquet (large: rows = runs x rounds x actors x issues).")
    ] = False,
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Runs simulated together; bounds memory, not results.")
    ] = DEFAULT_CHUNK,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or tables.")] = False,
) -> None:
    """Run a scenario many times and report outcome distributions."""
    loaded = load_scenario(scenario, overrides or [])
    check_new_folder(out)  # fail before simulating; the folder itself is made only once results exist
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet,
        transient=True,
    ) as progress:
        task = progress.add_task(loaded.spec.name, total=runs)
        ensemble = run_ensemble(
            loaded.spec, runs, seed, chunk_size, trace, on_progress=lambda k: progress.advance(task, k)
        )
    summary = summarise(loaded.spec, ensemble.runs)
    folder = create_results_dir(out, loaded.spec.name)
    write_table(ensemble.runs, folder / "runs.parquet")
    if ensemble.trace is not None:
        write_table(ensemble.trace, folder / "trace.parquet")
    write_json(summary, folder / "summary.json")
    write_json(
        manifest(
            scenario=loaded.resolved,
            files=loaded.files,
            overrides=overrides or [],
            seed=seed,
            runs=runs,
            chunk_size=chunk_size,
            command=["basing", *sys.argv[1:]],
        ),
        folder / "manifest.json",
    )
    if not quiet:
        render(summary, loaded.spec.name, loaded.spec.question, out_console)
    out_console.print(f"results: {folder}")


@app.command()
def validate(scenario: ScenarioPath, overrides: SetOption = None) -> None:
    """Check a scenario: schema, names, ranges, and that every quote is in the seed article."""
    loaded = load_scenario(scenario, overrides or [])
    spec = loaded.spec
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
    from sim.reference.cases import CASES, run_all

    unknown = sorted(set(case or []) - set(CASES))
    if unknown:
        raise OutputError(f"--case: unknown case {', '.join(unknown)} (cases: {', '.join(CASES)})")
    checks = run_all(case)
    table = Table(title="Reference cases", title_justify="left")
    for column in ("case", "quantity", "expected", "got", "result"):
        table.add_column(column, justify="right" if column in ("expected", "got") else "left")
    for check in checks:
        if failures_only and check.passed:
            continue
        verdict = "[green]pass[/]" if check.passed else "[bold red]FAIL[/]"
        table.add_row(check.case, check.quantity, f"{check.expected:.10g}", f"{check.got:.10g}", verdict)
    out_console.print(table)
    failed = sum(not c.passed for c in checks)
    out_console.print(f"{len(checks) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@app.command("import")
def import_(
    kind: Annotated[
        str, typer.Argument(help="Input format: ktab (SMP CSV) or bdm (actor, capability, position, salience).")
    ],
    source: Annotated[Path, typer.Argument(help="The file to import.", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="Scenario YAML to write (must not exist).")],
) -> None:
    """Turn a KTAB or BDM input table into an influence-only scenario (smp or eum)."""
    from sim.scenario.imports import bdm_scenario, ktab_scenario, read_bdm, read_ktab

    if kind not in ("ktab", "bdm"):
        raise OutputError(f"unknown format '{kind}' (ktab or bdm)")
    if output.exists():
        raise OutputError(f"{output}: already exists; choose another --output")
    data = ktab_scenario(read_ktab(source), source) if kind == "ktab" else bdm_scenario(read_bdm(source), source)
    data["seed"] = os.path.relpath(source.resolve(), output.resolve().parent)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    write_text(output, f"# Imported from {source.name} by `basing import {kind}`.\n{text}")
    load_scenario(output)  # the scenario written must validate, or this is a bug
    out_console.print(f"wrote {output}")


@app.command()
def schema() -> None:
    """Print the scenario JSON Schema (for editor completion and checks)."""
    print(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))


def main() -> None:
    """Entry point: usage errors are typer's (exit 2); scenario and output errors exit 2 with one
    message; nothing the user does shows a traceback."""
    try:
        app()
    except (ScenarioError, OutputError) as exc:
        err_console.print(Text.assemble(("error: ", "bold red"), str(exc)), highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("BASING_DEBUG"):
            raise
        err_console.print(f"internal error: {exc.__class__.__name__}: {exc} (set BASING_DEBUG=1 for details)")
        sys.exit(1)
