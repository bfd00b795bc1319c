"""Decoding BlazePose's landmark model: 39 landmarks in the 256×256 crop, refined on heatmaps.

The model gives per landmark x, y, z (crop pixels), a visibility and a presence logit, and a
64×64 heatmap logit per landmark. The first 33 are the pose landmarks; 33 and 34 are the
auxiliary alignment points (hip centre and a point on the body axis) from which the tracker
places the next frame's ROI; 35–38 are not used. Like MediaPipe, x and y are replaced by the
sigmoid-weighted mean cell of a 7×7 window of the heatmap around the regressed point when
the window's largest sigmoid reaches 0.5; the mean cell index over 64 is used as is (no
half-cell offset), which is what the model was tuned with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

INPUT_SIZE = 256
LANDMARKS = 39
POSE_LANDMARKS = 33
AUX = (33, 34)
KERNEL = 7
MIN_REFINE_CONFIDENCE = 0.5


def sigmoid(x: NDArray[np.floating]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


@dataclass(frozen=True)
class CropLandmarks:
    """All 39 landmarks in crop coordinates: ``xy`` (39, 2) in [0, 1], ``z`` (39,) in crop
    widths, ``visibility`` and ``presence`` (39,) after the sigmoid; ``pose_flag`` the
    model's probability that a person is in the crop."""

    xy: NDArray[np.float64]
    z: NDArray[np.float64]
    visibility: NDArray[np.float64]
    presence: NDArray[np.float64]
    pose_flag: float


def decode(
    raw: NDArray[np.floating],
    pose_flag: float,
    heatmap: NDArray[np.floating] | None,
    input_size: int = INPUT_SIZE,
) -> CropLandmarks:
    """Landmarks from the model's (195,) output and (64, 64, 39) heatmap logits."""
    values = np.asarray(raw, dtype=np.float64).reshape(LANDMARKS, 5)
    xy = values[:, :2] / input_size
    if heatmap is not None:
        xy = refine(xy, np.asarray(heatmap).reshape(heatmap.shape[-3:]))
    return CropLandmarks(
        xy=xy,
        z=values[:, 2] / input_size,
        visibility=sigmoid(values[:, 3]),
        presence=sigmoid(values[:, 4]),
        pose_flag=float(pose_flag),
    )


def refine(
    xy: NDArray[np.float64],
    heatmap: NDArray[np.floating],
    kernel: int = KERNEL,
    min_confidence: float = MIN_REFINE_CONFIDENCE,
) -> NDArray[np.float64]:
    """``xy`` (L, 2) in [0, 1] refined on ``heatmap`` (H, W, L) logits."""
    height, width, _ = heatmap.shape
    half = (kernel - 1) // 2
    out: NDArray[np.float64] = np.array(xy, dtype=np.float64)
    for j in range(xy.shape[0]):
        # C++ int conversion truncates toward zero: points just left of or above the crop
        # still land in cell 0; those further out are left as regressed.
        col = int(xy[j, 0] * width)
        row = int(xy[j, 1] * height)
        if col < 0 or col >= width or row < 0 or row >= height:
            continue
        r0, r1 = max(0, row - half), min(height, row + half + 1)
        c0, c1 = max(0, col - half), min(width, col + half + 1)
        conf = sigmoid(heatmap[r0:r1, c0:c1, j])
        total = conf.sum()
        if conf.max() < min_confidence or total <= 0:
            continue
        rows, cols = np.mgrid[r0:r1, c0:c1]
        out[j, 0] = (cols * conf).sum() / width / total
        out[j, 1] = (rows * conf).sum() / height / total
    return out
