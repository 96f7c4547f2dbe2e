"""Provenance: every ``source`` quote must appear verbatim in the seed article, and every ``cite``
must appear in one of the scenario's reference files. Whitespace is normalised; nothing else is."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.scenario.base import Strict
from sim.scenario.paths import Index
from sim.scenario.schema import Sourced

if TYPE_CHECKING:
    from sim.scenario.errors import Problem
    from sim.scenario.load import LoadedScenario


def normalise(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends."""
    return re.sub(r"\s+", " ", text).strip()


def sourced_entries(model: Any, path: tuple = ()) -> Iterator[tuple[tuple, Sourced]]:
    """Every model carrying source/cite fields, with its path in the scenario."""
    if isinstance(model, Sourced):
        yield path, model
    if isinstance(model, Strict):
        for name in type(model).model_fields:
            yield from sourced_entries(getattr(model, name), path + (name,))
    elif isinstance(model, dict):
        for key, value in model.items():
            yield from sourced_entries(value, path + (key,))
    elif isinstance(model, list):
        for index, value in enumerate(model):
            yield from sourced_entries(value, path + (Index(index),))


def _as_list(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


@functools.lru_cache(maxsize=64)
def _normalised_text(file: Path, size: int, modified: int) -> str:
    """A source file's normalised text, read once per version of the file."""
    return normalise(file.read_text(encoding="utf-8"))


def _read(loaded: LoadedScenario, key: str, value: str, path: tuple) -> tuple[str | None, Problem | None]:
    file = loaded.resolve_relative(key, value)
    try:
        stat = file.stat()
        return _normalised_text(file, stat.st_size, stat.st_mtime_ns), None
    except FileNotFoundError:
        return None, loaded.locate(path, f"file not found: {file}")
    except (OSError, UnicodeDecodeError) as exc:
        return None, loaded.locate(path, f"cannot read {file}: {exc}")


def check_provenance(loaded: LoadedScenario) -> list[Problem]:
    """Problems for a missing seed or reference file, an unmatched quote or an unlisted cite."""
    spec = loaded.spec
    problems: list[Problem] = []
    seed_text, problem = _read(loaded, "seed", spec.seed, ("seed",))
    if problem:
        return [problem]
    references = []
    for index, reference in enumerate(spec.references):
        text, problem = _read(loaded, "references", reference, ("references", Index(index)))
        if problem:
            problems.append(problem)
        else:
            references.append(text)
    for path, entry in sourced_entries(spec):
        for index, quote in enumerate(_as_list(entry.source)):
            if normalise(quote) not in seed_text:
                where = path + ("source",) + ((Index(index),) if isinstance(entry.source, list) else ())
                problems.append(loaded.locate(where, f'quote not found in the seed article: "{quote[:60]}"'))
        for index, cite in enumerate(_as_list(entry.cite)):
            if not any(normalise(cite) in text for text in references):
                where = path + ("cite",) + ((Index(index),) if isinstance(entry.cite, list) else ())
                problems.append(loaded.locate(where, f"cite not found in any reference file: {cite[:80]}"))
    return problems
