"""Dense optical flow on decoded luma: the fallback for codecs without vectors, and a field of
its own for fast motion.

Same cell-grid interface as the motion-vector path, flagged ``kind="flow"`` because it is an
estimate from pixels, not what the encoder chose. Two estimators:

- :func:`flow_field`: OpenCV's Farneback flow on luma reduced so that its longer side is at
  most :data:`FLOW_MAX_SIDE` px; the fallback for HEVC, VP9, AV1 and intra-only streams.
- :class:`DisFlow`: OpenCV's DIS flow (dense inverse search) on the luma the residual already
  reduces on the decoding thread (longer side at most 640 px), halved again while its longer
  side is above :data:`DIS_MAX_SIDE` (``dis_reduction``): DIS's time grows with the pixels it
  searches, and the flow is averaged to 16-24 px cells anyway.

Both run from frame t back to t-1 so that the result sits on frame t's grid like the vectors
do, then are averaged per cell.
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from annotator.errors import VideoError
from annotator.video.motion_vectors import block_sums
from annotator.video.residual import reduce_luma

FLOW_MAX_SIDE = 480
DIS_MAX_SIDE = 480
"""The ``dis`` field's DIS runs on luma halved until its longer side is at most this (where the
halving divides the cell): 320 px on 720p, 250 on 1000x1000, 480 on 1080p. Chosen with ``bench
propagation --fields dis,dis-640,dis-320`` (docs/benchmarks-propagation.md)."""
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
    """Mean of ``values`` (h, w[, channels <= 4]) over square cells of ``side`` px, on a
    ``grid`` (gh, gw) of cells; a partial last row or column of cells averages the pixels it
    has, and cells past the picture (a grid larger than it) are 0."""
    gh, gw = grid
    height, width = values.shape[:2]
    h, w = min(height, gh * side), min(width, gw * side)
    sums = block_sums(np.ascontiguousarray(values[:h, :w], dtype=np.float32), side)
    rows = np.minimum(h - np.arange(sums.shape[0]) * side, side)
    cols = np.minimum(w - np.arange(sums.shape[1]) * side, side)
    counts = (rows[:, None] * cols[None, :]).astype(np.float64)
    if sums.ndim == 3:
        counts = counts[:, :, None]
    means = np.zeros((gh, gw, *sums.shape[2:]), dtype=np.float32)
    means[: sums.shape[0], : sums.shape[1]] = sums / counts
    return means


def dis_reduction(height: int, width: int, factor: int, cell: int, max_side: int) -> int:
    """How many times more (a power of two) DIS's luma is reduced beyond the residual's
    ``factor``: halving while the longer side is above ``max_side`` and the total reduction
    still divides ``cell``."""
    extra = 1
    while max(height, width) / (factor * extra) > max_side and cell % (factor * extra * 2) == 0:
        extra *= 2
    return extra


class DisFlow:
    """DIS optical flow between consecutive frames' reduced luma, per cell.

    ``factor``: how much the luma given to :meth:`field` was reduced from the picture (the
    residual's factor, which divides the cell); ``extra``: how much more DIS's own luma is
    reduced (``dis_reduction``; ``factor * extra`` divides the cell); ``preset``: OpenCV's
    speed/quality preset. One instance per extraction (OpenCV's object keeps its buffers
    between frames, and the last frame's reduction is kept for the next pair).
    """

    def __init__(
        self, factor: int, cell: int, preset: DisPreset = "medium", extra: int = 1
    ) -> None:
        if cell % (factor * extra):
            raise ValueError(f"reduction {factor * extra} does not divide the cell {cell}")
        self.factor, self.extra, self.cell, self.preset = factor, extra, cell, preset
        self._dis: Any = cv2.DISOpticalFlow.create(_PRESETS[preset])
        self._last: tuple[NDArray[np.uint8], NDArray[np.uint8]] | None = None

    def _small(self, luma: NDArray[np.uint8]) -> NDArray[np.uint8]:
        if self._last is not None and self._last[0] is luma:
            return self._last[1]
        small = reduce_luma(luma, self.extra)
        self._last = (luma, small)
        return small

    def field(
        self, previous: NDArray[np.uint8], current: NDArray[np.uint8], grid: tuple[int, int]
    ) -> tuple[FloatArray, FloatArray]:
        """Per-cell displacement t-1 -> t (px, full resolution) on ``grid`` (gh, gw)."""
        small_previous = self._small(previous)
        small_current = self._small(current)
        # current(p) ~ previous(p + f(p)): the motion t-1 -> t at p is -f(p)
        no_initial_flow: Any = None
        try:
            back = np.asarray(
                self._dis.calc(small_current, small_previous, no_initial_flow), dtype=np.float32
            )
        except cv2.error:  # its image pyramid needs more pixels (a thin or tiny video)
            h, w = previous.shape[:2]
            raise VideoError(
                f"optical flow cannot run on frames of {w}x{h} pixels: too small"
            ) from None
        reduction = self.factor * self.extra
        means = cell_means(back, self.cell // reduction, grid)
        scale = np.float32(-reduction)
        return means[:, :, 0] * scale, means[:, :, 1] * scale
