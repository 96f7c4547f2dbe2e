"""YAML -> validated scenario: ``extends`` chains, ``--set`` overrides, located errors.

Files are parsed with PyYAML's safe loader only; nothing in a scenario is ever run as code.
Every value keeps the file and line it came from, so that a problem anywhere (a schema error, a
bad cross-reference, a missing quote) is reported as ``file:line: dotted.path: message``.
"""

from __future__ import annotations

import copy
import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.limits import MAX_FILE_BYTES, MAX_YAML_NODES
from sim.scenario.paths import Index, dotted
from sim.scenario.schema import Scenario

Key = tuple[Any, ...]
Origins = dict[Key, tuple[str, int]]


@dataclass
class LoadedScenario:
    """A validated scenario together with where each of its values came from."""

    spec: Scenario
    path: Path
    resolved: dict[str, Any]
    origins: Origins = field(repr=False)
    files: list[Path] = field(default_factory=list)

    def locate(self, path: Key, message: str) -> Problem:
        """A problem at a dotted path, with the file and line of the nearest value written there."""
        return locate(self.origins, path, message, shown(self.path))

    def resolve_relative(self, key: str, value: str) -> Path:
        """A path written in the file that set top-level ``key``, resolved against that file's folder."""
        origin = self.origins.get((key,), (str(self.path), 0))[0]
        base = Path(origin).resolve().parent if origin != "--set" else Path.cwd()
        return (base / value).resolve()


def locate(origins: Origins, path: Key, message: str, default_file: str) -> Problem:
    for cut in range(len(path), -1, -1):
        if path[:cut] in origins:
            file, line = origins[path[:cut]]
            return Problem(file, line or None, dotted(path), message)
    return Problem(default_file, None, dotted(path), message)


def _walk_nodes(node: yaml.Node, path: Key, file: str, origins: Origins, problems: list[Problem]) -> None:
    origins[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base`: its keys belong to this mapping
                merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for mapping in merged:
                    if isinstance(mapping, yaml.MappingNode):
                        _walk_nodes(mapping, path, file, origins, [])
                continue
            key = key_node.value if key_node.tag == "tag:yaml.org,2002:str" else _construct(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(file, line, dotted(path + (key,)), f"duplicate key (first at line {seen[key]})")
                )
            seen[key] = line
            _walk_nodes(value_node, path + (key,), file, origins, problems)
            origins[path + (key,)] = (file, line)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_nodes(item, path + (Index(index),), file, origins, problems)


def _construct(node: yaml.Node) -> Any:
    """The value of a node (a mapping key that is not text: a number, null, a date...)."""
    return yaml.SafeLoader("").construct_object(node, deep=True)


def shown(path: Path) -> str:
    """A path as the user would write it: relative to the working folder when inside it."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


_PARSED: dict[tuple, tuple[dict[str, Any], Origins]] = {}  # (path, size, mtime) -> parse, for sweeps


def read_yaml(path: Path) -> tuple[dict[str, Any], Origins]:
    """Parse one YAML file into a mapping and the line of every value in it. A file read before and not
    changed since is not parsed again (a sweep loads its scenario once per point); callers get copies."""
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    except OSError:
        key = None
    if key is not None and key in _PARSED:
        data, origins = _PARSED[key]
        return copy.deepcopy(data), dict(origins)
    data, origins = _parse_yaml(path)
    if key is not None:
        _PARSED[key] = (copy.deepcopy(data), dict(origins))
    return data, origins


def _parse_yaml(path: Path) -> tuple[dict[str, Any], Origins]:
    file = shown(path)
    text = _read_text(path, file)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        _check_expanded_size(node, file)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        tab = "\\t" in str(exc.problem) or "\t" in str(exc.problem)
        hint = " (YAML indents with spaces, never tabs)" if tab else ""
        raise ScenarioError([Problem(file, line, "", f"invalid YAML: {exc.problem or exc}{hint}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(file, None, "", f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise ScenarioError([Problem(file, None, "", "invalid YAML: nested too deeply")]) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ScenarioError([Problem(file, 1, "", f"a scenario must be a YAML mapping, but this file is {kind}")])
    origins: Origins = {}
    problems: list[Problem] = []
    _walk_nodes(node, (), file, origins, problems)
    if problems:
        raise ScenarioError(problems)
    return data, origins


def _read_text(path: Path, file: str) -> str:
    """A file's text: UTF-8 (a leading byte-order mark is allowed), at most MAX_FILE_BYTES."""
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            raise ScenarioError([Problem(file, None, "", "not a regular file (a device or a pipe?)")])
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ScenarioError([Problem(file, None, "", f"file is larger than the limit of {MAX_FILE_BYTES:,} "
                                                         "bytes (see Limits in the README)")])  # fmt: skip
    except FileNotFoundError:
        raise ScenarioError([Problem(file, None, "", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(file, None, "", "is a folder, not a file")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(file, None, "", f"cannot read file: {exc.strerror or exc}")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded (save the file as UTF-8)"
        raise ScenarioError([Problem(file, line, "", message)]) from None


def _check_expanded_size(root: yaml.Node | None, file: str) -> None:
    """Refuse a document whose anchors and aliases expand to more than MAX_YAML_NODES values (an
    "alias bomb" of a few lines can stand for billions), counting each shared node once per use
    without expanding anything."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if depth > 200:
            raise ScenarioError([Problem(file, node.start_mark.line + 1, "", "invalid YAML: nested too deeply")])
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item, depth + 1) for item in node.value)
        sizes[id(node)] = min(total, MAX_YAML_NODES + 1)
        return sizes[id(node)]

    if root is not None and size(root, 0) > MAX_YAML_NODES:
        raise ScenarioError([Problem(file, None, "", f"anchors and aliases expand to more than {MAX_YAML_NODES:,} "
                                                     "values; refused (see Limits in the README)")])  # fmt: skip


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


def _read_chain(path: Path, stack: list[Path]) -> tuple[dict[str, Any], Origins, list[Path]]:
    path = path.resolve()
    data, origins = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data, origins, [path]
    where = ("extends",)
    if not isinstance(parent, str):
        raise ScenarioError([locate(origins, where, "extends must be a file name", shown(path))])
    if "://" in parent or parent.startswith(("http:", "https:", "ftp:", "file:")):
        message = f"extends takes a file path, not an address: {parent}"
        raise ScenarioError([locate(origins, where, message, shown(path))])
    parent_path = (path.parent / parent).resolve()
    top = stack[0] if stack else path
    if not parent_path.is_relative_to(top.parent):
        message = f"extended file {parent} lies outside the folder of {top.name}; refused"
        raise ScenarioError([locate(origins, where, message, shown(path))])
    if not parent_path.is_file():
        what = "is a folder" if parent_path.is_dir() else "not found"
        raise ScenarioError([locate(origins, where, f"extended file {what}: {shown(parent_path)}", shown(path))])
    if parent_path in [*stack, path]:
        cycle = " -> ".join(p.name for p in [*stack, path, parent_path])
        raise ScenarioError([locate(origins, where, f"extends cycle: {cycle}", shown(path))])
    base, base_origins, files = _read_chain(parent_path, [*stack, path])
    return merge(base, data), _merge_origins(base, base_origins, origins, data), [*files, path]


def _key_in(node: dict, key: str) -> Any:
    """The key of ``node`` that the text ``key`` names: itself, or the number it spells (points: {0: ...})."""
    if key in node:
        return key
    try:
        number = yaml.safe_load(key)
    except yaml.YAMLError:
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
        _check_expanded_size(yaml.compose(raw_value, Loader=yaml.SafeLoader), "--set")
        value = yaml.safe_load(raw_value)
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([Problem("--set", None, raw_path, f"invalid value: {reason}")]) from None
    except RecursionError:
        raise ScenarioError([Problem("--set", None, raw_path, "invalid value: nested too deeply")]) from None
    node[keys[-1]] = value
    path = tuple(keys)
    for old in [k for k in origins if k[: len(path)] == path]:
        del origins[old]
    origins[path] = ("--set", 0)


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


def _problems_from(exc: ValidationError, data: dict, origins: Origins, file: str) -> list[Problem]:
    errors = [(error, *_data_path(error["loc"], data, error["type"] == "missing")) for error in exc.errors()]
    problems: dict[str, Problem] = {}
    for error, key, node in errors:
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] in ("float_type", "int_type", "float_parsing") and isinstance(node, dict):
            if any(other is not error and k[: len(key)] == key for other, k, _ in errors):
                continue  # a distribution with its own errors: those say what is wrong
            message = "a distribution is not allowed here; give a number"
        if error["type"] == "unknown_key":
            key = key + (error["ctx"]["key"],)
        if error["type"] == "missing":
            message = "required field is missing"
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
    from sim.scenario.checks import check_references
    from sim.scenario.provenance import check_provenance

    path = Path(path)
    data, origins, files = _read_chain(path, [])
    for assignment in overrides or []:
        apply_set(data, origins, assignment)
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems_from(exc, data, origins, shown(path))) from None
    loaded = LoadedScenario(spec=spec, path=path.resolve(), resolved=data, origins=origins, files=files)
    problems = check_references(loaded)
    if problems:
        raise ScenarioError(problems)
    problems = check_provenance(loaded)
    if problems:
        raise ScenarioError(problems)
    return loaded
