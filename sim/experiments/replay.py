"""Replay one run of a results folder exactly, and tell what happened in it round by round."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.engine.model import NegotiationModel
from sim.errors import OutputError
from sim.experiments.audit import require_verified
from sim.experiments.ensemble import run_chunk
from sim.experiments.inputs import inputs_of
from sim.experiments.made_from import run_manifest, scenario_of
from sim.files import native
from sim.outputs.folder import ResultsFolder
from sim.outputs.store import require_this_version, table_bytes
from sim.scenario.schema import Scenario


@dataclass
class Replay:
    """Run ``run`` of a folder simulated again: its row (equal to the stored one), trace and events."""

    spec: Scenario
    run: int
    row: pd.Series
    trace: pd.DataFrame
    events: pd.DataFrame
    folder: ResultsFolder
    votes: pd.DataFrame  # run, round, vote: ratification votes
    deadlines: dict[str, tuple[float, float]]  # party -> its deadline (round) and what the others believe
    inputs: pd.Series | None = None  # the run's drawn inputs (a row of inputs.parquet)
    kept: tuple[str, bool] | None = None  # (file name, written by an earlier replay) once the trace is kept

    def narrative(self) -> list[str]:
        """What happened, round by round (see the module function ``narrative``)."""
        return narrative(self)

    def input_lines(self) -> list[str]:
        """The run's drawn inputs, one ``path = value`` line each (4 significant digits)."""
        values = self.inputs.drop("run") if self.inputs is not None else pd.Series(dtype=float)
        return [f"  {path} = " + ("none within the window" if value != value else f"{value:.4g}")
                for path, value in values.items()]  # fmt: skip


def stored_row(folder: ResultsFolder, run: int) -> pd.DataFrame:
    """Row ``run`` of runs.parquet, read from its row group alone."""
    with folder.dir.open_binary("runs.parquet") as handle:
        parquet = pq.ParquetFile(native(handle))
        first = 0
        for group in range(parquet.num_row_groups):
            rows = parquet.metadata.row_group(group).num_rows
            if run < first + rows:
                table = parquet.read_row_group(group).to_pandas()
                return table.iloc[[run - first]].reset_index(drop=True)
            first += rows
    raise OutputError(f"{folder.path}: run {run} is not in runs.parquet")


def differing_columns(again: pd.DataFrame, stored: pd.DataFrame) -> list[str]:
    """The columns in which simulated rows differ from stored ones. Labels are compared as values: a
    column of labels with no possible value (no walkouts without parties) comes back from Parquet as
    plain objects rather than categories."""
    differ = [c for c in stored.columns if c not in again]
    for column in (c for c in stored.columns if c in again):
        a, b = again[column], stored[column]
        if any(isinstance(x.dtype, pd.CategoricalDtype) or x.dtype == object for x in (a, b)):
            same = a.astype(object).where(a.notna(), None).tolist() == b.astype(object).where(b.notna(), None).tolist()
        else:
            same = a.equals(b)
        if not same:
            differ.append(column)
    return differ


def replay(path: Path, run: int) -> Replay:
    """Simulate run ``run`` alone from the folder's manifest and check it matches the stored row."""
    folder = ResultsFolder.open(path)
    record = run_manifest(folder)
    if record.status != "complete":
        raise OutputError(f"{path}: the run is not complete; resume it first")
    require_verified(path, folder.dir)
    require_this_version(path, record.made_with, "a replay would not be exact")
    if not 0 <= run < record.runs:
        raise OutputError(f"--run {run}: the folder holds runs 0 to {record.runs - 1}")
    spec = scenario_of(record, path)
    again = run_chunk(spec, np.array([run]), record.seed).runs
    stored = stored_row(folder, run)
    differ = differing_columns(again, stored)
    if differ:
        raise OutputError(f"{path}: run {run} replays differently ({', '.join(differ)}); the code has changed")
    model = NegotiationModel(spec, np.array([run]), record.seed, trace=True)
    deadlines = party_deadlines(model)  # before any run is retired
    model.run_to_end()
    trace = pd.DataFrame(model.recorder.columns())
    inputs = inputs_of(spec, record.seed, np.array([run])).iloc[0]
    return Replay(spec, run, stored.iloc[0], trace, model.recorder.events(), folder, model.recorder.vote_table(),
                  deadlines, inputs)  # fmt: skip


def party_deadlines(model: NegotiationModel) -> dict[str, tuple[float, float]]:
    """Each party's time-dependent deadline in the model's first run (a mixture: its first time tactic),
    with the deadline the others believe it has."""
    out = {}
    for actor, strategy in model.strategy_of.items():
        for _, component in getattr(strategy, "components", []):
            if hasattr(component, "deadline"):
                out[model.layout.actors[actor]] = (float(component.deadline[0]), float(component.deadline_public[0]))
                break
    return out


def keep_trace(result: Replay) -> tuple[str, bool]:
    """Write the replayed run's trace as ``replay-run-K.parquet`` in the folder; (its name, whether it
    was already there), also kept in ``result.kept``. An earlier replay's file of the same bytes stays as
    it is; a different file of that name is refused, never overwritten."""
    result.kept = _kept(result)
    return result.kept


def _kept(result: Replay) -> tuple[str, bool]:
    name = f"replay-run-{result.run}.parquet"
    return name, result.folder.keep(name, table_bytes(result.trace), "this run's trace")


def _package(spec: Scenario, offers: pd.Series) -> str:
    return ", ".join(f"{issue} {offers[issue]:.3g}" for issue in spec.issues)


def narrative(result: Replay) -> list[str]:
    """What happened, round by round: events, moves of the parties' positions, proposals and answers."""
    spec, row, trace = result.spec, result.row, result.trace
    parties = spec.parties()
    start, days = spec.start_date, spec.protocol.round_days
    date = lambda r: (start + timedelta(days=(r - 1) * days)).isoformat()  # noqa: E731
    ending = {"agreement": "agreement in force", "walkout": f"walkout by {row['walkout_actor']}",
              "breakdown": "breakdown (the outside options)", "frozen": "breakdown (the status quo kept for good)",
              "no_deal": "talks still open when the window closes", "signed": "a package signed, still awaiting "
              "ratification when the window closes", "rejected": "a package rejected at ratification, talks over",
              "converged": "the model converged", "horizon": "the horizon"}[str(row["status"])]  # fmt: skip
    lines = [f"Run {result.run} of {spec.name}: {ending} in round {row['round']} ({date(int(row['round']))})."]
    for party, (own, believed) in result.deadlines.items():
        shown = "none" if not np.isfinite(own) else f"round {own:.1f}"
        lines.append(f"{party}'s deadline: {shown} (private; the others expect "
                     f"{'none' if not np.isfinite(believed) else f'round {believed:.1f}'}).")  # fmt: skip
    passing = {int(np.ceil(own)): party for party, (own, _) in result.deadlines.items() if np.isfinite(own)}
    previous: dict[tuple[str, str], float] = {}
    for round_, rows in trace.groupby("round", sort=True):
        lines.append(f"Round {round_} ({date(round_)}):")
        for event in result.events[result.events["round"] == round_]["event"]:
            lines.append(f"  event: {spec.events[event].label}")
        if round_ in passing:
            lines.append(f"  {passing[round_]}'s deadline is reached: from now on it demands only its floor")
        moved = []
        for (actor, issue), position in rows.set_index(["actor", "issue"])["position"].items():
            before = previous.get((actor, issue))
            span = spec.issues[issue].range[1] - spec.issues[issue].range[0]
            if before is not None and abs(position - before) > 0.005 * span:
                moved.append(f"{actor} {issue} {before:.3g} -> {position:.3g}")
            previous[actor, issue] = position
        if moved:
            lines.append("  positions moved: " + "; ".join(moved))
        proposer = rows[rows["proposer"]]["actor"].astype(str).unique()
        if len(proposer) and not rows["offer"].isna().all():
            offers = rows.drop_duplicates("issue").set_index("issue")["offer"]
            demand = rows[rows["proposer"]]["demand"].iloc[0] if "demand" in rows else float("nan")
            asking = f" (asking {demand:.3f} for itself)" if demand == demand else ""
            lines.append(f"  {proposer[0]} proposes{asking}: {_package(spec, offers)}")
            for party in parties:
                if party == proposer[0]:
                    continue
                vote = rows[rows["actor"] == party].iloc[0]
                verb = "accepts" if vote["accepted"] else "rejects"
                sign = ">=" if vote["accepted"] else "<"
                lines.append(f"  {party} {verb}: the offer is worth {vote['utility']:.3f} {sign} "
                             f"the {vote['needed']:.3f} it needs")  # fmt: skip
    for vote_round, vote in result.votes[["round", "vote"]].itertuples(index=False):
        lines.append(f"Round {vote_round}: the ratifying bodies vote: {vote}.")
    if str(row["status"]) == "walkout":
        lines.append(f"{row['walkout_actor']} walks out: its outside option beats the best deal it still expects.")
    if str(row["status"]) in ("agreement", "signed", "rejected"):
        verb = {"agreement": "Agreed", "signed": "Signed", "rejected": "Rejected"}[str(row["status"])]
        lines.append(f"{verb}: " + ", ".join(f"{i} {row[f'term_{i}']:.3g}" for i in spec.issues))
    if "in_force" in row and str(row["in_force"]) == "status_quo":
        lines.append("In force at the end: the status quo (" + ", ".join(
            f"{i} {row[f'force_{i}']:.3g}" for i in spec.issues) + ").")  # fmt: skip
    return lines
