"""YAML text -> plain data, with the file and line of every value.

A file is read through the bounded reader (size limit; devices and pipes refused), composed once by
PyYAML's safe loader and checked before anything is built from it: the values it expands to after
anchors and aliases, its depth, duplicate keys, and keys that YAML 1.1 reads as booleans. The data is
then built from the same nodes with ``PlainConstructor``, which only makes what JSON can hold (text,
numbers, true/false, null, lists and mappings): dates are kept as their text for the schema to judge,
integers too long for Python and text that UTF-8 cannot encode are refused at their line, and YAML's
binary, set and ordered-map types are refused.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import yaml

from sim.errors import FileError
from sim.files import read_bounded
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.limits import MAX_FILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES
from sim.scenario.paths import Index, dotted

Key = tuple[Any, ...]
Origins = dict[Key, tuple[str, int]]

_MERGE = "tag:yaml.org,2002:merge"
_BOOL = "tag:yaml.org,2002:bool"


class PlainConstructor(yaml.constructor.SafeConstructor):
    """Builds only JSON-like values; anything else is a located ConstructorError."""

    def construct_yaml_str(self, node: yaml.ScalarNode) -> str:
        text = super().construct_yaml_str(node)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = f"\\u{ord(text[exc.start]):04x}"
            raise yaml.constructor.ConstructorError(
                None, None, f"text holds {code}, a lone surrogate that cannot be written as UTF-8", node.start_mark
            ) from None
        return text

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Any value; one that its tag cannot make (``!!bool 'maybe'``, ``!!float 'x'``) is a located
        ConstructorError rather than a Python exception."""
        try:
            return super().construct_object(node, deep)
        except (KeyError, ValueError, TypeError, OverflowError):
            kind = node.tag.rsplit(":", 1)[-1]
            value = node.value if isinstance(node, yaml.ScalarNode) else "this value"
            raise yaml.constructor.ConstructorError(
                None, None, f"{value!r} cannot be read as YAML's !!{kind}", node.start_mark
            ) from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError as exc:
            too_long = "limit" in str(exc)  # Python refuses integers of more than 4,300 digits
            why = "an integer too long to read (more than 4,300 digits)" if too_long else \
                f"{node.value!r} is not an integer (YAML's !!int)"  # fmt: skip
            raise yaml.constructor.ConstructorError(None, None, why, node.start_mark) from None

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> str:  # type: ignore[override]
        """A date stays the text it was written as; the schema reads it (and says why it is no date)."""
        return self.construct_scalar(node)

    def construct_unplain(self, node: yaml.Node) -> None:
        kind = node.tag.rsplit(":", 1)[-1]
        raise yaml.constructor.ConstructorError(
            None, None, f"YAML's !!{kind} type is not allowed (text, numbers, true/false, null, lists and mappings "
            "only)", node.start_mark,
        )  # fmt: skip


for _tag in ("binary", "set", "omap", "pairs"):
    PlainConstructor.add_constructor(f"tag:yaml.org,2002:{_tag}", PlainConstructor.construct_unplain)
PlainConstructor.add_constructor("tag:yaml.org,2002:str", PlainConstructor.construct_yaml_str)
PlainConstructor.add_constructor("tag:yaml.org,2002:int", PlainConstructor.construct_yaml_int)
PlainConstructor.add_constructor("tag:yaml.org,2002:timestamp", PlainConstructor.construct_yaml_timestamp)


def build(node: yaml.Node) -> Any:
    """The plain value of a composed node."""
    return PlainConstructor().construct_document(node)


def reads_as_number(text: str) -> bool:
    """Whether Python reads ``text`` as a number (``1e5`` does; YAML 1.1 reads it as text)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


#: Whole numbers as typed: ASCII digits only (``str.isdigit`` accepts '²' and other scripts' digits).
WHOLE = re.compile(r"[0-9]+")


def whole_number(text: str, digits: int = 18) -> int | None:
    """``text`` as a whole number (0 or more) if it is one of at most ``digits`` ASCII digits, else None."""
    return int(text) if len(text) <= digits and WHOLE.fullmatch(text) else None


def shown(path: Path) -> str:
    """A path as the user would write it: relative to the working folder when inside it."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


def parse(text: str, file: str) -> Any:
    """Compose, check and build one YAML value (a ``--set`` value, say); problems are located."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        check_expanded_size(node, file)
        return None if node is None else build(node)
    except yaml.YAMLError as exc:
        raise yaml_problem(exc, file) from None
    except RecursionError:
        raise ScenarioError([Problem(file, None, "", too_deep())]) from None


def yaml_problem(exc: yaml.YAMLError, file: str) -> ScenarioError:
    """A YAML error as a located problem."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        tab = "\\t" in str(exc.problem) or "\t" in str(exc.problem)
        hint = " (YAML indents with spaces, never tabs)" if tab else ""
        line = mark.line + 1 if mark else None
        return ScenarioError([Problem(file, line, "", f"invalid YAML: {exc.problem or exc}{hint}")])
    return ScenarioError([Problem(file, None, "", f"invalid YAML: {exc}")])


def too_deep() -> str:
    return f"invalid YAML: nested deeper than the limit of {MAX_YAML_DEPTH} levels (see Limits in the README)"


def check_expanded_size(root: yaml.Node | None, file: str) -> None:
    """Refuse a document nested deeper than MAX_YAML_DEPTH, or whose anchors and aliases expand to more
    than MAX_YAML_NODES values (an "alias bomb" of a few lines can stand for billions), counting each
    shared node once per use without expanding anything."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if depth > MAX_YAML_DEPTH:
            raise ScenarioError([Problem(file, node.start_mark.line + 1, "", too_deep())])
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


def _walk_nodes(node: yaml.Node, path: Key, file: str, origins: Origins, problems: list[Problem]) -> None:
    """Record the line of every value; report duplicate keys and keys YAML reads as true or false."""
    origins[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:  # `<<: *base`: its keys belong to this mapping
                merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for mapping in merged:
                    if isinstance(mapping, yaml.MappingNode):
                        _walk_nodes(mapping, path, file, origins, [])
                continue
            line = key_node.start_mark.line + 1
            if key_node.tag == _BOOL:
                text = key_node.value
                message = (f"the key {text} is read by YAML as {str(build(key_node)).lower()}, not as a name; "
                           f"quote it ('{text}') to use it as one")  # fmt: skip
                problems.append(Problem(file, line, dotted(path + (text,)), message))
                continue
            key = key_node.value if key_node.tag == "tag:yaml.org,2002:str" else build(key_node)
            if isinstance(key, (list, dict)):
                problems.append(Problem(file, line, dotted(path), "a key must be a name or a number, not a list "
                                                                  "or a mapping"))  # fmt: skip
                continue
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


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text (a leading byte-order mark is allowed), or a located problem."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded (save the file as UTF-8)"
        raise ScenarioError([Problem(file, line, "", message)]) from None


def read_text(path: Path, file: str) -> str:
    """A file's text: a regular file of at most MAX_FILE_BYTES, in UTF-8."""
    try:
        return decode(read_bounded(path, MAX_FILE_BYTES), file)
    except FileError as exc:
        raise ScenarioError([Problem(file, None, "", exc.reason)]) from None


_PARSED: dict[tuple, tuple[dict[str, Any], Origins]] = {}  # (path, size, mtime, cwd) -> parse, for sweeps


def read_yaml(path: Path) -> tuple[dict[str, Any], Origins]:
    """Parse one YAML file into a mapping and the line of every value in it. A file read before and not
    changed since is not parsed again (a sweep loads its scenario once per point); callers get copies.
    The working folder is part of the key, as the file names in the origins are shown relative to it."""
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, os.getcwd())
    except (OSError, ValueError, RuntimeError):  # RuntimeError: a loop of links (read_text says so)
        key = None
    if key is not None and key in _PARSED:
        data, origins = _PARSED[key]
        return copy.deepcopy(data), dict(origins)
    data, origins = _parse_file(path)
    if key is not None:
        _PARSED[key] = (copy.deepcopy(data), dict(origins))
    return data, origins


def _parse_file(path: Path) -> tuple[dict[str, Any], Origins]:
    file = shown(path)
    text = read_text(path, file)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        check_expanded_size(node, file)
        origins: Origins = {}
        problems: list[Problem] = []
        if node is not None:
            _walk_nodes(node, (), file, origins, problems)
        if problems:
            raise ScenarioError(problems)
        data = None if node is None else build(node)
    except yaml.YAMLError as exc:
        raise yaml_problem(exc, file) from None
    except RecursionError:
        raise ScenarioError([Problem(file, None, "", too_deep())]) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ScenarioError([Problem(file, 1, "", f"a scenario must be a YAML mapping, but this file is {kind}")])
    return data, origins
