"""The rotated square region of a frame that the landmark model sees, and its coordinates.

A ``Roi`` is a square of ``side`` pixels centred on (``cx``, ``cy``) and turned by
``rotation`` radians (clockwise on screen, since y points down). A model input of ``size``
pixels maps onto it corner to corner: crop point (u, v) in [0, 1]² (u to the right, v down,
in the crop) is the frame point ``centre + R(rotation) · ((u − ½)·side, (v − ½)·side)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

# The ROI's side is this many times the body's extent measured from the hip centre.
ROI_SCALE = 1.25
# The two alignment points define an axis that should point up (90° on screen).
TARGET_ANGLE = math.pi / 2


@dataclass(frozen=True)
class Roi:
    cx: float
    cy: float
    side: float
    rotation: float

    def as_array(self) -> NDArray[np.float64]:
        return np.array([self.cx, self.cy, self.side, self.rotation], dtype=np.float64)


def normalize_radians(angle: float) -> float:
    """``angle`` wrapped into [−π, π)."""
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def roi_from_points(
    centre: NDArray[np.floating] | tuple[float, float],
    end: NDArray[np.floating] | tuple[float, float],
    scale: float = ROI_SCALE,
) -> Roi:
    """The ROI from two alignment points in frame pixels: the hip centre and a point on the
    body's axis whose distance from it is half the body's extent. The square is twice that
    distance wide, enlarged by ``scale``, and turned so that the axis points up in the crop."""
    x0, y0 = float(centre[0]), float(centre[1])
    x1, y1 = float(end[0]), float(end[1])
    side = 2.0 * math.hypot(x1 - x0, y1 - y0) * scale
    rotation = normalize_radians(TARGET_ANGLE - math.atan2(-(y1 - y0), x1 - x0))
    return Roi(x0, y0, side, rotation)


def crop_to_frame_matrix(roi: Roi, size: int) -> NDArray[np.float64]:
    """2×3 affine matrix from crop pixels (0..size) to frame pixels."""
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    k = roi.side / size
    return np.array(
        [
            [c * k, -s * k, roi.cx - (c - s) * roi.side / 2],
            [s * k, c * k, roi.cy - (s + c) * roi.side / 2],
        ],
        dtype=np.float64,
    )


def warp(image: NDArray[np.uint8], roi: Roi, size: int) -> NDArray[np.uint8]:
    """The ROI of ``image`` resampled to ``size``×``size`` (bilinear). Outside the frame the
    edge pixels are repeated: with a black border instead the landmarks move by pixels
    (median 1.5 px on the golden clips), with repetition they match it to 0.01 px."""
    matrix = crop_to_frame_matrix(roi, size)
    out = cv2.warpAffine(
        image,
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(out, dtype=np.uint8)


def to_frame(points: NDArray[np.floating], roi: Roi) -> NDArray[np.float64]:
    """Crop coordinates in [0, 1] (…, 2) to frame pixels."""
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    u = (np.asarray(points[..., 0], dtype=np.float64) - 0.5) * roi.side
    v = (np.asarray(points[..., 1], dtype=np.float64) - 0.5) * roi.side
    return np.stack([roi.cx + c * u - s * v, roi.cy + s * u + c * v], axis=-1)


def to_crop(points: NDArray[np.floating], roi: Roi) -> NDArray[np.float64]:
    """Frame pixels (…, 2) to crop coordinates in [0, 1]: the inverse of ``to_frame``."""
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    dx = np.asarray(points[..., 0], dtype=np.float64) - roi.cx
    dy = np.asarray(points[..., 1], dtype=np.float64) - roi.cy
    return np.stack([(c * dx + s * dy) / roi.side + 0.5, (-s * dx + c * dy) / roi.side + 0.5], -1)
