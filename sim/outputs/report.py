"""Self-contained HTML pages: plotly.js embedded once (no network needed), tables, the scenario with the
quotes its values were drawn from. Every user-supplied string is escaped; page bytes depend only on
their inputs (figure ids are numbered, no clock), so the same run gives the same report.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go

from sim.outputs.escape import esc
from sim.outputs.wording import percent  # the terminal's wording: more decimals near 0 and 1

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
blockquote { margin: 0.2em 0; color: #444; font-style: italic; }
.note { background: #fff6dd; border-left: 4px solid #e0b000; padding: 0.4em 0.8em; margin: 0.6em 0; }
.figure { margin: 1em 0 2em; }
code, pre { font-size: 0.9em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
"""


def table(header: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    """An HTML table; cells are escaped text; columns in ``numeric`` are right-aligned."""
    numeric = numeric or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td class='num'>{esc(c)}</td>" if i in numeric else f"<td>{esc(c)}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figures_html(figures: list[go.Figure]) -> str:
    """The figures as divs, plotly.js embedded in the first; numbered ids keep the bytes stable."""
    return "".join(
        "<div class='figure'>"
        + f.to_html(full_html=False, include_plotlyjs=(k == 0), div_id=f"figure-{k + 1}", config={"responsive": True})
        + "</div>"
        for k, f in enumerate(figures)
    )


def document(title: str, body: str) -> str:
    """A whole page around ``body`` (already HTML)."""
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>{body}</body></html>\n")  # fmt: skip


def page(figures: list[go.Figure], title: str) -> str:
    """One page with the figures only."""
    return document(title, figures_html(figures))


def number(value: Any) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def summary_tables(summary: dict[str, Any]) -> str:
    """The run summary (as ``summary.json`` holds it) as HTML tables."""
    parts = []
    status = [[name.replace("_", " "), *percent(e), f"{e['count']:,}"] for name, e in summary["status"].items()]
    parts.append("<h3>How the runs ended</h3>" + table(["outcome", "share", "95% interval", "runs"], status, {1, 2, 3}))
    if summary.get("kind") == "influence":
        rows = [[issue, e["unit"], number(e["mean"]["median"]), f"{number(e['mean']['p10'])} - "
                 f"{number(e['mean']['p90'])}"] for issue, e in summary["forecast"].items()]  # fmt: skip
        parts.append("<h3>Forecast (weighted mean position at the end)</h3>"
                     + table(["issue", "unit", "median", "10th-90th pct"], rows, {2, 3}))  # fmt: skip
        return "".join(parts)
    rows = [[party, *percent(e)] for party, e in summary["walkout_by"].items()]
    parts.append("<h3>Walkouts</h3>" + table(["party", "share of runs", "95% interval"], rows, {1, 2}))
    if "in_force" in summary:
        rows = [[name.replace("_", " "), *percent(e)] for name, e in summary["in_force"].items()]
        rows.append(["a package rejected at ratification (at least once)", *percent(summary["ratification_rejected"])])
        parts.append("<h3>In force when the window closes</h3>"
                     + table(["", "share of runs", "95% interval"], rows, {1, 2}))  # fmt: skip
        rows = [[issue, e["unit"], number(e["median"]), f"{number(e['p10'])} - {number(e['p90'])}"]
                for issue, e in summary["terms_in_force"].items()]  # fmt: skip
        parts.append("<h3>Terms in force at the end (agreed, or the status quo's)</h3>"
                     + table(["issue", "unit", "median", "10th-90th pct"], rows, {2, 3}))  # fmt: skip
    rows = [[issue, e["unit"], number(e["median"]), f"{number(e['p10'])} - {number(e['p90'])}"]
            for issue, e in summary["terms"].items()]  # fmt: skip
    parts.append("<h3>Agreed terms (runs that agreed)</h3>"
                 + table(["issue", "unit", "median", "10th-90th pct"], rows, {2, 3}))  # fmt: skip
    days, dates = summary["days_to_agreement"], summary["agreement_date"]
    timing = [
        ["days to agreement", number(days["median"]), f"{number(days['p10'])} - {number(days['p90'])}"],
        ["date of agreement", dates["median"] or "-", f"{dates['p10'] or '-'} - {dates['p90'] or '-'}"],
    ]
    parts.append("<h3>Timing</h3>" + table(["", "median", "10th-90th pct"], timing, {1, 2}))
    rows = [[e["label"], *percent(e)] for e in summary["indicators"].values()]
    parts.append("<h3>Indicators</h3>" + table(["indicator", "probability", "95% interval"], rows, {1, 2}))
    return "".join(parts)


def _value_text(value: Any) -> str:
    if isinstance(value, dict) and "dist" in value:
        return f"{value['dist']}(" + ", ".join(f"{k}={v}" for k, v in value.items() if k != "dist") + ")"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def provenance_rows(scenario: dict[str, Any]) -> list[tuple[str, str, list[str], list[str]]]:
    """(dotted path, its values as text, quotes, cites) for every entry of a resolved scenario that holds
    values, in file order; an entry with no ``source`` or ``cite`` has empty lists."""
    rows: list[tuple[str, str, list[str], list[str]]] = []

    def as_list(value: Any) -> list[str]:
        return [] if value is None else [value] if isinstance(value, str) else [str(v) for v in value]

    def is_value(key: str, value: Any) -> bool:  # a number, text, list, distribution or labelled points
        return not isinstance(value, dict) or "dist" in value or key == "points"

    def walk(path: str, node: dict[str, Any]) -> None:
        values = {k: v for k, v in node.items() if k not in ("source", "cite") and is_value(k, v)}
        if values or "source" in node or "cite" in node:
            shown = "; ".join(f"{k}: {_value_text(v)}" for k, v in values.items())
            rows.append((path or "scenario", shown, as_list(node.get("source")), as_list(node.get("cite"))))
        for key, value in node.items():
            if not is_value(key, value):
                walk(f"{path}.{key}" if path else str(key), value)

    skip = ("name", "question", "description", "seed", "references")
    walk("", {k: v for k, v in scenario.items() if k not in skip})
    return rows


def scenario_section(scenario: dict[str, Any]) -> str:
    """The scenario as analysts wrote it: each entry's values beside the quote it was drawn from."""
    header = (f"<p><b>Question:</b> {esc(scenario.get('question', ''))}</p>"
              f"<p>{esc(scenario.get('description', ''))}</p>"
              f"<p>Seed text: <code>{esc(scenario.get('seed', ''))}</code></p>")  # fmt: skip
    body = []
    for path, values, quotes, cites in provenance_rows(scenario):
        quoted = "".join(f"<blockquote>&ldquo;{esc(q)}&rdquo;</blockquote>" for q in quotes) or "-"
        cited = "<br>".join(f"<code>{esc(c)}</code>" for c in cites) or "-"
        body.append(
            f"<tr><td><code>{esc(path)}</code></td><td>{esc(values)}</td><td>{quoted}</td><td>{cited}</td></tr>"
        )
    rows = "".join(body)
    return (header + "<table><thead><tr><th>entry</th><th>values</th><th>quote from the seed text</th>"
            f"<th>source</th></tr></thead><tbody>{rows}</tbody></table>")  # fmt: skip


def notes_html(notes: list[str]) -> str:
    return "".join(f"<div class='note'>{esc(n)}</div>" for n in notes)
