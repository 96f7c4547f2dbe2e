"""How a party bargains: the strategy schema.

Tactics follow Faratin, Sierra & Jennings (1998), measured in utility (0-1) rather than issue by issue:

* time-dependent (``boulware``, ``linear``, ``conceder``, ``time_dependent``): the demand falls from 1 to
  the party's floor (the better of its outside option and the status quo) by its own **deadline**, as
  1 - (t/D)^(1/beta), and stays at the floor after it. The deadline is private: the others know its
  distribution only. ``deadline: none`` means no deadline at all: the demand never falls with time;
* behaviour-dependent (imitative): ``relative_tft`` concedes in proportion to the others' last
  concession (the ratio of their utility of their own offers, ``steps`` offers back), ``random_tft``
  concedes the same amount of utility, give or take a uniform random ``noise``, and ``averaged_tft``
  in proportion to their concession over their last ``window`` offers. They open at ``start``;
* ``mixture``: a weighted sum of the demands of its ``tactics``;
* ``equilibrium``: complete-information subgame-perfect offers (see ``sim.engine.equilibrium``).

"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.base import Sourced
from sim.scenario.distributions import Param, is_random
from sim.scenario.limits import MAX_DEADLINE, MAX_TACTIC_MEMORY

TIME_KINDS = ("boulware", "linear", "conceder", "time_dependent")
IMITATIVE_KINDS = ("relative_tft", "random_tft", "averaged_tft")
Deadline = Param(1.0, MAX_DEADLINE) | Literal["none"]


class Tactic(Sourced):
    """One tactic: time-dependent (with its beta and deadline) or imitative (with its memory). As a
    judgement call, it carries its ``source`` or ``cite`` like any other entry."""

    kind: Literal["boulware", "linear", "conceder", "time_dependent", "relative_tft", "random_tft", "averaged_tft"] = (
        Field(description="Concession family (see the module's notes).")
    )
    beta: Param(0.01, 100.0) | None = Field(
        None, description="Time-dependent: concession exponent; defaults boulware 0.3, linear 1, conceder 3, "
        "time_dependent 1.",
    )  # fmt: skip
    deadline: Deadline | None = Field(
        None, description="Time-dependent: round (1 = the first) by which the demand reaches the floor; a number, "
        "a distribution, or none (no deadline: no concession with time). Required; private to the party.",
    )  # fmt: skip
    steps: int | None = Field(
        None, ge=1, le=MAX_TACTIC_MEMORY, description="relative_tft and random_tft: how many of the others' offers "
        "back the concession is measured (Faratin's delta); default 1.",
    )  # fmt: skip
    window: int | None = Field(
        None, ge=1, le=MAX_TACTIC_MEMORY, description="averaged_tft: the others' offers the concession is averaged "
        "over (Faratin's gamma); default 2.",
    )  # fmt: skip
    noise: float | None = Field(
        None, ge=0.0, le=0.5, description="random_tft: the most utility, 0-0.5, a uniform random term adds to or takes "
        "from the imitated concession; default 0.02.",
    )  # fmt: skip
    weight: float | None = Field(None, gt=0.0, le=1.0, description="In a mixture: this tactic's weight, 0-1.")

    @model_validator(mode="after")
    def _fields(self) -> Tactic:
        return self._check_tactic()

    def _check_tactic(self) -> Tactic:
        if self.weight is not None and type(self) is not Tactic:
            raise ValueError("weight belongs to the tactics of a mixture")
        time, imitative = self.kind in TIME_KINDS, self.kind in IMITATIVE_KINDS
        wrong = [name for name, used in (("beta", time), ("deadline", time), ("steps", self.kind != "averaged_tft"
                 and imitative), ("window", self.kind == "averaged_tft"), ("noise", self.kind == "random_tft"))
                 if getattr(self, name) is not None and not used]  # fmt: skip
        if wrong:
            raise ValueError(f"{', '.join(wrong)} do(es) not apply to the {self.kind} tactic")
        if time:
            self._time_defaults()
        else:
            self.steps = self.steps or (1 if self.kind != "averaged_tft" else None)
            self.window = self.window or (2 if self.kind == "averaged_tft" else None)
            self.noise = self.noise if self.noise is not None or self.kind != "random_tft" else 0.02
        return self

    def _time_defaults(self) -> None:
        if self.deadline is None:
            raise ValueError("a time-dependent tactic concedes towards a deadline: give deadline (a round, a "
                             "distribution, or none for no deadline)")  # fmt: skip
        if self.beta is None:
            self.beta = {"boulware": 0.3, "linear": 1.0, "conceder": 3.0}.get(self.kind, 1.0)
        lo, hi = self.beta.support() if is_random(self.beta) else (self.beta, self.beta)
        if self.kind == "boulware" and hi >= 1:
            raise ValueError("a boulware beta must stay below 1")
        if self.kind == "conceder" and lo <= 1:
            raise ValueError("a conceder beta must stay above 1")
        if self.kind == "linear" and (lo, hi) != (1.0, 1.0):
            raise ValueError("a linear strategy has beta = 1")


class Strategy(Tactic):
    """How a party bargains: one tactic, a ``mixture`` of tactics, or the ``equilibrium`` strategy."""

    kind: Literal["boulware", "linear", "conceder", "time_dependent", "relative_tft", "random_tft", "averaged_tft",
                  "mixture", "equilibrium"] = Field(description="A tactic, mixture or equilibrium.")  # fmt: skip
    start: Param(0.0, 1.0) = Field(
        1.0, description="Imitative tactics and mixtures: the demand (own utility, 0-1) of the first offer."
    )
    tactics: list[Tactic] | None = Field(
        None, min_length=2, max_length=8, description="mixture: the tactics mixed, each with its weight."
    )
    horizon: Literal["finite", "infinite"] | None = Field(
        None, description="equilibrium: solve to the common deadline (the last proposer before it takes all) or as "
        "if talks could go on for ever (stationary values). Default finite.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _fields(self) -> Strategy:
        if "start" in self.model_fields_set and self.kind not in (*IMITATIVE_KINDS, "mixture"):
            raise ValueError("start (the opening demand) applies to imitative tactics and mixtures only")
        if self.kind not in ("mixture", "equilibrium"):
            if self.tactics is not None or self.horizon is not None:
                raise ValueError("tactics apply to mixtures and horizon to the equilibrium strategy only")
            return self._check_tactic()
        if self.kind == "mixture":
            if self.tactics is None or self.weight is not None:
                raise ValueError("a mixture lists its tactics, each with a weight")
            if any(t.weight is None for t in self.tactics) or abs(sum(t.weight for t in self.tactics) - 1) > 1e-9:
                raise ValueError("the weights of a mixture's tactics must be given and sum to 1")
            if self.horizon is not None or any(getattr(self, k) is not None for k in ("beta", "deadline", "steps",
                                                                                     "window", "noise")):  # fmt: skip
                raise ValueError("a mixture's beta, deadline and memory belong to its tactics")
            return self
        return self._equilibrium()

    def _equilibrium(self) -> Strategy:
        self.horizon = self.horizon or "finite"
        if any(getattr(self, k) is not None for k in ("beta", "steps", "window", "noise", "tactics", "weight")):
            raise ValueError("the equilibrium strategy takes a horizon and, when finite, a deadline only")
        if self.horizon == "finite" and (self.deadline is None or is_random(self.deadline) or self.deadline == "none"
                                         or self.deadline != int(self.deadline)):  # fmt: skip
            raise ValueError("a finite equilibrium solves to a common deadline: give deadline as a whole number of "
                             "rounds (complete information: no distribution)")  # fmt: skip
        if self.horizon == "infinite" and self.deadline is not None:
            raise ValueError("an infinite-horizon equilibrium has no deadline")
        return self

    def time_tactics(self) -> list[Tactic]:
        """The time-dependent tactics this strategy uses (itself, or those of its mixture)."""
        parts = self.tactics if self.kind == "mixture" else [self]
        return [t for t in parts if t.kind in TIME_KINDS]
