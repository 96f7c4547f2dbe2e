"""The one results type: a scenario's runs table and summary, from a results folder or from memory.

Read back from a folder, the tables are read when first asked for (so that ``basing run`` at a million
runs does not read its own ``runs.parquet`` back to print a summary); in memory they are held. Pages and
figures take this type; the experiments layer makes it (``sim.experiments.sources``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.outputs.folder import ResultsFolder
from sim.outputs.store import canonical, this_version
from sim.scenario.schema import Scenario

UNREAD = object()  # a table not read from its folder yet


class Results:
    """One scenario's outcomes.

    Attributes:
        spec: the validated scenario (as resolved when the runs were made).
        summary: what ``summary.json`` holds: status shares with 95% intervals, terms, indicators.
        runs: one row per run, the columns of ``runs.parquet`` (read from ``path`` on first use).
        trace: traced runs, one row per (run, round, actor, issue), or None.
        inputs: every run's drawn inputs, one row per run (the columns of ``inputs.parquet``; see
            ``sim.experiments.inputs``), read or computed on first use; None for a folder made before
            basing wrote them.
        path: the results folder, or None for results held in memory.
        seed: the experiment seed (run k depends only on the seed and k).
        made_with: the basing version that made the runs.
        resolved: the scenario as resolved (extends and overrides applied), as plain data.
        overrides: the ``--set`` assignments it was made with.
        origin: where the results came from, as pages name it (a folder, a scenario file, "in memory").
        label: the name legends give it (the scenario's name unless two results share one).
        notes: what a page made from it should say (a missing fan chart, ...).
    """

    def __init__(
        self,
        spec: Scenario,
        summary: dict[str, Any],
        runs: pd.DataFrame | None = None,
        *,
        trace: Any = UNREAD,  # a table, None (nothing traced), or left to be read from path
        path: Path | None = None,
        seed: int = 1,
        made_with: str | None = None,
        resolved: dict[str, Any] | None = None,
        overrides: list[str] | None = None,
        origin: str | None = None,
        inputs: Any = UNREAD,  # a table, a function that makes it, or left to be read from path
    ) -> None:
        if runs is None and path is None:
            raise ValueError("results need their runs table or the folder that holds it")
        self.spec, self.summary, self.path, self.seed = spec, summary, path, seed
        self.made_with = made_with or this_version()
        self.resolved = resolved if resolved is not None else spec.model_dump(mode="json")
        self.overrides = list(overrides or [])
        self.origin = origin or (str(path) if path is not None else "in memory")
        self.label = spec.name
        self.notes: list[str] = []
        self._runs = runs
        self._trace = trace if (trace is not UNREAD or path is not None) else None
        self._inputs = inputs

    def _read(self, read: Callable[[ResultsFolder], Any]) -> Any:
        """``read(folder)`` on this result's folder, opened for the call and closed after it."""
        folder = ResultsFolder.open(self.path)
        try:
            return read(folder)
        finally:
            folder.close()

    @property
    def runs(self) -> pd.DataFrame:
        if self._runs is None:
            self._runs = self._read(lambda folder: folder.read_table("runs.parquet"))
        return self._runs

    @property
    def trace(self) -> pd.DataFrame | None:
        if self._trace is UNREAD:
            self._trace = self._read(lambda f: f.read_table("trace.parquet") if f.has("trace.parquet") else None)
        return self._trace

    @trace.setter
    def trace(self, table: pd.DataFrame | None) -> None:
        self._trace = table

    @property
    def inputs(self) -> pd.DataFrame | None:
        if callable(self._inputs):
            self._inputs = self._inputs()
        elif self._inputs is UNREAD:
            if self.path is None:
                return None
            self._inputs = self._read(lambda f: f.read_table("inputs.parquet") if f.has("inputs.parquet") else None)
        return self._inputs

    def first_inputs(self, count: int) -> pd.DataFrame | None:
        """The inputs of the first ``count`` runs (by run id), or None; from a folder, only those rows
        are read."""
        if self._inputs is UNREAD and self.path is not None:
            return self._read(lambda folder: first_rows_in(folder, "inputs.parquet", count))
        inputs = self.inputs
        return None if inputs is None else inputs.iloc[:count].reset_index(drop=True)

    def first_runs(self, count: int) -> pd.DataFrame:
        """The rows of the first ``count`` runs (by run id); from a folder, only those rows are read (a
        million-run folder is 500 MB as a data frame)."""
        if self._runs is None and self.path is not None:
            return self._read(lambda folder: first_rows_in(folder, "runs.parquet", count))
        return self.runs.iloc[:count].reset_index(drop=True)

    def first_traced(self, count: int) -> pd.DataFrame | None:
        """The trace rows of the first ``count`` traced runs (by run id), or None if none were traced.
        From a folder, only those rows are read."""
        if self._trace is UNREAD:
            return self._read(lambda folder: first_traced_in(folder, count))
        if self._trace is None or self._trace.empty:
            return None
        chosen = np.unique(self._trace["run"].to_numpy())[:count]
        return self._trace[self._trace["run"].isin(chosen)]

    @property
    def runs_count(self) -> int:
        """How many runs: from the summary, without reading the runs table."""
        return int(self.summary["runs"]) if "runs" in self.summary else len(self.runs)

    @property
    def influence_only(self) -> bool:
        """True for a scenario with no bargaining parties (positions move, nobody proposes)."""
        return not self.spec.parties()

    @property
    def fingerprint(self) -> str:
        """A short hash of the resolved scenario: two results of one scenario name from different
        versions of the scenario have different fingerprints."""
        return hashlib.sha256(canonical(self.resolved).encode()).hexdigest()[:8]

    def share(self, status: str) -> tuple[float, float, float]:
        """The share of runs that ended in ``status`` and its 95% Wilson interval: (share, low, high)."""
        entry = self.summary["status"].get(status)
        if entry is None:
            raise KeyError(f"{status!r}: not a status of this scenario ({', '.join(self.summary['status'])})")
        return entry["share"], entry["low"], entry["high"]

    def __repr__(self) -> str:
        where = self.path if self.path is not None else "in memory"
        return f"Results({self.spec.name!r}, seed={self.seed}, {where})"


def first_rows_in(folder: ResultsFolder, name: str, count: int) -> pd.DataFrame | None:
    """The rows of the folder's table ``name`` (one row per run) of its first ``count`` runs, read alone
    (None if it has no such table)."""
    if not folder.has(name):
        return None
    return folder.read_arrow(name, filters=[("run", "<", count)]).to_pandas()


def first_traced_in(folder: ResultsFolder, count: int) -> pd.DataFrame | None:
    """The rows of ``trace.parquet`` of the folder's first ``count`` traced runs, read alone (None if it
    holds no trace)."""
    if not folder.has("trace.parquet"):
        return None
    ids = folder.read_arrow("trace.parquet", columns=["run"]).column("run").to_numpy()
    chosen = np.unique(ids)[:count]
    if not len(chosen):
        return None
    return folder.read_arrow("trace.parquet", filters=[("run", "in", chosen.tolist())]).to_pandas()
