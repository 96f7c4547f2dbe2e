"""Every run's drawn inputs: the table behind ``inputs.parquet``, one row per run.

Each run of an ensemble draws its own value of every distribution in the scenario, so an ensemble is
already an experiment over as many combinations of assumptions as it has runs. The columns are:

* ``run``;
* one column per drawn value, named by the dotted path the engine draws it under, in the field's own
  units (``actors.russia.patience``, ``actors.syria.preferences.aid.salience``,
  ``actors.syria.outside_option.value``, ``events.israeli_strikes.hazard``,
  ``actors.russia.strategy.deadline``, ``actors.syria.strategy.tactics[0].beta``,
  ``protocol.breakdown_risk``, ...). Only values given as distributions appear: a plain number is the
  same in every run and explains nothing;
* the derived inputs of ``DERIVED``, which say in one number what several draws mean together.

The values are those the engine itself drew: each worker notes the draws of the set-up it simulates its
chunk from and reads the derived inputs from that set-up before the first round (``inputs_of_model``);
``inputs_of`` sets a model up for the runs alone (nothing simulated). Run k's inputs depend only on the
seed and k, as its outcomes do.

A sweep's ``inputs.parquet`` has a row per (point, run), in the order of its ``runs.parquet``: ``point``,
``run``, the point's value of each varied parameter as ``varied.<path>`` (a number, a yes/no, or text:
JSON for a mapping or list), then the draws and derived inputs of every point (a column one point does
not draw, because its parameters made a distribution a plain number, is empty there).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.model import NegotiationModel, forget_agent_counter
from sim.engine.random import stream_id, uniforms
from sim.engine.state import noting_draws
from sim.experiments.designs import column_of, is_number
from sim.scenario.schema import Scenario

INPUTS_BLOCK = 10_000  # runs set up at once when the inputs are written (bounds memory, not the bytes)


@dataclass(frozen=True)
class Derived:
    """A derived input: the column name pattern, what it means (with units) and how it is computed from
    a freshly set-up model (one column per name it returns)."""

    pattern: str
    meaning: str
    compute: Callable[[NegotiationModel], dict[str, np.ndarray]]


def _first_rounds(model: NegotiationModel) -> dict[str, np.ndarray]:
    spec, events, out = model.spec, model.events, {}
    random = [e for e, name in enumerate(events.names) if spec.events[name].hazard is not None]
    if not random:
        return out
    first = np.full((len(model.run_ids), len(events.names)), np.nan)
    stream = stream_id("events")  # the engine's stream of event draws (sim.engine.events)
    for t in range(model.layout.horizon):
        draws = uniforms(model.seed, model.run_ids, stream, t, len(events.names))
        new = np.isnan(first) & (draws < events.hazard)
        first[new] = t + 1
    for e in random:
        out[f"events.{events.names[e]}.first_round"] = first[:, e]
    return out


def _outside_less_quo(model: NegotiationModel) -> dict[str, np.ndarray]:
    if model.spec.status_quo is None:
        return {}
    outside, flow = model.own_now.outside, model.values.flow
    return {f"derived.{model.layout.actors[p]}.outside_less_status_quo": outside[:, p] - flow[:, p]
            for p in model.layout.parties}  # fmt: skip


# The one place a derived input is declared: its columns, their meaning and how they are computed.
DERIVED: tuple[Derived, ...] = (
    Derived("events.<event>.first_round",
            "the round (1-based) in which a hazard event's draw first comes up in the run, whether or not "
            "the talks were still on then; empty if not within the window", _first_rounds),
    Derived("derived.<party>.outside_less_status_quo",
            "the party's outside option less its utility of the status quo at the start (0-1 utility; "
            "above 0: it would rather leave than keep the status quo); with a status quo only",
            _outside_less_quo),
)  # fmt: skip


def inputs_of(spec: Scenario, seed: int, runs: np.ndarray) -> pd.DataFrame:
    """The inputs of ``runs`` (global run indices): ``run``, every draw in the order drawn, then the
    derived inputs."""
    runs = np.asarray(runs, dtype=np.int64)
    with noting_draws() as drawn:
        model = NegotiationModel(spec, runs, seed)
    inputs = inputs_of_model(model, drawn)
    forget_agent_counter(model)
    return inputs


def inputs_of_model(model: NegotiationModel, drawn: dict[str, np.ndarray]) -> pd.DataFrame:
    """The inputs of a freshly set-up ``model`` (before its first step) whose set-up noted the draws
    ``drawn`` (``noting_draws``): what ``inputs_of`` gives for its runs. A chunk's worker uses it to write
    the inputs of the runs it simulates from the same set-up."""
    if model.round_index != 0:
        raise ValueError("inputs are read from a model that has not stepped yet")
    columns: dict[str, np.ndarray] = {"run": model.run_ids, **drawn}
    for derived in DERIVED:
        columns.update(derived.compute(model))
    return pd.DataFrame(columns)


def input_blocks(spec: Scenario, seed: int, runs: int, block: int = INPUTS_BLOCK) -> Iterator[pd.DataFrame]:
    """The inputs of runs 0 .. runs-1, a block of runs at a time (in run order)."""
    for start in range(0, runs, block):
        yield inputs_of(spec, seed, np.arange(start, min(start + block, runs)))


@dataclass(frozen=True)
class SweepInputs:
    """The columns of a sweep's ``inputs.parquet``, fixed before any task runs, so that each task (in its
    worker) writes its rows with every column, in the same order and types: the varied parameters' cells
    and types per point (``designs.column_of``) and the draw and derived columns of any point."""

    paths: tuple[str, ...]
    varied: dict[str, tuple[list[Any], Any]]
    drawn: tuple[str, ...]

    @classmethod
    def of(cls, specs: Sequence[Scenario], points: Sequence[dict[str, Any]], seed: int) -> SweepInputs:
        paths = tuple(points[0]) if points else ()
        varied = {path: column_of([point[path] for point in points]) for path in paths}
        return cls(paths, varied, tuple(_drawn_columns(specs, points, seed)))

    def rows(self, point: int, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of point ``point`` from its runs' inputs ``table`` (``inputs_of``'s columns)."""
        columns: dict[str, Any] = {"point": np.full(len(table), point, dtype=np.int64), "run": table["run"]}
        for path in self.paths:
            cells, dtype = self.varied[path]
            columns[f"varied.{path}"] = pd.Series([cells[point]] * len(table), dtype=dtype)
        for name in self.drawn:
            columns[name] = table[name].to_numpy(dtype=float) if name in table else np.full(len(table), np.nan)
        return pd.DataFrame(columns)


def sweep_input_blocks(specs: Sequence[Scenario], points: Sequence[dict[str, Any]], seed: int, runs: int,
                       block: int = INPUTS_BLOCK) -> Iterator[pd.DataFrame]:  # fmt: skip
    """A sweep's inputs, a block of one point's runs at a time, every block with the same columns and
    types (see the module's docstring). The sweep's workers write the same rows task by task."""
    layout = SweepInputs.of(specs, points, seed)
    for index, spec in enumerate(specs):
        for table in input_blocks(spec, seed, runs, block):
            yield layout.rows(index, table)


def _drawn_columns(specs: Sequence[Scenario], points: Sequence[dict[str, Any]], seed: int) -> list[str]:
    """The draw and derived columns of any point, in the order first seen. Which values a point draws
    depends only on the shape of its varied values (a number, or which mapping), so one run is set up
    per shape."""
    names: dict[str, None] = {}
    seen = set()
    for spec, point in zip(specs, points, strict=True):
        shape = tuple("number" if is_number(v) else json.dumps(v, sort_keys=True) for v in point.values())
        if shape in seen:
            continue
        seen.add(shape)
        names.update(dict.fromkeys(c for c in inputs_of(spec, seed, np.arange(1)).columns if c != "run"))
    return list(names)
