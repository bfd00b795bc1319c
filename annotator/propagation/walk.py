"""Moving points along a video's motion field, one frame at a time (compiled: numba).

The field of frame t (``MotionFields.dx[t], dy[t]``) is the displacement of each cell's
content from frame t-1 to t, on frame t's grid. So a *backward* step from t to t-1 reads field
t at the point itself (``p[t-1] = p[t] - d_t(p[t])``), and a *forward* step from t-1 to t reads
field t where the point lands (one fixed-point iteration: ``q = p + d_t(p)``, then
``p[t] = p + d_t(q)``).

A point's motion is the robust (weighted median) motion of the valid cells around it, within
a radius sized to the body: a joint's own cell is often flat (arbitrary vectors), intra coded
(no vector) or half background. Cells are weighted by distance (Gaussian, sigma = radius / 2)
and by how well the motion explains the picture there (``1 / (1 + residual / 8)``). Where no
valid cell is near (I-frames, intra blocks, frame 0), the step keeps the walk's previous
velocity and is marked guessed.

Each step also says how far it can be trusted: the spread (weighted median absolute deviation)
of the vectors it pooled and the residual around the point. ``mv.py`` turns these into
variances in px².

Every walker (one point, one direction, one gap) is independent, so all of a fill's walkers
run in one compiled call: a 10,000-frame video's walks take tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

from annotator.video.motion import MotionFields

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

RESIDUAL_SCALE = 8.0  # grey levels at which a cell's vote halves (poorly explained motion)
TRIM = 2.0  # vectors farther than this many spreads from the median are left out of the mean
LAND_AGAIN = 1.0  # px moved in a forward step from which the field is read again where it lands
MIN_SPREAD = 0.5  # px: the spread never counts as smaller (quarter-pel vectors, rounding)

F = TypeVar("F", bound=Callable[..., Any])


def _compiled(function: F) -> F:
    return cast(F, numba.njit(cache=True, nogil=True)(function))


@_compiled
def _weighted_median(values: Any, weights: Any, n: int, order: Any) -> float:
    # an insertion sort of the indices into ``order`` (a walker's buffer): a neighbourhood
    # holds a few dozen cells, where it beats ``np.argsort``, which allocates on every call
    # (four to eight calls a step). Ties hold equal values, so the median is the same value
    for k in range(n):
        v = values[k]
        m = k
        while m > 0 and values[order[m - 1]] > v:
            order[m] = order[m - 1]
            m -= 1
        order[m] = k
    total = 0.0
    for k in range(n):
        total += weights[k]
    acc = 0.0
    for k in range(n):
        acc += weights[order[k]]
        if acc >= 0.5 * total:
            return float(values[order[k]])
    return float(values[order[n - 1]])


@_compiled
def _sample(
    dx: Any,
    dy: Any,
    valid: Any,
    residual: Any,
    cell: int,
    t: int,
    x: float,
    y: float,
    radius: float,
    buf: Any,
    order: Any,
    out: Any,
) -> bool:
    """Robust motion of field ``t`` around (x, y) into ``out`` = (dx, dy, spread, residual);
    False when no valid cell is near."""
    gh, gw = dx.shape[1], dx.shape[2]
    r = max(1, int(np.ceil(radius / cell)))
    ci = int(np.floor(y / cell))
    cj = int(np.floor(x / cell))
    sigma = max(radius / 2.0, cell / 2.0)
    reach2 = (radius + cell) ** 2
    n = 0
    for i in range(ci - r, ci + r + 1):
        if i < 0 or i >= gh:
            continue
        for j in range(cj - r, cj + r + 1):
            if j < 0 or j >= gw or not valid[t, i, j]:
                continue
            ex = (j + 0.5) * cell - x
            ey = (i + 0.5) * cell - y
            d2 = ex * ex + ey * ey
            if d2 > reach2:
                continue
            res = float(residual[t, i, j])
            if not np.isfinite(res):
                res = 0.0
            buf[0, n] = dx[t, i, j]
            buf[1, n] = dy[t, i, j]
            buf[2, n] = np.exp(-0.5 * d2 / (sigma * sigma)) / (1.0 + res / RESIDUAL_SCALE)
            buf[3, n] = res
            n += 1
    if n == 0:
        return False
    w = buf[2]
    mx = _weighted_median(buf[0], w, n, order)
    my = _weighted_median(buf[1], w, n, order)
    total = 0.0
    rsum = 0.0
    for k in range(n):
        total += w[k]
        rsum += w[k] * buf[3, k]
        buf[4, k] = abs(buf[0, k] - mx)
        buf[5, k] = abs(buf[1, k] - my)
    spread = 0.5 * (_weighted_median(buf[4], w, n, order) + _weighted_median(buf[5], w, n, order))
    # the weighted mean of the vectors near the median: robust like the median where the
    # neighbourhood mixes motions, sub-cell smooth like interpolation where the field varies
    # smoothly (a turning limb)
    keep = TRIM * max(spread, MIN_SPREAD)
    sx, sy, sw = 0.0, 0.0, 0.0
    for k in range(n):
        if buf[4, k] <= keep and buf[5, k] <= keep:
            sx += w[k] * buf[0, k]
            sy += w[k] * buf[1, k]
            sw += w[k]
    out[0] = sx / sw if sw > 0 else mx
    out[1] = sy / sw if sw > 0 else my
    # the step's spread: the weighted RMS deviation of *all* the pooled vectors from the
    # estimate, so a neighbourhood that mixes two motions (a wrist over a still background)
    # says it is unsure even when one motion holds the majority
    dev = 0.0
    for k in range(n):
        ex = buf[0, k] - out[0]
        ey = buf[1, k] - out[1]
        dev += w[k] * (ex * ex + ey * ey) / 2.0
    out[2] = np.sqrt(dev / total)
    out[3] = rsum / total
    return True


@_compiled
def _walk_kernel(
    dx: Any,
    dy: Any,
    valid: Any,
    residual: Any,
    cell: int,
    start: Any,
    stop: Any,
    x0: Any,
    y0: Any,
    radius: Any,
    offset: Any,
    vx0: Any,
    vy0: Any,
    path: Any,
    spread: Any,
    resid: Any,
    guessed: Any,
) -> None:
    """Walker k moves (x0[k], y0[k]) from frame start[k] to stop[k]; rows offset[k] .. of the
    outputs get its positions (first row: the start) and its steps' spread, residual, guess."""
    side = 2 * int(np.ceil(radius.max() / cell)) + 3
    buf = np.empty((6, side * side))
    order = np.empty(side * side, dtype=np.int64)
    s1 = np.empty(4)
    s2 = np.empty(4)
    for k in range(len(start)):
        a, b, row = start[k], stop[k], offset[k]
        step = 1 if b >= a else -1
        n = abs(b - a) + 1
        px, py = x0[k], y0[k]
        vx, vy = vx0[k], vy0[k]
        path[row, 0], path[row, 1] = px, py
        spread[row], resid[row], guessed[row] = 0.0, 0.0, False
        for m in range(1, n):
            if step > 0:
                t = a + m  # field t moves frame t-1 -> t
                ok = _sample(dx, dy, valid, residual, cell, t, px, py, radius[k], buf, order, s1)
                # read the field again where the point lands, unless it barely moves (the
                # neighbourhood is then the same cells: half the work for the same answer)
                far = abs(s1[0]) + abs(s1[1]) >= LAND_AGAIN
                if (
                    ok
                    and far
                    and _sample(
                        dx,
                        dy,
                        valid,
                        residual,
                        cell,
                        t,
                        px + s1[0],
                        py + s1[1],
                        radius[k],
                        buf,
                        order,
                        s2,
                    )
                ):
                    s1[:] = s2
                mx, my = s1[0], s1[1]
            else:
                t = a - m + 1  # from frame t back to t-1 through field t
                ok = _sample(dx, dy, valid, residual, cell, t, px, py, radius[k], buf, order, s1)
                mx, my = -s1[0], -s1[1]
            if not ok:  # no vector near (I-frame, intra block): keep the walk's velocity
                mx, my = vx, vy
            vx, vy = mx, my
            px += mx
            py += my
            r = row + m
            path[r, 0], path[r, 1] = px, py
            spread[r] = s1[2] if ok else 0.0
            resid[r] = s1[3] if ok else 0.0
            guessed[r] = not ok


@dataclass(frozen=True)
class Walks:
    """Many walks in one array: walk k occupies rows ``offset[k] .. offset[k + 1]`` of
    ``path`` (rows, 2) px (its first row is the start point), and per step into that row
    ``spread`` and ``residual`` (px, grey levels) and ``guessed`` (0 / False on the first)."""

    offset: IntArray
    path: FloatArray
    spread: FloatArray
    residual: FloatArray
    guessed: NDArray[np.bool_]

    def rows(self, k: int) -> slice:
        return slice(int(self.offset[k]), int(self.offset[k + 1]))


def walk_many(
    fields: MotionFields,
    start: IntArray,
    stop: IntArray,
    points: FloatArray,
    radius: FloatArray,
    velocity: FloatArray | None = None,
) -> Walks:
    """Walk each point ``points[k]`` (x, y) from frame ``start[k]`` to ``stop[k]`` (either
    direction) with a neighbourhood of ``radius[k]`` px. ``velocity`` (k, 2): px per frame
    along each walk's direction, used where its first steps have no vector (default 0)."""
    start = np.asarray(start, dtype=np.int64)
    stop = np.asarray(stop, dtype=np.int64)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    rad = np.asarray(radius, dtype=np.float64)
    vel = np.zeros_like(pts) if velocity is None else np.asarray(velocity, dtype=np.float64)
    lengths = np.abs(stop - start) + 1
    offset = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows = int(offset[-1])
    path = np.empty((rows, 2))
    spread = np.empty(rows)
    residual = np.empty(rows)
    guessed = np.empty(rows, dtype=bool)
    if len(start):
        _walk_kernel(
            fields.dx,
            fields.dy,
            fields.valid,
            fields.residual,
            int(fields.cell),
            start,
            stop,
            pts[:, 0].copy(),
            pts[:, 1].copy(),
            rad,
            offset[:-1].copy(),
            vel[:, 0].copy(),
            vel[:, 1].copy(),
            path,
            spread,
            residual,
            guessed,
        )
    return Walks(offset, path, spread, residual, guessed)


def warm_up() -> None:
    """Load (or compile, the first time on a machine) the kernel now, on a tiny field."""
    z = np.zeros((2, 2, 2), dtype=np.float32)
    fields = MotionFields(
        dx=z,
        dy=z,
        valid=np.ones((2, 2, 2), dtype=bool),
        residual=z,
        picture_types=("I", "P"),
        times=np.zeros(2),
        derived=np.zeros(2, dtype=bool),
        kind="mv",
        cell=8,
        width=16,
        height=16,
        codec="h264",
    )
    walk_many(fields, np.array([0, 1]), np.array([1, 0]), np.zeros((2, 2)), np.full(2, 8.0))
    from annotator.propagation.blend_kernel import blend_walks

    blend_walks(np.zeros((1, 2, 2)), np.ones((1, 2)), np.zeros((1, 2, 2)), np.ones((1, 2)), 1.0)
