"""Paired comparisons over clips: the pooled PCK difference of two methods scored on the same
clips, with a bootstrap interval that resamples clips (a clip's frames move together)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Counts = tuple[NDArray[np.int64], NDArray[np.int64]]
"""Per clip: (joints within the threshold, joints counted), as ``metrics.pck_counts`` gives."""


def paired_interval(a: Counts, b: Counts, resamples: int, seed: int) -> tuple[float, float, float]:
    """Pooled PCK difference a - b and its 95 % paired bootstrap interval over clips."""
    rng = np.random.default_rng(seed)
    n = len(a[0])
    diff = a[0].sum() / a[1].sum() - b[0].sum() / b[1].sum()
    idx = rng.integers(0, n, size=(resamples, n))
    da = a[0][idx].sum(1) / np.maximum(a[1][idx].sum(1), 1)
    db = b[0][idx].sum(1) / np.maximum(b[1][idx].sum(1), 1)
    lo, hi = np.percentile(da - db, [2.5, 97.5])
    return float(diff), float(lo), float(hi)
