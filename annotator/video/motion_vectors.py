"""Codec block motion vectors -> a per-frame displacement field on a regular cell grid.

NumPy and OpenCV only (no ``av``): :mod:`annotator.video.motion_extract` feeds it the structured array that
FFmpeg exports as ``MOTION_VECTORS`` side data and the decoded luma planes around the frame.

A codec vector says "the block at ``dst`` in this frame was copied from ``src`` in *some*
reference frame", but not which one: x264 P-frames may reach back several frames and B-frames
point forward too. :func:`resolve_distances` picks, for each block, the candidate reference
frame whose displaced block matches best (mean absolute luma difference on a small sample grid),
then :func:`per_frame_blocks` divides the displacement by that distance (constant velocity over
the reference gap) to get motion from frame t-1 to t. :func:`cell_field` averages the
blocks per cell (geometry counted in 4 px units); cells no vector covers
(intra blocks, I-frames) stay invalid, never zero motion.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

UNIT = 4
"""Raster resolution in pixels: the smallest block side in H.264 and MPEG-4 Part 2."""

EARLY_ACCEPT = 2.0
"""A block whose nearest candidate matches within this mean grey-level difference takes it
without trying farther ones (speed; the tie rule would pick it in nearly every such case)."""

MATCH_MIN_MOTION = 1.0
"""Vectors shorter than this (px, larger component) are not matched against references."""

TIE_RATIO = 1.1
TIE_GREY = 1.0
"""A farther reference wins only if its match is clearly better than the nearest one's:
mean absolute difference below ``best * TIE_RATIO + TIE_GREY`` counts as a tie, and ties go to
the nearer frame (flat blocks match every candidate equally well)."""

FloatArray = NDArray[np.float32]
IntArray = NDArray[np.int32]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Blocks:
    """One frame's motion vectors as flat arrays, one entry per block and direction.

    ``x0, y0``: top-left corner in the current frame (px); ``w, h``: block size (px);
    ``mvx, mvy``: ``src - dst``, i.e. where the block's content sits in the reference frame
    relative to where it sits now (px); ``forward``: the reference is a future frame.
    """

    x0: FloatArray
    y0: FloatArray
    w: IntArray
    h: IntArray
    mvx: FloatArray
    mvy: FloatArray
    forward: BoolArray

    def __len__(self) -> int:
        return int(self.x0.shape[0])

    def take(self, mask: BoolArray) -> Blocks:
        return Blocks(
            self.x0[mask],
            self.y0[mask],
            self.w[mask],
            self.h[mask],
            self.mvx[mask],
            self.mvy[mask],
            self.forward[mask],
        )


def blocks_from_side_data(vectors: NDArray[np.void]) -> Blocks:
    """Convert FFmpeg's ``AVMotionVector`` records (fields ``source, w, h, dst_x, dst_y,
    motion_x, motion_y, motion_scale``) to :class:`Blocks`. ``dst`` is the block centre."""
    scale = vectors["motion_scale"].astype(np.float32)
    scale[scale == 0] = 1.0
    w = vectors["w"].astype(np.int32)
    h = vectors["h"].astype(np.int32)
    return Blocks(
        x0=(vectors["dst_x"].astype(np.float32) - w // 2).astype(np.float32),
        y0=(vectors["dst_y"].astype(np.float32) - h // 2).astype(np.float32),
        w=w,
        h=h,
        mvx=(vectors["motion_x"] / scale).astype(np.float32),
        mvy=(vectors["motion_y"] / scale).astype(np.float32),
        forward=vectors["source"] > 0,
    )


SAMPLE_COLUMNS, SAMPLE_ROWS = 4, 2
"""Pixels compared per block: a 4 x 2 grid (columns at w/8, 3w/8, ..., rows at h/4, 3h/4)."""


def _sample_grid(blocks: Blocks) -> tuple[IntArray, IntArray]:
    """Integer pixel coordinates of the sample grid inside each block, shape (n, 8)."""
    n, nc, nr = len(blocks), SAMPLE_COLUMNS, SAMPLE_ROWS
    jc, jr = np.arange(nc, dtype=np.int32), np.arange(nr, dtype=np.int32)
    ox = (2 * jc[None, :] + 1) * blocks.w[:, None] // (2 * nc)
    oy = (2 * jr[None, :] + 1) * blocks.h[:, None] // (2 * nr)
    xs = np.rint(blocks.x0)[:, None].astype(np.int32) + ox
    ys = np.rint(blocks.y0)[:, None].astype(np.int32) + oy
    gx = np.broadcast_to(xs[:, None, :], (n, nr, nc)).reshape(n, nr * nc)
    gy = np.broadcast_to(ys[:, :, None], (n, nr, nc)).reshape(n, nr * nc)
    return gx, gy


def _flat_index(shape: tuple[int, ...], xs: IntArray, ys: IntArray) -> NDArray[np.int64]:
    height, width = shape
    ys64, xs64 = ys.astype(np.int64), xs.astype(np.int64)
    flat: NDArray[np.int64] = np.clip(ys64, 0, height - 1) * width + np.clip(xs64, 0, width - 1)
    return flat


def resolve_distances(
    blocks: Blocks,
    current: NDArray[np.uint8],
    candidates: list[tuple[int, NDArray[np.uint8]]],
    need_cost: BoolArray | None = None,
) -> tuple[IntArray, FloatArray]:
    """For blocks that all point one way, pick each block's reference frame.

    ``candidates``: ``(distance, luma)`` for every frame the block may point to (distance >= 1
    frames in the blocks' direction), in any order. Returns the chosen distance per block (0
    where there is no candidate) and the match cost there: mean absolute luma difference
    between the block and its displaced source (NaN where not computed). Blocks moving less
    than :data:`MATCH_MIN_MOTION` take the nearest candidate (a wrong distance would change
    their per-frame motion by under 1 px) and are only matched where ``need_cost`` says so.
    """
    n = len(blocks)
    costs_out = np.full(n, np.nan, dtype=np.float32)
    if not candidates or n == 0:
        return np.zeros(n, dtype=np.int32), costs_out
    ordered = sorted(candidates, key=lambda c: c[0])
    distances = np.array([d for d, _ in ordered], dtype=np.int32)
    chosen = np.full(n, distances[0], dtype=np.int32)
    moving = np.maximum(np.abs(blocks.mvx), np.abs(blocks.mvy)) >= MATCH_MIN_MOTION
    todo = moving & (len(ordered) > 1)
    if need_cost is not None:
        todo |= need_cost
    if not todo.any():
        return chosen, costs_out
    sub = blocks.take(todo)
    gx, gy = _sample_grid(sub)
    shape = current.shape
    here = np.take(current.reshape(-1), _flat_index(shape, gx, gy)).astype(np.int16)
    source = _flat_index(
        shape,
        gx + np.rint(sub.mvx)[:, None].astype(np.int32),
        gy + np.rint(sub.mvy)[:, None].astype(np.int32),
    )
    sub_moving = moving[todo]

    def cost(luma: NDArray[np.uint8], rows: NDArray[np.intp]) -> FloatArray:
        gathered = np.take(luma.reshape(-1), source[rows])
        total = np.abs(here[rows] - gathered).sum(axis=1, dtype=np.int32)
        mean: FloatArray = total.astype(np.float32) / np.float32(here.shape[1])
        return mean

    # Most blocks fit their nearest candidate closely: only the others try the farther ones.
    costs = np.full((len(sub_moving), len(ordered)), np.inf, dtype=np.float32)
    costs[:, 0] = cost(ordered[0][1], np.arange(len(sub_moving)))
    unsure = np.flatnonzero(sub_moving & (costs[:, 0] > EARLY_ACCEPT))
    if unsure.size:
        for j, (_, luma) in enumerate(ordered[1:], start=1):
            costs[unsure, j] = cost(luma, unsure)
    best = costs.min(axis=1, keepdims=True)
    acceptable = costs <= best * TIE_RATIO + TIE_GREY
    pick = np.argmax(acceptable, axis=1)
    chosen[todo] = distances[pick]
    costs_out[todo] = costs[np.arange(len(pick)), pick]
    return chosen, costs_out


BAD_MATCH_RATIO = 2.0
BAD_MATCH_GREY = 4.0
"""A block's vector in one direction is dropped when its match is worse than
``other * BAD_MATCH_RATIO + BAD_MATCH_GREY`` for the same block's vector in the other
direction: FFmpeg exports a zero vector for sub-blocks that do not use that direction."""


def suspicious_pairs(past: Blocks, future: Blocks) -> tuple[IntArray, IntArray]:
    """Indices ``(i, j)`` of blocks present in both directions where exactly one of the two
    vectors is zero: the zero one may be an unused list that FFmpeg exports anyway."""
    if len(past) == 0 or len(future) == 0:  # e.g. P-frames: nothing to pair
        none = np.zeros(0, dtype=np.int32)
        return none, none.copy()

    def key(b: Blocks) -> NDArray[np.int64]:
        x = np.rint(b.x0).astype(np.int64) + 4096
        y = np.rint(b.y0).astype(np.int64) + 4096
        return ((y * 16384 + x) * 64 + b.w.astype(np.int64)) * 64 + b.h.astype(np.int64)

    _, ip, jf = np.intersect1d(key(past), key(future), return_indices=True)
    zero_p = (past.mvx[ip] == 0) & (past.mvy[ip] == 0)
    zero_f = (future.mvx[jf] == 0) & (future.mvy[jf] == 0)
    odd = zero_p != zero_f
    return ip[odd].astype(np.int32), jf[odd].astype(np.int32)


def drop_worse_direction(
    pairs: tuple[IntArray, IntArray], past_cost: FloatArray, future_cost: FloatArray
) -> tuple[IntArray, IntArray]:
    """Of each suspicious pair, the past and future block indices whose match is clearly worse
    than the other direction's (to be dropped)."""
    ip, jf = pairs
    cp, cf = past_cost[ip], future_cost[jf]
    return (
        ip[cp > cf * BAD_MATCH_RATIO + BAD_MATCH_GREY],
        jf[cf > cp * BAD_MATCH_RATIO + BAD_MATCH_GREY],
    )


@dataclass(frozen=True)
class FrameBlocks:
    """Blocks with their per-frame motion (t-1 -> t, px) and a weight for averaging."""

    x0: FloatArray
    y0: FloatArray
    w: IntArray
    h: IntArray
    dx: FloatArray
    dy: FloatArray
    weight: FloatArray
    forward: BoolArray

    @staticmethod
    def concat(parts: list[FrameBlocks]) -> FrameBlocks:
        def cat(name: str) -> NDArray[np.generic]:
            return np.concatenate([getattr(p, name) for p in parts])

        return FrameBlocks(
            cat("x0").astype(np.float32),
            cat("y0").astype(np.float32),
            cat("w").astype(np.int32),
            cat("h").astype(np.int32),
            cat("dx").astype(np.float32),
            cat("dy").astype(np.float32),
            cat("weight").astype(np.float32),
            cat("forward").astype(bool),
        )


def per_frame_blocks(blocks: Blocks, distances: IntArray) -> FrameBlocks:
    """Displacement t-1 -> t per block, assuming constant velocity across the reference gap.

    A past reference ``k`` frames back: the content moved by ``-mv`` in ``k`` frames. A future
    reference ``k`` frames ahead: it will move by ``+mv`` in ``k`` frames. Blocks with no
    resolved distance are dropped; nearer references weigh more (``1/k``) because the
    constant-velocity assumption holds better over a short gap.
    """
    keep = distances > 0
    k = distances[keep].astype(np.float32)
    sign = np.where(blocks.forward[keep], np.float32(1.0), np.float32(-1.0))
    return FrameBlocks(
        x0=blocks.x0[keep],
        y0=blocks.y0[keep],
        w=blocks.w[keep],
        h=blocks.h[keep],
        dx=(sign * blocks.mvx[keep] / k).astype(np.float32),
        dy=(sign * blocks.mvy[keep] / k).astype(np.float32),
        weight=(1.0 / k).astype(np.float32),
        forward=blocks.forward[keep],
    )


def rotate_blocks(blocks: FrameBlocks, clockwise: int, width: int, height: int) -> FrameBlocks:
    """``blocks`` of a ``width`` x ``height`` coded frame, in the frame's display orientation
    after turning it ``clockwise`` degrees (0, 90, 180 or 270: the video's rotation tag).

    Turning 90 degrees clockwise takes coded pixel ``(x, y)`` to ``(height - 1 - y, x)``: a
    block's corner and size follow, and a motion ``(dx, dy)`` becomes ``(-dy, dx)``.
    """
    turn = clockwise % 360
    if turn == 0:
        return blocks
    x0, y0, w, h, dx, dy = blocks.x0, blocks.y0, blocks.w, blocks.h, blocks.dx, blocks.dy
    if turn == 90:
        geometry = (height - (y0 + h), x0, h, w, -dy, dx)
    elif turn == 180:
        geometry = (width - (x0 + w), height - (y0 + h), w, h, -dx, -dy)
    elif turn == 270:
        geometry = (y0, width - (x0 + w), h, w, dy, -dx)
    else:
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {clockwise}")
    nx0, ny0, nw, nh, ndx, ndy = geometry
    return FrameBlocks(
        x0=np.asarray(nx0, dtype=np.float32),
        y0=np.asarray(ny0, dtype=np.float32),
        w=np.asarray(nw, dtype=np.int32),
        h=np.asarray(nh, dtype=np.int32),
        dx=np.asarray(ndx, dtype=np.float32),
        dy=np.asarray(ndy, dtype=np.float32),
        weight=blocks.weight,
        forward=blocks.forward,
    )


def shift_blocks(blocks: FrameBlocks, frames_back: int) -> FrameBlocks:
    """Move each block back along its own motion by ``frames_back`` frames (constant velocity).

    Used where a frame's own vectors are unusable (FFmpeg exports zeros for MPEG-4 Part 2
    B-frames): the next anchor frame's blocks, moved back to where they were ``frames_back``
    frames earlier, carry the same per-frame motion.
    """
    return FrameBlocks(
        x0=(blocks.x0 - frames_back * blocks.dx).astype(np.float32),
        y0=(blocks.y0 - frames_back * blocks.dy).astype(np.float32),
        w=blocks.w,
        h=blocks.h,
        dx=blocks.dx,
        dy=blocks.dy,
        weight=blocks.weight,
        forward=blocks.forward,
    )


def grid_shape(height: int, width: int, cell: int) -> tuple[int, int]:
    """Cells covering a frame (the last row/column may be partly outside it)."""
    return -(-height // cell), -(-width // cell)


def block_sums(image: NDArray[np.uint8] | NDArray[np.float32], step: int) -> NDArray[np.float64]:
    """Sums of ``image`` (rows, cols[, channels <= 4]) over ``step`` x ``step`` blocks (edge
    blocks: their in-image part), from an integral image: ``(ceil(rows/step),
    ceil(cols/step)[, channels])``."""
    rows, cols = image.shape[:2]
    integral = np.asarray(cv2.integral(image), dtype=np.float64)
    r = np.minimum(np.arange(-(-rows // step) + 1) * step, rows)
    c = np.minimum(np.arange(-(-cols // step) + 1) * step, cols)
    corners = integral[np.ix_(r, c)]
    sums: NDArray[np.float64] = corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1]
    sums += corners[:-1, :-1]
    return sums


def cell_field(
    blocks: FrameBlocks, height: int, width: int, cell: int
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Per-cell motion of a ``height`` x ``width`` frame: weighted mean of the blocks over
    each ``cell`` x ``cell`` cell, NaN where it is not valid.

    Geometry is counted in 4 px units: a unit belongs to a block when the unit's centre lies
    inside it, and each block adds ``weight * units overlapped`` to the cells it touches. A
    cell is valid when one direction's blocks (past or future) together cover at least half
    of its in-frame units: bi-predicted blocks count once.
    """
    if cell % UNIT or cell <= 0:
        raise ValueError(f"cell must be a positive multiple of {UNIT}, got {cell}")
    k = cell // UNIT
    rows, cols = -(-height // UNIT), -(-width // UNIT)
    gh, gw = grid_shape(height, width, cell)
    if blocks.x0.size == 0:
        nothing = np.full((gh, gw), np.nan, dtype=np.float32)
        return nothing, nothing.copy(), np.zeros((gh, gw), dtype=bool)
    u0 = np.clip(np.ceil((blocks.x0 - UNIT / 2) / UNIT).astype(np.int64), 0, cols)
    v0 = np.clip(np.ceil((blocks.y0 - UNIT / 2) / UNIT).astype(np.int64), 0, rows)
    u1 = np.clip(u0 + np.maximum(blocks.w // UNIT, 1), 0, cols)
    v1 = np.clip(v0 + np.maximum(blocks.h // UNIT, 1), 0, rows)

    def overlaps(a0: NDArray[np.int64], a1: NDArray[np.int64]) -> tuple[NDArray[np.int64], ...]:
        span = int(((a1 - 1) // k - a0 // k).max(initial=0)) + 1
        first = (a0 // k)[:, None] + np.arange(span)[None, :]
        units = np.minimum(a1[:, None], (first + 1) * k) - np.maximum(a0[:, None], first * k)
        return first, np.maximum(units, 0)

    cx, ox = overlaps(u0, u1)
    cy, oy = overlaps(v0, v1)
    area = (oy[:, :, None] * ox[:, None, :]).reshape(len(u0), -1)
    index = (cy[:, :, None] * gw + cx[:, None, :]).reshape(len(u0), -1)
    keep = area > 0
    flat = index[keep]
    size = gh * gw

    def total(values: NDArray[np.float64]) -> NDArray[np.float64]:
        summed = np.bincount(flat, (area * values[:, None])[keep], minlength=size)
        return summed.astype(np.float64).reshape(gh, gw)

    weight = blocks.weight.astype(np.float64)
    sum_w = total(weight)
    covered = np.maximum(
        total((~blocks.forward).astype(np.float64)), total(blocks.forward.astype(np.float64))
    )
    row_units = np.minimum(rows - np.arange(gh) * k, k)
    col_units = np.minimum(cols - np.arange(gw) * k, k)
    in_frame = row_units[:, None] * col_units[None, :]
    valid: BoolArray = (covered * 2 >= in_frame) & (sum_w > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = np.where(valid, total(weight * blocks.dx) / sum_w, np.nan).astype(np.float32)
        dy = np.where(valid, total(weight * blocks.dy) / sum_w, np.nan).astype(np.float32)
    return dx, dy, valid
