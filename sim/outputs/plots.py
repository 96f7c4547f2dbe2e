"""Plotly figures from tables (never from models)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def timeline(trace: pd.DataFrame, events: pd.DataFrame, parties: list[str], issues: dict[str, str], title: str):
    """One panel per issue: each party's position and the offer on the table, round by round, with the
    rounds in which events fired marked. ``issues`` maps issue names to their units."""
    figure = make_subplots(rows=len(issues), cols=1, shared_xaxes=True, subplot_titles=list(issues))
    for row, (issue, unit) in enumerate(issues.items(), 1):
        rows = trace[trace["issue"] == issue]
        for party in parties:
            line = rows[rows["actor"] == party]
            figure.add_trace(go.Scatter(x=line["round"], y=line["position"], mode="lines", name=f"{party} position",
                                        legendgroup=party, showlegend=row == 1), row=row, col=1)  # fmt: skip
        offers = rows.drop_duplicates("round")
        figure.add_trace(go.Scatter(x=offers["round"], y=offers["offer"], mode="markers", name="offer",
                                    legendgroup="offer", showlegend=row == 1, marker={"symbol": "diamond"}),
                         row=row, col=1)  # fmt: skip
        figure.update_yaxes(title_text=unit, row=row, col=1)
    for _, event in events.iterrows():
        figure.add_vline(x=event["round"], line_dash="dot", annotation_text=event["event"], line_color="grey")
    figure.update_xaxes(title_text="round", row=len(issues), col=1)
    figure.update_layout(title=title, height=260 * len(issues), template="plotly_white")
    return figure


def _label(path: str) -> str:
    return path.split(".", 1)[1] if path.startswith(("actors.", "events.", "issues.")) else path


def outcome_against(
    points: pd.DataFrame, summary: pd.DataFrame, parameter: str, outcome: str, lines: bool = True
) -> go.Figure:
    """An outcome against one parameter, with its 95% band where the outcome has one; one line per value
    of a second factor when there are two. ``lines=False`` (sampled designs) draws the points only."""
    data = points.merge(summary, on="point").sort_values(parameter)
    others = [c for c in points.columns if c not in ("point", parameter)]
    split = lines and len(others) == 1 and data[others[0]].nunique() <= 8
    groups = data.groupby(others[0], sort=True) if split else [(None, data)]
    has_band = f"{outcome}_low" in data
    figure = go.Figure()
    for value, rows in groups:
        name = (
            outcome
            if value is None
            else f"{_label(others[0])} = {value:.4g}"
            if isinstance(value, float)
            else str(value)
        )
        if has_band and lines:
            figure.add_trace(go.Scatter(x=list(rows[parameter]) + list(rows[parameter])[::-1],
                                        y=list(rows[f"{outcome}_high"]) + list(rows[f"{outcome}_low"])[::-1],
                                        fill="toself", opacity=0.2, line={"width": 0}, showlegend=False,
                                        hoverinfo="skip", legendgroup=name))  # fmt: skip
        errors = None
        if has_band and not lines:
            above, below = rows[f"{outcome}_high"] - rows[outcome], rows[outcome] - rows[f"{outcome}_low"]
            errors = {"type": "data", "symmetric": False, "array": above, "arrayminus": below}
        figure.add_trace(go.Scatter(x=rows[parameter], y=rows[outcome], mode="lines+markers" if lines else "markers",
                                    name=name, legendgroup=name, error_y=errors))  # fmt: skip
    band = " (95% band)" if has_band else ""
    figure.update_layout(title=f"{outcome} against {_label(parameter)}{band}", xaxis_title=_label(parameter),
                         yaxis_title=outcome, template="plotly_white")  # fmt: skip
    return figure


def heatmap(points: pd.DataFrame, summary: pd.DataFrame, x: str, y: str, outcome: str) -> go.Figure:
    """An outcome over a grid of two parameters (the mean over any other factors)."""
    table = points.merge(summary, on="point").pivot_table(index=y, columns=x, values=outcome, aggfunc="mean")
    figure = go.Figure(go.Heatmap(z=table.to_numpy(), x=list(table.columns), y=list(table.index),
                                  colorbar={"title": outcome}))  # fmt: skip
    figure.update_layout(title=f"{outcome} over {_label(x)} and {_label(y)}", xaxis_title=_label(x),
                         yaxis_title=_label(y), template="plotly_white")  # fmt: skip
    return figure


def sensitivity_bars(indices: pd.DataFrame, outcome: str) -> go.Figure:
    """A tornado of total (or Morris mu*) indices with 95% intervals, largest on top."""
    main = "ST" if (indices["index"] == "ST").any() else "mu_star"
    rows = indices[(indices["outcome"] == outcome) & (indices["index"] == main)].sort_values("value")
    figure = go.Figure(go.Bar(x=rows["value"], y=[_label(p) for p in rows["parameter"]], orientation="h",
                              error_x={"type": "data", "array": rows["conf"]}))  # fmt: skip
    figure.update_layout(title=f"Sensitivity of {outcome} ({main}, 95% intervals)", xaxis_title=main,
                         template="plotly_white")  # fmt: skip
    return figure
