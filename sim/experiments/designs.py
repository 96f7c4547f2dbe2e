"""Experimental designs: which values of which scenario parameters a sweep runs.

A factor is a dotted scenario path with a range (``lo:hi`` or ``lo:hi:n``) or a list of values. A grid
crosses every factor's values (a range gives n evenly spaced values); Latin hypercube, Sobol (Saltelli)
and Morris designs sample ranges with SALib (Herman & Usher 2017), reproducibly from the sweep's seed.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from sim.errors import InputError
from sim.scenario.errors import ScenarioError
from sim.scenario.limits import MAX_MAGNITUDE
from sim.scenario.reader import WHOLE, parse, reads_as_number, whole_number

Design = Literal["grid", "lhs", "sobol", "morris"]


class DesignError(InputError, ValueError):
    """A factor or design that cannot be expanded; the message says why."""


@dataclass(frozen=True)
class Factor:
    """One varied parameter: a range [low, high] (with ``count`` grid values) or explicit ``values``."""

    path: str
    low: float | None = None
    high: float | None = None
    count: int | None = None
    values: tuple[Any, ...] | None = None

    @property
    def is_range(self) -> bool:
        return self.values is None

    def grid_values(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        if self.count is None:
            raise DesignError(f"{self.path}: a grid needs a number of values, as lo:hi:n")
        return [float(v) for v in np.linspace(self.low, self.high, self.count)]


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DesignError(f"{what}: not a number: '{text}'") from None


def parse_vary(text: str) -> Factor:
    """'actors.russia.patience=0.90:0.99:10', '...=0.9:0.99' (for sampling designs) or '...=0,0.02,0.05'."""
    path, sep, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    if not sep or not path or not spec:
        raise DesignError(f"--vary {text}: expected dotted.path=lo:hi:n or dotted.path=v1,v2,...")
    if spec.startswith("["):  # a YAML list: values may be mappings or lists, e.g. [{model: none}, {model: pull}]
        return list_factor(path, _yaml(spec, path))
    parts = spec.split(":")
    if len(parts) in (2, 3) and "," not in spec and all(reads_as_number(p) for p in parts[:2]):
        low, high = _number(parts[0], path), _number(parts[1], path)
        count = None
        if len(parts) == 3:
            count = whole_number(parts[2], 9)
            if count is None:
                raise DesignError(f"{path}: the number of values must be a whole number (got '{parts[2][:40]}')")
        return range_factor(path, low, high, count)
    return list_factor(path, [_value(v, path) for v in spec.split(",")])


def _yaml(text: str, path: str) -> Any:
    try:
        return parse(text, "--vary")
    except ScenarioError as exc:
        raise DesignError(f"--vary {path}: {exc.problems[0].message}") from None


def _value(text: str, path: str = "") -> Any:
    """A listed value: a whole number in decimal whenever it is one (010 is ten), another number
    whenever Python reads one (1e-3 too), else YAML (true, 'text', ...)."""
    text = text.strip()
    if WHOLE.fullmatch(text[1:] if text[:1] in ("+", "-") else text):
        if len(text) > 4300:
            raise DesignError(f"--vary {path}: an integer too long to read (more than 4,300 digits)")
        return int(text)
    return float(text) if reads_as_number(text) else _yaml(text, path)


def range_factor(path: str, low: float, high: float, count: int | None = None) -> Factor:
    for bound in (low, high):
        if not -MAX_MAGNITUDE <= bound <= MAX_MAGNITUDE:
            raise DesignError(f"{path}: the range's bounds must be numbers within +-1e15 (got {bound})")
    if not low < high:
        raise DesignError(f"{path}: the range's low ({low}) must be below its high ({high})")
    if count is not None and count < 2:
        raise DesignError(f"{path}: a range needs at least 2 values (got {count})")
    return Factor(path, low, high, count)


def list_factor(path: str, values: Any) -> Factor:
    if not isinstance(values, list):  # a string is one value, never a list of its characters
        raise DesignError(f"{path}: values must be a list, e.g. [0, 0.02, 0.05]")
    if not values:
        raise DesignError(f"{path}: the list of values is empty")
    return Factor(path, values=tuple(values))


def problem(factors: list[Factor]) -> dict[str, Any]:
    """SALib's problem definition of range factors."""
    return {"num_vars": len(factors), "names": [f.path for f in factors], "bounds": [[f.low, f.high] for f in factors]}


def point_count(factors: list[Factor], design: Design, samples: int | None) -> int:
    """How many points ``expand`` would make, computed without making them."""
    if design == "grid":
        return math.prod(len(f.values) if f.values is not None else (f.count or 0) for f in factors)
    per_sample = {"lhs": 1, "sobol": len(factors) + 2, "morris": len(factors) + 1}[design]
    return (samples or 0) * per_sample


def check_design(factors: list[Factor], design: Design, samples: int | None) -> None:
    """Refuse a design that cannot be expanded, saying why (before any point is made)."""
    if not factors:
        raise DesignError("a sweep needs at least one --vary")
    paths = [f.path for f in factors]
    if len(set(paths)) != len(paths):
        raise DesignError("each path may be varied once")
    if design == "grid":
        uncounted = [f.path for f in factors if f.is_range and f.count is None]
        if uncounted:
            raise DesignError(f"a grid needs a number of values for each range, as lo:hi:n ({', '.join(uncounted)})")
        return
    lists = [f.path for f in factors if not f.is_range]
    if lists:
        raise DesignError(f"the {design} design samples ranges (lo:hi); {', '.join(lists)} give a list")
    if samples is None or samples < 1:
        raise DesignError(f"the {design} design needs --samples N")
    if design == "sobol" and samples & (samples - 1):
        raise DesignError(f"the sobol design needs --samples a power of two (got {samples})")


def expand(factors: list[Factor], design: Design, samples: int | None, seed: int,
           limit: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The points of a design: one mapping of path to value per point, in a fixed order; more than
    ``limit`` points are refused before any is made."""
    check_design(factors, design, samples)
    if limit is not None and (count := point_count(factors, design, samples)) > limit:
        raise DesignError(f"the design has {count:,} points; the limit is {limit:,} (see Limits in the README)")
    paths = [f.path for f in factors]
    if design == "grid":
        return [
            dict(zip(paths, combo, strict=True)) for combo in itertools.product(*(f.grid_values() for f in factors))
        ]
    from SALib.sample import latin, morris, sobol

    definition = problem(factors)
    if design == "lhs":
        matrix = latin.sample(definition, samples, seed=seed)
    elif design == "sobol":
        matrix = sobol.sample(definition, samples, calc_second_order=False, seed=seed)
    else:
        matrix = morris.sample(definition, samples, num_levels=4, seed=seed)
    return [dict(zip(paths, (float(v) for v in row), strict=True)) for row in matrix]


def is_number(value: Any) -> bool:
    """A number a table holds as one (a yes/no is not one, though Python counts it as an int)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def column_of(values: list[Any]) -> tuple[list[Any], str]:
    """One varied parameter's values at every point as one table column: (cells, dtype). Whole numbers
    stay int64, other numbers are float64, yes/no values bool; anything else (text, or numbers mixed
    with mappings) is text, with mappings and lists as JSON."""
    if all(isinstance(v, bool) for v in values):
        return list(values), "bool"
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        return list(values), "int64"
    if all(is_number(v) for v in values):
        return [float(v) for v in values], "float64"
    return [v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values], "object"
