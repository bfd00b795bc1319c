"""Where to put the labels: reference placements for "labels to full coverage".

Given ground truth, each function returns a set of frames to label so that a fill from those
frames keeps every visible joint of every frame within ``alpha`` x body size (CONTRACTS.md,
"full coverage"). They are the yardsticks the key frame proposals are compared with:

- ``uniform_to_cover``: the smallest evenly spaced set that covers;
- ``bisection_frames``: label the middle of the largest gap until covered (no ground truth
  used except to stop);
- ``dp_optimal_linear``: the exact minimum for linear interpolation (a linear segment depends
  only on its two end labels, so coverage of a set is a shortest path over frames);
- ``greedy_with_gt``: add the worst-filled frame until covered, for any fill (a reference,
  not a bound);
- ``ranked_annotator``: a simulated annotator who always labels the frame that
  ``dynamics.ranking.rank_next_frames`` puts first (ground truth used only to stop);
  with ``told_uncovered_gaps`` it is also told which gaps between its labels still hold an
  uncovered frame (a reference: what a perfect "is this gap done?" signal would give).

``fill_fn(frames) -> pred_xy (F, J, 2)`` fills from ground truth at ``frames``;
``label_fill`` makes one from a fill method.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from annotator.core.framespec import uniform_frames
from annotator.core.metrics import covered, normalized_errors

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
FillFn = Callable[[IntArray], FloatArray]


def label_fill(
    gt_xy: FloatArray, method: str = "linear", fps: float | None = None, dictionary: object = None
) -> FillFn:
    """A ``fill_fn`` that labels ``gt_xy`` (F, J, 2) on the given frames and fills with
    ``method``."""
    from annotator.dynamics.fill import fill_track, make_filler

    filler = make_filler(method, fps=fps, dictionary=dictionary)
    gt = np.asarray(gt_xy, dtype=np.float64)

    def fill(frames: IntArray) -> FloatArray:
        manual = np.full((*gt.shape[:2], 3), np.nan)
        manual[:, :, 2] = 0
        manual[frames, :, :2] = gt[frames]
        manual[frames, :, 2] = 1
        res = fill_track(manual, filler)
        return np.asarray(res.poses[:, :, :2], dtype=np.float64)

    return fill


def is_covering(
    fill_fn: FillFn,
    frames: IntArray,
    gt_xy: FloatArray,
    visible: NDArray[np.bool_],
    body: FloatArray,
    alpha: float = 0.05,
) -> bool:
    return bool(covered(fill_fn(frames), gt_xy, visible, body, alpha).all())


def uniform_to_cover(
    fill_fn: FillFn,
    gt_xy: FloatArray,
    visible: NDArray[np.bool_],
    body: FloatArray,
    alpha: float = 0.05,
) -> IntArray:
    """The smallest evenly spaced frame set (first and last included) whose fill covers."""
    f = gt_xy.shape[0]
    for count in range(2, f + 1):
        frames = uniform_frames(f, count)
        if is_covering(fill_fn, frames, gt_xy, visible, body, alpha):
            return frames
    return np.arange(f, dtype=np.int64)


def bisection_frames(
    fill_fn: FillFn,
    gt_xy: FloatArray,
    visible: NDArray[np.bool_],
    body: FloatArray,
    alpha: float = 0.05,
) -> IntArray:
    """Start from the first and last frames; label the middle of the largest gap until the
    fill covers."""
    f = gt_xy.shape[0]
    frames = sorted({0, f - 1})
    while not is_covering(fill_fn, np.asarray(frames, np.int64), gt_xy, visible, body, alpha):
        gaps = np.diff(frames)
        k = int(np.argmax(gaps))
        if gaps[k] < 2:
            break
        frames.insert(k + 1, frames[k] + int(gaps[k]) // 2)
    return np.asarray(frames, dtype=np.int64)


def greedy_with_gt(
    fill_fn: FillFn,
    gt_xy: FloatArray,
    visible: NDArray[np.bool_],
    body: FloatArray,
    alpha: float = 0.05,
) -> IntArray:
    """Start from the first and last frames; add the frame with the largest error until
    the fill covers."""
    f = gt_xy.shape[0]
    frames = sorted({0, f - 1})
    while True:
        err = normalized_errors(fill_fn(np.asarray(frames, np.int64)), gt_xy, visible, body)
        worst = np.nan_to_num(err, nan=0.0, posinf=np.inf).max(axis=1)
        worst[frames] = 0.0
        t = int(np.argmax(worst))
        if worst[t] <= alpha:
            break
        frames = sorted({*frames, t})
    return np.asarray(frames, dtype=np.int64)


def dp_optimal_linear(
    gt_xy: FloatArray,
    visible: NDArray[np.bool_],
    body: FloatArray,
    alpha: float = 0.05,
) -> IntArray:
    """The fewest frames whose linear fill (held before the first and after the last label)
    covers every frame; exact by dynamic programming."""
    gt = np.asarray(gt_xy, dtype=np.float64)
    f = gt.shape[0]
    vis = np.asarray(visible, dtype=bool) & np.isfinite(gt).all(axis=2)
    tol = alpha * np.asarray(body, dtype=np.float64)
    seg_ok = _segment_ok(gt, vis, tol)
    head_ok = np.array([_hold_ok(gt, vis, tol, j, 0, j) for j in range(f)])
    tail_ok = np.array([_hold_ok(gt, vis, tol, i, i + 1, f) for i in range(f)])
    inf = f + 1
    cost = np.full(f, inf, dtype=np.int64)
    back = np.full(f, -1, dtype=np.int64)
    for j in range(f):
        if head_ok[j]:
            cost[j] = 1
        for i in np.flatnonzero(seg_ok[:j, j]):
            if cost[i] + 1 < cost[j]:
                cost[j], back[j] = cost[i] + 1, i
    ends = np.flatnonzero(tail_ok & (cost < inf))
    j = int(ends[np.argmin(cost[ends])])
    out = [j]
    while back[j] >= 0:
        j = int(back[j])
        out.append(j)
    return np.asarray(sorted(out), dtype=np.int64)


def _hold_ok(
    gt: FloatArray, vis: NDArray[np.bool_], tol: FloatArray, src: int, lo: int, hi: int
) -> bool:
    if hi <= lo:
        return True
    d = np.sqrt(((gt[lo:hi] - gt[src]) ** 2).sum(axis=2))
    return bool(((d <= tol[lo:hi, None]) | ~vis[lo:hi]).all())


def _segment_ok(gt: FloatArray, vis: NDArray[np.bool_], tol: FloatArray) -> NDArray[np.bool_]:
    """ok[i, j]: linear interpolation between labels i < j covers every frame between."""
    f = gt.shape[0]
    ok = np.zeros((f, f), dtype=bool)
    t_all = np.arange(f)
    for i in range(f - 1):
        for j0 in range(i + 1, f, 64):
            js = np.arange(j0, min(f, j0 + 64))
            ts = t_all[i + 1 : js[-1]]
            if ts.size == 0:
                ok[i, js] = True
                continue
            w = (ts[None, :] - i) / (js[:, None] - i)  # (nj, nt)
            pred = gt[i] + w[..., None, None] * (gt[js][:, None] - gt[i])  # (nj, nt, J, 2)
            d = np.sqrt(((pred - gt[ts][None]) ** 2).sum(axis=3))
            good = (d <= tol[ts][None, :, None]) | ~vis[ts][None]
            inside = ts[None, :] < js[:, None]
            ok[i, js] = (good.all(axis=2) | ~inside).all(axis=1)
    return ok


def ranked_annotator(
    gt_xy: FloatArray,
    visible: NDArray[np.bool_],
    body: FloatArray,
    alpha: float = 0.05,
    method: str = "hpim",
    fps: float | None = None,
    objective: str = "gain",  # its documented figures; the app ranks by "peak"
    told_uncovered_gaps: bool = False,
) -> IntArray:
    """Start from the first and last frames; label the top-ranked frame of
    ``rank_next_frames`` until the fill covers (the ranking never sees the ground truth).

    ``told_uncovered_gaps``: only frames inside a gap that still holds an uncovered frame are
    eligible (the ground truth tells which gaps; the ranking still picks the frame)."""
    from annotator.dynamics.fill import fill_track, make_filler
    from annotator.dynamics.ranking import rank_next_frames

    gt = np.asarray(gt_xy, dtype=np.float64)
    f = gt.shape[0]
    filler = make_filler(method, fps=fps)
    manual = np.full((*gt.shape[:2], 3), np.nan)
    manual[:, :, 2] = 0
    frames = sorted({0, f - 1})
    while True:
        manual[frames, :, :2] = gt[frames]
        manual[frames, :, 2] = 1
        res = fill_track(manual, filler)
        pred = np.asarray(res.poses[:, :, :2], dtype=np.float64)
        ok = covered(pred, gt, visible, body, alpha)
        if bool(ok.all()):
            break
        ranked = rank_next_frames(manual, res, objective=objective)
        if told_uncovered_gaps:
            ranked = [r for r in ranked if _in_uncovered_gap(r[0], frames, ok)]
        if not ranked:
            break
        frames.append(ranked[0][0])
    return np.asarray(sorted(frames), dtype=np.int64)


def _in_uncovered_gap(t: int, labelled: list[int], ok: NDArray[np.bool_]) -> bool:
    """Whether frame ``t`` lies in a stretch between labels (or beyond the outer ones) that
    holds a frame ``ok`` marks as not covered."""
    marks = np.sort(np.asarray(labelled))
    i = int(np.searchsorted(marks, t))
    lo = int(marks[i - 1]) + 1 if i > 0 else 0
    hi = int(marks[i]) if i < len(marks) else len(ok)
    return not bool(ok[lo:hi].all())
