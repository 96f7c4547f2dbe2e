"""Provenance: every ``source`` quote must appear verbatim in the seed article, and every ``cite``
must appear in one of the scenario's reference files. Whitespace is normalised; nothing else is."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import FileError
from sim.files import read_bounded
from sim.scenario.base import Sourced, Strict
from sim.scenario.limits import MAX_FILE_BYTES, MIN_CITE_CHARACTERS, MIN_QUOTE_WORDS
from sim.scenario.paths import Index

if TYPE_CHECKING:
    from sim.scenario.errors import Problem
    from sim.scenario.loaded import LoadedScenario


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
    """A source file's normalised text (a regular UTF-8 file of at most MAX_FILE_BYTES), read once per
    version of the file."""
    raw = read_bounded(file, MAX_FILE_BYTES)
    try:
        return normalise(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileError(file, f"not UTF-8 text (line {line}); save it as UTF-8") from None


def _read(loaded: LoadedScenario, key: str, value: str, path: tuple) -> tuple[str | None, Problem | None]:
    try:
        file = loaded.resolve_relative(key, value)
        stat = file.stat()
        return _normalised_text(file, stat.st_size, stat.st_mtime_ns), None
    except FileNotFoundError:
        return None, loaded.locate(path, f"file not found: {value}")
    except FileError as exc:
        return None, loaded.locate(path, f"{value}: {exc.reason}")
    except (OSError, ValueError, RuntimeError) as exc:
        return None, loaded.locate(path, f"cannot use the path {value!r}: {exc}")


def _weak(kind: str, text: str) -> str | None:
    """Why a quote or cite supports nothing (empty, or too short to pin down a passage), or None."""
    if kind == "source" and len(normalise(text).split()) < MIN_QUOTE_WORDS:
        return f"a quote of fewer than {MIN_QUOTE_WORDS} words supports nothing: quote the passage"
    if kind == "cite" and len(normalise(text)) < MIN_CITE_CHARACTERS:
        return f"a cite shorter than {MIN_CITE_CHARACTERS} characters names no source: give its address"
    return None


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
            where = path + ("source",) + ((Index(index),) if isinstance(entry.source, list) else ())
            weak = _weak("source", quote)
            if weak or normalise(quote) not in seed_text:
                problems.append(loaded.locate(where, weak or f'quote not found in the seed article: "{quote[:60]}"'))
        for index, cite in enumerate(_as_list(entry.cite)):
            where = path + ("cite",) + ((Index(index),) if isinstance(entry.cite, list) else ())
            weak = _weak("cite", cite)
            if weak or not any(normalise(cite) in text for text in references):
                problems.append(loaded.locate(where, weak or f"cite not found in any reference file: {cite[:80]}"))
    return problems
