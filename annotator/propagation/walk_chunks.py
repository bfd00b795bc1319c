"""Walking along a motion store a bounded span of frames at a time, for gaps too long to
decode at once.

``walk.walk_many`` needs the fields of every frame its walkers cross in memory (13 bytes per
cell and frame once decoded: a 5,000-frame gap of a 1080p video would hold about 0.9 GB).
A walker's whole state between two steps is its frame, its position and its last step's
motion (the velocity a guessed step keeps), so a walk can stop at the end of a span and go on
from there in the next one, with exactly the steps it would have taken in one go.
:func:`walk_store` does that for every walker: it returns the same :class:`~annotator.
propagation.walk.Walks` as ``walk_many`` on the whole fields (a test checks equality), while
holding at most ``span + 1`` frames of fields at once.
"""

from __future__ import annotations

import numpy as np

from annotator.propagation.walk import FloatArray, IntArray, Walks, walk_many
from annotator.video.motion_store import MotionStore


def walk_store(
    store: MotionStore,
    start: IntArray,
    stop: IntArray,
    points: FloatArray,
    radius: FloatArray,
    velocity: FloatArray,
    span: int,
) -> Walks:
    """``walk_many(store's fields, start, stop, points, radius, velocity)``, reading at most
    ``span`` steps' fields at a time (``span`` ≥ 1)."""
    start = np.asarray(start, dtype=np.int64)
    stop = np.asarray(stop, dtype=np.int64)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    lengths = np.abs(stop - start) + 1
    offset = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows = int(offset[-1])
    path = np.empty((rows, 2))
    spread = np.empty(rows)
    residual = np.empty(rows)
    guessed = np.empty(rows, dtype=bool)
    # walkers with the same start and stop (the joints of one gap, one direction) advance
    # together, a span at a time, so each span is read once for all of them
    pairs = np.stack([start, stop], axis=1)
    for a, b in {(int(x), int(y)) for x, y in pairs.tolist()}:
        idx = np.flatnonzero((start == a) & (stop == b))
        step = 1 if b >= a else -1
        point = pts[idx].copy()
        vel = np.asarray(velocity, dtype=np.float64)[idx].copy()
        rad = np.asarray(radius, dtype=np.float64)[idx]
        row = offset[idx].copy()
        path[row], spread[row], residual[row], guessed[row] = point, 0.0, 0.0, False
        here = a
        while here != b:
            there = here + step * min(span, abs(b - here))
            # a forward step into t reads field t; a backward step from t reads field t
            lo, hi = (here, there) if step > 0 else (there, here)
            m = len(idx)
            walks = walk_many(
                store.window(lo, hi),
                np.full(m, here - lo),
                np.full(m, there - lo),
                point,
                rad,
                vel,
            )
            n = abs(there - here)
            src = walks.offset[:-1, None] + np.arange(1, n + 1)[None, :]  # (m, n), no start
            dst = row[:, None] + np.arange(1, n + 1)[None, :]
            path[dst] = walks.path[src]
            spread[dst] = walks.spread[src]
            residual[dst] = walks.residual[src]
            guessed[dst] = walks.guessed[src]
            point = walks.path[src[:, -1]].copy()
            vel = walks.path[src[:, -1]] - walks.path[src[:, -1] - 1]
            row += n
            here = there
    return Walks(offset, path, spread, residual, guessed)
