"""Estimator output as labels for the fill: positions, visibility codes and confidence.

On each frame the estimator ran, a joint of the target skeleton becomes a label: ``visible``
where BlazePose's visibility is at least 0.5, ``occluded`` (position estimated, not seen)
below that, and ``absent`` (no position) where the point lies outside the frame, as the
contract defines absent. Joints without a BlazePose counterpart, and frames where no person
was found, stay ``unlabelled``. The confidence of a value is BlazePose's visibility
probability of its landmark(s).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Visibility
from annotator.estimation.blazepose import Estimates
from annotator.estimation.mapping import to_skeleton

MIN_VISIBILITY = 0.5


def observations(
    est: Estimates, frame_count: int, skeleton: str
) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    """(F, J, 3) labels (x, y, visibility code; code 0 and NaN off the estimator's frames)
    and (F, J) confidence (NaN where the estimator gave no value)."""
    xy, conf = to_skeleton(est.xy, est.visibility, skeleton)
    joints = xy.shape[1]
    manual = np.full((frame_count, joints, 3), np.nan)
    manual[:, :, 2] = Visibility.UNLABELLED
    confidence = np.full((frame_count, joints), np.nan, dtype=np.float32)
    found = np.isfinite(xy).all(axis=2)
    inside = (
        found
        & (xy[..., 0] >= 0)
        & (xy[..., 1] >= 0)
        & (xy[..., 0] < est.width)
        & (xy[..., 1] < est.height)
    )
    code = np.where(conf >= MIN_VISIBILITY, Visibility.VISIBLE, Visibility.OCCLUDED)
    code = np.where(inside, code, Visibility.ABSENT)
    code = np.where(found, code, Visibility.UNLABELLED)
    rows = est.frames
    manual[rows, :, :2] = np.where(inside[..., None], xy, np.nan)
    manual[rows, :, 2] = code
    confidence[rows] = np.where(found, conf, np.nan)
    return manual, confidence
