"""A validated scenario together with where each of its values came from (file and line).

Kept apart from the loader so that the checks run on a loaded scenario (cross-references, quotes) and
the loader that runs them import in one direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.scenario.errors import Problem
from sim.scenario.paths import dotted
from sim.scenario.reader import Key, Origins, shown
from sim.scenario.schema import Scenario


@dataclass
class LoadedScenario:
    """A validated scenario together with where each of its values came from."""

    spec: Scenario
    path: Path
    resolved: dict[str, Any]
    origins: Origins = field(repr=False)
    files: list[Path] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)  # the --set assignments applied, in order

    def locate(self, path: Key, message: str) -> Problem:
        """A problem at a dotted path, with the file and line of the nearest value written there."""
        return locate(self.origins, path, message, shown(self.path))

    def resolve_relative(self, key: str, value: str) -> Path:
        """A path written in the file that set top-level ``key``, resolved against that file's folder."""
        origin = self.origins.get((key,), (str(self.path), 0))[0]
        base = Path(origin).resolve().parent if origin != "--set" else Path.cwd()
        return (base / value).resolve()


def locate(origins: Origins, path: Key, message: str, default_file: str) -> Problem:
    """A problem at ``path``, placed at the file and line of the nearest enclosing value in ``origins``
    (``default_file`` and no line if none of them was written in a file)."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in origins:
            file, line = origins[path[:cut]]
            return Problem(file, line or None, dotted(path), message)
    return Problem(default_file, None, dotted(path), message)
