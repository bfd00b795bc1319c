"""Points carried along a video's motion store: how the estimator reaches a key frame far from
the last one without its person detector (``estimation.carry`` builds the ROI from them).

:func:`motion_carry` gives a function of the shape ``estimation.carry.Carry`` (this package
does not import ``estimation``; the command line and the benchmark hand one to the other): it
walks points from one frame to another along the store (the propagation walk, a bounded span
of fields at a time) and answers None where the motion cannot be trusted: a scene cut between
the two frames, or no motion vector near the points on any step of the way (an intra-only
stretch: every step guessed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from annotator.propagation.mv import DEFAULT_SETTINGS, WalkSettings
from annotator.propagation.walk_chunks import walk_store
from annotator.video.motion_store import MotionStore

SPAN = 64  # frames of fields read at a time

Carry = Callable[[int, int, NDArray[np.float64]], "NDArray[np.float64] | None"]


def motion_carry(
    store: MotionStore, cuts: Sequence[int] = (), settings: WalkSettings = DEFAULT_SETTINGS
) -> Carry:
    """``carry(first, last, points)`` along ``store``; ``cuts``: first frames of new shots (never crossed). The
    walk's neighbourhood is the fill's: ``settings.radius`` of the points' extent, at least
    ``settings.min_radius`` px."""
    cut_list = sorted(int(c) for c in cuts)

    def carry(first: int, last: int, points: NDArray[np.float64]) -> NDArray[np.float64] | None:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        lo, hi = min(first, last), max(first, last)
        if first == last or lo < 0 or hi >= len(store):
            return None
        if any(lo < c <= hi for c in cut_list):
            return None
        finite = np.isfinite(pts).all(axis=1)
        if finite.sum() < 2:
            return None
        extent = float((pts[finite].max(axis=0) - pts[finite].min(axis=0)).max())
        radius = max(settings.min_radius, settings.radius * extent)
        n = int(finite.sum())
        walks = walk_store(
            store,
            np.full(n, first),
            np.full(n, last),
            pts[finite],
            np.full(n, radius),
            np.zeros((n, 2)),
            SPAN,
        )
        guessed = np.concatenate([walks.guessed[walks.rows(k)][1:] for k in range(n)])
        if guessed.all():
            return None
        out = np.full_like(pts, np.nan)
        out[finite] = walks.path[walks.offset[1:] - 1]
        return out

    return carry
