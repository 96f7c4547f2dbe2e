"""Uncertain numbers in a scenario: a plain number or a named distribution.

Every numeric field of an actor, protocol or event may be written either as a number or as a
mapping with a ``dist`` key. Each run draws its own value once, at set-up, by the inverse of the
distribution's CDF applied to that run's uniform draw, so a draw depends only on (seed, run, field).
The distribution's mean is what the *other* actors believe the value to be.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import AfterValidator, Field, model_validator
from scipy import special

from sim.scenario.base import Real, Strict
from sim.scenario.limits import BETA_SHAPE, MAX_MAGNITUDE


class _Dist(Strict):
    def support(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take (may be infinite)."""
        raise NotImplementedError

    def mean(self) -> float:
        """Expected value: what other actors believe the value is."""
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: map uniforms in [0, 1) to draws."""
        raise NotImplementedError


class Normal(_Dist):
    """Normal distribution, truncated exactly (not clipped) to [low, high] when bounds are given."""

    dist: Literal["normal"]
    mean_: Real = Field(alias="mean", description="Mean before truncation.")
    sd: Real = Field(gt=0, description="Standard deviation before truncation; > 0.")
    low: Real | None = Field(None, description="Lower truncation bound (optional).")
    high: Real | None = Field(None, description="Upper truncation bound (optional).")

    @model_validator(mode="after")
    def _bounds(self) -> Normal:
        lo, hi = self.support()
        if lo >= hi:
            raise ValueError(f"low ({lo}) must be below high ({hi})")
        if special.ndtr((hi - self.mean_) / self.sd) - special.ndtr((lo - self.mean_) / self.sd) < 1e-9:
            raise ValueError("the truncation window holds almost no probability mass")
        return self

    def support(self) -> tuple[float, float]:
        return (-np.inf if self.low is None else self.low, np.inf if self.high is None else self.high)

    def _cdf_window(self) -> tuple[float, float]:
        lo, hi = self.support()
        return float(special.ndtr((lo - self.mean_) / self.sd)), float(special.ndtr((hi - self.mean_) / self.sd))

    def mean(self) -> float:
        lo, hi = self.support()
        a, b = (lo - self.mean_) / self.sd, (hi - self.mean_) / self.sd
        pa, pb = self._cdf_window()
        phi = lambda z: 0.0 if np.isinf(z) else np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)  # noqa: E731
        return float(self.mean_ + self.sd * (phi(a) - phi(b)) / (pb - pa))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        pa, pb = self._cdf_window()
        q = np.clip(pa + u * (pb - pa), 1e-300, 1 - 1e-16)
        lo, hi = self.support()
        return np.clip(self.mean_ + self.sd * special.ndtri(q), lo, hi)


class _Interval(_Dist):
    """A distribution on [low, high], low < high (the subclass declares both fields)."""

    @model_validator(mode="after")
    def _ordered(self) -> _Interval:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def support(self) -> tuple[float, float]:
        return self.low, self.high


class Uniform(_Interval):
    """Uniform distribution on [low, high]."""

    dist: Literal["uniform"]
    low: Real = Field(description="Lower bound.")
    high: Real = Field(description="Upper bound; above low.")

    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)


class Triangular(_Interval):
    """Triangular distribution on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: Real = Field(description="Lower bound.")
    mode: Real = Field(description="Most likely value, within [low, high].")
    high: Real = Field(description="Upper bound; above low.")

    @model_validator(mode="after")
    def _mode_inside(self) -> Triangular:
        if self.low < self.high and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode ({self.mode}) must lie within [low, high] = [{self.low}, {self.high}]")
        return self

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        lo, c, hi = self.low, self.mode, self.high
        split = (c - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (c - lo))
        right = hi - np.sqrt((1 - u) * (hi - lo) * (hi - c))
        return np.where(u < split, left, right)


class Beta(_Interval):
    """Beta(a, b) distribution rescaled from [0, 1] to [low, high]."""

    dist: Literal["beta"]
    a: float = Field(ge=BETA_SHAPE[0], le=BETA_SHAPE[1], description="First shape parameter, 0.01-100.")
    b: float = Field(ge=BETA_SHAPE[0], le=BETA_SHAPE[1], description="Second shape parameter, 0.01-100.")
    low: Real = Field(0.0, description="Value of the unit interval's 0.")
    high: Real = Field(1.0, description="Value of the unit interval's 1; above low.")

    def mean(self) -> float:
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        q = np.clip(u, 2.0**-53, 1 - 2.0**-53)  # betaincinv is unreliable at the extreme tails
        return self.low + (self.high - self.low) * special.betaincinv(self.a, self.b, q)


Dist = Annotated[Union[Normal, Uniform, Triangular, Beta], Field(discriminator="dist")]


def _check_support(lo: float, hi: float):
    def check(value: float | _Dist) -> float | _Dist:
        if isinstance(value, _Dist):
            s_lo, s_hi = value.support()
            if s_lo < lo or s_hi > hi:
                raise ValueError(
                    f"a {value.dist} distribution here must stay within [{lo}, {hi}], "
                    f"but its support is [{s_lo}, {s_hi}] (set low/high)"
                )
        elif not lo <= value <= hi:
            raise ValueError(f"must lie within [{lo}, {hi}] (got {value})")
        return value

    return AfterValidator(check)


def Param(lo: float = -MAX_MAGNITUDE, hi: float = MAX_MAGNITUDE):  # noqa: N802 - reads as a type in declarations
    """A field that holds a number in [lo, hi] or a distribution whose support lies in [lo, hi] (by
    default the bounds of every number in a scenario, +-MAX_MAGNITUDE)."""
    return Annotated[Union[float, Dist], _check_support(lo, hi)]


def mean_of(value: float | _Dist) -> float:
    """The believed (expected) value of a number or distribution."""
    return value.mean() if isinstance(value, _Dist) else float(value)


def is_random(value: object) -> bool:
    """True when the value is a distribution, i.e. drawn per run."""
    return isinstance(value, _Dist)
