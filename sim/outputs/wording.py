"""How shares are written, in the terminal and on the pages alike (no heavy imports: the command
line uses it before anything is run)."""

from __future__ import annotations


def percent(entry: dict[str, float]) -> tuple[str, str]:
    """Share and interval in percent, with more decimals where the interval is narrow near 0 or 1."""
    if entry["share"] is None or entry["share"] != entry["share"]:
        return "-", "-"
    digits = 2 if min(entry["high"], 1 - entry["low"]) < 0.01 else 1
    return f"{100 * entry['share']:.{digits}f}%", f"{100 * entry['low']:.{digits}f}-{100 * entry['high']:.{digits}f}%"
