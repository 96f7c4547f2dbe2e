"""Ensembles: many runs of one scenario, in chunks, to a results table.

To this layer a model is a function from (scenario, run indices, seed) to one row per run. Chunks
only bound memory: run k's row is the same whatever the chunk size, because every draw of run k
depends only on (seed, k).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine.bargaining import STATUS_NAMES
from sim.engine.model import NegotiationModel
from sim.engine.results import IN_FORCE
from sim.engine.state import noting_draws
from sim.experiments.inputs import inputs_of_model
from sim.experiments.options import DEFAULT_CHUNK
from sim.outputs.indicators import add_indicators
from sim.scenario.schema import Scenario


@dataclass
class Ensemble:
    """The rows of an ensemble: ``runs`` one per run (in run order), ``trace`` if requested."""

    runs: pd.DataFrame
    trace: pd.DataFrame | None
    inputs: pd.DataFrame | None = None  # the runs' drawn inputs (``sim.experiments.inputs``), if asked for


def run_chunk(
    spec: Scenario,
    run_ids: np.ndarray,
    seed: int,
    trace: bool = False,
    on_progress: Callable[[int], None] | None = None,
    check: Callable[[], None] | None = None,
    inputs: bool = False,
) -> Ensemble:
    """Simulate the runs ``run_ids`` in one batch; ``on_progress(k)`` is told of k more finished runs;
    ``check()`` is called before every round (it may raise, to stop the batch: a superseded change);
    with ``inputs``, the runs' inputs are read from the same set-up (the rows of ``inputs.parquet``)."""
    drawn_inputs = None
    if inputs:
        with noting_draws() as drawn:
            model = NegotiationModel(spec, run_ids, seed, trace=trace)
        drawn_inputs = inputs_of_model(model, drawn)
    else:
        model = NegotiationModel(spec, run_ids, seed, trace=trace)
    finished = 0
    while model.running and model.round_index < model.layout.horizon:
        if check is not None:
            check()
        model.step()
        now = len(run_ids) - int(model.state.active.sum()) if model.running else len(run_ids)
        if on_progress is not None and now > finished:
            on_progress(now - finished)
        finished = now
    if on_progress is not None and finished < len(run_ids):
        on_progress(len(run_ids) - finished)
    columns = model.results()
    # Fixed categories, so every chunk (with walkouts or without) has the same column types and bytes.
    columns["status"] = pd.Categorical(columns["status"], categories=STATUS_NAMES[1:])
    columns["walkout_actor"] = pd.Categorical(columns["walkout_actor"], categories=spec.parties())
    if "in_force" in columns:
        columns["in_force"] = pd.Categorical(columns["in_force"], categories=IN_FORCE)
    runs = add_indicators(spec.outcomes, pd.DataFrame(columns))
    traced = pd.DataFrame(model.recorder.columns()) if model.recorder is not None else None
    return Ensemble(runs, traced, drawn_inputs)


def run_ensemble(
    spec: Scenario,
    runs: int,
    seed: int,
    chunk_size: int = DEFAULT_CHUNK,
    trace: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> Ensemble:
    """Runs 0 .. runs-1 of ``spec`` with ``seed``, ``chunk_size`` at a time."""
    if runs < 1 or chunk_size < 1:
        raise ValueError("runs and chunk_size must be positive")
    chunks = [
        run_chunk(spec, np.arange(start, min(start + chunk_size, runs)), seed, trace, on_progress)
        for start in range(0, runs, chunk_size)
    ]
    table = pd.concat([c.runs for c in chunks], ignore_index=True)
    traced = pd.concat([c.trace for c in chunks], ignore_index=True) if trace else None
    return Ensemble(table, traced)
