"""Dense optical flow on decoded luma: the fallback for codecs without vectors, and a field of
its own for fast motion.

Same cell-grid interface as the motion-vector path, flagged ``kind="flow"`` because it is an
estimate from pixels, not what the encoder chose. Two estimators:

- :func:`flow_field`: OpenCV's Farneback flow on luma reduced so that its longer side is at
  most :data:`FLOW_MAX_SIDE` px; the fallback for HEVC, VP9, AV1 and intra-only streams.
- :class:`DisFlow`: OpenCV's DIS flow (dense inverse search) on the luma the residual already
  reduces on the decoding thread (longer side at most 640 px), so that it costs the flow only.

Both run from frame t back to t-1 so that the result sits on frame t's grid like the vectors
do, then are averaged per cell.
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

FLOW_MAX_SIDE = 480
FloatArray = NDArray[np.float32]
DisPreset = Literal["fast", "medium"]
_PRESETS = {"fast": cv2.DISOPTICAL_FLOW_PRESET_FAST, "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


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


def cell_means(values: FloatArray, side: int, grid: tuple[int, int]) -> FloatArray:
    """Mean of ``values`` (h, w) over square cells of ``side`` px, on a ``grid`` (gh, gw) of
    cells; a partial last row or column of cells averages the pixels it has."""
    gh, gw = grid
    height, width = values.shape
    padded = np.zeros((gh * side, gw * side), dtype=np.float64)
    count = np.zeros_like(padded)
    h, w = min(height, gh * side), min(width, gw * side)
    padded[:h, :w] = values[:h, :w]
    count[:h, :w] = 1.0
    sums = padded.reshape(gh, side, gw, side).sum(axis=(1, 3))
    counts = count.reshape(gh, side, gw, side).sum(axis=(1, 3))
    means: FloatArray = (sums / np.maximum(counts, 1.0)).astype(np.float32)
    return means


class DisFlow:
    """DIS optical flow between consecutive frames' reduced luma, per cell.

    ``factor``: how much the luma given to :meth:`field` was reduced from the picture (the
    residual's factor, which divides the cell); ``preset``: OpenCV's speed/quality preset.
    One instance per extraction (OpenCV's object keeps its buffers between frames).
    """

    def __init__(self, factor: int, cell: int, preset: DisPreset = "medium") -> None:
        if cell % factor:
            raise ValueError(f"reduction {factor} does not divide the cell {cell}")
        self.factor, self.cell, self.preset = factor, cell, preset
        self._dis: Any = cv2.DISOpticalFlow.create(_PRESETS[preset])

    def field(
        self, previous: NDArray[np.uint8], current: NDArray[np.uint8], grid: tuple[int, int]
    ) -> tuple[FloatArray, FloatArray]:
        """Per-cell displacement t-1 -> t (px, full resolution) on ``grid`` (gh, gw)."""
        # current(p) ~ previous(p + f(p)): the motion t-1 -> t at p is -f(p)
        no_initial_flow: Any = None
        back = np.asarray(self._dis.calc(current, previous, no_initial_flow), dtype=np.float32)
        side = self.cell // self.factor
        scale = np.float32(-self.factor)
        dx = cell_means(back[:, :, 0] * scale, side, grid)
        dy = cell_means(back[:, :, 1] * scale, side, grid)
        return dx, dy
