"""The columns of the results tables, declared once.

``runs.parquet`` has a row per run with the fixed columns below and families of columns named by a
prefix and an issue or actor; a sweep's tables add ``point``. An indicator (``outcomes:``) becomes a
column too, so its name must be none of these (``taken``).
"""

from __future__ import annotations

RUN = "run"  # the run's index, 0 .. runs-1
STATUS = "status"  # how it ended (one of the engine's statuses)
WALKOUT_ACTOR = "walkout_actor"  # who walked out, if anyone
ROUND = "round"  # the round it ended in
IN_FORCE = "in_force"  # what is in force at the end: agreement, status_quo or outside_options
REJECTIONS = "rejections"  # packages a ratifying body rejected
POINT = "point"  # a sweep's design point
FIXED = (RUN, STATUS, WALKOUT_ACTOR, ROUND, IN_FORCE, REJECTIONS, POINT)

TERM = "term_"  # term_<issue>: the agreed terms (NaN without an agreement)
FORCE = "force_"  # force_<issue>: the terms in force at the end (agreed, or the status quo's)
UTILITY = "utility_"  # utility_<actor>: each actor's utility of the end
FORECAST = "forecast_"  # forecast_mean_<issue>, forecast_median_<issue>: influence-only forecasts
WIN = "win_"  # win_<actor>: an influence model's win probabilities
FAMILIES = (TERM, FORCE, UTILITY, FORECAST, WIN)


def taken(name: str) -> bool:
    """Whether ``name`` is, or could be, a results column (so no indicator may have it)."""
    return name in FIXED or name.startswith(FAMILIES)


__all__ = ["FAMILIES", "FIXED", "FORCE", "FORECAST", "POINT", "TERM", "UTILITY", "WIN", "taken"]
