"""Compiled per-frame loops of the motion-field extraction (numba, no GIL held).

Each kernel is one pass over the blocks or the pixels of a frame, doing what the vectorised
NumPy/OpenCV code in :mod:`annotator.video.motion_vectors` and :mod:`annotator.video.residual`
does in many calls (gather, compare, bincount, resize, remap, integral image): the extraction
spends its time here, so here it runs as machine code. The NumPy versions stay as the readable
reference and the tests compare the two. Kernels are compiled on first use and cached on disk
(``cache=True``); ``nogil=True`` lets the decoder thread run while a kernel works.

Arithmetic follows the NumPy reference: block-matching costs in float32 (same tie rule),
field sums in float64 in block order. The residual's bilinear warp uses 1/32 px weights and
rounds the prediction to an integer grey level, as OpenCV's ``remap`` does for 8-bit images.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

from annotator.video.motion_vectors import (
    EARLY_ACCEPT,
    MATCH_MIN_MOTION,
    TIE_GREY,
    TIE_RATIO,
    UNIT,
    Blocks,
    FrameBlocks,
    grid_shape,
)

FloatArray = NDArray[np.float32]
IntArray = NDArray[np.int32]
BoolArray = NDArray[np.bool_]
Luma = NDArray[np.uint8]

F = TypeVar("F", bound=Callable[..., Any])


def _compiled(function: F) -> F:
    return cast(F, numba.njit(cache=True, nogil=True)(function))


@_compiled
def _clip(value: int, low: int, high: int) -> int:
    return min(max(value, low), high)


@_compiled
def resolve_kernel(
    x0: Any,
    y0: Any,
    w: Any,
    h: Any,
    mvx: Any,
    mvy: Any,
    need: Any,
    current: Any,
    candidates: Any,
    distances: Any,
    early_accept: Any,
    min_motion: Any,
    tie_ratio: Any,
    tie_grey: Any,
    chosen: Any,
    costs: Any,
) -> None:
    """Per block: the candidate reference (index into ``candidates``, nearest first) whose
    displaced 4 x 2 sample grid matches best, written as a distance to ``chosen`` and its mean
    absolute difference to ``costs`` (NaN where not matched). Same rules as
    :func:`annotator.video.motion_vectors.resolve_distances`."""
    n = x0.shape[0]
    m = len(candidates)
    height, width = current.shape
    here = np.empty((n, 8), np.int32)
    sx = np.empty((n, 8), np.int64)
    sy = np.empty((n, 8), np.int64)
    row = np.full((n, m), np.inf, np.float32)
    todo = np.zeros(n, np.bool_)
    moving = np.zeros(n, np.bool_)
    for i in range(n):
        chosen[i] = distances[0]
        costs[i] = np.nan
        moving[i] = max(abs(mvx[i]), abs(mvy[i])) >= min_motion
        todo[i] = (moving[i] and m > 1) or need[i]
        if not todo[i]:
            continue
        bx = int(np.rint(x0[i]))
        by = int(np.rint(y0[i]))
        ox = int(np.rint(mvx[i]))
        oy = int(np.rint(mvy[i]))
        bw = int(w[i])
        bh = int(h[i])
        j = 0
        for r in range(2):
            py = by + (2 * r + 1) * bh // 4
            for c in range(4):
                px = bx + (2 * c + 1) * bw // 8
                here[i, j] = current[_clip(py, 0, height - 1), _clip(px, 0, width - 1)]
                sx[i, j] = _clip(px + ox, 0, width - 1)
                sy[i, j] = _clip(py + oy, 0, height - 1)
                j += 1
    # One candidate at a time (nearest first); farther ones only for blocks the nearest does
    # not fit closely.
    eight = np.float32(8.0)
    for k in range(m):
        luma = candidates[k]
        for i in range(n):
            if not todo[i]:
                continue
            if k > 0 and not (moving[i] and row[i, 0] > early_accept):
                continue
            total = 0
            for j in range(8):
                total += abs(here[i, j] - np.int32(luma[sy[i, j], sx[i, j]]))
            row[i, k] = np.float32(total) / eight
    for i in range(n):
        if not todo[i]:
            continue
        best = row[i, 0]
        for k in range(1, m):
            if row[i, k] < best:
                best = row[i, k]
        limit = best * tie_ratio + tie_grey
        pick = 0
        for k in range(m):
            if row[i, k] <= limit:
                pick = k
                break
        chosen[i] = distances[pick]
        costs[i] = row[i, pick]


@_compiled
def paint_kernel(
    x0: Any,
    y0: Any,
    w: Any,
    h: Any,
    dx: Any,
    dy: Any,
    weight: Any,
    forward: Any,
    height: int,
    width: int,
    cell: int,
    out_dx: Any,
    out_dy: Any,
    out_valid: Any,
) -> None:
    """Weighted mean motion per cell from blocks counted in 4 px units; see
    :func:`annotator.video.motion_vectors.cell_field` for the rules."""
    unit = 4
    k = cell // unit
    rows = -(-height // unit)
    cols = -(-width // unit)
    gh, gw = out_dx.shape
    sum_w = np.zeros((gh, gw), np.float64)
    sum_x = np.zeros((gh, gw), np.float64)
    sum_y = np.zeros((gh, gw), np.float64)
    past = np.zeros((gh, gw), np.float64)
    future = np.zeros((gh, gw), np.float64)
    two, four = np.float32(2.0), np.float32(4.0)
    for i in range(x0.shape[0]):
        u0 = _clip(int(np.ceil((x0[i] - two) / four)), 0, cols)
        v0 = _clip(int(np.ceil((y0[i] - two) / four)), 0, rows)
        u1 = _clip(u0 + max(w[i] // unit, 1), 0, cols)
        v1 = _clip(v0 + max(h[i] // unit, 1), 0, rows)
        wt = np.float64(weight[i])
        wx = wt * np.float64(dx[i])
        wy = wt * np.float64(dy[i])
        for cy in range(v0 // k, (v1 - 1) // k + 1):
            oy = min(v1, (cy + 1) * k) - max(v0, cy * k)
            if oy <= 0:
                continue
            for cx in range(u0 // k, (u1 - 1) // k + 1):
                ox = min(u1, (cx + 1) * k) - max(u0, cx * k)
                if ox <= 0:
                    continue
                area = np.float64(ox * oy)
                sum_w[cy, cx] += area * wt
                sum_x[cy, cx] += area * wx
                sum_y[cy, cx] += area * wy
                if forward[i]:
                    future[cy, cx] += area
                else:
                    past[cy, cx] += area
    for cy in range(gh):
        row_units = min(rows - cy * k, k)
        for cx in range(gw):
            in_frame = row_units * min(cols - cx * k, k)
            covered = max(past[cy, cx], future[cy, cx])
            ok = covered * 2 >= in_frame and sum_w[cy, cx] > 0
            out_valid[cy, cx] = ok
            if ok:
                out_dx[cy, cx] = sum_x[cy, cx] / sum_w[cy, cx]
                out_dy[cy, cx] = sum_y[cy, cx] / sum_w[cy, cx]
            else:
                out_dx[cy, cx] = np.nan
                out_dy[cy, cx] = np.nan


@_compiled
def residual_kernel(previous: Any, current: Any, dx: Any, dy: Any, cell: int, out: Any) -> None:
    """Mean ``|F_t - Warp(F_{t-1}, field)|`` per cell: every pixel of a cell samples frame t-1
    at ``p - (dx, dy)`` of its cell (bilinear, 1/32 px weights, borders replicated)."""
    height, width = current.shape
    gh, gw = out.shape
    for cy in range(gh):
        ya = cy * cell
        yb = min(ya + cell, height)
        for cx in range(gw):
            xa = cx * cell
            xb = min(xa + cell, width)
            sx = -np.float64(dx[cy, cx])
            sy = -np.float64(dy[cy, cx])
            fx = np.floor(sx)
            fy = np.floor(sy)
            qx = int(np.rint((sx - fx) * 32.0))
            qy = int(np.rint((sy - fy) * 32.0))
            ix = int(fx)
            iy = int(fy)
            if qx == 32:
                ix += 1
                qx = 0
            if qy == 32:
                iy += 1
                qy = 0
            w00 = (32 - qx) * (32 - qy)
            w01 = qx * (32 - qy)
            w10 = (32 - qx) * qy
            w11 = qx * qy
            total: Any = 0
            inside = ya + iy >= 0 and yb + iy < height and xa + ix >= 0 and xb + ix < width
            if inside and qx == 0 and qy == 0:  # whole-pixel shift: a plain difference
                for y in range(ya, yb):
                    now = current[y, xa:xb]
                    before = previous[y + iy, xa + ix : xb + ix]
                    for x in range(xb - xa):
                        total += abs(np.int32(now[x]) - np.int32(before[x]))
            elif inside:  # every tap inside the frame: rows sliced once, no clamping
                for y in range(ya, yb):
                    now = current[y, xa:xb]
                    top = previous[y + iy, xa + ix : xb + ix + 1]
                    bottom = previous[y + iy + 1, xa + ix : xb + ix + 1]
                    for x in range(xb - xa):
                        value = (
                            w00 * np.int32(top[x])
                            + w01 * np.int32(top[x + 1])
                            + w10 * np.int32(bottom[x])
                            + w11 * np.int32(bottom[x + 1])
                        )
                        total += abs(np.int32(now[x]) - ((value + 512) >> 10))
            else:
                for y in range(ya, yb):
                    r0 = _clip(y + iy, 0, height - 1)
                    r1 = _clip(y + iy + 1, 0, height - 1)
                    for x in range(xa, xb):
                        c0 = _clip(x + ix, 0, width - 1)
                        c1 = _clip(x + ix + 1, 0, width - 1)
                        value = (
                            w00 * np.int32(previous[r0, c0])
                            + w01 * np.int32(previous[r0, c1])
                            + w10 * np.int32(previous[r1, c0])
                            + w11 * np.int32(previous[r1, c1])
                        )
                        total += abs(np.int32(current[y, x]) - ((value + 512) >> 10))
            out[cy, cx] = total / ((yb - ya) * (xb - xa))


def resolve(
    blocks: Blocks,
    current: Luma,
    candidates: list[tuple[int, Luma]],
    need_cost: BoolArray | None = None,
) -> tuple[IntArray, FloatArray]:
    """:func:`annotator.video.motion_vectors.resolve_distances`, compiled: same arguments,
    same results."""
    n = len(blocks)
    chosen = np.zeros(n, dtype=np.int32)
    costs = np.full(n, np.nan, dtype=np.float32)
    if not candidates or n == 0:
        return chosen, costs
    ordered = sorted(candidates, key=lambda c: c[0])
    # A tuple of same-typed arrays: numba compiles (and caches) one version per length.
    lumas = tuple(np.ascontiguousarray(luma) for _, luma in ordered)
    resolve_kernel(
        blocks.x0,
        blocks.y0,
        blocks.w,
        blocks.h,
        blocks.mvx,
        blocks.mvy,
        np.zeros(n, dtype=bool) if need_cost is None else need_cost,
        np.ascontiguousarray(current),
        lumas,
        np.array([d for d, _ in ordered], dtype=np.int32),
        np.float32(EARLY_ACCEPT),
        np.float32(MATCH_MIN_MOTION),
        np.float32(TIE_RATIO),
        np.float32(TIE_GREY),
        chosen,
        costs,
    )
    return chosen, costs


def paint(
    blocks: FrameBlocks, height: int, width: int, cell: int
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """:func:`annotator.video.motion_vectors.cell_field`, compiled: same arguments, same
    results (up to float rounding in the last bit)."""
    if cell % UNIT or cell <= 0:
        raise ValueError(f"cell must be a positive multiple of {UNIT}, got {cell}")
    shape = grid_shape(height, width, cell)
    dx = np.empty(shape, dtype=np.float32)
    dy = np.empty(shape, dtype=np.float32)
    valid = np.empty(shape, dtype=bool)
    paint_kernel(
        blocks.x0.astype(np.float32, copy=False),
        blocks.y0.astype(np.float32, copy=False),
        blocks.w.astype(np.int32, copy=False),
        blocks.h.astype(np.int32, copy=False),
        blocks.dx.astype(np.float32, copy=False),
        blocks.dy.astype(np.float32, copy=False),
        blocks.weight.astype(np.float32, copy=False),
        blocks.forward.astype(bool, copy=False),
        height,
        width,
        cell,
        dx,
        dy,
        valid,
    )
    return dx, dy, valid


def residual(
    previous: Luma, current: Luma, dx: FloatArray, dy: FloatArray, cell: int
) -> FloatArray:
    """Mean absolute residual per cell (grey levels); ``dx, dy`` finite, per cell, in the
    images' pixels."""
    out = np.empty(dx.shape, dtype=np.float32)
    residual_kernel(
        previous,
        current,
        dx.astype(np.float32, copy=False),
        dy.astype(np.float32, copy=False),
        cell,
        out,
    )
    return out


WARM_CANDIDATES = 8
"""Reference counts :func:`warm_up` prepares (the extraction's default reaches 8 frames)."""


def warm_up() -> None:
    """Load (or compile, the first time on a machine) every kernel now, on a tiny frame, so
    that a timed run measures the extraction and not the compiler."""
    luma = np.zeros((16, 16), dtype=np.uint8)
    blocks = Blocks(
        x0=np.zeros(1, dtype=np.float32),
        y0=np.zeros(1, dtype=np.float32),
        w=np.full(1, 8, dtype=np.int32),
        h=np.full(1, 8, dtype=np.int32),
        mvx=np.full(1, 2.0, dtype=np.float32),
        mvy=np.zeros(1, dtype=np.float32),
        forward=np.zeros(1, dtype=bool),
    )
    for count in range(1, WARM_CANDIDATES + 1):  # one compiled version per count
        resolve(blocks, luma, [(k, luma) for k in range(1, count + 1)])
    moved = FrameBlocks(
        blocks.x0,
        blocks.y0,
        blocks.w,
        blocks.h,
        blocks.mvx,
        blocks.mvy,
        np.ones(1, dtype=np.float32),
        blocks.forward,
    )
    dx, dy, _ = paint(moved, 16, 16, 8)
    residual(luma, luma, np.nan_to_num(dx), np.nan_to_num(dy), 8)
