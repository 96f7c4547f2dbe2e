"""The controls of ``basing explore``: one per number in a scenario, with what its field means.

A control is every number the resolved scenario holds: a plain number, or one parameter of a
distribution (``actors.russia.patience.low``). Each carries the documentation of its field from the
scenario's schema (meaning, units, range as the field states them), its numeric bounds where the schema
gives any narrower than the limit on every number, and the group it is shown in (an actor, an issue, an
event, the protocol, ...).

A change is text, read as one YAML scalar, never evaluated. Changes become ``--set`` overrides, so the
schema judges them exactly as it judges an edit of the file: a value under a list (a tactic's deadline)
is set by overriding the whole list, with the other entries as they were.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from sim.scenario.errors import ScenarioError
from sim.scenario.limits import MAX_MAGNITUDE
from sim.scenario.load import assignment
from sim.scenario.loaded import LoadedScenario
from sim.scenario.paths import Index, dotted
from sim.scenario.reader import parse
from sim.scenario.schema import Scenario

MAX_TEXT = 200  # characters of a control's text: more is not one number
Key = tuple[Any, ...]  # a path into the resolved data: mapping keys and list positions (Index)

GROUPS = {"actors": "actor", "issues": "issue", "events": "event", "outcomes": "indicator"}
SECTIONS = {"protocol": "Protocol", "influence": "Influence", "status_quo": "Status quo",
            "ratification": "Ratification"}  # fmt: skip


@dataclass(frozen=True)
class Control:
    """One number of the scenario that the page lets the user change.

    ``key`` is its place in the resolved data and ``path`` the same as text (``actors.russia.patience.low``);
    ``group`` the heading it is shown under; ``label`` what it sets within the group; ``value`` the
    number as written; ``help`` its field's documentation; ``low``/``high`` the schema's bounds, where it
    states any narrower than the limit on every number (None otherwise); ``whole`` for an integer field."""

    key: Key
    path: str
    group: str
    label: str
    value: float | int
    help: str
    low: float | None
    high: float | None
    whole: bool


def controls_of(loaded: LoadedScenario) -> list[Control]:
    """Every number of the resolved scenario, in the file's order, as a control."""
    schema = Scenario.model_json_schema()
    out: list[Control] = []

    def walk(key: Key, value: Any) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, (int, float)):
            out.append(_control(schema, loaded, key, value))
        elif isinstance(value, dict):
            for name, item in value.items():
                walk((*key, name), item)
        elif isinstance(value, list):
            for position, item in enumerate(value):
                walk((*key, Index(position)), item)

    walk((), loaded.resolved)
    return out


def _control(schema: dict, loaded: LoadedScenario, key: Key, value: float | int) -> Control:
    nodes = _schema_nodes(schema, loaded.resolved, key)
    helps = [node["description"] for node in nodes[-3:] if node.get("description")]
    last = nodes[-1] if nodes else {}
    low = _bound(last, "minimum", "exclusiveMinimum")
    high = _bound(last, "maximum", "exclusiveMaximum")
    whole = last.get("type") == "integer" or any(b.get("type") == "integer" for b in _branches(last, schema))
    return Control(key, dotted(key), _group(loaded, key), _label(key), value, " ".join(dict.fromkeys(helps)),
                   low, high, whole)  # fmt: skip


def _bound(node: dict, inclusive: str, exclusive: str) -> float | None:
    value = node.get(inclusive, node.get(exclusive))
    return None if value is None or abs(value) >= MAX_MAGNITUDE else float(value)


def _group(loaded: LoadedScenario, key: Key) -> str:
    """The heading a control is shown under: 'Russia (actor)', 'Protocol', ..."""
    section = key[0]
    if section in GROUPS and len(key) > 1:
        entry = loaded.resolved.get(section, {}).get(key[1], {})
        label = entry.get("label", key[1]) if isinstance(entry, dict) else key[1]
        return f"{label} ({GROUPS[section]})"
    return SECTIONS.get(section, str(section).replace("_", " ").capitalize())


def _label(key: Key) -> str:
    """The control's path within its group: 'patience: low', 'strategy.tactics[0].deadline: mode'."""
    rest = key[2:] if key[0] in GROUPS and len(key) > 2 else key[1:]
    return dotted(rest) if rest else dotted(key)


def _branches(node: dict, schema: dict) -> list[dict]:
    """A schema node with references followed and unions (anyOf, oneOf) opened into their branches."""
    if "$ref" in node:
        return _branches(schema["$defs"][node["$ref"].rsplit("/", 1)[-1]], schema)
    for union in ("anyOf", "oneOf"):
        if union in node:
            return [branch for option in node[union] for branch in _branches(option, schema)]
    return [node]


def _schema_nodes(schema: dict, data: Any, key: Key) -> list[dict]:
    """The schema nodes along ``key`` (one per step: the field's, then a distribution parameter's);
    a union's branch is the one the data takes (a distribution by its ``dist``)."""
    nodes, node, value = [], schema, data
    for part in key:
        step = None
        for branch in _branches(node, schema):
            if isinstance(part, Index) and branch.get("type") == "array":
                step = branch.get("items", {})
            elif isinstance(value, dict) and part in branch.get("properties", {}):
                dist = branch["properties"].get("dist", {}).get("const")
                if dist is not None and value.get("dist") != dist:
                    continue
                step = branch["properties"][part]
            elif isinstance(value, dict) and branch.get("type") == "object":
                step = next(iter(branch.get("patternProperties", {}).values()), branch.get("additionalProperties"))
            if isinstance(step, dict):
                break
            step = None
        if step is None:
            return nodes
        nodes.append(step)
        node, value = step, value[part]
    return nodes


class ChangeError(ValueError):
    """A change that is not one number in YAML (a mapping, a list, invalid YAML): ``path`` and why."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


def read_change(control: Control, text: str) -> Any:
    """The value a control's text says: one YAML scalar (never evaluated); refused if it is a mapping,
    a list, empty or not YAML. Whether the value is allowed is for the schema to say."""
    if len(text) > MAX_TEXT:
        raise ChangeError(control.path, f"{len(text):,} characters; one number is at most {MAX_TEXT}")
    try:
        value = parse(text, "explore")
    except ScenarioError as exc:
        raise ChangeError(control.path, exc.problems[0].message) from None
    if value is None or isinstance(value, (dict, list)):
        raise ChangeError(control.path, "give one number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ChangeError(control.path, "give a finite number")
    return value


def changed_data(resolved: dict[str, Any], changes: dict[Key, Any]) -> dict[str, Any]:
    """The resolved scenario with the changes made."""
    data = copy.deepcopy(resolved)
    for key, value in changes.items():
        node = data
        for part in key[:-1]:
            node = node[part]
        node[key[-1]] = value
    return data


def override_roots(changes: dict[Key, Any]) -> list[Key]:
    """Where each change is set from: its own path, or the mapping key above the first list on it (a
    list is replaced whole); each root once, in order."""
    roots: dict[Key, None] = {}
    for key in changes:
        cut = next((i for i, part in enumerate(key) if isinstance(part, Index)), len(key))
        roots[key[:cut]] = None
    return list(roots)


def overrides_of(resolved: dict[str, Any], changes: dict[Key, Any]) -> list[str]:
    """The changes as ``--set`` assignments (``path=value`` in YAML flow style)."""
    data = changed_data(resolved, changes)
    out = []
    for root in override_roots(changes):
        node = data
        for part in root:
            node = node[part]
        out.append(assignment(dotted(root), node))
    return out


def variant_mapping(resolved: dict[str, Any], changes: dict[Key, Any]) -> dict[str, Any]:
    """The nested mapping a variant file writes below ``extends``: each override root with its value."""
    data = changed_data(resolved, changes)
    out: dict[str, Any] = {}
    for root in override_roots(changes):
        node, target = data, out
        for part in root[:-1]:
            node = node[part]
            target = target.setdefault(part, {})
        target[root[-1]] = copy.deepcopy(node[root[-1]])
    return out


__all__ = ["ChangeError", "Control", "changed_data", "controls_of", "overrides_of", "read_change", "variant_mapping"]
