"""Dotted paths into a scenario, as shown in messages and used by --set."""

from __future__ import annotations

from typing import Any


class Index(int):
    """A list position in a path (shown as [i]), as opposed to a number used as a mapping key."""


def dotted(path: tuple[Any, ...]) -> str:
    """('actors', 'russia', 'patience') -> 'actors.russia.patience'; list positions as [i]."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, Index) else (f".{part}" if out else str(part))
    return out
