"""Plotly figures of outcome distributions, one scenario or several overlaid, from the tables of
``sim.outputs.figures.tables``. Each function takes tables and labels and returns a figure; none reads files.

Every user-supplied string (scenario, actor, issue and indicator names, labels, units) is HTML-escaped
before it reaches a figure, because plotly renders a subset of HTML in titles, legends and hover text.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from sim.outputs.escape import esc

PALETTE = qualitative.Plotly
TEMPLATE = "plotly_white"


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _panels(titled: Mapping[str, tuple[str, str]]) -> tuple[go.Figure, int, list[tuple[str, str, int, int]]]:
    """A grid of panels, two to a row, one per entry (key -> (title, axis label)): the figure, its number
    of rows and, per panel, (key, axis label, row, column)."""
    cols = min(2, len(titled))
    rows = -(-len(titled) // cols)
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=[esc(title) for title, _ in titled.values()])
    cells = [(key, axis, p // cols + 1, p % cols + 1) for p, (key, (_, axis)) in enumerate(titled.items())]
    return figure, rows, cells


def status_bars(shares: pd.DataFrame, title: str = "How the talks end") -> go.Figure:
    """Grouped bars: the share of runs ending in each status, per scenario, with 95% Wilson intervals."""
    figure = go.Figure()
    for k, (name, rows) in enumerate(shares.groupby("scenario", sort=False)):
        figure.add_trace(go.Bar(
            x=rows["status"].str.replace("_", " "), y=rows["share"], name=esc(name), marker_color=_colour(k),
            error_y={"type": "data", "symmetric": False, "array": rows["high"] - rows["share"],
                     "arrayminus": rows["share"] - rows["low"]},
            customdata=rows[["low", "high", "count", "n"]],
            hovertemplate="%{y:.1%} (95% interval %{customdata[0]:.1%}-%{customdata[1]:.1%}; "
                          "%{customdata[2]:,} of %{customdata[3]:,} runs)",
        ))  # fmt: skip
    figure.update_layout(title=title, barmode="group", yaxis={"title": "share of runs", "tickformat": ".0%"},
                         xaxis_title="outcome", template=TEMPLATE, legend_title="scenario")  # fmt: skip
    return figure


def distributions(bins: pd.DataFrame, panels: Mapping[str, tuple[str, str]], title: str,
                  empty_note: str = "no runs to show") -> go.Figure:  # fmt: skip
    """Overlaid binned distributions (a ``histograms`` table) per scenario, one panel per entry of
    ``panels`` (column -> (panel title, axis label)). Used for agreed terms and forecasts."""
    figure, rows, cells = _panels(panels)
    names = list(dict.fromkeys(bins["scenario"]))
    for p, (panel, axis, row, col) in enumerate(cells):
        for k, name in enumerate(names):
            data = bins[(bins["scenario"] == name) & (bins["column"] == panel)]
            middle, width = (data["left"] + data["right"]) / 2, data["right"] - data["left"]
            figure.add_trace(go.Bar(x=middle, y=data["share"], width=width,
                                    name=esc(name), legendgroup=esc(name), showlegend=p == 0, marker_color=_colour(k),
                                    opacity=0.55, customdata=data[["left", "right", "n"]],
                                    hovertemplate="%{customdata[0]:.3g} to %{customdata[1]:.3g}: %{y:.1%} "
                                                  "of %{customdata[2]:,} runs"), row=row, col=col)  # fmt: skip
        figure.update_xaxes(title_text=esc(axis), row=row, col=col)
        figure.update_yaxes(title_text="share of runs", tickformat=".0%", row=row, col=col)
    if not len(bins) or not bins["n"].any():
        figure.add_annotation(text=empty_note, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    figure.update_layout(title=title, barmode="overlay", height=300 * rows + 80, template=TEMPLATE,
                         legend_title="scenario")  # fmt: skip
    return figure


def survival(curves: pd.DataFrame, round_days: float, title: str = "Chance that no deal has been reached yet",
             ylabel: str = "share of runs with no deal yet") -> go.Figure:  # fmt: skip
    """Step curves of the share of runs still without a deal, against round, with 95% bands."""
    figure = go.Figure()
    for k, (name, rows) in enumerate(curves.groupby("scenario", sort=False)):
        colour = _colour(k)
        figure.add_trace(go.Scatter(x=list(rows["round"]) + list(rows["round"])[::-1],
                                    y=list(rows["high"]) + list(rows["low"])[::-1], fill="toself",
                                    fillcolor=_rgba(colour, 0.15), line={"width": 0}, hoverinfo="skip",
                                    showlegend=False, legendgroup=esc(name), line_shape="hv"))  # fmt: skip
        figure.add_trace(go.Scatter(x=rows["round"], y=rows["share"], name=esc(name), legendgroup=esc(name),
                                    line={"color": colour, "shape": "hv"},
                                    hovertemplate="round %{x}: %{y:.1%}"))  # fmt: skip
    figure.update_layout(title=title, xaxis_title=f"round ({round_days:g} days each)", template=TEMPLATE,
                         yaxis={"title": ylabel, "tickformat": ".0%", "range": [0, 1.02]},
                         legend_title="scenario")  # fmt: skip
    return figure


def walkout_curves(walkouts: pd.DataFrame, round_days: float, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Cumulative share of runs in which each party has walked out, against round: colour by scenario,
    dash by actor (named by ``labels``: actor key -> label)."""
    labels = labels or {}
    figure = go.Figure()
    dashes = ["solid", "dash", "dot", "dashdot", "longdash"]
    actors = list(dict.fromkeys(walkouts["actor"]))
    for k, (name, rows) in enumerate(walkouts.groupby("scenario", sort=False)):
        for a, actor in enumerate(actors):
            line = rows[rows["actor"] == actor]
            shown = f"{esc(name)}: {esc(labels.get(actor, actor))}"
            figure.add_trace(go.Scatter(x=line["round"], y=line["share"], name=shown,
                                        line={"color": _colour(k), "dash": dashes[a % len(dashes)],
                                              "shape": "hv"}))  # fmt: skip
    figure.update_layout(title="Cumulative walkouts by party", xaxis_title=f"round ({round_days:g} days each)",
                         yaxis={"title": "share of runs walked out", "tickformat": ".2~p", "rangemode": "tozero"},
                         template=TEMPLATE, legend_title="scenario: party")  # fmt: skip
    return figure


def forest(table: pd.DataFrame) -> go.Figure:
    """Left: each indicator's probability with its 95% interval, per scenario. Right: the difference from
    the first scenario, with a 95% bootstrap interval (the first scenario is the reference)."""
    names = list(dict.fromkeys(table["scenario"]))
    alone = len(names) == 1  # no other scenario to differ from the reference: no difference panel
    titles = ["probability (95% interval)"]
    if not alone:
        titles.append(f"difference from {esc(names[0])} (95% bootstrap interval)")
    figure = make_subplots(rows=1, cols=len(titles), shared_yaxes=True, horizontal_spacing=0.04,
                           subplot_titles=titles)  # fmt: skip
    labels = [esc(label) for label in dict.fromkeys(table["label"])]
    for k, name in enumerate(names):
        rows = table[table["scenario"] == name]
        y = [esc(label) for label in rows["label"]]
        marker = {"color": _colour(k), "size": 8}
        figure.add_trace(go.Scatter(
            x=rows["share"], y=y, mode="markers", name=esc(name), legendgroup=esc(name), marker=marker,
            error_x={"type": "data", "symmetric": False, "array": rows["high"] - rows["share"],
                     "arrayminus": rows["share"] - rows["low"]},
            hovertemplate="%{x:.1%}"), row=1, col=1)  # fmt: skip
        if k == 0:
            continue
        figure.add_trace(go.Scatter(
            x=rows["diff"], y=y, mode="markers", name=esc(name), legendgroup=esc(name), showlegend=False,
            marker=marker, error_x={"type": "data", "symmetric": False, "array": rows["diff_high"] - rows["diff"],
                                    "arrayminus": rows["diff"] - rows["diff_low"]},
            hovertemplate="%{x:+.1%}"), row=1, col=2)  # fmt: skip
    figure.update_xaxes(tickformat=".0%", title_text="probability", row=1, col=1)
    if not alone:
        figure.add_vline(x=0, line_dash="dot", line_color="grey", row=1, col=2)
        figure.update_xaxes(tickformat="+.0%", title_text="difference (percentage points)", row=1, col=2)
    figure.update_yaxes(categoryorder="array", categoryarray=labels[::-1], row=1, col=1)
    figure.update_layout(title="Indicators", height=120 + 45 * len(labels), template=TEMPLATE,
                         legend_title="scenario", scattermode="group")  # fmt: skip
    return figure


def boxes(spread: pd.DataFrame, title: str, ytitle: str, xtitle: str, yrange: list[float] | None = None) -> go.Figure:
    """Boxes from a ``spreads`` table: 25-75% box, median line, whiskers at 5% and 95%, mean dashed; one
    box per key and scenario (grouped by scenario)."""
    figure = go.Figure()
    for k, (name, rows) in enumerate(spread.groupby("scenario", sort=False)):
        figure.add_trace(go.Box(x=rows["key"].map(esc), q1=rows["p25"], median=rows["median"], q3=rows["p75"],
                                lowerfence=rows["p5"], upperfence=rows["p95"], mean=rows["mean"], boxmean=True,
                                name=esc(name), marker_color=_colour(k)))  # fmt: skip
    figure.update_layout(title=f"{title} (box 25-75%, whiskers 5-95%)", boxmode="group", template=TEMPLATE,
                         yaxis={"title": ytitle, "range": yrange}, xaxis_title=xtitle,
                         legend_title="scenario")  # fmt: skip
    return figure


def fans(table: pd.DataFrame, issues: Mapping[str, tuple[str, str]], round_days: float, scenario: str,
         labels: Mapping[str, str] | None = None) -> go.Figure:  # fmt: skip
    """Position fan charts of one scenario: per issue (a panel each, titled by ``issues``: name ->
    (label, unit)), each actor's median position over rounds with its 10-90% band (actors named by
    ``labels``: key -> label)."""
    table = table[table["scenario"] == scenario]
    labels = labels or {}
    figure, rows, cells = _panels(issues)
    actors = list(dict.fromkeys(table["actor"]))
    for p, (issue, unit, row, col) in enumerate(cells):
        for a, actor in enumerate(actors):
            line = table[(table["actor"] == actor) & (table["issue"] == issue)]
            if line.empty:
                continue
            colour = _colour(a)
            figure.add_trace(go.Scatter(x=list(line["round"]) + list(line["round"])[::-1],
                                        y=list(line["p90"]) + list(line["p10"])[::-1], fill="toself",
                                        fillcolor=_rgba(colour, 0.15), line={"width": 0}, hoverinfo="skip",
                                        showlegend=False, legendgroup=esc(actor)), row=row, col=col)  # fmt: skip
            figure.add_trace(go.Scatter(x=line["round"], y=line["median"], name=esc(labels.get(actor, actor)),
                                        legendgroup=esc(actor), showlegend=p == 0, line={"color": colour}),
                             row=row, col=col)  # fmt: skip
        figure.update_yaxes(title_text=esc(unit), row=row, col=col)
        figure.update_xaxes(title_text=f"round ({round_days:g} days)", row=row, col=col)
    traced = int(table["runs"].iloc[0]) if len(table) else 0
    figure.update_layout(title=f"{esc(scenario)}: positions over rounds, median and 10-90% band of {traced} runs",
                         height=320 * rows + 100, template=TEMPLATE, legend_title="actor")  # fmt: skip
    return figure
