"""YAML -> validated scenario: ``extends`` chains, ``--set`` overrides, located errors.

Files are parsed with PyYAML's safe loader only; nothing in a scenario is ever run as code.
Every value keeps the file and line it came from, so that a problem anywhere (a schema error, a
bad cross-reference, a missing quote) is reported as ``file:line: dotted.path: message``.
"""

from __future__ import annotations

import copy
import difflib
import math
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.files import file_kind
from sim.scenario.checks import check_references
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.limits import MAX_EXTENDS, MAX_MAGNITUDE
from sim.scenario.loaded import LoadedScenario, locate
from sim.scenario.paths import Index, dotted
from sim.scenario.provenance import check_provenance
from sim.scenario.reader import Key, Origins, parse, read_yaml, reads_as_number, shown
from sim.scenario.schema import Scenario

__all__ = [
    "LoadedScenario",
    "apply_set",
    "load_scenario",
    "locate",
    "merge",
    "problems_from",
    "read_yaml",
    "shown",
    "validate_resolved",
]


def merge(base: dict, override: dict) -> dict:
    """Deep-merge mappings: override wins, nested mappings merge, ``null`` deletes a key."""
    out = dict(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _merge_origins(base_data: dict, base: Origins, override: Origins, data: dict) -> Origins:
    """Origins of ``merge(base_data, data)``: a value the override replaces or deletes takes the
    override's locations along with everything below it; a mapping that merges into a base mapping
    keeps the base's locations for the keys the override does not mention."""
    merged = dict(base)

    def walk(base_node: dict, node: dict, prefix: Key) -> None:
        for key, value in node.items():
            path = (*prefix, key)
            if isinstance(value, dict) and isinstance(base_node.get(key), dict):
                merged[path] = override[path]
                walk(base_node[key], value, path)
                continue
            for old in [k for k in merged if k[: len(path)] == path]:
                del merged[old]
            if value is not None:
                merged.update({k: v for k, v in override.items() if k[: len(path)] == path})

    walk(base_data, data, ())
    return merged


def _extended(path: Path, top: Path, chain: list[Path], data: dict, origins: Origins) -> Path | None:
    """The file ``path`` extends (checked: a path inside the top file's folder, a regular file, no
    cycle, within the limit on chain length), or None."""
    parent = data.pop("extends", None)
    if parent is None:
        return None
    where = ("extends",)

    def refuse(message: str) -> ScenarioError:
        return ScenarioError([locate(origins, where, message, shown(path))])

    if not isinstance(parent, str):
        raise refuse("extends must be a file name")
    if "://" in parent or parent.startswith(("http:", "https:", "ftp:", "file:")):
        raise refuse(f"extends takes a file path, not an address: {parent}")
    try:
        parent_path = (path.parent / parent).resolve()
    except (OSError, ValueError, RuntimeError):
        raise refuse(f"extends names no usable path: {parent!r}") from None
    if not parent_path.is_relative_to(top.parent):
        raise refuse(f"extended file {parent} lies outside the folder of {top.name}; refused")
    kind = file_kind(parent_path)
    if kind != "file":
        what = {None: "not found", "folder": "is a folder"}.get(kind, "is not a regular file (a device or a pipe?)")
        raise refuse(f"extended file {what}: {shown(parent_path)}")
    if parent_path in chain:
        raise refuse("extends cycle: " + " -> ".join(p.name for p in [*chain, parent_path]))
    if len(chain) >= MAX_EXTENDS:
        raise refuse(f"extends chain longer than the limit of {MAX_EXTENDS} files (see Limits in the README)")
    return parent_path


def _read_chain(path: Path) -> tuple[dict[str, Any], Origins, list[Path]]:
    """A scenario file and every file it extends, merged (the extending file wins); the files in
    order from the base to the file itself."""
    try:
        top = path.resolve()
    except (OSError, RuntimeError, ValueError):
        raise ScenarioError([Problem(shown(path), None, "", "a loop of symbolic links, or no usable path")]) from None
    layers: list[tuple[dict[str, Any], Origins]] = []
    chain: list[Path] = []
    current: Path | None = top
    while current is not None:
        data, origins = read_yaml(path if current == top else current)  # the top file named as the user did
        chain.append(current)
        layers.append((data, origins))
        current = _extended(current, top, chain, data, origins)
    data, origins = layers[-1]
    for layer, layer_origins in reversed(layers[:-1]):
        data, origins = merge(data, layer), _merge_origins(data, origins, layer_origins, layer)
    return data, origins, chain[::-1]


def _key_in(node: dict, key: str) -> Any:
    """The key of ``node`` that the text ``key`` names: itself, or the number it spells (points: {0: ...})."""
    if key in node:
        return key
    try:
        number = parse(key, "--set")
    except ScenarioError:
        return None
    return number if isinstance(number, (int, float)) and number in node else None


def apply_set(data: dict, origins: Origins, assignment: str) -> None:
    """Apply one ``dotted.path=value`` override in place. Every part of the path but the last must
    exist (a top-level section may be created); the last may be new, and the schema then judges it."""
    if "=" not in assignment:
        raise ScenarioError([Problem("--set", None, assignment, "expected dotted.path=value")])
    raw_path, raw_value = assignment.split("=", 1)
    parts = raw_path.strip().split(".")
    keys: list[Any] = []
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if not isinstance(node, dict):
            raise ScenarioError([Problem("--set", None, raw_path, f"{dotted(tuple(keys))} holds no named values")])
        key = _key_in(node, part)
        if key is None and (last or (depth == 0 and part in Scenario.model_fields)):
            key = part
            if not last:
                node[key] = {}
        if key is None:
            close = difflib.get_close_matches(part, [str(k) for k in node], n=1)
            hint = f"; did you mean '{dotted((*keys, close[0]))}'?" if close else ""
            raise ScenarioError([Problem("--set", None, raw_path, f"no such path in the scenario{hint}")])
        keys.append(key)
        if not last:
            node = node[key]
    try:
        value = parse(raw_value, "--set")
    except ScenarioError as exc:
        reason = exc.problems[0].message.removeprefix("invalid YAML: ")
        raise ScenarioError([Problem("--set", None, raw_path, f"invalid value: {reason}")]) from None
    node[keys[-1]] = value
    path = tuple(keys)
    for old in [k for k in origins if k[: len(path)] == path]:
        del origins[old]
    origins[path] = ("--set", 0)


def assignment(path: str, value: Any) -> str:
    """The ``--set`` text ``path=value`` that ``apply_set`` reads back as ``value``: YAML on one line as
    PyYAML writes it (JSON's 1e-05 is text to YAML 1.1), keys in their order."""
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf, allow_unicode=True, sort_keys=False)
    return f"{path}={text.removesuffix(chr(10) + '...' + chr(10)).strip()}"


def _data_path(loc: tuple, data: dict, missing: bool) -> tuple[Key, Any]:
    """Map a pydantic error location onto the data: keep the keys and list positions that exist and
    drop union branch names; a missing field's name is kept. Returns the path and the value there."""
    node: Any = data
    path: list[Any] = []
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            path.append(Index(part))
        elif missing and i == len(loc) - 1:
            path.append(part)
    return tuple(path), node


def problems_from(exc: ValidationError, data: dict, origins: Origins, file: str) -> list[Problem]:
    """A pydantic error as located problems, one per dotted path, in words a scenario's author reads."""
    errors = [(error, *_data_path(error["loc"], data, error["type"] == "missing")) for error in exc.errors()]
    problems: dict[str, Problem] = {}
    for error, key, node in errors:
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] in ("float_type", "int_type", "float_parsing") and isinstance(node, dict):
            if any(other is not error and k[: len(key)] == key for other, k, _ in errors):
                continue  # a distribution with its own errors: those say what is wrong
            message = ("a distribution is not allowed here; give a number" if "dist" in node else
                       "a mapping where a number belongs; give a number")  # fmt: skip
        if error["type"] == "unknown_key":
            key = key + (error["ctx"]["key"],)
        if error["type"] == "missing":
            message = "required field is missing"
        if error["type"] == "float_type" and isinstance(node, str) and reads_as_number(node):
            message += f" (YAML reads {node} as text; write it with a decimal point and a signed exponent, e.g. 1.0e+5)"
        if error["type"] in ("less_than_equal", "greater_than_equal") and error["ctx"].get("le", error["ctx"].get(
                "ge")) in (MAX_MAGNITUDE, -MAX_MAGNITUDE):  # fmt: skip
            message += " (every number in a scenario lies within +-1e15; see Limits in the README)"
        if error["type"] == "string_type" and isinstance(node, bool):
            message += " (YAML reads an unquoted yes, no, on, off, true or false as true or false: quote it)"
        if error["type"] == "string_pattern_mismatch" and key and key[-1] == error["input"]:
            message = "names are lower_snake_case: a small letter, then small letters, digits or _"
        if error["type"] == "too_long" and isinstance(node, dict):
            message = f"{len(node)} entries; the limit is {error['ctx']['max_length']} (see Limits in the README)"
        if error["type"] == "less_than_equal" and key[-1:] == ("horizon",):
            message += " (the limit on rounds; see Limits in the README)"
        problems.setdefault(dotted(key), locate(origins, key, message, file))
    return list(problems.values())


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> LoadedScenario:
    """Read, merge, override and validate a scenario; raise ScenarioError with located problems."""
    path = Path(path)
    data, origins, files = _read_chain(path)
    for assignment in overrides or []:
        apply_set(data, origins, assignment)
    return _validated(path, data, origins, files, list(overrides or []))


def with_overrides(loaded: LoadedScenario, overrides: list[str]) -> LoadedScenario:
    """``loaded`` with more ``--set`` overrides, validated as ``load_scenario`` validates a file, from
    the data in memory: the scenario's files are not read again (an edit of them since does not count)."""
    data, origins = copy.deepcopy(loaded.resolved), dict(loaded.origins)
    for assignment in overrides:
        apply_set(data, origins, assignment)
    return _validated(loaded.path, data, origins, list(loaded.files), [*loaded.overrides, *overrides])


def _validated(path: Path, data: dict, origins: Origins, files: list[Path], overrides: list[str]) -> LoadedScenario:
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, data, origins, shown(path))) from None
    loaded = LoadedScenario(spec=spec, path=path.resolve(), resolved=data, origins=origins, files=files,
                            overrides=overrides)  # fmt: skip
    problems = check_references(loaded)
    if problems:
        raise ScenarioError(problems)
    problems = check_provenance(loaded)
    if problems:
        raise ScenarioError(problems)
    return loaded


def validate_resolved(data: Any, where: str) -> Scenario:
    """A scenario as a manifest holds it (resolved: extends and overrides applied), through the schema
    and the cross checks again (not provenance: its seed text lies elsewhere). Problems name ``where``
    and the dotted path under ``scenario``."""
    if not isinstance(data, dict):
        raise ScenarioError([Problem(where, None, "scenario", "not a mapping")])
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc, data, {}, where)
    else:
        loaded = LoadedScenario(spec=spec, path=Path(where), resolved=data, origins={}, files=[])
        problems = check_references(loaded)
        if not problems:
            return spec
    raise ScenarioError([Problem(p.file, None, f"scenario.{p.path}" if p.path else "scenario", p.message)
                         for p in problems])  # fmt: skip
