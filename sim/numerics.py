"""Small array helpers shared by the influence and bargaining stages, and the compiler of their kernels.

Kernels are numba-compiled loops over the run axis: one pass per run instead of a numpy temporary per
operation. They do the same IEEE operations in the same order as the numpy expressions they replace
(numba does not reorder or fuse floating-point arithmetic unless asked to, and is not asked here), so
a run's results do not depend on which of them computed it. Every sum adds term by term from 0.0, which
on fewer than 8 terms is numpy's own order (numpy sums 8 or more pairwise).

Compiled code is cached on disk (``cache=True``): beside the sources when they are writable, else in the
user's cache folder; ``NUMBA_CACHE_DIR`` moves it. A fresh install compiles on its first run (the cold
start the README states); later processes load the cache in milliseconds.
"""

from __future__ import annotations

import numba
import numpy as np

#: Compile a kernel: no Python objects inside, float errors give inf/NaN as in numpy (not exceptions),
#: cached on disk, and releasing the GIL.
compiled = numba.njit(cache=True, nogil=True, error_model="numpy")
#: A helper of kernels, compiled into each kernel that calls it.
inlined = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")


@inlined
def _row_total(values: np.ndarray, row: int) -> float:
    acc = 0.0
    for k in range(values.shape[1]):
        acc += values[row, k]
    return acc


@compiled
def _normalise_rows(salience: np.ndarray, out: np.ndarray) -> None:
    for row in range(salience.shape[0]):
        acc = _row_total(salience, row)
        for k in range(salience.shape[1]):
            out[row, k] = salience[row, k] / acc if acc > 0 else 0.0


def normalised(salience: np.ndarray) -> np.ndarray:
    """Saliences (..., I) scaled to sum to 1 over the last axis (all-zero rows stay zero)."""
    flat = np.ascontiguousarray(salience, dtype=np.float64).reshape(-1, salience.shape[-1])
    out = np.empty_like(flat)
    _normalise_rows(flat, out)
    return out.reshape(salience.shape)
