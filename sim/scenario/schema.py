"""The scenario schema: strict pydantic models with a description on every field.

Units: issue positions are in each issue's own unit within its ``range``; utilities, outside
options and aspirations are on a 0-1 scale (1 = an actor's ideal package, 0 = the worst package
on every issue it cares about); probabilities are per round; one round lasts ``protocol.round_days``.
Unknown keys are rejected everywhere. Cross-references (actor and issue names) are checked in
``sim.scenario.checks`` after the schema, so that errors can name the exact path.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import Real, Sourced, Strict
from sim.scenario.distributions import Param
from sim.scenario.limits import (
    MAX_ACTORS,
    MAX_EVENTS,
    MAX_HORIZON,
    MAX_ISSUES,
    MAX_OUTCOMES,
    MAX_ROUND_DAYS,
    MAX_WEIGHT,
    MIN_RANGE_WIDTH,
)
from sim.scenario.tactics import Strategy

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", description="lower_snake_case name")]


class Issue(Sourced):
    """One dimension of the negotiation."""

    label: str = Field(description="Human-readable name.")
    unit: str = Field(description="What a position on this issue measures, e.g. 'access level' or 'USD bn'.")
    range: list[Real] = Field(
        min_length=2,
        max_length=2,
        description="[low, high] bounds of every position and term; low < high, at least 1e-9 x max(1, |low|, "
        "|high|) apart.",
    )
    points: dict[Annotated[float, Field(strict=False)], str] = Field(  # keys come back as text from JSON
        default_factory=dict, description="Labelled positions on the scale, e.g. {0: full withdrawal}."
    )

    @field_validator("range")
    @classmethod
    def _ordered(cls, bounds: list[float]) -> list[float]:
        lo, hi = bounds
        if lo >= hi:
            raise ValueError(f"range must be [low, high] with low < high (got [{lo}, {hi}])")
        if hi - lo < MIN_RANGE_WIDTH * max(1.0, abs(lo), abs(hi)):
            raise ValueError(f"range [{lo}, {hi}] is too narrow: its width must be at least {MIN_RANGE_WIDTH:g} x "
                             "max(1, |low|, |high|) (see Limits in the README)")  # fmt: skip
        return bounds

    @model_validator(mode="after")
    def _points(self) -> Issue:
        lo, hi = self.range
        for point in self.points:
            if not lo <= point <= hi:
                raise ValueError(f"labelled point {point} lies outside the range [{lo}, {hi}]")
        return self


class Preference(Sourced):
    """An actor's stance on one issue."""

    ideal: Param() = Field(description="Ideal point, in the issue's unit; must lie within the issue's range.")
    salience: Param(0.0, MAX_WEIGHT) = Field(
        description="How much the issue matters to the actor, 0 to 1e12; normalised over the actor's issues."
    )


class OutsideOption(Sourced):
    """What an actor gets if no deal is made."""

    value: Param(0.0, 1.0) = Field(description="Utility of no deal, 0-1, on the same scale as packages.")
    label: str = Field(description="What the outside option is, e.g. 'refocus on Libya'.")


class Ratification(Sourced):
    """The domestic body that must accept a package the party signs before it is in force (Putnam 1988).

    The body accepts if its utility of the package reaches its threshold: its own utility when it has
    ``preferences`` (default threshold: its utility of the status quo), else the party's utility. The
    negotiators know the body's rule only as the scenario's distributions (their means), so a package
    they believe it accepts can be rejected."""

    label: str = Field(description="The body, e.g. 'the People's Assembly'.")
    preferences: dict[Name, Preference] | None = Field(
        None, description="The body's own stance per issue; without it, the body judges the party's own utility."
    )
    risk: Param(-1.0, 1.0) = Field(0.0, description="With preferences: the body's risk attitude, -1 to 1.")
    threshold: Param(0.0, 1.0) | None = Field(
        None, description="Least utility (0-1) the body accepts; with preferences, default its utility of the "
        "status quo.",
    )  # fmt: skip
    delay: Param(0.0, MAX_HORIZON) = Field(0.0, description="Rounds from signature to the vote (rounded), 0-10,000.")
    on_rejection: Literal["resume", "end"] = Field(
        description="What a rejection leads to: talks resume, or they end with the status quo in force."
    )

    @model_validator(mode="after")
    def _rule(self) -> Ratification:
        if self.preferences is None and self.threshold is None:
            raise ValueError("give the body's threshold on the party's utility, or its own preferences")
        if self.preferences is None and "risk" in self.model_fields_set:
            raise ValueError("risk applies to a body with preferences of its own")
        return self


class StatusQuo(Sourced):
    """The arrangement in force while no agreement is (an inside option, Binmore, Rubinstein & Wolinsky
    1986; Muthoo 1999): each party gets its utility of it every round talks go on."""

    label: str = Field(description="What it is, e.g. 'reduced presence under the 2017 texts, no aid'.")
    positions: dict[Name, Param()] = Field(
        description="A position on every issue, in the issue's unit (a number or a distribution)."
    )
    after_breakdown: Literal["outside_options", "status_quo"] = Field(
        description="What an exogenous breakdown of talks leads to: every party's outside option, or the status "
        "quo frozen for good with no further talks."
    )


class Actor(Sourced):
    """A government or bloc: a party signs any deal, a stakeholder only exerts influence."""

    label: str = Field(description="Human-readable name.")
    role: Literal["party", "stakeholder"] = Field(description="'party' must sign any deal; 'stakeholder' lobbies.")
    capability: Param(0.0, MAX_WEIGHT) = Field(
        description="Relative power to move others and to be recognised, 0 to 1e12."
    )
    patience: Param(0.0, 1.0) = Field(0.98, description="Per-round discount factor, 0-1 (1 = no impatience).")
    risk: Param(-1.0, 1.0) = Field(
        0.0, description="Risk attitude, -1 to 1: 1 quadratic loss (averse), 0 linear, -1 concave (acceptant)."
    )
    outside_option: OutsideOption = Field(description="Value of no deal (for a stakeholder: of no deal to it).")
    preferences: dict[Name, Preference] = Field(description="Stance per issue; issues left out have salience 0.")
    strategy: Strategy | None = Field(None, description="How a party bargains (a party needs one).")
    ratification: Ratification | None = Field(
        None, description="A party: the domestic body that must ratify what it signs, if any."
    )


class Protocol(Strict):
    """Who proposes, how long talks last and how likely they collapse on their own."""

    proposer: Literal["alternating", "capability", "fixed"] = Field(
        "alternating",
        description="alternating: parties take turns; capability: drawn each round in proportion to "
        "capability; fixed: first_proposer always proposes.",
    )
    first_proposer: Name | None = Field(None, description="Party that proposes first; default the first party.")
    breakdown_risk: Param(0.0, 1.0) = Field(0.0, description="Per-round probability that talks collapse.")
    horizon: int = Field(
        52, ge=1, le=MAX_HORIZON, description="The observation window, in rounds: a run still open at its end is "
        "no_deal (talks go on, the status quo in force). Nobody's deadline: each party has its own.",
    )  # fmt: skip
    round_days: float = Field(
        7.0, gt=0, le=MAX_ROUND_DAYS, description="Length of one round in days, above 0 and at most 36,525."
    )
    belief_step: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Utility by which a proposer raises its estimate of a responder's reservation after "
        "that responder rejects an offer the proposer believed acceptable, 0-1.",
    )


class NoInfluence(Strict):
    """Positions move only through events."""

    model: Literal["none"] = Field(description="No influence stage.")


class PullInfluence(Strict):
    """Stakeholders pull each party's ideal towards their capability x salience weighted mean position."""

    model: Literal["pull"] = Field(description="Capability x salience weighted pull.")
    rate: Param(0.0, 1.0) = Field(
        0.05, description="Share of the gap to the stakeholders' weighted position closed per round, 0-1."
    )
    targets: list[Name] | None = Field(
        None, min_length=1, description="Parties whose ideals the stakeholders move; default every party."
    )


class CompromiseInfluence(Strict):
    """Every actor moves towards the capability x salience weighted mean of all positions (Achen 2006)."""

    model: Literal["compromise"] = Field(description="Compromise model.")
    rate: Param(0.0, 1.0) = Field(1.0, description="Share of the gap closed per round, 0-1 (1: at once).")


class MedianInfluence(Strict):
    """Every actor moves towards the capability x salience weighted median of all positions (Black 1948)."""

    model: Literal["median"] = Field(description="Weighted median (median voter) model.")
    rate: Param(0.0, 1.0) = Field(1.0, description="Share of the gap closed per round, 0-1 (1: at once).")


class EumInfluence(Strict):
    """Bueno de Mesquita's expected-utility model, one round per round, each issue on its own
    (Scholz, Calbert & Smith 2011). Saliences are used as given, 0-1."""

    model: Literal["eum"] = Field(description="Expected-utility model.")


class SmpInfluence(Strict):
    """KTAB's Spatial Model of Politics over all issues at once, one state per round, with KTAB's
    stopping rule. Saliences are used as given (an actor's saliences summing to at most 1)."""

    model: Literal["smp"] = Field(description="Spatial Model of Politics.")
    transition: Literal["deterministic", "stochastic"] = Field("deterministic", description="State transition.")
    victory_law: Literal["linear", "square", "quartic", "octic", "binary"] = Field(
        "linear", description="Probability that a coalition wins."
    )
    voting_rule: Literal["prop", "binary", "prop_bin", "prop_cbc", "cubic", "asym_prosp"] = Field(
        "prop", description="How a utility difference becomes a vote."
    )
    pce: Literal["conditional", "markov_uniform", "markov_incentive"] = Field(
        "conditional", description="Probabilistic Condorcet election."
    )
    big_r_range: Literal["mid", "min", "max"] = Field("mid", description="Range of risk attitudes.")
    big_r_adjust: Literal["none", "half", "one_third", "two_thirds", "full"] = Field(
        "one_third", description="How much of i's own risk attitude h uses when estimating i's utilities."
    )
    third_party: Literal["semi", "none", "full"] = Field("semi", description="Third parties' commitment.")
    bargain: Literal["s2p2", "s1p1", "s2pmax"] = Field("s2p2", description="Where a bargain puts the two actors.")


Influence = Annotated[
    Union[NoInfluence, PullInfluence, CompromiseInfluence, MedianInfluence, EumInfluence, SmpInfluence],
    Field(discriminator="model"),
]


class Effect(Strict):
    """A declarative change to one actor field when an event fires."""

    field: str = Field(
        description="Dotted path of an actor field: actors.<a>.capability|patience|risk|outside_option.value"
        "|preferences.<issue>.ideal|preferences.<issue>.salience."
    )
    op: Literal["set", "add", "multiply"] = Field(description="How the value changes.")
    value: Real = Field(description="Operand of op, in the field's unit.")
    rounds: int | None = Field(
        None, ge=1, le=MAX_HORIZON, description="How many rounds the change lasts, 1-10,000; omitted = for good."
    )


class Event(Sourced):
    """A shock: fires with a per-round hazard or at a fixed round, then applies its effects."""

    label: str = Field(description="Human-readable name.")
    hazard: Param(0.0, 1.0) | None = Field(None, description="Per-round probability of firing, 0-1.")
    round: int | None = Field(
        None, ge=1, le=MAX_HORIZON, description="Fixed round at which it fires (1 = the first round)."
    )
    repeat: bool = Field(False, description="With a hazard: may fire again after it fired once.")
    effects: list[Effect] = Field(min_length=1, description="What changes when it fires, in order.")

    @model_validator(mode="after")
    def _timing(self) -> Event:
        if (self.hazard is None) == (self.round is None):
            raise ValueError("give exactly one of 'hazard' (per-round probability) or 'round'")
        if self.round is not None and self.repeat:
            raise ValueError("'repeat' applies to events with a hazard; a fixed-round event fires once")
        return self


class TermRange(Strict):
    """Inclusive bounds on an agreed term, in the issue's unit."""

    min: Real | None = Field(None, description="Lowest value that counts (inclusive).")
    max: Real | None = Field(None, description="Highest value that counts (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> TermRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max}): no term could ever count")
        return self


Status = Literal["agreement", "signed", "rejected", "walkout", "breakdown", "frozen", "no_deal"]
InForce = Literal["agreement", "status_quo", "outside_options"]


class Outcome(Strict):
    """A named indicator, true for a run when every condition given holds (data, never code)."""

    label: str = Field(description="Human-readable name.")
    status: list[Status] | None = Field(
        None, min_length=1, description="Run ended in one of these statuses (at least one)."
    )
    terms: dict[Name, TermRange] = Field(default_factory=dict, description="Agreed terms within these bounds.")
    in_force: dict[Name, TermRange] = Field(
        default_factory=dict,
        description="The terms in force at the end (agreed, or the status quo's) within these bounds.",
    )
    force: list[InForce] | None = Field(
        None, min_length=1, description="What is in force at the end is one of these (at least one)."
    )
    rejected: bool | None = Field(
        None, description="A ratifying body rejected a signed package at least once (true) or never (false)."
    )
    walkout_by: list[Name] | None = Field(
        None, min_length=1, description="The run ended with one of these actors walking out (at least one)."
    )
    within_rounds: int | None = Field(
        None, ge=1, le=MAX_HORIZON, description="The run ended within this many rounds, 1-10,000."
    )


class Scenario(Strict):
    """A whole negotiation: issues, actors, protocol, influence, events and the outcomes to report."""

    name: Name = Field(description="Short name, used in result folder names.")
    question: str = Field(description="The question this scenario answers, in one line.")
    description: str = Field("", description="Longer notes.")
    seed: str = Field(
        min_length=1, description="Path of the source article, relative to this file; quotes are checked in it."
    )
    references: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Paths of source lists, relative to this file; cites are checked in them."
    )
    start_date: date = Field(
        strict=False,
        description="Date of the first round (YYYY-MM-DD); every round's date up to the horizon must be a real "
        "date (before 10000-01-01).",
    )
    issues: dict[Name, Issue] = Field(min_length=1, max_length=MAX_ISSUES, description="Dimensions under negotiation.")
    actors: dict[Name, Actor] = Field(min_length=2, max_length=MAX_ACTORS, description="Parties and stakeholders.")
    protocol: Protocol = Field(default_factory=Protocol, description="Bargaining protocol.")
    influence: Influence = Field(default_factory=lambda: NoInfluence(model="none"), description="Influence stage.")
    events: dict[Name, Event] = Field(default_factory=dict, max_length=MAX_EVENTS, description="Shocks.")
    outcomes: dict[Name, Outcome] = Field(
        default_factory=dict, max_length=MAX_OUTCOMES, description="Indicators to report."
    )
    status_quo: StatusQuo | None = Field(
        None, description="What holds while no agreement is; without one, nothing flows while talks go on."
    )

    def parties(self) -> list[str]:
        """Names of the actors that must sign, in declaration order."""
        return [name for name, actor in self.actors.items() if actor.role == "party"]
