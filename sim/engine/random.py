"""Counter-based random streams: every draw is a pure function of (seed, run, stream, round, slot).

Nothing here carries state between calls, so run k draws the same numbers whether it is simulated
alone, in a batch of 10,000, in any chunk or in any worker process. The hash is SplitMix64's
finaliser (Steele, Lea & Flood 2014) applied in a chain over the key, which passes BigCrush as a
generator and costs a handful of integer operations per draw, in one compiled pass over the runs
(unsigned 64-bit arithmetic wraps, as numpy's does).
"""

from __future__ import annotations

import zlib

import numpy as np

from sim.numerics import compiled, inlined

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))


@inlined
def _mix(x: np.uint64) -> np.uint64:
    """SplitMix64 finaliser on one unsigned 64-bit integer (bijective, avalanching)."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


@compiled
def _uniforms(seed: np.uint64, runs: np.ndarray, stream: np.uint64, round_: np.uint64, out: np.ndarray) -> None:
    keyed = _mix(seed + _GOLDEN)
    for r in range(runs.shape[0]):
        h = _mix(keyed ^ (runs[r] * _GOLDEN + _M1))
        h = _mix(h ^ stream * _M2)
        h = _mix(h ^ round_ * _GOLDEN)
        for slot in range(out.shape[1]):
            drawn = _mix(h ^ (np.uint64(slot) * _M1 + _M2))
            out[r, slot] = np.float64(drawn >> _S11) * (1.0 / 9007199254740992.0)


def stream_id(name: str) -> int:
    """A stable 32-bit id for a named purpose, e.g. 'param:actors.russia.capability'."""
    return zlib.crc32(name.encode("utf-8"))


def uniforms(seed: int, runs: np.ndarray, stream: int, round_: int, n: int = 1) -> np.ndarray:
    """Uniform draws in [0, 1), shape (len(runs), n), for one purpose and round.

    Args:
        seed: the experiment's seed, a non-negative integer below 2**64.
        runs: global run indices (non-negative integers), the run axis of the result.
        stream: purpose id from :func:`stream_id`.
        round_: round number (0-based), or 0 for set-up draws.
        n: draws per run (slots), e.g. one per event.
    """
    out = np.empty((len(runs), n))
    _uniforms(np.uint64(seed), np.asarray(runs, dtype=np.uint64), np.uint64(stream), np.uint64(round_), out)
    return out


class RunStreams:
    """The random streams of one batch: seed and global run indices bound once."""

    def __init__(self, seed: int, runs: np.ndarray):
        self.seed, self.runs = seed, runs

    def take(self, rows: np.ndarray) -> None:
        """Keep only the batch rows ``rows``."""
        self.runs = self.runs[rows]

    def uniforms(self, purpose: str, round_: int, n: int = 1) -> np.ndarray:
        """(R, n) uniforms in [0, 1) for ``purpose`` in ``round_``."""
        return uniforms(self.seed, self.runs, stream_id(purpose), round_, n)
