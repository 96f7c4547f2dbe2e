"""Ratification: a signed package must pass each signing party's domestic body (a two-level game,
Putnam 1988) before it is in force.

Each body judges a package by its own utility (its own ideals, saliences and risk) or by its party's
utility, against a threshold (by default, for a body with preferences, its utility of the status quo).
Its true rule is drawn per run; the negotiators, the party itself included, know only the scenario's
means, so a package all of them believe ratifiable can be rejected. After a rejection that lets talks
resume, the believed threshold of the body that rejected rises above the rejected package by
``protocol.belief_step``, so that package is not offered again.
"""

from __future__ import annotations

import numpy as np

from sim.engine.bargaining import Values, utility
from sim.engine.batch import Batch
from sim.engine.state import draw
from sim.numerics import normalised
from sim.scenario.distributions import mean_of
from sim.scenario.schema import Ratification, Scenario


class Body:
    """One party's ratifying body over a batch of runs: its drawn rule (own) and the believed one."""

    def __init__(self, body: Ratification, actor: int, path: str, spec: Scenario, runs: np.ndarray, seed: int):
        self.actor, self.ends = actor, body.on_rejection == "end"
        self.own_view = body.preferences is not None
        n, issues = len(runs), list(spec.issues)
        value = lambda v, p: (draw(v, p, seed, runs), np.full(n, mean_of(v)))  # noqa: E731 - (drawn, believed)
        self.delay = np.rint(draw(body.delay, f"{path}.delay", seed, runs)).astype(np.int64)
        self.threshold, self.threshold_public = value(body.threshold, f"{path}.threshold") if body.threshold \
            is not None else (None, None)  # fmt: skip
        self.margin = np.zeros(n)  # what rejections have taught: added to the believed threshold
        if self.own_view:
            middle = np.array([0.5 * sum(spec.issues[i].range) for i in issues])
            self.ideal, self.ideal_public = np.tile(middle, (n, 1)), np.tile(middle, (n, 1))
            salience, salience_public = np.zeros((n, len(issues))), np.zeros((n, len(issues)))
            for k, issue in enumerate(issues):
                pref = body.preferences.get(issue)
                if pref is not None:
                    self.ideal[:, k], self.ideal_public[:, k] = value(pref.ideal, f"{path}.preferences.{issue}.ideal")
                    salience[:, k], salience_public[:, k] = value(pref.salience,
                                                                 f"{path}.preferences.{issue}.salience")  # fmt: skip
            self.weight, self.weight_public = normalised(salience), normalised(salience_public)
            self.risk, self.risk_public = value(body.risk, f"{path}.risk")

    def take(self, rows: np.ndarray) -> None:
        for name, array in list(vars(self).items()):
            if isinstance(array, np.ndarray):
                setattr(self, name, array[rows])

    def judge(self, model: Batch, runs: np.ndarray, believed: bool,
              by_party: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """Whose utility the body judges by in ``runs``: ideals (R', I), normalised saliences (R', I) and
        risks (R',), as they truly are or as believed (``by_party``: the party's own view of its own
        utility, for a body that judges by it; else the others')."""
        j = self.actor
        if self.own_view:
            ideal, weight, risk = (self.ideal_public, self.weight_public, self.risk_public) if believed else \
                (self.ideal, self.weight, self.risk)  # fmt: skip
            return ideal[runs], weight[runs], risk[runs]
        values = model.own_now if (by_party or not believed) else model.public_now
        weights = model.own_weight if (by_party or not believed) else model.public_weight
        return values.ideal[runs, j], weights[runs, j], values.risk[runs, j]

    def _worth(self, model: Batch, runs: np.ndarray, packages: np.ndarray, believed: bool,
               by_party: bool = True) -> np.ndarray:  # fmt: skip
        """The body's utility (R',) of packages (R', I), as ``judge`` says whose."""
        return utility(packages, *self.judge(model, runs, believed, by_party), model.layout.span)

    def threshold_of(self, model: Batch, runs: np.ndarray, believed: bool) -> np.ndarray:
        """The least utility (R',) the body ratifies, as it is or as believed (with what rejections taught)."""
        if self.threshold is not None:
            return self.threshold_public[runs] + self.margin[runs] if believed else self.threshold[runs]
        quo = (model.public_now if believed else model.own_now).status_quo[runs]
        return self._worth(model, runs, quo, believed) + (self.margin[runs] if believed else 0.0)

    def believed_ok(self, model: Batch, runs: np.ndarray, packages: np.ndarray,
                    by_party: bool) -> np.ndarray:  # fmt: skip
        return self._worth(model, runs, packages, True, by_party) >= self.threshold_of(model, runs, True)

    def accepts(self, model: Batch, runs: np.ndarray, packages: np.ndarray) -> np.ndarray:
        return self._worth(model, runs, packages, False) >= self.threshold_of(model, runs, False)

    def learn(self, model: Batch, runs: np.ndarray, packages: np.ndarray, step: float) -> None:
        """After this body rejected ``packages`` in ``runs``: believe its threshold above them."""
        base = self.threshold_of(model, runs, True) - self.margin[runs]
        worth = self._worth(model, runs, packages, True)
        self.margin[runs] = np.maximum(self.margin[runs] + step, worth - base + step)


class Ratifiers:
    """The ratifying bodies of the parties that have one."""

    def __init__(self, model: Batch):
        spec, layout = model.spec, model.layout
        self.model = model
        self.bodies = {}
        for a, name in enumerate(layout.actors):
            body = spec.actors[name].ratification
            if body is not None:
                self.bodies[a] = Body(body, a, f"actors.{name}.ratification", spec, model.run_ids, model.seed)

    def __bool__(self) -> bool:
        return bool(self.bodies)

    def take(self, rows: np.ndarray) -> None:
        for body in self.bodies.values():
            body.take(rows)

    def any(self, parties) -> bool:
        """Whether any of these parties (actor indices) has a body."""
        return any(int(p) in self.bodies for p in parties)

    def believed_ok(self, runs: np.ndarray, parties, packages: np.ndarray, by_party: bool = False) -> np.ndarray:
        """(R', P'): whether each party's body is believed to ratify the packages (R', I); True where a
        party has none."""
        out = np.ones((len(runs), len(parties)), dtype=bool)
        if not self.bodies:
            return out
        for k, party in enumerate(parties):
            body = self.bodies.get(int(party))
            if body is not None:
                out[:, k] = body.believed_ok(self.model, runs, packages, by_party)
        return out

    def believed_judges(self, runs: np.ndarray, parties) -> tuple[Values, np.ndarray]:
        """The bodies of these parties as judges of a package in ``runs``, as the other parties believe
        them (ideals (R', B, I), saliences, risks (R', B)), and the least utility each is believed to
        ratify (R', B)."""
        bodies = [self.bodies[int(p)] for p in parties if int(p) in self.bodies]
        rows = [body.judge(self.model, runs, believed=True, by_party=False) for body in bodies]
        judges = Values(*(np.stack([row[k] for row in rows], axis=1) for k in range(3)))
        return judges, np.stack([body.threshold_of(self.model, runs, True) for body in bodies], axis=1)

    def delay(self, runs: np.ndarray) -> np.ndarray:
        """Rounds from signature to the vote (the longest of the bodies')."""
        return np.max([body.delay[runs] for body in self.bodies.values()], axis=0)

    def vote(self, runs: np.ndarray, packages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every body votes on the signed packages (R', I): (all ratify, a rejection ends the talks), both
        (R',). Bodies that reject learn from it."""
        accepted = np.ones(len(runs), dtype=bool)
        ends = np.zeros(len(runs), dtype=bool)
        step = self.model.spec.protocol.belief_step
        for body in self.bodies.values():
            yes = body.accepts(self.model, runs, packages)
            rejected = ~yes
            if rejected.any():
                body.learn(self.model, runs[rejected], packages[rejected], step)
            accepted &= yes
            ends |= rejected & body.ends
        return accepted, ends
