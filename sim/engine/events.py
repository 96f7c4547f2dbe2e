"""Events: per-round hazards or fixed rounds, with declarative effects on actor fields.

An effect without ``rounds`` changes the actor's base values for good; one with ``rounds`` holds for
that many rounds from the round it fired (a later firing extends it) and is layered over the base
values each round, in declaration order. Shocks are public: beliefs about the actor change too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.arrays import ActorArrays
from sim.engine.random import stream_id, uniforms
from sim.engine.state import BatchState, Layout, draw
from sim.numerics import compiled
from sim.scenario.effects import EFFECT_FIELDS, parse_effect_field
from sim.scenario.schema import Scenario

_ARRAY_OF = {"outside_option.value": "outside"}


@dataclass(frozen=True)
class CompiledEffect:
    """One effect, resolved to array coordinates."""

    event: int
    actor: int | None  # None: a position of the status quo
    array: str  # ActorArrays field name
    issue: int | None
    op: str
    value: float
    rounds: int | None
    low: float
    high: float

    def apply(self, arrays: ActorArrays, mask: np.ndarray) -> None:
        """Apply to the runs ``mask`` (a boolean mask (R,) or batch rows), clipping to the field's bounds."""
        rows = np.flatnonzero(mask) if mask.dtype == np.bool_ else mask
        target = getattr(arrays, self.array)
        if self.actor is None:  # (R, I): every run's position on an issue
            cells, actor, issue = target[:, None, :], 0, self.issue
        elif self.issue is None:  # (R, A): an actor's value
            cells, actor, issue = target[:, :, None], self.actor, 0
        else:  # (R, A, I)
            cells, actor, issue = target, self.actor, self.issue
        _change(cells, np.asarray(rows, dtype=np.int64), actor, issue, OPS.index(self.op), self.value, self.low,
                self.high)  # fmt: skip


#: The effects' operations, in the order ``_change`` numbers them.
OPS = ("set", "add", "multiply")
# Above this share of rows to layer again, every row is layered again (copied, and its holding effects
# applied): at 5,000 runs of 9 actors and 6 issues a gather and scatter of a fifth of the rows costs as
# much as copying them all (80 against 75 us).
COPY_ALL_ABOVE = 0.2


@compiled
def _change(cells, rows, actor: int, issue: int, op: int, value: float, low: float, high: float) -> None:
    """Set, add or multiply ``cells[r, actor, issue]`` for the batch rows ``rows``, then clip to [low, high]
    as np.clip does (a value at a bound stays as it is, signed zeros and NaN included)."""
    for k in range(rows.shape[0]):
        r = rows[k]
        if op == 0:
            changed = value
        elif op == 1:
            changed = cells[r, actor, issue] + value
        else:
            changed = cells[r, actor, issue] * value
        if changed < low:
            changed = low
        if changed > high:
            changed = high
        cells[r, actor, issue] = changed


def compile_effects(spec: Scenario, layout: Layout) -> list[CompiledEffect]:
    """Every effect of every event, in declaration order."""
    out = []
    for e, event in enumerate(spec.events.values()):
        for effect in event.effects:
            actor, field, issue = parse_effect_field(effect.field)
            i = None if issue is None else layout.issues.index(issue)
            low, high = (layout.low[i], layout.high[i]) if field in ("ideal", "status_quo") else EFFECT_FIELDS[field]
            out.append(
                CompiledEffect(
                    e,
                    None if actor is None else layout.actors.index(actor),
                    _ARRAY_OF.get(field, field),
                    i,
                    effect.op,
                    effect.value,
                    effect.rounds,
                    low,
                    high,
                )
            )
    return out


class EventSchedule:
    """When each event fires in each run, and which temporary effects hold."""

    def __init__(self, spec: Scenario, layout: Layout, runs: np.ndarray, seed: int):
        events = list(spec.events.items())
        self.names = tuple(name for name, _ in events)
        self.seed, self.runs = seed, runs
        # 0-based round index at which fixed events fire (the scenario counts rounds from 1)
        self.fixed_round = np.array([-1 if ev.round is None else ev.round - 1 for _, ev in events], dtype=int)
        self.repeat = np.array([ev.repeat for _, ev in events], dtype=bool)
        self.hazard = np.zeros((len(runs), len(events)))
        for e, (name, event) in enumerate(events):
            if event.hazard is not None:
                self.hazard[:, e] = draw(event.hazard, f"events.{name}.hazard", seed, runs)
        self.fired = np.zeros((len(runs), len(events)), dtype=np.int32)
        self.effects = compile_effects(spec, layout)
        self.temporary_arrays = {effect.array for effect in self.effects if effect.rounds is not None}
        self.salience_effects = np.array([k for k, e in enumerate(self.effects) if e.array == "salience"], dtype=int)
        self.until = np.full((len(runs), len(self.effects)), -1, dtype=np.int32)
        # The own and public values with the temporary effects layered on, kept from call to call so that
        # a round re-layers only what moved; None until first built, and whenever nothing holds.
        self.layers: tuple[ActorArrays, ActorArrays] | None = None
        self._stream = stream_id("events")

    def take(self, rows: np.ndarray) -> None:
        """Keep only the batch rows ``rows`` (the layered values are built afresh on the next call)."""
        self.runs, self.hazard, self.fired, self.until = (
            a[rows] for a in (self.runs, self.hazard, self.fired, self.until)
        )
        self.layers = None

    def fire(self, state: BatchState, round_: int) -> np.ndarray:
        """Decide which events fire this round in active runs (R, E) and apply their effects."""
        if not self.names:
            return np.zeros((len(self.runs), 0), dtype=bool)
        draws = uniforms(self.seed, self.runs, self._stream, round_, len(self.names))
        fires = (draws < self.hazard) & (self.repeat | (self.fired == 0)) & (self.fixed_round < 0)
        fires |= self.fixed_round == round_
        fires &= state.active[:, None]
        self.fired += fires
        for k, effect in enumerate(self.effects):
            mask = fires[:, effect.event]
            if not mask.any():
                continue
            if effect.rounds is None:
                effect.apply(state.own, mask)
                effect.apply(state.public, mask)
            else:
                self.until[mask, k] = round_ + effect.rounds
        return fires

    def saliences_moved(self, fires: np.ndarray, round_: int) -> np.ndarray:
        """The runs (R,) whose effective saliences this round may differ from the last: a salience effect
        fired in them, or a temporary one ran out."""
        moved = np.zeros(len(self.runs), dtype=bool)
        for k in self.salience_effects:
            effect = self.effects[k]
            moved |= fires[:, effect.event]
            if effect.rounds is not None:
                moved |= self.until[:, k] == round_
        return moved

    def layers_moved(self, fires: np.ndarray, round_: int) -> np.ndarray:
        """The runs (R,) whose layered values this round may differ from the last call's (if the base
        values moved only by events since): an event fired in them, or a temporary effect ran out."""
        return fires.any(axis=1) | (self.until == round_).any(axis=1)

    def effective(
        self, state: BatchState, round_: int, rows: np.ndarray | None = None, names: set[str] | None = None
    ) -> tuple[ActorArrays, ActorArrays]:
        """Own and public values this round: the base values with temporary effects layered on (the base
        arrays themselves where nothing holds). Only the arrays ``names`` (default all) are layered again,
        and only in the runs ``rows`` (a boolean mask (R,); default all; every run when more than
        COPY_ALL_ABOVE of them are given): the caller promises that nothing else moved since the last
        call, in the base values or in which effects hold. The layered arrays are kept and overwritten by
        the next call: read them within the round."""
        holding = self.until > round_
        if not holding.any():
            self.layers = None
            return state.own, state.public
        names = self.temporary_arrays if names is None else self.temporary_arrays & names
        if self.layers is None:
            self.layers = state.own.copy(self.temporary_arrays), state.public.copy(self.temporary_arrays)
            rows, names = None, self.temporary_arrays
        at = None if rows is None else np.flatnonzero(rows)
        if at is not None and at.size > COPY_ALL_ABOVE * len(rows):
            at = rows = None  # every row layered again
        for layer, base in zip(self.layers, (state.own, state.public), strict=True):
            for name in names:
                if at is None:
                    np.copyto(getattr(layer, name), getattr(base, name))
                else:
                    getattr(layer, name)[at] = getattr(base, name)[at]
        if rows is not None:
            holding &= rows[:, None]
        for k, effect in enumerate(self.effects):
            if effect.rounds is not None and effect.array in names:
                at = np.flatnonzero(holding[:, k])
                if at.size:
                    effect.apply(self.layers[0], at)
                    effect.apply(self.layers[1], at)
        return self.layers
