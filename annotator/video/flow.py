"""Dense optical flow as a stand-in for codec motion vectors (HEVC, VP9, AV1, intra-only).

Same cell-grid interface as the motion-vector path, flagged ``kind="flow"`` because it is an
estimate from pixels, not what the encoder chose. OpenCV's Farneback flow runs on luma reduced
so that its longer side is at most :data:`FLOW_MAX_SIDE` px (speed), from frame t back to t-1
so that the result sits on frame t's grid like the vectors do, then is averaged per cell.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

FLOW_MAX_SIDE = 480
FloatArray = NDArray[np.float32]


def _reduce(luma: NDArray[np.uint8], factor: int) -> NDArray[np.uint8]:
    if factor == 1:
        return luma
    height, width = luma.shape
    size = (max(width // factor, 1), max(height // factor, 1))
    return np.asarray(cv2.resize(luma, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def flow_factor(height: int, width: int) -> int:
    """Integer reduction that brings the longer side to at most :data:`FLOW_MAX_SIDE`."""
    return max(1, -(-max(height, width) // FLOW_MAX_SIDE))


def flow_field(
    previous: NDArray[np.uint8], current: NDArray[np.uint8], cell: int
) -> tuple[FloatArray, FloatArray]:
    """Per-cell displacement t-1 -> t (px, full resolution) from dense optical flow."""
    height, width = current.shape
    factor = flow_factor(height, width)
    small_prev, small_cur = _reduce(previous, factor), _reduce(current, factor)
    # Flow from t to t-1: current(p) ~ previous(p + f(p)), so the motion t-1 -> t at p is -f(p).
    no_initial_flow: Any = None
    back = np.asarray(
        cv2.calcOpticalFlowFarneback(
            small_cur, small_prev, no_initial_flow, 0.5, 4, 15, 3, 5, 1.2, 0
        ),
        dtype=np.float32,
    )
    gh, gw = -(-height // cell), -(-width // cell)
    # Area-averaging the reduced flow straight to the cell grid approximates the per-cell mean.
    dx = np.asarray(cv2.resize(-back[:, :, 0] * factor, (gw, gh), interpolation=cv2.INTER_AREA))
    dy = np.asarray(cv2.resize(-back[:, :, 1] * factor, (gw, gh), interpolation=cv2.INTER_AREA))
    return dx.reshape(gh, gw).astype(np.float32), dy.reshape(gh, gw).astype(np.float32)
