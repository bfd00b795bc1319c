"""Walks refined on the decoded picture: the joint tracked on the luma, checked forward-backward.

The motion field the walks read (``walk.py``) is averaged over cells of 8-16 px: a small part
that moves fast (a wrist swinging past the torso) shares its cells with slower neighbours and
is under-read. This refinement also tracks each walking joint from frame to frame on the
decoded luma, then tracks the result back; where the point comes back within
``Refine.fb_max`` px of where it started (and the tracks succeeded), the picture's step
replaces the field's step. Where the check fails (an occluded joint, a flat or blurred patch)
the field's step stands. The steps' spread and residual stay the field's (a step the field
had to guess is no longer marked guessed where the picture tracked it), so ``mv.py`` weighs,
corrects and blends the walks as before, and labels stay exact.

Two trackers (``REFINES``): ``lk-pyr``, OpenCV's pyramidal Lucas-Kanade started from the
field's step; ``lk``, the joint's square found by normalised cross-correlation within a search
radius, then Lucas-Kanade on the full picture from there: a pyramid's coarse levels see the
background around a small part that moves further than its own size, a match does not.

All walkers at one pair of frames are tracked together, frame pair by frame pair (forward
walks in increasing frame order, backward walks in decreasing order); the field's step is
read at the walker's refined position (``walk_many`` over one step). The cost is the luma of
the gap's frames (:func:`decode_luma`: a second decode) and the tracking: ``bench propagation
--refine lk,lk-pyr`` prints both, and what the refinement gains (not enough to be offered by
``fill``, ``estimate`` or the app: ``docs/benchmarks-propagation.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from annotator.dynamics.base import Observations
from annotator.errors import UsageError
from annotator.propagation.mv import (
    DEFAULT_SETTINGS,
    WalkSettings,
    gaps,
    gaps_near,
    propagate_gaps,
)
from annotator.propagation.registry import VideoSource
from annotator.propagation.walk import Walks, walk_many
from annotator.video.motion import MotionFields

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Luma = NDArray[np.uint8]


@dataclass(frozen=True)
class Refine:
    """Lucas-Kanade settings: ``window`` px square, ``levels`` pyramid levels above the
    picture, a step kept where the back-tracked point lands within ``fb_max`` px of its
    start."""

    window: int = 15
    levels: int = 3
    fb_max: float = 1.0
    iterations: int = 30
    from_field: bool = True  # without a search: start from the field's step
    search: int = 32  # px searched by matching the joint's square first (0: pyramid only)
    min_score: float = 0.8  # least correlation of a match


DEFAULT_REFINE = Refine()
REFINES: dict[str, Refine] = {
    "lk": DEFAULT_REFINE,  # the joint's square matched, then Lucas-Kanade at full size
    "lk-pyr": Refine(window=21, search=0),  # pyramidal Lucas-Kanade from the field's step
}
"""The refinements by name (``bench propagation --refine``)."""


def decode_luma(video: Path, first: int = 0, last: int | None = None) -> Luma:
    """The luma (grey) planes of frames ``first`` .. ``last`` (inclusive; default: to the end)
    of ``video`` as (n, H, W) uint8, in display orientation (the frames' rotation applied)."""
    from annotator.video.motion_extract import display_rotation, luma_of, open_video_stream

    container, stream = open_video_stream(Path(video))
    planes: list[Luma] = []
    try:
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i < first:
                continue
            if last is not None and i > last:
                break
            luma = luma_of(frame)
            turn = display_rotation(frame) // 90
            planes.append(np.ascontiguousarray(np.rot90(luma, -turn)) if turn else luma)
    finally:
        container.close()
    if not planes:
        raise ValueError(f"no frames {first}..{last} in {video}")
    return np.stack(planes)


def match_points(
    a: Luma, b: Luma, points: FloatArray, half: int, search: int
) -> tuple[FloatArray, FloatArray]:
    """Each point's ``2 half + 1`` square of ``a`` found in ``b`` within ``search`` px
    (normalised cross-correlation, sub-pixel by a parabola through the peak): positions (n, 2)
    and peak scores (n,; -1 where the square leaves the picture)."""
    h, w = a.shape
    out = np.array(points, dtype=np.float64).reshape(-1, 2)
    score = np.full(len(out), -1.0)
    for k, (px, py) in enumerate(out.copy()):
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        x, y = round(float(px)), round(float(py))
        if x - half < 0 or y - half < 0 or x + half >= w or y + half >= h:
            continue
        tpl = a[y - half : y + half + 1, x - half : x + half + 1]
        x0, y0 = max(0, x - half - search), max(0, y - half - search)
        x1, y1 = min(w, x + half + 1 + search), min(h, y + half + 1 + search)
        r = cv2.matchTemplate(b[y0:y1, x0:x1], tpl, cv2.TM_CCOEFF_NORMED)
        _, peak, _, (j, i) = cv2.minMaxLoc(r)
        out[k, 0] = x0 + j + half + _vertex(r[i, j - 1 : j + 2]) + (px - x)
        out[k, 1] = y0 + i + half + _vertex(r[i - 1 : i + 2, j]) + (py - y)
        score[k] = peak
    return out, score


def _vertex(three: NDArray[Any]) -> float:
    """Sub-pixel offset of a peak from three samples around it (0 at an edge or a flat top)."""
    if len(three) != 3:
        return 0.0
    left, mid, right = (float(v) for v in three)
    curve = left - 2.0 * mid + right
    return 0.0 if curve >= 0 else float(np.clip(0.5 * (left - right) / curve, -0.5, 0.5))


def lk_steps(
    a: Luma,
    b: Luma,
    points: FloatArray,
    refine: Refine = DEFAULT_REFINE,
    guess: FloatArray | None = None,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Points (n, 2) of picture ``a`` tracked into ``b``: their positions in ``b`` and whether
    the forward-backward check passed. Each track: the point's square found in ``b``
    (:func:`match_points`, which a small part moving further than its own size needs: a
    pyramid's coarse levels see the background around it), then Lucas-Kanade from there on
    the full picture; the check tracks the result back the same way and wants it within
    ``fb_max`` px of the start, both matches scoring at least ``min_score`` and both
    Lucas-Kanade tracks converged. ``guess`` (n, 2): where to start in ``b`` when
    ``refine.search`` is 0 (the field's step), else where the points are."""
    if len(points) == 0:
        return np.empty((0, 2)), np.zeros(0, dtype=bool)
    p0 = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 2)
    p1, ok1 = _track(a, b, p0, refine, guess)
    back, ok2 = _track(b, a, p1, refine, None if guess is None else p0)
    h, w = a.shape
    inside = (p1[:, 0] >= 0) & (p1[:, 0] <= w - 1) & (p1[:, 1] >= 0) & (p1[:, 1] <= h - 1)
    near = np.linalg.norm(back - p0, axis=1) <= refine.fb_max
    ok = ok1 & ok2 & near & inside & np.isfinite(p1).all(axis=1)
    return p1, np.asarray(ok, dtype=bool)


def _track(
    a: Luma, b: Luma, p0: FloatArray, refine: Refine, guess: FloatArray | None
) -> tuple[FloatArray, NDArray[np.bool_]]:
    ok = np.ones(len(p0), dtype=bool)
    start = p0 if guess is None else np.asarray(guess, dtype=np.float64)
    levels = refine.levels
    if refine.search > 0:
        start, score = match_points(a, b, p0, refine.window // 2, refine.search)
        ok &= score >= refine.min_score
        levels = 0  # the match found it: Lucas-Kanade only polishes
    q0 = np.ascontiguousarray(p0, dtype=np.float32).reshape(-1, 1, 2)
    q1 = np.ascontiguousarray(start, dtype=np.float32).reshape(-1, 1, 2)
    found, st, _ = cv2.calcOpticalFlowPyrLK(
        a,
        b,
        q0,
        q1,
        winSize=(refine.window, refine.window),
        maxLevel=levels,
        criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, refine.iterations, 0.01),
        flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
    )
    moved = np.asarray(found, dtype=np.float64).reshape(-1, 2)
    return moved, ok & (np.asarray(st).ravel() == 1)


def walk_refined(
    fields: MotionFields,
    luma: Luma,
    start: IntArray,
    stop: IntArray,
    points: FloatArray,
    radius: FloatArray,
    velocity: FloatArray | None = None,
    refine: Refine = DEFAULT_REFINE,
) -> Walks:
    """``walk_many(fields, start, stop, points, radius, velocity)`` with each step replaced by
    the step tracked on ``luma`` (one plane per frame of ``fields``) where the
    forward-backward check passes (:func:`lk_steps`)."""
    start = np.asarray(start, dtype=np.int64)
    stop = np.asarray(stop, dtype=np.int64)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    rad = np.asarray(radius, dtype=np.float64)
    vel = np.zeros_like(pts) if velocity is None else np.asarray(velocity, dtype=np.float64)
    vel = vel.reshape(-1, 2).copy()
    if len(luma) != len(fields):
        raise ValueError(f"{len(luma)} luma planes for {len(fields)} frames of fields")
    lengths = np.abs(stop - start) + 1
    offset = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows = int(offset[-1])
    out = Walks(
        offset, np.empty((rows, 2)), np.zeros(rows), np.zeros(rows), np.zeros(rows, dtype=bool)
    )
    out.path[offset[:-1]] = pts
    cur = pts.copy()
    forward = stop > start
    backward = stop < start
    if len(start) == 0:
        return out
    lo, hi = int(np.minimum(start, stop).min()), int(np.maximum(start, stop).max())
    # forward walkers cross frame pair (t-1, t) for start < t <= stop, in increasing t
    for t in range(lo + 1, hi + 1):
        k = np.flatnonzero(forward & (start < t) & (t <= stop))
        if len(k):
            _step(fields, luma, k, (t - 1, t), start, cur, rad, vel, refine, out)
    # backward walkers cross (t, t-1) for stop < t <= start, in decreasing t
    for t in range(hi, lo, -1):
        k = np.flatnonzero(backward & (stop < t) & (t <= start))
        if len(k):
            _step(fields, luma, k, (t, t - 1), start, cur, rad, vel, refine, out)
    return out


def _step(
    fields: MotionFields,
    luma: Luma,
    k: IntArray,
    pair: tuple[int, int],
    start: IntArray,
    cur: FloatArray,
    rad: FloatArray,
    vel: FloatArray,
    refine: Refine,
    out: Walks,
) -> None:
    """Move walkers ``k`` from frame ``pair[0]`` to the adjacent ``pair[1]`` (their positions
    ``cur`` and velocities ``vel`` in place) and record the step in ``out``."""
    src, dst = pair
    n = len(k)
    one = walk_many(fields, np.full(n, src), np.full(n, dst), cur[k], rad[k], vel[k])
    step_rows = one.offset[:-1] + 1
    field_to = one.path[step_rows]
    guess = field_to if refine.from_field else None
    moved, ok = lk_steps(luma[src], luma[dst], cur[k], refine, guess)
    to = np.where(ok[:, None], moved, field_to)
    row = out.offset[k] + np.abs(dst - start[k])
    out.path[row] = to
    out.spread[row] = one.spread[step_rows]
    out.residual[row] = one.residual[step_rows]
    out.guessed[row] = one.guessed[step_rows] & ~ok
    vel[k] = to - cur[k]
    cur[k] = to


class LkPropagator:
    """``mv`` propagation (``mv.py``) with its walks refined on ``luma`` (the video's decoded
    luma, one plane per frame: :func:`decode_luma`); fields in memory."""

    name = "mv+lk"
    needs_fields = True

    def __init__(
        self,
        luma: Luma,
        settings: WalkSettings = DEFAULT_SETTINGS,
        refine: Refine = DEFAULT_REFINE,
    ) -> None:
        self.luma = luma
        self.settings = settings
        self.refine = refine

    def propagate(
        self,
        manual: NDArray[Any],
        source: VideoSource,
        only: Sequence[tuple[int, int]] | None = None,
        into: Observations | None = None,
    ) -> Observations:
        if not isinstance(source.fields, MotionFields):
            raise UsageError("the lk refinement needs the video's motion fields in memory")
        return propagate_refined(
            manual, source.fields, self.luma, source.cuts, self.settings, self.refine, only, into
        )


def propagate_refined(
    manual: NDArray[Any],
    fields: MotionFields,
    luma: Luma,
    cuts: Sequence[int] = (),
    settings: WalkSettings = DEFAULT_SETTINGS,
    refine: Refine = DEFAULT_REFINE,
    only: Sequence[tuple[int, int]] | None = None,
    into: Observations | None = None,
) -> Observations:
    """``mv.propagate`` with the walks refined on ``luma`` (:func:`walk_refined`)."""
    man = np.asarray(manual)
    f, nj = man.shape[:2]
    if len(fields) != f or len(luma) != f:
        raise UsageError(
            f"the video has {len(fields)} frames ({len(luma)} decoded), the labels {f}"
        )
    obs = into or Observations(np.full((f, nj, 2), np.nan), np.full((f, nj), np.nan))
    found = gaps(man, cuts) if only is None else gaps_near(man, cuts, only)
    if found:
        walker = partial(walk_refined, fields, luma, refine=refine)
        propagate_gaps(man, walker, 0, found, settings, obs)
    return obs
