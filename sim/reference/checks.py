"""A golden check: a published number against what the code computes, to the published precision."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One published quantity against what the code computes."""

    case: str
    quantity: str
    expected: float
    got: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return math.isfinite(self.got) and abs(self.got - self.expected) <= self.tolerance


def decimals(k: int) -> float:
    """Tolerance of a number published with k decimals."""
    return 0.5 * 10.0**-k + 1e-12


def checks(case: str, pairs, tolerance: float) -> list[Check]:
    """Checks of (name, expected, got) pairs, all to one tolerance."""
    return [Check(case, name, float(expected), float(got), tolerance) for name, expected, got in pairs]
