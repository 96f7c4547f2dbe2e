"""``backtest.html``: the reliability diagram, each case's forecast against what happened, the scores.

Takes the backtest's two tables (``cases``: a row per case and forecaster; ``aggregate``: a row per
forecaster and score) and returns figures and a self-contained page; it runs nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.outputs import report
from sim.outputs.escape import esc

CLASS_COLUMNS = "p_"  # prefix of the class probability columns
RELIABILITY_BINS = np.linspace(0.0, 1.0, 6)  # five bins of forecast probability
FORECASTER_LABELS = {"model": "model", "uniform": "uniform over the classes",
                     "base_rate": "base rate of the other cases (leave one out)",
                     "status_quo": "the status quo persists (talks still open)"}  # fmt: skip


def classes_of(cases: pd.DataFrame) -> list[str]:
    return [c.removeprefix(CLASS_COLUMNS) for c in cases.columns
            if c.startswith(CLASS_COLUMNS) and not c.startswith("p_observed")]  # fmt: skip


def reliability(cases: pd.DataFrame) -> go.Figure:
    """Observed frequency against forecast probability, every (case, class) pair of the model binned."""
    model = cases[cases["forecaster"] == "model"]
    classes = classes_of(cases)
    forecast = np.concatenate([model[f"p_{c}"].to_numpy() for c in classes])
    happened = np.concatenate([(model["observed"] == c).to_numpy(dtype=float) for c in classes])
    where = np.clip(np.digitize(forecast, RELIABILITY_BINS[1:-1]), 0, len(RELIABILITY_BINS) - 2)
    x, y, n = [], [], []
    for k in range(len(RELIABILITY_BINS) - 1):
        inside = where == k
        if inside.any():
            x.append(float(forecast[inside].mean()))
            y.append(float(happened[inside].mean()))
            n.append(int(inside.sum()))
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect reliability",
                                line={"dash": "dot", "color": "grey"}))  # fmt: skip
    sizes = [6 + 2 * np.sqrt(k) for k in n]
    figure.add_trace(go.Scatter(x=x, y=y, mode="markers+lines+text", name="model", text=[f"n={k}" for k in n],
                                textposition="top center", marker={"size": sizes}))  # fmt: skip
    figure.update_layout(title="Reliability: how often what the model gave p happened (case x class pairs)",
                         xaxis_title="forecast probability", yaxis_title="observed frequency",
                         xaxis_range=[0, 1], yaxis_range=[-0.02, 1.02])  # fmt: skip
    return figure


def forecast_bars(cases: pd.DataFrame) -> go.Figure:
    """Each case's forecast over the classes as a stacked bar, the observed class named on the axis."""
    model = cases[cases["forecaster"] == "model"]
    labels = [f"{esc(case)} ({esc(obs)})" for case, obs in zip(model["case"], model["observed"], strict=True)]
    figure = go.Figure()
    for c in classes_of(cases):
        figure.add_trace(go.Bar(y=labels, x=model[f"p_{c}"], name=esc(c), orientation="h"))
    figure.update_layout(barmode="stack", title="The model's forecast of each case (observed class in brackets)",
                         xaxis_title="probability", xaxis_range=[0, 1], height=160 + 40 * len(labels))  # fmt: skip
    return figure


def observed_bars(cases: pd.DataFrame) -> go.Figure:
    """The probability each forecaster gave the observed class, case by case, the model's with its interval."""
    figure = go.Figure()
    for forecaster, part in cases.groupby("forecaster", sort=False):
        error = None
        if forecaster == "model":
            error = {"type": "data", "symmetric": False, "array": part["p_observed_high"] - part["p_observed"],
                     "arrayminus": part["p_observed"] - part["p_observed_low"]}  # fmt: skip
        figure.add_trace(go.Bar(x=[esc(c) for c in part["case"]], y=part["p_observed"], error_y=error,
                                name=esc(FORECASTER_LABELS.get(forecaster, forecaster))))  # fmt: skip
    figure.update_layout(barmode="group", title="Probability given to what happened", yaxis_title="probability",
                         yaxis_range=[0, 1])  # fmt: skip
    return figure


def figures(cases: pd.DataFrame) -> list[go.Figure]:
    return [reliability(cases), forecast_bars(cases), observed_bars(cases)]


def score_table(aggregate: pd.DataFrame) -> str:
    rows = []
    for forecaster, part in aggregate.groupby("forecaster", sort=False):
        cells = [FORECASTER_LABELS.get(forecaster, forecaster)]
        for row in part.itertuples():
            cells.append("-" if row.mean != row.mean else f"{row.mean:.3f} ({row.low:.3f} to {row.high:.3f})")
        rows.append(cells)
    header = ["forecaster", *(f"{s} (95% interval)" for s in aggregate["score"].unique())]
    return report.table(header, rows, set(range(1, len(header))))


def case_table(cases: pd.DataFrame) -> str:
    model = cases[cases["forecaster"] == "model"]
    rows = [[r.case, r.cut_off, r.window_end, r.observed, f"{r.p_observed:.3f} ({r.p_observed_low:.3f} to "
             f"{r.p_observed_high:.3f})", f"{r.brier:.3f}", f"{r.log:.3f}", f"{r.rps:.3f}", report.number(r.crps)]
            for r in model.itertuples()]  # fmt: skip
    header = ["case", "cut-off", "window end", "observed", "p(observed) (95% interval)", "Brier", "log", "RPS",
              "CRPS / range"]  # fmt: skip
    return report.table(header, rows, {4, 5, 6, 7, 8})


def term_table(terms: pd.DataFrame) -> str:
    model = terms[terms["forecaster"] == "model"]
    rows = [[r.case, r.issue, r.unit, report.number(r.observed), report.number(r.median), report.number(r.crps)]
            for r in model.itertuples()]  # fmt: skip
    return report.table(["case", "issue", "unit", "observed", "model's median", "CRPS / range"], rows, {3, 4, 5})


def backtest_page(cases: pd.DataFrame, aggregate: pd.DataFrame, terms: pd.DataFrame, facts: list[list[str]],
                  notes: list[str]) -> str:  # fmt: skip
    """The whole page: what was run, the scores against the baselines, each case and term, the figures."""
    body = (report.notes_html(notes) + report.table(["", ""], facts)
            + "<h2>Mean scores over the cases (lower is better)</h2>" + score_table(aggregate)
            + "<h2>Each case</h2>" + case_table(cases)
            + "<h2>Observed terms</h2>" + (term_table(terms) if len(terms) else "<p>No case observed its terms.</p>")
            + "<h2>Figures</h2>" + report.figures_html(figures(cases)))  # fmt: skip
    return report.document("Backtest: the forecasts against what happened", body)


__all__ = ["backtest_page", "figures"]
