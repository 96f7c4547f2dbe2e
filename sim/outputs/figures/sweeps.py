"""Plotly figures of sweeps, from their tables (never from models): an outcome against a parameter, a
heatmap over two, and sensitivity bars. Every string from a scenario or a sweep (names, units, values)
is escaped."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from sim.outputs.escape import esc


def _label(path: str) -> str:
    """A parameter's dotted path, shorter where its section is plain, and escaped."""
    return esc(path.split(".", 1)[1] if path.startswith(("actors.", "events.", "issues.")) else path)


def outcome_against(
    points: pd.DataFrame, summary: pd.DataFrame, parameter: str, outcome: str, lines: bool = True
) -> go.Figure:
    """An outcome against one parameter, with its 95% band where the outcome has one; one line per value
    of a second factor when there are two. ``lines=False`` (sampled designs) draws the points only."""
    data = points.merge(summary, on="point").sort_values(parameter)
    if not pd.api.types.is_numeric_dtype(data[parameter]):  # text values (mappings as JSON) are axis labels
        data[parameter] = data[parameter].map(esc)
    others = [c for c in points.columns if c not in ("point", parameter)]
    split = lines and len(others) == 1 and data[others[0]].nunique() <= 8
    groups = data.groupby(others[0], sort=True) if split else [(None, data)]
    has_band = f"{outcome}_low" in data
    figure = go.Figure()
    for value, rows in groups:
        name = (
            esc(outcome)
            if value is None
            else f"{_label(others[0])} = {value:.4g}"
            if isinstance(value, float)
            else esc(value)
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
    figure.update_layout(title=f"{esc(outcome)} against {_label(parameter)}{band}", xaxis_title=_label(parameter),
                         yaxis_title=esc(outcome), template="plotly_white")  # fmt: skip
    return figure


def heatmap(points: pd.DataFrame, summary: pd.DataFrame, x: str, y: str, outcome: str) -> go.Figure:
    """An outcome over a grid of two parameters (the mean over any other factors)."""
    table = points.merge(summary, on="point").pivot_table(index=y, columns=x, values=outcome, aggfunc="mean")
    figure = go.Figure(go.Heatmap(z=table.to_numpy(), x=list(table.columns), y=list(table.index),
                                  colorbar={"title": esc(outcome)}))  # fmt: skip
    figure.update_layout(title=f"{esc(outcome)} over {_label(x)} and {_label(y)}", xaxis_title=_label(x),
                         yaxis_title=_label(y), template="plotly_white")  # fmt: skip
    return figure


def sensitivity_bars(indices: pd.DataFrame, outcome: str) -> go.Figure:
    """A tornado of total (or Morris mu*) indices with 95% intervals, largest on top."""
    main = "ST" if (indices["index"] == "ST").any() else "mu_star"
    rows = indices[(indices["outcome"] == outcome) & (indices["index"] == main)].sort_values("value")
    figure = go.Figure(go.Bar(x=rows["value"], y=[_label(p) for p in rows["parameter"]], orientation="h",
                              error_x={"type": "data", "array": rows["conf"]}))  # fmt: skip
    figure.update_layout(title=f"Sensitivity of {esc(outcome)} ({main}, 95% intervals)", xaxis_title=main,
                         template="plotly_white")  # fmt: skip
    return figure


def sweep_figures(points: pd.DataFrame, summary: pd.DataFrame, outcomes: list[str], grid: bool,
                  sensitivity: pd.DataFrame | None) -> list[go.Figure]:  # fmt: skip
    """A sweep's figures from its tables: each outcome against each parameter; a heatmap over the first
    two parameters of a grid; the sensitivity indices, if any."""
    parameters = [c for c in points.columns if c != "point"]  # numbers, or text (mappings as JSON): one axis each
    out = [outcome_against(points, summary, p, o, lines=grid) for o in outcomes for p in parameters]
    numeric = [p for p in parameters if pd.api.types.is_numeric_dtype(points[p])]
    if grid and len(numeric) >= 2 and all(points[p].nunique() <= 50 for p in numeric[:2]):
        out += [heatmap(points, summary, numeric[0], numeric[1], o) for o in outcomes]
    if sensitivity is not None:
        out += [sensitivity_bars(sensitivity, o) for o in outcomes]
    return out
