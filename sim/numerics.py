"""Small array helpers shared by the influence and bargaining stages."""

from __future__ import annotations

import numpy as np


def normalised(salience: np.ndarray) -> np.ndarray:
    """Saliences scaled to sum to 1 over the last axis (all-zero rows stay zero)."""
    total = salience.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, salience / total, 0.0)
