"""The page of ``basing explore``: controls on the left, the changed scenario beside the one as written
on the right. A Dash app (plotly's own framework), served locally with its scripts, so it works offline.

The page only shows and asks: it is given an ``Explorable`` (``sim.experiments.explore.Explorer``) that
validates and runs a change, and it draws with the figure functions of the comparison page, so there
is one plotting layer. Every text from a scenario or from the browser reaches the page as a component's
text, never as markup.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import plotly.graph_objects as go

from sim.errors import OutputError, SupersededError
from sim.outputs.comparison import figures
from sim.outputs.discovery_page import Driver
from sim.outputs.figures import tables
from sim.outputs.results import Results
from sim.outputs.summary import wilson
from sim.outputs.wording import percent

CONTROL = "control"
SHOW_PROBLEMS = """function (problems) {
    document.querySelectorAll('[data-problem]').forEach(function (node) {
        node.textContent = (problems || {})[node.getAttribute('data-problem')] || '';
    });
    return Object.keys(problems || {}).length;
}"""
# Of sim.outputs.comparison.PARTS: the indicators' differences are the table above the figures.
FIGURES = ("status", "terms", "survival", "walkouts")
INFLUENCE_FIGURES = ("status", "survival", "terms", "utilities")  # how they stopped, convergence, forecasts, wins
BOOTSTRAP_SEED = 20250215  # the differences' bootstrap: fixed, so the same change draws the same page
STYLE = {"font-family": "system-ui, sans-serif", "margin": "0", "color": "#222"}


class Explorable(Protocol):
    """What the page needs from the model side."""

    controls: Sequence[Any]  # each with path, group, label, value, help, low, high
    base: Results
    runs: int
    seed: int

    def evaluate(self, texts: dict[str, str]) -> Any: ...  # .problems, .general, .overrides, .results
    def drivers(self) -> list[Driver]: ...
    def save_variant(self, texts: dict[str, str], name: str, question: str) -> Any: ...


def changed_texts(explorer: Explorable, values: Any, ids: Any) -> dict[str, str]:
    """The controls whose text differs from the value as written: path -> text. What the browser sent is
    checked first: a list of text (or numbers) for the controls the page has, else OutputError."""
    written = {c.path: _text(c.value) for c in explorer.controls}
    ok = isinstance(values, list) and isinstance(ids, list) and len(values) == len(ids)
    ok = ok and all(isinstance(i, dict) and isinstance(i.get("path"), str) and i["path"] in written for i in ids)
    ok = ok and all(v is None or (isinstance(v, (str, int, float)) and not isinstance(v, bool)) for v in values)
    if not ok:
        raise OutputError("the page sent values for controls this scenario does not have: reload the page")
    texts = {i["path"]: "" if v is None else str(v) for i, v in zip(ids, values, strict=True)}
    return {path: text for path, text in texts.items() if text.strip() != written[path]}


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def indicator_rows(base: Results, changed: Results) -> list[list[str]]:
    """Each indicator: its share as written and changed, with 95% intervals, and the difference with
    its paired bootstrap interval (both use the same runs)."""
    labels = {name: o.label for name, o in base.spec.outcomes.items() if name in changed.runs}
    if not labels:
        return []
    forest = tables.indicator_forest({"as written": base.runs, "changed": changed.runs}, labels,
                                     np.random.default_rng(BOOTSTRAP_SEED), paired={"changed": True})  # fmt: skip
    rows = []
    for name, label in labels.items():
        first = forest[(forest["indicator"] == name) & (forest["scenario"] == "as written")].iloc[0]
        second = forest[(forest["indicator"] == name) & (forest["scenario"] == "changed")].iloc[0]
        a, a_int = percent({"share": first.share, "low": first.low, "high": first.high})
        b, b_int = percent({"share": second.share, "low": second.low, "high": second.high})
        if second["diff"] == 0 and np.isnan(second.diff_low):
            diff = "0"
        else:
            diff = f"{100 * second['diff']:+.1f} pts ({100 * second.diff_low:+.1f} to {100 * second.diff_high:+.1f})"
        rows.append([label, f"{a} ({a_int})", f"{b} ({b_int})", diff])
    return rows


def outcome_line(results: Results) -> str:
    """The share of runs with an agreement in force (converged, for an influence-only scenario), with its
    interval, in words."""
    status = "converged" if results.influence_only else "agreement"
    count = int((results.runs["status"].astype(str) == status).sum())
    share, interval = percent(dict(zip(("share", "low", "high"), wilson(count, len(results.runs)), strict=True)))
    return f"{status} in {share} of runs ({interval})"


def parts_of(explorer: Explorable) -> tuple[str, ...]:
    """The figures the page shows, one per slot (see sim.outputs.comparison.PARTS)."""
    return INFLUENCE_FIGURES if explorer.base.influence_only else FIGURES


def page_figures(explorer: Explorable, changed: Results | None) -> list[go.Figure]:
    """The comparison page's figures (one per part of FIGURES) of the scenario as written and, if
    changed, beside it; a part with nothing to show is an empty figure that says why."""
    base = explorer.base
    base.label = "as written"
    items = [base]
    if changed is not None and changed is not base:
        changed.label = "changed"
        items.append(changed)
    out = []
    for part in parts_of(explorer):
        notes: list[str] = []
        drawn = figures(items, notes, parts=(part,))
        out.append(drawn[0] if drawn else _empty("; ".join(notes) or f"nothing to show for {part}"))
    return out


def _empty(text: str) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(title=text, template="plotly_white", height=200, xaxis={"visible": False},
                         yaxis={"visible": False})  # fmt: skip
    return figure


def guarded(refuse: Callable[[str], Any]) -> Callable:
    """A callback that never fails with a traceback: a refusal (OutputError) or anything unexpected
    becomes ``refuse(message)`` (the latter also one line on stderr); Dash's PreventUpdate passes."""
    from dash.exceptions import PreventUpdate

    def wrap(callback: Callable) -> Callable:
        @functools.wraps(callback)
        def run(*args: Any) -> Any:
            try:
                return callback(*args)
            except (PreventUpdate, SupersededError):
                raise PreventUpdate from None
            except OutputError as exc:
                return refuse(str(exc))
            except Exception as exc:  # a bug: said in one line, and the page goes on
                message = f"internal error: {exc.__class__.__name__}: {str(exc)[:300]}"
                print(f"basing explore: {message}", file=sys.stderr)
                return refuse(message)

        return run

    return wrap


def make_app(explorer: Explorable, title: str, port: int | None = None) -> Any:
    """The Dash app: its layout and callbacks. With ``port`` (served on loopback), a request whose Host
    is not this machine's address and port is refused (a page elsewhere cannot reach it through DNS
    rebinding)."""
    from dash import ALL, Dash, Input, Output, State, dcc, html, no_update

    app = Dash(__name__, title=title, serve_locally=True, update_title=None)
    app.layout = layout(explorer, title, html, dcc)
    control_ids = {"type": CONTROL, "path": ALL}
    slots = parts_of(explorer)
    if port is not None:
        allowed = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}

        @app.server.before_request
        def only_this_machine():
            from flask import abort, request

            if request.host not in allowed:
                abort(403)

    def said(message: str):
        return (*[no_update] * len(slots), no_update, message, no_update, no_update)

    @app.callback(
        *[Output(f"figure-{k}", "figure") for k in range(len(slots))], Output("indicators", "children"),
        Output("status", "children"), Output("general", "children"),
        Output("problems", "data"), Input(control_ids, "value"), State(control_ids, "id"),
    )  # fmt: skip
    @guarded(said)
    def redraw(values, ids):
        texts = changed_texts(explorer, values, ids)
        found = explorer.evaluate(texts)
        problems = dict(found.problems)
        general = [html.P(line, className="problem") for line in found.general]
        if found.problems or found.general:
            count = len(found.problems) + len(found.general)
            status = f"not run: {count} problem(s) with the change (see the controls)"
            return (*[no_update] * len(slots), no_update, status, general, problems)
        graphs = page_figures(explorer, found.results if texts else None)
        rows = indicator_rows(explorer.base, found.results)
        table = _table(html, ["indicator", "as written", "changed", "difference (95% interval)"], rows)
        if texts:
            status = (
                f"{len(found.overrides)} change(s): "
                + "; ".join(found.overrides)[:400]
                + f" | as written: {outcome_line(explorer.base)}; changed: {outcome_line(found.results)}"
            )
        else:
            status = f"as written: {outcome_line(explorer.base)} (change a value to compare)"
        return (*graphs, table, status, general, problems)

    # Each problem is shown beside its control by the page itself: hundreds of pattern-matched outputs
    # would cost Dash's renderer most of a second on every change.
    app.clientside_callback(SHOW_PROBLEMS, Output("problems-shown", "data"), Input("problems", "data"))

    @app.callback(Output("drivers", "children"), Input("find-drivers", "n_clicks"), prevent_initial_call=True)
    @guarded(lambda message: html.P(message, className="problem"))
    def find_drivers(_):
        found = explorer.drivers()
        if not found:
            return html.P("no drivers to show (too few runs, or the scenario draws nothing)")
        return _table(html, ["indicator", "where it is most likely", "top inputs"],
                      [[d.outcome, d.sentence, "; ".join(f"{t[0]} {t[1]:.2f}" for t in d.top) or "-"]
                       for d in found])  # fmt: skip

    @app.callback(Output("saved", "children"), Input("save", "n_clicks"), State(control_ids, "value"),
                  State(control_ids, "id"), State("variant-name", "value"), State("variant-question", "value"),
                  prevent_initial_call=True)  # fmt: skip
    @guarded(lambda message: html.Span(f"not saved: {message}", className="problem"))
    def save(_, values, ids, name, question):
        path = explorer.save_variant(changed_texts(explorer, values, ids), name or "", question or "")
        return html.Span(f"saved {path}; run it with: basing run {path}", id="saved-path")

    @app.callback(Output(control_ids, "value"), Input("reset", "n_clicks"), State(control_ids, "id"),
                  prevent_initial_call=True)  # fmt: skip
    @guarded(lambda message: no_update)
    def reset(_, ids):
        written = {c.path: _text(c.value) for c in explorer.controls}
        return [written[i["path"]] for i in ids]

    return app


def _table(html, header: list[str], rows: list[list[str]]):
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in header])),
                       html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])])  # fmt: skip


def layout(explorer: Explorable, title: str, html, dcc):
    """Controls grouped under their actor, issue, event or section; the results beside them."""
    groups: dict[str, list] = {}
    for c in explorer.controls:
        groups.setdefault(c.group, []).append(control_row(c, html, dcc))
    sidebar = [html.Details([html.Summary(f"{group} ({len(rows)})"), *rows]) for group, rows in groups.items()]
    intro = (f"{explorer.runs:,} runs per change with seed {explorer.seed}: the same runs as the scenario as "
             "written, so a difference is the change's, not noise. Values are read as YAML numbers and checked "
             "by the scenario's schema. Press Enter (or leave the field) to apply a value.")  # fmt: skip
    heading = {"font-size": "1.1em"}
    results = [
        html.P(id="status", **{"aria-live": "polite"}),
        dcc.Store(id="problems"),
        dcc.Store(id="problems-shown"),
        html.Div(id="general", style={"color": "#b00020"}),
        html.H2("Indicators", style=heading),
        html.Div(id="indicators"),
        html.Div(
            [dcc.Graph(id=f"figure-{k}", config={"displaylogo": False}) for k in range(len(parts_of(explorer)))],
            id="figures",
        ),
        html.H2("What drives the outcome", style=heading),
        html.Button("Find what drives the changed scenario (a few seconds)", id="find-drivers"),
        dcc.Loading(html.Div(id="drivers")),
        html.H2("Save as variant", style=heading),
        html.P(
            "Writes NAME.yaml beside the scenario: it extends it with the changed values, and never replaces a file."
        ),
        dcc.Input(id="variant-name", placeholder="name (lower_snake_case)", type="text"),
        dcc.Input(id="variant-question", placeholder="the question it asks", type="text", style={"width": "30em"}),
        html.Button("Save as variant", id="save"),
        html.Div(id="saved"),
    ]
    side = {"width": "26em", "overflow-y": "auto", "max-height": "88vh", "padding": "0 1em"}
    return html.Div([
        html.Header([html.H1(title, style={"font-size": "1.3em"}), html.P(intro)]),
        html.Div([html.Aside([html.Button("Reset all", id="reset"), *sidebar], style=side),
                  html.Main(results, style={"flex": "1", "padding": "0 1em"})], style={"display": "flex"}),
    ], style=STYLE)  # fmt: skip


def control_row(c: Any, html, dcc):
    """One control: its label, its text field, its bounds, its field's documentation and its problem."""
    bounds = [f">= {c.low:g}" if c.low is not None else "", f"<= {c.high:g}" if c.high is not None else ""]
    note = " ".join(b for b in bounds if b)
    parts = [
        html.Label(c.label, title=c.help, style={"display": "block"}),
        dcc.Input(
            id={"type": CONTROL, "path": c.path},
            value=_text(c.value),
            type="text",
            debounce=True,
            style={"width": "9em"},
        ),
        html.Small(f" {note}" if note else ""),
        html.Div(c.help, className="help", style={"font-size": "0.8em", "color": "#555"}),
        html.Div(className="problem", style={"color": "#b00020"}, **{"data-problem": c.path}),
    ]
    return html.Div(parts, className="control", style={"margin": "0.3em 0"}, **{"data-path": c.path})


def serve(app: Any, host: str, port: int, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve the app until Ctrl-C (the Flask server of Dash, threaded, without its reloader)."""
    if on_ready is not None:
        on_ready(f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/")
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
