"""The terminal: a console that shows every string as the text it is, and the run report on it.

Scenario strings (questions, labels, units), paths and messages reach the terminal, and none of them may
act on it: rich markup (``[/]``, ``[bold]``), emoji codes (``:x:``) and control characters (an escape
sequence, a bell, a bidirectional override) are shown as text. ``Terminal`` does this for everything it
prints, whichever way a string reaches it (plain, in a table, in a ``Text``), by the rule of
``sim.outputs.escape``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from sim.outputs.escape import UNSAFE, visible
from sim.outputs.wording import percent

if TYPE_CHECKING:
    import pandas as pd

#: Fewer terminal columns than this (COLUMNS=0, say) are taken to be a mistake: 80 are used instead.
MIN_WIDTH = 20


class Terminal(Console):
    """A rich console for untrusted text: no markup, emoji codes or highlighting in any string, and no
    character that acts on the terminal in anything it renders."""

    def __init__(self, **options: Any):
        if "width" not in options and too_narrow():
            options["width"] = 80  # COLUMNS=0 would print nothing at all, a message included
        super().__init__(markup=False, emoji=False, highlight=False, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        """Every string as plain text (the markup, emoji and highlight options are ignored)."""
        keep = {k: options[k] for k in ("style", "justify", "overflow") if options.get(k) is not None}
        return Text(visible(text), **keep)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        """Render as rich does, then make visible any unsafe character that came in another way (a
        ``Text`` built from an unescaped string, say)."""
        for segment in super().render(renderable, options):
            if segment.control is None and UNSAFE.search(segment.text):
                segment = Segment(visible(segment.text), segment.style)
            yield segment


def too_narrow() -> bool:
    """Whether COLUMNS asks for fewer than MIN_WIDTH columns (and would hide what is printed)."""
    columns = os.environ.get("COLUMNS", "")
    return columns.isascii() and columns.isdigit() and int(columns) < MIN_WIDTH


def _warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int, file=None,
                  line: str | None = None) -> None:  # fmt: skip
    """A library's warning as one line on standard error (no source line, nothing that acts on the
    terminal): what it says and where it came from."""
    where = filename.rsplit("/site-packages/", 1)[-1]
    text = f"warning: {visible(str(message))} ({category.__name__} in {visible(where)}:{lineno})\n"
    with contextlib.suppress(OSError, ValueError):  # a closed or broken stream: a warning is not worth a crash
        (file or sys.stderr).write(text)


def install_warning_lines() -> None:
    """Show every warning of this process as one line (``_warning_line``), each distinct one once."""
    warnings.showwarning = _warning_line


def _num(value: float) -> str:
    return "-" if value != value else f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def render_influence(summary: dict[str, Any], console: Console) -> None:
    """Print how influence-only runs stopped, the forecast per issue and the winning probabilities."""
    n = summary["runs"]
    status = Table(title=f"Outcomes of {n:,} runs", title_justify="left")
    for column in ("outcome", "share", "95% interval", "runs"):
        status.add_column(column, justify="left" if column == "outcome" else "right")
    for name, entry in summary["status"].items():
        status.add_row(name, *percent(entry), f"{entry['count']:,}")
    rounds = summary["rounds"]
    status.add_row(
        "rounds (median, 10th-90th pct)", _num(rounds["median"]), f"{_num(rounds['p10'])} - {_num(rounds['p90'])}", ""
    )
    console.print(status)
    forecast = Table(title="Forecast (c.s weighted positions at the end)", title_justify="left")
    for column in ("issue", "mean: median", "10th-90th pct", "median: median", "10th-90th pct "):
        forecast.add_column(column, justify="left" if column == "issue" else "right")
    for issue, entry in summary["forecast"].items():
        mean, median = entry["mean"], entry["median"]
        forecast.add_row(issue, _num(mean["median"]), f"{_num(mean['p10'])} - {_num(mean['p90'])}",
                         _num(median["median"]), f"{_num(median['p10'])} - {_num(median['p90'])}")  # fmt: skip
    console.print(forecast)
    if "win_probability" in summary:
        win = Table(title="Winning probability of each actor's final position (KTAB)", title_justify="left")
        for column in ("actor", "median", "10th-90th pct"):
            win.add_column(column, justify="left" if column == "actor" else "right")
        for actor, entry in summary["win_probability"].items():
            win.add_row(actor, f"{entry['median']:.4f}", f"{entry['p10']:.4f} - {entry['p90']:.4f}")
        console.print(win)


def render(summary: dict[str, Any], title: str, question: str, console: Console) -> None:
    """Print the question, then the outcome shares, walkouts, agreed terms, timing and indicators."""
    n = summary["runs"]
    console.print(Text.assemble((visible(title), "bold"), ": ", visible(question)))
    if summary.get("kind") == "influence":
        render_influence(summary, console)
        return
    status = Table(title=f"Outcomes of {n:,} runs", title_justify="left")
    for column in ("outcome", "share", "95% interval", "runs"):
        status.add_column(column, justify="left" if column == "outcome" else "right")
    for name, entry in summary["status"].items():
        status.add_row(name, *percent(entry), f"{entry['count']:,}")
    for actor, entry in summary["walkout_by"].items():
        status.add_row(f"  walkout by {actor}", *percent(entry), f"{entry['count']:,}")
    if summary.get("ratification_rejected", {}).get("count"):
        entry = summary["ratification_rejected"]
        status.add_row("  a package rejected at ratification", *percent(entry), f"{entry['count']:,}")
    for name, entry in summary.get("in_force", {}).items():
        status.add_row(f"in force at the end: {name.replace('_', ' ')}", *percent(entry), f"{entry['count']:,}")
    console.print(status)

    in_force = summary.get("terms_in_force", {})
    terms = Table(title="Terms of agreements, and terms in force at the end (agreed or the status quo's)",
                  title_justify="left")  # fmt: skip
    for column in ("issue", "unit", "agreed", "10-90%", "in force", "10-90% "):
        terms.add_column(column, justify="left" if column in ("issue", "unit") else "right")
    for issue, entry in summary["terms"].items():
        force = in_force.get(issue, {"median": float("nan"), "p10": float("nan"), "p90": float("nan")})
        terms.add_row(issue, entry["unit"], _num(entry["median"]), f"{_num(entry['p10'])} - {_num(entry['p90'])}",
                      _num(force["median"]), f"{_num(force['p10'])} - {_num(force['p90'])}")  # fmt: skip
    timing = summary["rounds_to_agreement"]
    days = summary["days_to_agreement"]
    terms.add_row(
        "rounds to agreement", "rounds", _num(timing["median"]), f"{_num(timing['p10'])} - {_num(timing['p90'])}",
        "", "",
    )  # fmt: skip
    terms.add_row("days to agreement", "days", _num(days["median"]), f"{_num(days['p10'])} - {_num(days['p90'])}",
                  "", "")  # fmt: skip
    console.print(terms)
    dates = summary["agreement_date"]
    if dates["median"] is not None:
        console.print(
            f"Agreement dated {dates['median']} at the median ({dates['p10']} to {dates['p90']}, 10th-90th pct)"
        )

    if summary["indicators"]:
        indicators = Table(title="Indicators", title_justify="left")
        for column in ("indicator", "probability", "95% interval"):
            indicators.add_column(column, justify="left" if column == "indicator" else "right")
        for entry in summary["indicators"].values():
            indicators.add_row(entry["label"], *percent(entry))
        console.print(indicators)


def render_sweep(points: pd.DataFrame, summary: pd.DataFrame, outcomes: list[str], sensitivity: pd.DataFrame | None,
                 console: Console) -> None:  # fmt: skip
    """A sweep's first points with their outcomes, and the sensitivity indices if there are any."""
    parameters = [c for c in points.columns if c != "point"]
    table = Table(title=f"{len(points)} points (first 20)", title_justify="left")
    for column in ["point", *parameters, *outcomes]:
        table.add_column(column, justify="right")
    for index, point in points.head(20).iterrows():
        values = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in point[parameters]]
        table.add_row(str(index), *values, *(f"{summary.loc[index, o]:.4g}" for o in outcomes))
    console.print(table)
    if sensitivity is not None:
        ranked = Table(title="Sensitivity (95% interval half-width)", title_justify="left")
        for column in ("outcome", "parameter", "index", "value", "conf"):
            ranked.add_column(column, justify="right" if column in ("value", "conf") else "left")
        for row in sensitivity.itertuples():
            ranked.add_row(row.outcome, row.parameter, row.index, f"{row.value:.4f}", f"{row.conf:.4f}")
        console.print(ranked)
        notes = sensitivity.get("note", [])
        for note in dict.fromkeys(n for n in notes if isinstance(n, str)):
            console.print(f"note: {note}")
