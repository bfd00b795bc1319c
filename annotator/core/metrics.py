"""Pose accuracy measures of CONTRACTS.md: body size, PCK, mean error and full coverage.

Shared by the fill benchmark, the label-efficiency benchmark and the placement oracles, so
every figure in the docs is computed the same way. Pure NumPy.

Conventions: ``pred_xy`` and ``gt_xy`` are (F, J, 2); ``visible`` (F, J) bool marks the
ground-truth joints that count; ``body`` (F,) is the body size per frame. A prediction with no
position (NaN) counts as a miss for PCK and coverage and is left out of the mean error (the
share of such joints is reported by :func:`missing_share`).
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def body_size(
    gt_xy: ArrayLike, visible: ArrayLike | None = None, boxes: ArrayLike | None = None
) -> FloatArray:
    """(F,) body size: the longer side of the ground-truth box, or of the labelled joints'
    extent on frames without a (finite) box.

    ``visible`` is accepted for symmetry with the other measures; the extent uses every joint
    with a finite ground-truth position (Penn Action labels occluded joints too), falling back
    to NaN on frames with none.
    """
    xy = np.asarray(gt_xy, dtype=np.float64)
    if xy.ndim != 3 or xy.shape[2] != 2:
        raise ValueError(f"gt_xy must be (frames, joints, 2), not {xy.shape}")
    finite: BoolArray = np.asarray(np.isfinite(xy).all(axis=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames have no extent
        lo = np.nanmin(np.where(finite[..., None], xy, np.nan), axis=1)
        hi = np.nanmax(np.where(finite[..., None], xy, np.nan), axis=1)
    size = np.max(hi - lo, axis=1)
    if boxes is not None:
        b = np.asarray(boxes, dtype=np.float64)
        if b.shape != (xy.shape[0], 4):
            raise ValueError(f"boxes must be ({xy.shape[0]}, 4), not {b.shape}")
        box_size = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        ok = np.isfinite(box_size) & (box_size > 0)
        size = np.where(ok, box_size, size)
    return np.asarray(size, dtype=np.float64)


def normalized_errors(
    pred_xy: ArrayLike, gt_xy: ArrayLike, visible: ArrayLike, body: ArrayLike
) -> FloatArray:
    """(F, J) Euclidean error / body size; NaN where the joint does not count (not visible)
    and +inf where it counts but the prediction has no position."""
    pred = np.asarray(pred_xy, dtype=np.float64)
    gt = np.asarray(gt_xy, dtype=np.float64)
    vis = np.asarray(visible, dtype=bool)
    b = np.asarray(body, dtype=np.float64)
    if pred.shape != gt.shape or gt.shape[:2] != vis.shape or b.shape != gt.shape[:1]:
        raise ValueError(
            f"shapes differ: pred {pred.shape}, gt {gt.shape}, visible {vis.shape}, body {b.shape}"
        )
    with np.errstate(invalid="ignore", divide="ignore"):  # frames without a body size
        err = np.sqrt(((pred - gt) ** 2).sum(axis=2)) / b[:, None]
    err = np.where(np.isfinite(err), err, np.inf)
    counts = vis & np.isfinite(gt).all(axis=2) & np.isfinite(b)[:, None] & (b[:, None] > 0)
    return np.asarray(np.where(counts, err, np.nan), dtype=np.float64)


def pck_counts(
    pred_xy: ArrayLike, gt_xy: ArrayLike, visible: ArrayLike, body: ArrayLike, alpha: float
) -> tuple[int, int]:
    """(hits, counted): counted ground-truth joints, and those whose error is <= ``alpha`` x
    body size. What paired comparisons over clips pool."""
    e = normalized_errors(pred_xy, gt_xy, visible, body)
    counted = ~np.isnan(e)
    return int((e[counted] <= alpha).sum()), int(counted.sum())


def pck(
    pred_xy: ArrayLike, gt_xy: ArrayLike, visible: ArrayLike, body: ArrayLike, alpha: float
) -> float:
    """Share of counted ground-truth joints whose error is <= ``alpha`` x body size."""
    hits, n = pck_counts(pred_xy, gt_xy, visible, body, alpha)
    return hits / n if n else float("nan")


def mean_error_pct(
    pred_xy: ArrayLike, gt_xy: ArrayLike, visible: ArrayLike, body: ArrayLike
) -> float:
    """Mean error of counted joints with a prediction, in % of body size."""
    e = normalized_errors(pred_xy, gt_xy, visible, body)
    ok = np.isfinite(e)
    return float(100.0 * e[ok].mean()) if ok.any() else float("nan")


def missing_share(
    pred_xy: ArrayLike, gt_xy: ArrayLike, visible: ArrayLike, body: ArrayLike
) -> float:
    """Share of counted joints for which the prediction has no position."""
    e = normalized_errors(pred_xy, gt_xy, visible, body)
    counted = ~np.isnan(e)
    n = int(counted.sum())
    return float(np.isinf(e[counted]).sum() / n) if n else 0.0


def covered(
    pred_xy: ArrayLike,
    gt_xy: ArrayLike,
    visible: ArrayLike,
    body: ArrayLike,
    alpha: float = 0.05,
) -> BoolArray:
    """(F,) True where every counted joint of the frame is within ``alpha`` x body size
    (a frame with no counted joint is covered)."""
    e = normalized_errors(pred_xy, gt_xy, visible, body)
    bad = np.where(np.isnan(e), False, ~(e <= alpha))
    return np.asarray(~bad.any(axis=1), dtype=np.bool_)
