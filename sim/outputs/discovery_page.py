"""The discovery page: PRIM's trade-off curve, the chosen boxes' limits against the inputs' ranges, a
pairs scatter of a box's inputs, and the feature scores with their intervals.

Takes the tables of a discovery (``trajectory``, ``boxes``, ``summary``, ``scores``), the inputs and the
cases; it runs nothing. Every string from a scenario is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.outputs import report
from sim.outputs.escape import esc

SCATTER_POINTS = 3_000  # runs drawn in the pairs scatter at most (a fixed, evenly spaced selection)
PAIRS = 4  # inputs in the pairs scatter at most
SCORES_SHOWN = 20  # inputs in the feature-score chart at most
TEMPLATE = "plotly_white"


def trade_off(trajectory: pd.DataFrame) -> go.Figure:
    """Density against coverage along each box's peeling trajectory, coloured by the number of restricted
    inputs; the chosen step ringed."""
    figure = go.Figure()
    for box, steps in trajectory.groupby("box", sort=True):
        hover = [f"step {s}: {r} inputs restricted" for s, r in zip(steps["step"], steps["restricted_inputs"],
                                                                       strict=True)]  # fmt: skip
        marker = {"color": steps["restricted_inputs"], "colorscale": "Viridis", "size": 7, "showscale": box == 0,
                  "colorbar": {"title": "inputs restricted"}}  # fmt: skip
        figure.add_trace(go.Scatter(x=steps["coverage"], y=steps["density"], mode="lines+markers",
                                    name=f"box {box + 1}", text=hover, marker=marker))  # fmt: skip
        chosen = steps[steps["chosen"]]
        figure.add_trace(go.Scatter(x=chosen["coverage"], y=chosen["density"], mode="markers", showlegend=False,
                                    marker={"size": 16, "symbol": "circle-open", "color": "black"},
                                    name=f"box {box + 1}: chosen"))  # fmt: skip
    figure.update_layout(title="PRIM's peeling trajectory: density against coverage (the chosen box ringed)",
                         xaxis={"title": "coverage (share of the cases inside)", "tickformat": ".0%"},
                         yaxis={"title": "density (share of the box's runs that are cases)", "tickformat": ".0%"},
                         template=TEMPLATE)  # fmt: skip
    return figure


def box_limits(boxes: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Each box's restricted inputs: the kept part of each input's range (0 = its lowest drawn value, 1 =
    its highest), the limits written beside it."""
    figure = go.Figure()
    restricted = boxes[boxes["restricted"]]
    for box, rows in restricted.groupby("box", sort=True):
        span = (rows["range_high"] - rows["range_low"]).replace(0, 1)
        start = (rows["low"] - rows["range_low"]) / span
        width = (rows["high"] - rows["low"]) / span
        names = [f"{esc(labels.get(i, i))}" for i in rows["input"]]
        text = [f"{lo:.4g} to {hi:.4g}" for lo, hi in zip(rows["low"], rows["high"], strict=True)]
        figure.add_trace(go.Bar(y=names, x=width, base=start, orientation="h", name=f"box {box + 1}", text=text,
                                textposition="inside"))  # fmt: skip
    figure.update_layout(title="The boxes' limits, against each input's range over the runs", barmode="group",
                         xaxis={"title": "share of the input's range", "range": [0, 1], "tickformat": ".0%"},
                         template=TEMPLATE, height=max(300, 60 * len(restricted) + 150))  # fmt: skip
    return figure


def pairs(inputs: pd.DataFrame, cases: np.ndarray, names: list[str], labels: dict[str, str], text: str) -> go.Figure:
    """A pairs scatter of the first box's restricted inputs (at most PAIRS), runs coloured by the outcome."""
    step = max(1, len(inputs) // SCATTER_POINTS)
    shown = inputs.iloc[::step][names[:PAIRS]]
    hit = cases[::step]
    dimensions = [{"label": esc(labels.get(n, n)), "values": shown[n]} for n in names[:PAIRS]]
    figure = go.Figure(go.Splom(dimensions=dimensions, showupperhalf=False, diagonal_visible=False,
                                marker={"color": np.where(hit, "#d62728", "#9aa5b1"), "size": 3, "opacity": 0.6},
                                text=np.where(hit, "case", "not a case")))  # fmt: skip
    figure.update_layout(title=f"The first box's inputs, every {step}th run (red: {esc(text)})", template=TEMPLATE,
                         height=220 * max(2, min(PAIRS, len(names))) + 100)  # fmt: skip
    return figure


def scores(table: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """The feature scores, best first, with their 95% intervals over the bootstrap refits."""
    shown = table.head(SCORES_SHOWN).iloc[::-1]
    figure = go.Figure(go.Bar(x=shown["score"], y=[esc(labels.get(i, i)) for i in shown["input"]], orientation="h",
                              error_x={"type": "data", "symmetric": False, "array": shown["high"] - shown["score"],
                                       "arrayminus": shown["score"] - shown["low"]}))  # fmt: skip
    figure.update_layout(title="Feature scores (extra-trees importance; bars: 95% interval over bootstrap refits)",
                         xaxis={"title": "score (the scores of all inputs sum to 1)"}, template=TEMPLATE,
                         height=max(300, 28 * len(shown) + 150))  # fmt: skip
    return figure


def discovery_page(title: str, sentence: str, method: str, trajectory: pd.DataFrame, boxes: pd.DataFrame,
                   summary: pd.DataFrame, table: pd.DataFrame, inputs: pd.DataFrame, cases: np.ndarray,
                   labels: dict[str, str], text: str, notes: list[str]) -> str:  # fmt: skip
    """The whole page."""
    drawn = [trade_off(trajectory)] if not trajectory.empty else []
    if not boxes.empty and boxes["restricted"].any():
        drawn.append(box_limits(boxes, labels))
        first = boxes[(boxes["box"] == 0) & boxes["restricted"]]["input"].tolist()
        if len(first) >= 2:
            drawn.append(pairs(inputs, cases, first, labels, text))
    drawn.append(scores(table, labels))
    rows = [[f"box {r.box + 1}", f"{r.density:.1%}", f"{r.coverage:.1%}", f"{r.mass:.1%}", r.restricted_inputs]
            for r in summary.itertuples()]  # fmt: skip
    limits = [[f"box {r.box + 1}", labels.get(r.input, r.input), f"{r.low:.4g}", f"{r.high:.4g}",
               f"{r.range_low:.4g} to {r.range_high:.4g}", "-" if r.quasi_p != r.quasi_p else f"{r.quasi_p:.2g}"]
              for r in boxes[boxes["restricted"]].itertuples()]  # fmt: skip
    top = [[r.rank, labels.get(r.input, r.input), f"{r.score:.3f}", f"{r.low:.3f}-{r.high:.3f}"]
           for r in table.head(SCORES_SHOWN).itertuples()]  # fmt: skip
    rule = (
        "PRIM (peel 5% at a time; the chosen box is the densest with at least 50% coverage)"
        if method == "prim"
        else "CART (leaves of at least 5% of the runs, depth at most 4; boxes are leaves denser than overall)"
    )
    body = (f"<p><strong>{esc(sentence)}</strong></p>" + report.notes_html(notes)
            + f"<p>Method: {esc(rule)}.</p>"
            + report.table(["box", "density", "coverage", "mass", "inputs restricted"], rows, {1, 2, 3, 4})
            + "<h2>Limits</h2>"
            + report.table(["box", "input", "low", "high", "range over the runs", "quasi-p"], limits, {2, 3, 5})
            + "<h2>Feature scores</h2>" + report.table(["rank", "input", "score", "95% interval"], top, {0, 2})
            + "<h2>Figures</h2>" + report.figures_html(drawn))  # fmt: skip
    return report.document(title, body)


@dataclass(frozen=True)
class Driver:
    """What drives one indicator, as the report says it: ``sentence`` (the PRIM box in words, or why
    there is none) and ``top``, the best inputs by feature score as (label, score, low, high)."""

    outcome: str
    sentence: str
    top: tuple[tuple[str, float, float, float], ...] = ()


def drivers_html(drivers: list[Driver], runs: int, total: int) -> str:
    """The report's "What drives the outcome" section: one line and the top inputs per indicator."""
    if not drivers:
        return ""
    read = f"the first {runs:,} of the {total:,} runs" if runs < total else f"all {total:,} runs"
    rows = [[d.outcome, d.sentence, "; ".join(f"{label} {score:.2f} ({low:.2f}-{high:.2f})"
                                           for label, score, low, high in d.top) or "-"]
            for d in drivers]  # fmt: skip
    return (
        "<h2>What drives the outcome</h2>"
        f"<p>Read from the drawn inputs of {read}: PRIM's box (the densest with at least half the runs that have the "
        "indicator; the interval is the box share's 95% interval) and the inputs with the highest "
        "extra-trees feature scores (mean and 95% interval over bootstrap refits). The full analysis, "
        "with more boxes and figures: <code>basing discover FOLDER --outcome NAME</code>.</p>"
        + report.table(["indicator", "where it is most likely", "top inputs by feature score"], rows)
    )
