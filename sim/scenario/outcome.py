"""What happened in a historical case: the observed outcome file that only the backtest reads.

A case is a scenario written from the facts known at its cut-off (``start_date``) plus, kept apart, an
outcome file ``outcomes/<scenario file name>`` beside it. The scenario and the engine never read the
outcome; ``basing backtest`` scores the scenario's forecast against it. The outcome is checked against
its scenario: its class must be one the scenario can produce, a walkout must name a party, and each
observed term must be one of the scenario's issues, inside its range.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field, ValidationError

from sim.scenario.base import Real, Strict
from sim.scenario.distributions import is_random
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.load import problems_from, read_yaml, shown
from sim.scenario.loaded import LoadedScenario, locate
from sim.scenario.paths import Index
from sim.scenario.schema import Name, Status

OUTCOMES_FOLDER = "outcomes"  # beside the case scenarios


class OutcomeSource(Strict):
    """A source of the observed outcome: a verbatim quote and where it is published."""

    quote: str = Field(min_length=3, description="Words quoted verbatim from the source.")
    cite: str = Field(min_length=8, description="Where the quote is published (an address or a reference).")


class ObservedOutcome(Strict):
    """What happened by the end of a case's window, with its sources."""

    case: Name = Field(description="The scenario's ``name``.")
    observed: Status = Field(description="The engine status the negotiation was in at the window's end.")
    date: dt.date = Field(strict=False, description="When that outcome was reached (YYYY-MM-DD).")
    walkout_by: Name | None = Field(None, description="For a walkout: the party (an actor key) that left.")
    terms: dict[Name, Real] = Field(
        default_factory=dict, description="Observed values of the scenario's issues at the end, in their units."
    )
    summary: str = Field(min_length=1, description="What happened, in a paragraph.")
    sources: list[OutcomeSource] = Field(min_length=1, description="Where the outcome is recorded (at least one).")


def outcome_path(scenario: Path) -> Path:
    """Where a case scenario's outcome file lives: ``outcomes/<its file name>`` beside it."""
    return scenario.parent / OUTCOMES_FOLDER / scenario.name


def producible(loaded: LoadedScenario) -> dict[str, str]:
    """For each status the scenario cannot produce, why not."""
    spec = loaded.spec
    reasons: dict[str, str] = {}
    if not spec.parties():
        return {status: "the scenario has no parties (influence only)" for status in Status.__args__}
    bodies = [spec.actors[p].ratification for p in spec.parties() if spec.actors[p].ratification is not None]
    if not bodies:
        reasons["signed"] = reasons["rejected"] = "no party has a ratification: block"
    elif not any(body.on_rejection == "end" for body in bodies):
        reasons["rejected"] = "no ratifying body ends the talks on a rejection (on_rejection: end)"
    risk = spec.protocol.breakdown_risk
    if (risk.support()[1] if is_random(risk) else risk) <= 0:
        reasons["breakdown"] = reasons["frozen"] = "protocol.breakdown_risk is 0"
    else:
        frozen = spec.status_quo is not None and spec.status_quo.after_breakdown == "status_quo"
        reasons["breakdown" if frozen else "frozen"] = (
            "a breakdown freezes the status quo here (status_quo.after_breakdown)" if frozen
            else "a breakdown leads to the outside options here (status_quo.after_breakdown)"
        )  # fmt: skip
    return reasons


def load_outcome(path: Path, loaded: LoadedScenario) -> ObservedOutcome:
    """Read and check an outcome file against its case's scenario; ScenarioError with located problems."""
    file = shown(path)
    data, origins = read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(file, None, "", "an outcome file is a mapping (case, observed, date, ...)")])
    try:
        outcome = ObservedOutcome.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, data, origins, file)) from None
    spec, problems = loaded.spec, []

    def problem(key: tuple, message: str) -> None:
        problems.append(locate(origins, key, message, file))

    if outcome.case != spec.name:
        problem(("case",), f"{outcome.case!r} is not the scenario's name ({spec.name!r} in {shown(loaded.path)})")
    why = producible(loaded).get(outcome.observed)
    if why:
        problem(("observed",), f"{outcome.observed!r} is an outcome the scenario cannot produce: {why}")
    if outcome.walkout_by is not None and outcome.observed != "walkout":
        problem(("walkout_by",), f"given for an outcome of {outcome.observed!r}: only a walkout has a walker")
    elif outcome.walkout_by is not None and outcome.walkout_by not in spec.parties():
        problem(("walkout_by",), f"{outcome.walkout_by!r} is not a party of the scenario ({', '.join(spec.parties())})")
    for issue, value in outcome.terms.items():
        if issue not in spec.issues:
            problem(("terms", issue), f"not an issue of the scenario ({', '.join(spec.issues)})")
            continue
        low, high = spec.issues[issue].range
        if not low <= value <= high:
            problem(("terms", issue), f"{value:g} is outside the issue's range [{low:g}, {high:g}]")
    end = spec.start_date.toordinal() + spec.protocol.horizon * spec.protocol.round_days
    if outcome.date < spec.start_date:
        problem(("date",), f"{outcome.date} is before the case's cut-off ({spec.start_date})")
    elif outcome.date.toordinal() > end:
        problem(("date",), f"{outcome.date} is after the window's end ({dt.date.fromordinal(int(end))})")
    for index, source in enumerate(outcome.sources):
        if not source.quote.strip():
            problem(("sources", Index(index), "quote"), "an empty quote supports nothing")
    if problems:
        raise ScenarioError(problems)
    return outcome


__all__ = ["OUTCOMES_FOLDER", "ObservedOutcome", "OutcomeSource", "load_outcome", "outcome_path", "producible"]
