"""Cross-reference checks that a per-field schema cannot make: names, ranges, event targets."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sim.scenario.distributions import is_random
from sim.scenario.limits import MAX_WEIGHT
from sim.scenario.paths import Index

if TYPE_CHECKING:
    from sim.scenario.errors import Problem
    from sim.scenario.load import LoadedScenario

#: Actor fields an event may change, with their admissible bounds (None: the issue's range).
EFFECT_FIELDS: dict[str, tuple[float, float] | None] = {
    "capability": (0.0, MAX_WEIGHT),  # finite caps: repeated multiplications must not overflow
    "patience": (0.0, 1.0),
    "risk": (-1.0, 1.0),
    "outside_option.value": (0.0, 1.0),
    "ideal": None,
    "salience": (0.0, MAX_WEIGHT),
}


def parse_effect_field(field: str) -> tuple[str, str, str | None]:
    """'actors.russia.preferences.tartus.ideal' -> ('russia', 'ideal', 'tartus');
    'actors.russia.outside_option.value' -> ('russia', 'outside_option.value', None).

    Raises ValueError with a readable reason when the path is not an actor field."""
    parts = field.split(".")
    if len(parts) < 3 or parts[0] != "actors":
        raise ValueError("must start with actors.<actor>.")
    actor, rest = parts[1], parts[2:]
    if rest[0] == "preferences":
        if len(rest) != 3 or rest[2] not in ("ideal", "salience"):
            raise ValueError("preference effects name actors.<actor>.preferences.<issue>.ideal or .salience")
        return actor, rest[2], rest[1]
    name = ".".join(rest)
    if name not in EFFECT_FIELDS or name in ("ideal", "salience"):
        allowed = ", ".join(k for k in EFFECT_FIELDS if k not in ("ideal", "salience"))
        raise ValueError(f"'{name}' is not an actor field an event can change ({allowed}, preferences.<issue>.*)")
    return actor, name, None


def _support(value: object) -> tuple[float, float]:
    return value.support() if is_random(value) else (float(value), float(value))


def check_references(loaded: LoadedScenario) -> list[Problem]:
    """Every name refers to something that exists and every ideal lies in its issue's range."""
    spec = loaded.spec
    problems: list[Problem] = []
    parties = spec.parties()
    influence_only = not parties
    if len(parties) == 1:
        message = "a deal needs at least two parties (or none, for an influence-only run)"
        problems.append(loaded.locate(("actors",), message))
    if influence_only and spec.influence.model in ("none", "pull"):
        message = "an influence-only scenario (no parties) needs compromise, median, eum or smp"
        problems.append(loaded.locate(("influence",), message))
    if influence_only:
        for issue in spec.issues:
            weight = sum(
                _support(actor.capability)[1] * _support(actor.preferences[issue].salience)[1]
                for actor in spec.actors.values()
                if issue in actor.preferences
            )
            if weight <= 0:
                message = "no actor has both capability and salience here, so there is nothing to forecast"
                problems.append(loaded.locate(("issues", issue), message))
    for name, actor in spec.actors.items():
        for issue_name, pref in actor.preferences.items():
            path = ("actors", name, "preferences", issue_name)
            issue = spec.issues.get(issue_name)
            if issue is None:
                problems.append(loaded.locate(path, f"unknown issue '{issue_name}' (issues: {', '.join(spec.issues)})"))
                continue
            lo, hi = _support(pref.ideal)
            if lo < issue.range[0] or hi > issue.range[1]:
                problems.append(
                    loaded.locate(
                        path + ("ideal",),
                        f"ideal [{lo}, {hi}] lies outside the issue's range [{issue.range[0]}, {issue.range[1]}]",
                    )
                )
        if actor.role == "party" and all(_support(p.salience)[1] <= 0 for p in actor.preferences.values()):
            problems.append(loaded.locate(("actors", name, "preferences"), "a party needs a positive salience"))
    for index, target in enumerate(getattr(spec.influence, "targets", None) or []):
        if target not in parties:
            problems.append(
                loaded.locate(
                    ("influence", "targets", Index(index)), f"'{target}' is not a party ({', '.join(parties)})"
                )
            )
    kinds = {spec.actors[p].strategy.kind == "equilibrium" for p in parties}
    if len(kinds) > 1:
        problems.append(loaded.locate(("actors",), "the equilibrium strategy assumes every party plays it"))
    first = spec.protocol.first_proposer
    if first is not None and first not in parties:
        problems.append(
            loaded.locate(("protocol", "first_proposer"), f"'{first}' is not a party ({', '.join(parties)})")
        )
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
            if actor not in spec.actors:
                problems.append(loaded.locate(path, f"unknown actor '{actor}' (actors: {', '.join(spec.actors)})"))
                continue
            if issue is not None and issue not in spec.issues:
                problems.append(loaded.locate(path, f"unknown issue '{issue}' (issues: {', '.join(spec.issues)})"))
                continue
            if issue is not None and issue not in spec.actors[actor].preferences:
                problems.append(loaded.locate(path, f"actor '{actor}' has no preference on issue '{issue}'"))
                continue
            bounds = spec.issues[issue].range if field == "ideal" else EFFECT_FIELDS[field]
            if effect.op == "set" and not bounds[0] <= effect.value <= bounds[1]:
                problems.append(
                    loaded.locate(path[:-1] + ("value",), f"{effect.value} lies outside [{bounds[0]}, {bounds[1]}]")
                )
    problems += _date_problems(loaded)
    problems += _outcome_problems(loaded)
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
    reserved = {"run", "status", "walkout_actor", "round"}
    for outcome_name, outcome in spec.outcomes.items():
        where = ("outcomes", outcome_name)
        if outcome_name in reserved or outcome_name.startswith(("term_", "utility_", "forecast_", "win_")):
            problems.append(loaded.locate(where, "name taken by a results column; choose another"))
        for issue_name, bounds in outcome.terms.items():
            issue = spec.issues.get(issue_name)
            if issue is None:
                problems.append(loaded.locate((*where, "terms", issue_name), "unknown issue"))
                continue
            low, high = issue.range
            if (bounds.min is not None and bounds.min > high) or (bounds.max is not None and bounds.max < low):
                message = f"these bounds miss the issue's range [{low}, {high}]: no term could ever count"
                problems.append(loaded.locate((*where, "terms", issue_name), message))
        for actor in outcome.walkout_by or []:
            if actor not in parties:
                problems.append(loaded.locate((*where, "walkout_by"), f"'{actor}' is not a party"))
        status = set(outcome.status) if outcome.status is not None else None
        if status is not None and outcome.terms and "agreement" not in status:
            message = "terms hold only for agreements, but status leaves agreement out: never true"
            problems.append(loaded.locate((*where, "status"), message))
        if status is not None and outcome.walkout_by and "walkout" not in status:
            message = "walkout_by needs a walkout, but status leaves walkout out: never true"
            problems.append(loaded.locate((*where, "status"), message))
        if outcome.terms and outcome.walkout_by:
            message = "terms hold only for agreements and walkout_by only for walkouts: never true together"
            problems.append(loaded.locate(where, message))
    return problems
