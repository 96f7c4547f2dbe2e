"""Peers' input formats: KTAB's SMP CSV and Bueno de Mesquita style tables, read with located errors
and turned into influence-only scenarios."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import FileError
from sim.files import read_bounded
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.limits import MAX_FILE_BYTES
from sim.scenario.reader import whole_number


@dataclass
class KtabTable:
    """A KTAB SMP input: N actors, K dimensions; positions and saliences on 0-100, capabilities as given."""

    name: str
    description: str
    actors: list[str]
    descriptions: list[str]
    dimensions: list[str]
    capability: np.ndarray  # (N,)
    position: np.ndarray  # (N, K)
    salience: np.ndarray  # (N, K)


@dataclass
class BdmTable:
    """A one-issue table: actor, capability, position, salience (0-1)."""

    actors: list[str]
    capability: np.ndarray
    position: np.ndarray
    salience: np.ndarray


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-empty CSV rows with the line each starts on, fields stripped and trailing empty fields dropped.
    UTF-8 (with or without a byte-order mark), else Latin-1; quoted fields may hold commas and newlines."""
    try:
        raw = read_bounded(path, MAX_FILE_BYTES)
    except FileError as exc:
        raise ScenarioError([Problem(str(path), None, "", exc.reason)]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    out = []
    line = 1
    try:
        for record in reader:
            fields = [f.strip() for f in record]
            while fields and fields[-1] == "":
                fields.pop()
            if fields:
                out.append((line, fields))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ScenarioError([Problem(str(path), reader.line_num, "", f"not valid CSV: {exc}")]) from None
    return out


def _number(path: Path, line: int, column: str, text: str, low: float = -np.inf, high: float = np.inf) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError([Problem(str(path), line, column, f"not a number: '{text}'")]) from None
    if not np.isfinite(value) or not low <= value <= high:
        raise ScenarioError([Problem(str(path), line, column, f"{value} must lie within [{low}, {high}]")])
    return value


def _whole(path: Path, line: int, column: str, text: str) -> int:
    number = whole_number(text, 6)
    if number is None or number < 1:
        raise ScenarioError([Problem(str(path), line, column, f"not a positive whole number: '{text[:40]}'")])
    return number


def _fail(path: Path, line: int | None, message: str) -> ScenarioError:
    return ScenarioError([Problem(str(path), line, "", message)])


def read_ktab(path: str | Path) -> KtabTable:
    """Read KTAB's SMP CSV: a title line (name, description, actors, dimensions), a header, one line per
    actor (name, description, capability, then position and salience per dimension)."""
    path = Path(path)
    rows = _rows(path)
    if len(rows) < 2:
        raise _fail(path, None, "expected a title line, a header and actor lines")
    (title_line, title), (header_line, header) = rows[0], rows[1]
    if len(title) < 4:
        raise _fail(path, title_line, "the title line needs: name, description, number of actors, number of dimensions")
    count = _whole(path, title_line, "number of actors", title[2])
    dims = _whole(path, title_line, "number of dimensions", title[3])
    width = 3 + 2 * dims
    if len(header) != width:
        raise _fail(path, header_line, f"the header has {len(header)} columns; {dims} dimensions need {width}")
    actors = rows[2:]
    if len(actors) != count:
        raise _fail(path, title_line, f"the title line announces {count} actors but {len(actors)} follow")
    if count < 3:
        raise _fail(path, title_line, f"KTAB's model needs at least 3 actors (found {count})")
    capability, position, salience = np.zeros(count), np.zeros((count, dims)), np.zeros((count, dims))
    for a, (line, fields) in enumerate(actors):
        if len(fields) != width:
            raise _fail(
                path,
                line,
                f"{len(fields)} columns; expected {width} (name, description, capability, "
                f"and position, salience for each of {dims} dimensions)",
            )
        capability[a] = _number(path, line, header[2], fields[2], 0.0, 1e8)
        if capability[a] <= 0:
            raise _fail(path, line, "capability must be positive")
        for k in range(dims):
            position[a, k] = _number(path, line, header[3 + 2 * k], fields[3 + 2 * k], 0.0, 100.0)
            salience[a, k] = _number(path, line, header[4 + 2 * k], fields[4 + 2 * k], 0.0, 100.0)
        if salience[a].sum() > 100.0 + 1e-9:
            raise _fail(path, line, f"saliences sum to {salience[a].sum():g}, over 100")
    names = [header[3 + 2 * k] for k in range(dims)]
    return KtabTable(
        title[0], title[1], [f[0] for _, f in actors], [f[1] for _, f in actors], names, capability, position, salience
    )


def read_bdm(path: str | Path) -> BdmTable:
    """Read a table with the header ``actor, capability, position, salience`` (salience 0-1)."""
    path = Path(path)
    rows = _rows(path)
    if not rows or [h.lower() for h in rows[0][1]] != ["actor", "capability", "position", "salience"]:
        raise _fail(path, rows[0][0] if rows else None, "the header must be: actor, capability, position, salience")
    body = rows[1:]
    if len(body) < 3:
        raise _fail(path, None, f"the model needs at least 3 actors (found {len(body)})")
    values = np.zeros((len(body), 3))
    for a, (line, fields) in enumerate(body):
        if len(fields) != 4:
            raise _fail(path, line, f"{len(fields)} columns; expected 4 (actor, capability, position, salience)")
        values[a, 0] = _number(path, line, "capability", fields[1], 0.0)
        values[a, 1] = _number(path, line, "position", fields[2])
        values[a, 2] = _number(path, line, "salience", fields[3], 0.0, 1.0)
    return BdmTable([f[0] for _, f in body], values[:, 0], values[:, 1], values[:, 2])


def snake(text: str) -> str:
    """A scenario name from free text: 'Policy Position' -> 'policy_position'."""
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return name if name and name[0].isalpha() else f"x_{name}"


def _unique(names: list[str]) -> list[str]:
    """The names, made distinct by numbering repeats, never colliding with a name already taken."""
    taken: set[str] = set()
    out = []
    for name in names:
        candidate, number = name, 1
        while candidate in taken:
            number += 1
            candidate = f"{name}_{number}"
        taken.add(candidate)
        out.append(candidate)
    return out


def _actor(label: str, capability: float, preferences: dict[str, Any]) -> dict[str, Any]:
    return {
        "label": label,
        "role": "stakeholder",
        "capability": capability,
        "outside_option": {"value": 0.0, "label": "none"},
        "preferences": preferences,
    }


def _stakeholders(names: list[str], labels: list[str], capability, preferences: list[dict]) -> dict[str, Any]:
    """Imported actors keyed by distinct scenario names: all stakeholders, each with its preferences."""
    keys = _unique([snake(name) for name in names])
    return {key: _actor(label or key, float(c), prefs)
            for key, label, c, prefs in zip(keys, labels, capability, preferences, strict=True)}  # fmt: skip


def ktab_scenario(table: KtabTable, source: Path) -> dict[str, Any]:
    """An influence-only scenario running KTAB's SMP with its defaults on the table's actors."""
    issues = _unique([snake(d.removesuffix(" Position").removesuffix(" position")) for d in table.dimensions])
    preferences = [
        {issue: {"ideal": float(x[k]), "salience": float(s[k]) / 100} for k, issue in enumerate(issues)}
        for x, s in zip(table.position, table.salience, strict=True)
    ]
    actors = _stakeholders(table.actors, table.descriptions, table.capability, preferences)
    return _influence_only(
        snake(table.name),
        f"KTAB SMP forecast of {table.name}",
        source,
        issues,
        actors,
        {"model": "smp"},
        (0.0, 100.0),
        100,  # KTAB's own limit of 100 steps
    )


def bdm_scenario(table: BdmTable, source: Path) -> dict[str, Any]:
    """An influence-only scenario running the expected-utility model on a one-issue table."""
    low, high = float(table.position.min()), float(table.position.max())
    preferences = [
        {"issue": {"ideal": float(x), "salience": float(s)}}
        for x, s in zip(table.position, table.salience, strict=True)
    ]
    actors = _stakeholders(table.actors, table.actors, table.capability, preferences)
    return _influence_only(
        snake(source.stem),
        f"Expected-utility forecast of {source.name}",
        source,
        ["issue"],
        actors,
        {"model": "eum"},
        (low, high if high > low else low + 1),
        10,  # the published trajectories cover 10 rounds
    )


def _influence_only(name, question, source: Path, issues, actors, influence, bounds, horizon) -> dict[str, Any]:
    """A scenario of stakeholders only, whose influence model is the whole run (``horizon`` rounds at most)."""
    return {
        "name": name,
        "question": question,
        "description": f"Imported from {source.name}.",
        "seed": source.name,
        "start_date": "2025-01-01",
        "issues": {i: {"label": i.replace("_", " "), "unit": "position", "range": list(bounds)} for i in issues},
        "actors": actors,
        "protocol": {"horizon": horizon},
        "influence": influence,
    }


def write_imported(kind: str, source: Path, output: Path) -> None:
    """Import ``source`` (``kind`` 'ktab' or 'bdm') as the new scenario file ``output``. The scenario is
    validated (seed and quotes included) under a temporary name beside ``output`` before it takes that
    name, so a table that makes no valid scenario leaves nothing behind; its problems name ``source``."""
    import os

    import yaml

    from sim.files import text_writer, write_new
    from sim.scenario.load import load_scenario

    data = ktab_scenario(read_ktab(source), source) if kind == "ktab" else bdm_scenario(read_bdm(source), source)
    data["seed"] = os.path.relpath(source.resolve(), output.resolve().parent)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    def check(written: Path) -> None:
        try:
            load_scenario(written)
        except ScenarioError as exc:
            raise ScenarioError([Problem(str(source), None, p.path, f"the imported scenario would not be valid: "
                                         f"{p.message}") for p in exc.problems]) from None  # fmt: skip

    write_new(output, text_writer(f"# Imported from {source.name} by `basing import {kind}`.\n{text}"), check)
