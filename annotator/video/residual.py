"""A pixel-domain approximation of the codec residual: ``|F_t - Warp(F_{t-1}, field_t)|``.

The codec stores its own residual (the transform-coded difference between a block and its
motion-compensated prediction) but FFmpeg does not export it. This module rebuilds something
close from decoded luma: it moves frame t-1 by the per-cell field (every pixel of a cell takes
the cell's displacement, bilinear sampling, borders replicated) and takes the absolute
difference with frame t. It differs from the stored residual because the codec predicts from
the true reference frame (possibly several frames away, or two averaged) with sub-pixel
filters and per-block vectors, then quantises the difference; here it is always frame t-1 and
the per-frame field. What it keeps is what the gate needs: near zero where the field explains
the frame, large where new content appears (occlusions, objects entering, intra blocks).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from annotator.video.motion_vectors import block_sums

FloatArray = NDArray[np.float32]

RESIDUAL_MAX_SIDE = 640
"""Frames larger than this (longer side, px) are compared at 1/2 or 1/4 resolution for speed."""


def residual_factor(height: int, width: int, cell: int) -> int:
    """Reduction (1, 2 or 4, dividing ``cell``) bringing the longer side to at most
    :data:`RESIDUAL_MAX_SIDE` where possible."""
    factor = 1
    while (
        factor < 4 and max(height, width) / factor > RESIDUAL_MAX_SIDE and cell % (factor * 2) == 0
    ):
        factor *= 2
    return factor


def reduce_luma(luma: NDArray[np.uint8], factor: int) -> NDArray[np.uint8]:
    """Area-average ``luma`` by ``factor`` (sizes rounded up so every cell keeps its pixels).

    Powers of two go by halving steps: OpenCV's exact 2x2 averaging is about ten times
    faster than its general area resampling at 4x, and the result differs by rounding only.
    """
    while factor > 1:
        step = 2 if factor % 2 == 0 else factor
        height, width = luma.shape
        size = (-(-width // step), -(-height // step))
        luma = np.asarray(cv2.resize(luma, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        factor //= step
    return luma


_RELATIVE = getattr(cv2, "WARP_RELATIVE_MAP", 0)


def expand_field(values: FloatArray, cell: int, height: int, width: int) -> FloatArray:
    """Per-cell values (gh, gw[, channels]) repeated to a per-pixel ``height`` x ``width``."""
    gh, gw = values.shape[:2]
    full = np.asarray(
        cv2.resize(values, (gw * cell, gh * cell), interpolation=cv2.INTER_NEAREST),
        dtype=np.float32,
    )
    if full.shape[0] == height and full.shape[1] == width:
        return full
    return np.ascontiguousarray(full[:height, :width])


def warp_previous(
    previous: NDArray[np.uint8], dx: FloatArray, dy: FloatArray, cell: int
) -> NDArray[np.uint8]:
    """Predict frame t from frame t-1: pixel ``p`` of t comes from ``p - field(p)`` in t-1.

    ``dx, dy``: per-cell displacement t-1 -> t (finite everywhere: fill invalid cells first).
    """
    height, width = previous.shape
    offsets = expand_field(-np.dstack([dx, dy]), cell, height, width)
    if _RELATIVE:
        flags = cv2.INTER_LINEAR | _RELATIVE
    else:  # OpenCV < 4.10: absolute coordinates
        grid = np.dstack(np.meshgrid(np.arange(width), np.arange(height))).astype(np.float32)
        offsets = offsets + grid
        flags = cv2.INTER_LINEAR
    no_second_map: Any = None
    warped = cv2.remap(previous, offsets, no_second_map, flags, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(warped, dtype=np.uint8)


def residual_image(
    previous: NDArray[np.uint8],
    current: NDArray[np.uint8],
    dx: FloatArray,
    dy: FloatArray,
    cell: int,
) -> NDArray[np.uint8]:
    """Per-pixel ``|F_t - Warp(F_{t-1}, field)|`` on luma (0..255)."""
    return np.asarray(cv2.absdiff(current, warp_previous(previous, dx, dy, cell)), np.uint8)


def pool_mean(image: NDArray[np.uint8], cell: int) -> FloatArray:
    """Mean of ``image`` over each ``cell`` x ``cell`` cell (edge cells: their in-frame part)."""
    height, width = image.shape
    sums = block_sums(image, cell)
    rows = np.minimum(height - np.arange(sums.shape[0]) * cell, cell)
    cols = np.minimum(width - np.arange(sums.shape[1]) * cell, cell)
    means: FloatArray = (sums / (rows[:, None] * cols[None, :])).astype(np.float32)
    return means


def cell_residual(
    previous: NDArray[np.uint8],
    current: NDArray[np.uint8],
    dx: FloatArray,
    dy: FloatArray,
    cell: int,
) -> FloatArray:
    """Mean absolute residual per cell (grey levels, 0..255)."""
    if not (dx.any() or dy.any()):  # a still field: the prediction is frame t-1 itself
        return pool_mean(np.asarray(cv2.absdiff(current, previous), np.uint8), cell)
    return pool_mean(residual_image(previous, current, dx, dy, cell), cell)
