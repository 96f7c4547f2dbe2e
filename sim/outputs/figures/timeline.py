"""The plotly timeline of one replayed run, from its trace (never from a model). Every string from a
scenario is escaped."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.outputs.escape import esc


def timeline(trace: pd.DataFrame, events: pd.DataFrame, parties: dict[str, str], issues: dict[str, tuple[str, str]],
             title: str) -> go.Figure:  # fmt: skip
    """One panel per issue: each party's position and the offer on the table, round by round, with the
    rounds in which events fired marked. ``parties`` maps the actors drawn to their labels, ``issues``
    the issue names to their (label, unit)."""
    titles = [esc(label) for label, _ in issues.values()]
    figure = make_subplots(rows=len(issues), cols=1, shared_xaxes=True, subplot_titles=titles)
    for row, (issue, (_, unit)) in enumerate(issues.items(), 1):
        rows = trace[trace["issue"] == issue]
        for party, label in parties.items():
            line = rows[rows["actor"] == party]
            figure.add_trace(go.Scatter(x=line["round"], y=line["position"], mode="lines",
                                        name=f"{esc(label)} position", legendgroup=esc(party), showlegend=row == 1),
                             row=row, col=1)  # fmt: skip
        offers = rows.drop_duplicates("round")
        figure.add_trace(go.Scatter(x=offers["round"], y=offers["offer"], mode="markers", name="offer",
                                    legendgroup="offer", showlegend=row == 1, marker={"symbol": "diamond"}),
                         row=row, col=1)  # fmt: skip
        figure.update_yaxes(title_text=esc(unit), row=row, col=1)
    for _, event in events.iterrows():
        figure.add_vline(x=event["round"], line_dash="dot", annotation_text=esc(event["event"]), line_color="grey")
    figure.update_xaxes(title_text="round", row=len(issues), col=1)
    figure.update_layout(title=esc(title), height=260 * len(issues), template="plotly_white")
    return figure
