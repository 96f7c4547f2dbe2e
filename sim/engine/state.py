"""The arrays of a batch of runs, run axis first, and how a scenario becomes them.

Each run draws its own values of every distribution in the scenario (``own``); what actors believe
of each other is the scenario's means (``public``). Events change both (shocks are public); the
influence stage moves ideals in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields

import numpy as np

from sim.arrays import ActorArrays
from sim.engine.bargaining import STATUS_ACTIVE, STATUS_SIGNED
from sim.engine.random import stream_id, uniforms
from sim.scenario.distributions import is_random, mean_of
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class Layout:
    """What is fixed for a scenario: names, index sets and issue scales."""

    actors: tuple[str, ...]
    issues: tuple[str, ...]
    parties: np.ndarray  # (P,) actor indices of the parties, in declaration order
    stakeholders: np.ndarray  # actor indices of the stakeholders
    low: np.ndarray  # (I,) lower end of each issue's range
    high: np.ndarray  # (I,)
    first_proposer: int  # position in ``parties``
    horizon: int

    @property
    def span(self) -> np.ndarray:
        return self.high - self.low

    @classmethod
    def of(cls, spec: Scenario) -> Layout:
        actors = tuple(spec.actors)
        roles = np.array([spec.actors[a].role == "party" for a in actors])
        parties = np.flatnonzero(roles)
        first = spec.protocol.first_proposer
        return cls(
            actors=actors,
            issues=tuple(spec.issues),
            parties=parties,
            stakeholders=np.flatnonzero(~roles),
            low=np.array([issue.range[0] for issue in spec.issues.values()], dtype=float),
            high=np.array([issue.range[1] for issue in spec.issues.values()], dtype=float),
            first_proposer=0 if first is None else list(actors[p] for p in parties).index(first),
            horizon=spec.protocol.horizon,
        )


# Where the draws of a model's set-up are noted, while ``noting_draws`` is active (the runs' inputs).
NOTED: ContextVar[dict[str, np.ndarray] | None] = ContextVar("noted_draws", default=None)


def draw(value: object, path: str, seed: int, runs: np.ndarray) -> np.ndarray:
    """One value per run: the number itself, or the distribution's inverse CDF at the run's uniform
    draw for this field. The draw depends only on (seed, run, path). A random one is noted under
    ``path`` while ``noting_draws`` is active."""
    if not is_random(value):
        return np.full(len(runs), float(value))
    drawn = value.ppf(uniforms(seed, runs, stream_id("param:" + path), 0)[:, 0])
    noted = NOTED.get()
    if noted is not None:
        noted[path] = drawn
    return drawn


@contextmanager
def noting_draws() -> Iterator[dict[str, np.ndarray]]:
    """Note every random draw made inside the block (a model's set-up): dotted path -> values (R,), in
    the order drawn. The paths are the scenario's (``actors.russia.patience``,
    ``actors.syria.strategy.tactics[0].deadline``)."""
    noted: dict[str, np.ndarray] = {}
    token = NOTED.set(noted)
    try:
        yield noted
    finally:
        NOTED.reset(token)


def actor_arrays(spec: Scenario, layout: Layout, runs: np.ndarray, seed: int | None) -> ActorArrays:
    """Drawn values for every run (``seed`` given) or the believed means broadcast to every run."""
    n, a_count, i_count = len(runs), len(layout.actors), len(layout.issues)
    value = (lambda v, p: draw(v, p, seed, runs)) if seed is not None else (lambda v, p: np.full(n, mean_of(v)))
    middle = 0.5 * (layout.low + layout.high)
    out = ActorArrays(
        ideal=np.broadcast_to(middle, (n, a_count, i_count)).copy(),
        salience=np.zeros((n, a_count, i_count)),
        **{k: np.zeros((n, a_count)) for k in ("capability", "patience", "risk", "outside")},
        status_quo=np.broadcast_to(middle, (n, i_count)).copy(),
    )
    if spec.status_quo is not None:
        for i, issue in enumerate(layout.issues):
            out.status_quo[:, i] = value(spec.status_quo.positions[issue], f"status_quo.positions.{issue}")
    for a, name in enumerate(layout.actors):
        actor, base = spec.actors[name], f"actors.{name}"
        out.capability[:, a] = value(actor.capability, f"{base}.capability")
        out.patience[:, a] = value(actor.patience, f"{base}.patience")
        out.risk[:, a] = value(actor.risk, f"{base}.risk")
        out.outside[:, a] = value(actor.outside_option.value, f"{base}.outside_option.value")
        for i, issue in enumerate(layout.issues):
            pref = actor.preferences.get(issue)
            if pref is not None:
                out.ideal[:, a, i] = value(pref.ideal, f"{base}.preferences.{issue}.ideal")
                out.salience[:, a, i] = value(pref.salience, f"{base}.preferences.{issue}.salience")
    return out


@dataclass
class BatchState:
    """Everything that changes during a batch of runs. R runs, A actors, P parties, I issues, E events."""

    runs: np.ndarray  # (R,) global run indices
    own: ActorArrays  # what each actor truly values (drawn per run)
    public: ActorArrays  # what the others believe of each actor (scenario means)
    breakdown_risk: np.ndarray  # (R,) per-round probability
    status: np.ndarray  # (R,) int8 STATUS_*
    walkout_actor: np.ndarray  # (R,) actor index or -1
    end_round: np.ndarray  # (R,) round the run ended, -1 while active
    terms: np.ndarray  # (R, I) agreed (or signed) package, NaN without one
    belief_shift: np.ndarray  # (R, A, A) proposer's raise of a responder's believed reservation
    vote_round: np.ndarray  # (R,) 0-based round of the ratification vote of a signed package, -1 if none
    rejections: np.ndarray  # (R,) packages rejected by a ratifying body so far

    @property
    def active(self) -> np.ndarray:
        """Runs in which talks go on this round."""
        return self.status == STATUS_ACTIVE

    @property
    def live(self) -> np.ndarray:
        """Runs still to simulate: talks going on, or a signed package awaiting its vote."""
        return (self.status == STATUS_ACTIVE) | (self.status == STATUS_SIGNED)

    @classmethod
    def initial(cls, spec: Scenario, layout: Layout, runs: np.ndarray, seed: int) -> BatchState:
        n, a_count = len(runs), len(layout.actors)
        return cls(
            runs=runs,
            own=actor_arrays(spec, layout, runs, seed),
            public=actor_arrays(spec, layout, runs, None),
            breakdown_risk=draw(spec.protocol.breakdown_risk, "protocol.breakdown_risk", seed, runs),
            status=np.full(n, STATUS_ACTIVE, dtype=np.int8),
            walkout_actor=np.full(n, -1, dtype=np.int16),
            end_round=np.full(n, -1, dtype=np.int32),
            terms=np.full((n, len(layout.issues)), np.nan),
            belief_shift=np.zeros((n, a_count, a_count)),
            vote_round=np.full(n, -1, dtype=np.int64),
            rejections=np.zeros(n, dtype=np.int32),
        )

    def take(self, rows: np.ndarray) -> BatchState:
        """The state of the batch rows ``rows`` only (used to retire finished runs)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return BatchState(**{k: v.take(rows) if isinstance(v, ActorArrays) else v[rows] for k, v in values.items()})

    def end(self, mask: np.ndarray, status: int, round_: int) -> None:
        """Close the runs in ``mask`` (a boolean mask or batch rows) with ``status`` at ``round_``."""
        self.status[mask] = status
        self.end_round[mask] = round_
