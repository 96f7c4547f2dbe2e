"""Cross-reference checks that a per-field schema cannot make: names, ranges, event targets, and how
strategies, the status quo and ratification fit together."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sim.scenario import columns
from sim.scenario.distributions import is_random
from sim.scenario.effects import EFFECT_FIELDS, parse_effect_field
from sim.scenario.paths import Index

if TYPE_CHECKING:
    from sim.scenario.errors import Problem
    from sim.scenario.loaded import LoadedScenario


def _support(value: object) -> tuple[float, float]:
    return value.support() if is_random(value) else (float(value), float(value))


def check_references(loaded: LoadedScenario) -> list[Problem]:
    """Every name refers to something that exists, every position lies in its issue's range, and the
    parts fit together (parties and their strategies, the status quo, ratification, events)."""
    problems: list[Problem] = []
    for check in (_party_problems, _influence_problems, _preference_problems, _strategy_problems,
                  _status_quo_problems, _ratification_problems, _event_problems, _date_problems,
                  _outcome_problems):  # fmt: skip
        problems += check(loaded)
    return problems


def _range_problem(loaded: LoadedScenario, path: tuple, value: object, issue: str, what: str) -> list[Problem]:
    """A position (number or distribution) outside the issue's range."""
    lo, hi = _support(value)
    low, high = loaded.spec.issues[issue].range
    if lo < low or hi > high:
        return [loaded.locate(path, f"{what} [{lo}, {hi}] lies outside the issue's range [{low}, {high}]")]
    return []


def _party_problems(loaded: LoadedScenario) -> list[Problem]:
    spec, problems = loaded.spec, []
    parties = spec.parties()
    if len(parties) == 1:
        message = "a deal needs at least two parties (or none, for an influence-only run)"
        problems.append(loaded.locate(("actors",), message))
    first = spec.protocol.first_proposer
    if first is not None and first not in parties:
        problems.append(
            loaded.locate(("protocol", "first_proposer"), f"'{first}' is not a party ({', '.join(parties)})")
        )
    for name, actor in spec.actors.items():
        where = ("actors", name)
        if actor.role == "party" and all(_support(p.salience)[1] <= 0 for p in actor.preferences.values()):
            problems.append(loaded.locate((*where, "preferences"), "a party needs a positive salience"))
        if actor.role == "party" and actor.strategy is None:
            problems.append(loaded.locate(where, "a party needs a strategy (how it bargains), e.g. "
                                                 "{kind: linear, deadline: 52}"))  # fmt: skip
        if actor.role == "stakeholder" and (actor.strategy is not None or actor.ratification is not None):
            field = "strategy" if actor.strategy is not None else "ratification"
            problems.append(loaded.locate((*where, field), f"a stakeholder does not bargain: {field} applies to "
                                                           "parties only"))  # fmt: skip
    return problems


def _influence_problems(loaded: LoadedScenario) -> list[Problem]:
    spec, problems = loaded.spec, []
    parties = spec.parties()
    if not parties and spec.influence.model in ("none", "pull"):
        message = "an influence-only scenario (no parties) needs compromise, median, eum or smp"
        problems.append(loaded.locate(("influence",), message))
    if not parties:
        for issue in spec.issues:
            weight = sum(
                _support(actor.capability)[1] * _support(actor.preferences[issue].salience)[1]
                for actor in spec.actors.values()
                if issue in actor.preferences
            )
            if weight <= 0:
                message = "no actor has both capability and salience here, so there is nothing to forecast"
                problems.append(loaded.locate(("issues", issue), message))
    for index, target in enumerate(getattr(spec.influence, "targets", None) or []):
        if target not in parties:
            problems.append(
                loaded.locate(
                    ("influence", "targets", Index(index)), f"'{target}' is not a party ({', '.join(parties)})"
                )
            )
    return problems


def _preference_problems(loaded: LoadedScenario) -> list[Problem]:
    spec, problems = loaded.spec, []
    for name, actor in spec.actors.items():
        for issue_name, pref in actor.preferences.items():
            path = ("actors", name, "preferences", issue_name)
            if issue_name not in spec.issues:
                problems.append(loaded.locate(path, f"unknown issue '{issue_name}' (issues: {', '.join(spec.issues)})"))
                continue
            problems += _range_problem(loaded, (*path, "ideal"), pref.ideal, issue_name, "ideal")
    return problems


def _strategy_problems(loaded: LoadedScenario) -> list[Problem]:
    spec, problems = loaded.spec, []
    strategies = {p: spec.actors[p].strategy for p in spec.parties() if spec.actors[p].strategy is not None}
    playing = {p for p, s in strategies.items() if s.kind == "equilibrium"}
    if playing and playing != set(strategies):
        problems.append(loaded.locate(("actors",), "the equilibrium strategy assumes every party plays it"))
    if playing:
        horizons = {(strategies[p].horizon, strategies[p].deadline) for p in playing}
        if len(horizons) > 1:
            message = "equilibrium players share one horizon and deadline (complete information)"
            problems.append(loaded.locate(("actors",), message))
        for party in playing:
            if spec.actors[party].ratification is not None:
                message = "the equilibrium strategy does not model ratification; use a tactic for this party"
                problems.append(loaded.locate(("actors", party, "ratification"), message))
    return problems


def _status_quo_problems(loaded: LoadedScenario) -> list[Problem]:
    spec, problems = loaded.spec, []
    if spec.status_quo is None:
        return problems
    where = ("status_quo", "positions")
    for issue in spec.status_quo.positions:
        if issue not in spec.issues:
            message = f"unknown issue '{issue}' (issues: {', '.join(spec.issues)})"
            problems.append(loaded.locate((*where, issue), message))
    missing = [issue for issue in spec.issues if issue not in spec.status_quo.positions]
    if missing:
        problems.append(loaded.locate(where, f"the status quo needs a position on every issue; missing: "
                                             f"{', '.join(missing)}"))  # fmt: skip
    for issue, value in spec.status_quo.positions.items():
        if issue in spec.issues:
            problems += _range_problem(loaded, (*where, issue), value, issue, "position")
    return problems


def _ratification_problems(loaded: LoadedScenario) -> list[Problem]:
    spec, problems = loaded.spec, []
    for name, actor in spec.actors.items():
        body = actor.ratification
        if body is None:
            continue
        where = ("actors", name, "ratification")
        for issue, pref in (body.preferences or {}).items():
            if issue not in spec.issues:
                problems.append(loaded.locate((*where, "preferences", issue), f"unknown issue '{issue}'"))
                continue
            problems += _range_problem(loaded, (*where, "preferences", issue, "ideal"), pref.ideal, issue, "ideal")
        if body.preferences is not None and body.threshold is None and spec.status_quo is None:
            message = (
                "a body with preferences and no threshold compares a package with the status quo: declare "
                "status_quo, or give a threshold"
            )
            problems.append(loaded.locate(where, message))
    return problems


def _event_problems(loaded: LoadedScenario) -> list[Problem]:
    spec, problems = loaded.spec, []
    for event_name, event in spec.events.items():
        if event.round is not None and event.round > spec.protocol.horizon:
            message = f"round {event.round} is after the horizon ({spec.protocol.horizon} rounds): it never fires"
            problems.append(loaded.locate(("events", event_name, "round"), message))
        for index, effect in enumerate(event.effects):
            path = ("events", event_name, "effects", Index(index), "field")
            try:
                actor, field, issue = parse_effect_field(effect.field)
            except ValueError as exc:
                problems.append(loaded.locate(path, str(exc)))
                continue
            if actor is None and spec.status_quo is None:
                problems.append(loaded.locate(path, "the scenario declares no status_quo for this effect to move"))
                continue
            if actor is not None and actor not in spec.actors:
                problems.append(loaded.locate(path, f"unknown actor '{actor}' (actors: {', '.join(spec.actors)})"))
                continue
            if issue is not None and issue not in spec.issues:
                problems.append(loaded.locate(path, f"unknown issue '{issue}' (issues: {', '.join(spec.issues)})"))
                continue
            if actor is not None and issue is not None and issue not in spec.actors[actor].preferences:
                problems.append(loaded.locate(path, f"actor '{actor}' has no preference on issue '{issue}'"))
                continue
            bounds = spec.issues[issue].range if field in ("ideal", "status_quo") else EFFECT_FIELDS[field]
            if effect.op == "set" and not bounds[0] <= effect.value <= bounds[1]:
                problems.append(
                    loaded.locate(path[:-1] + ("value",), f"{effect.value} lies outside [{bounds[0]}, {bounds[1]}]")
                )
    return problems


def _date_problems(loaded: LoadedScenario) -> list[Problem]:
    """Every round's date, up to the horizon, must be a date a calendar can hold."""
    spec = loaded.spec
    span = spec.protocol.horizon * spec.protocol.round_days
    if span <= (date.max - spec.start_date).days:
        return []
    message = (f"{spec.protocol.horizon} rounds of {spec.protocol.round_days:g} days from {spec.start_date} run past "
               f"{date.max}, the last date there is")  # fmt: skip
    return [loaded.locate(("start_date",), message)]


def _outcome_problems(loaded: LoadedScenario) -> list[Problem]:
    """Indicators must name results they can hold and conditions that can all hold at once."""
    spec = loaded.spec
    parties = spec.parties()
    problems: list[Problem] = []
    for outcome_name, outcome in spec.outcomes.items():
        where = ("outcomes", outcome_name)
        if columns.taken(outcome_name):
            problems.append(loaded.locate(where, "name taken by a results column; choose another"))
        for field in ("terms", "in_force"):
            for issue_name, bounds in getattr(outcome, field).items():
                issue = spec.issues.get(issue_name)
                if issue is None:
                    problems.append(loaded.locate((*where, field, issue_name), "unknown issue"))
                    continue
                low, high = issue.range
                if (bounds.min is not None and bounds.min > high) or (bounds.max is not None and bounds.max < low):
                    message = f"these bounds miss the issue's range [{low}, {high}]: no term could ever count"
                    problems.append(loaded.locate((*where, field, issue_name), message))
        for actor in outcome.walkout_by or []:
            if actor not in parties:
                problems.append(loaded.locate((*where, "walkout_by"), f"'{actor}' is not a party"))
        status = set(outcome.status) if outcome.status is not None else None
        if status is not None and outcome.terms and not status & {"agreement", "signed"}:
            message = (
                "terms hold only for agreements (and packages signed, awaiting ratification), but status "
                "leaves both out: never true"
            )
            problems.append(loaded.locate((*where, "status"), message))
        if status is not None and outcome.walkout_by and "walkout" not in status:
            message = "walkout_by needs a walkout, but status leaves walkout out: never true"
            problems.append(loaded.locate((*where, "status"), message))
        if outcome.terms and outcome.walkout_by:
            message = "terms hold only for agreements and walkout_by only for walkouts: never true together"
            problems.append(loaded.locate(where, message))
    return problems
