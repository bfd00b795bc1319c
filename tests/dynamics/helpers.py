"""Labels for fill tests: the manual-label array a filler takes, from exact values."""

from __future__ import annotations

import numpy as np

from annotator.core.codes import Visibility


def manual_at(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """(frames, joints, 3) labels: ``values`` (frames, joints, 2) visible on the ``keys``
    frames, every other frame unlabelled."""
    m = np.full((values.shape[0], values.shape[1], 3), np.nan)
    m[:, :, 2] = Visibility.UNLABELLED
    m[keys, :, :2] = values[keys]
    m[keys, :, 2] = Visibility.VISIBLE
    return m
