"""The ROI of a key frame far from the last estimated one, carried along the video's motion.

A key frame whose previous frame was not estimated has no pose to track from. Instead of
running the person detector there (one detector call, then a landmark call in the detector's
coarse ROI, then usually a second landmark call), the last estimated frame's landmarks are
moved along the video's motion field to the key frame, and the ROI is built from them as a
tracked frame's would be: one landmark call.

The motion itself is the caller's (``estimation`` does not import ``propagation``): a
:data:`Carry` function moves points from one frame to another and answers None where it
cannot (no fields, a scene cut between the frames). What this module does is the geometry:

- which points to move: the head and torso landmarks (nose, ears, shoulders, hips) and the
  hip centre (auxiliary landmark 33). The limbs are left out: an arm raised between the two
  frames would turn and shrink the fit, while the ROI follows the body's axis. The second
  auxiliary landmark (34) is left out too: it lies beyond the head, often on the background,
  whose motion is not the body's.
- how the ROI follows them: the similarity (shift, turn, scale) that best maps the points'
  old positions onto their carried ones (weighted least squares, a point whose carried
  position disagrees with the fit by much more than the others is dropped and the fit
  redone), applied to both auxiliary landmarks; ``roi_from_points`` then gives the ROI.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from annotator.estimation import landmarks as lm
from annotator.estimation.roi import Roi, roi_from_points

Carry = Callable[[int, int, NDArray[np.float64]], "NDArray[np.float64] | None"]
"""``carry(first, last, points)``: ``points`` (N, 2) px on frame ``first`` moved to frame
``last`` (N, 2), or None where the motion cannot be trusted."""

# nose, ears, shoulders, hips, and the hip centre (auxiliary landmark 33)
CARRIED_POINTS: tuple[int, ...] = (0, 7, 8, 11, 12, 23, 24, lm.AUX[0])
OUTLIER = 3.0  # a point off the fit by this many times the median miss (and 2 px) is dropped
MIN_POINTS = 3


def carried_points(xy: NDArray[np.floating]) -> NDArray[np.float64]:
    """The points of a frame's 39 landmarks (39, 2) that are carried: (len(CARRIED_POINTS), 2)."""
    return np.asarray(xy, dtype=np.float64)[list(CARRIED_POINTS)]


def fit_similarity(
    before: NDArray[np.floating], after: NDArray[np.floating]
) -> tuple[complex, complex] | None:
    """The similarity z -> a·z + b (points as complex numbers) that maps ``before`` (N, 2)
    onto ``after`` (N, 2) in least squares, robust to a stray point; None with too few
    finite points or a degenerate spread."""
    p = np.asarray(before, dtype=np.float64)
    q = np.asarray(after, dtype=np.float64)
    keep = np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1)
    zp = p[:, 0] + 1j * p[:, 1]
    zq = q[:, 0] + 1j * q[:, 1]
    fit: tuple[complex, complex] | None = None
    for _ in range(2):
        if keep.sum() < MIN_POINTS:
            return fit
        mp, mq = zp[keep].mean(), zq[keep].mean()
        cp, cq = zp[keep] - mp, zq[keep] - mq
        spread = float(np.sum(np.abs(cp) ** 2))
        if spread < 1e-9:
            return fit
        a = complex(np.sum(np.conj(cp) * cq) / spread)
        fit = (a, complex(mq - a * mp))
        miss = np.abs(a * zp + fit[1] - zq)
        limit = max(OUTLIER * float(np.median(miss[keep])), 2.0)
        if not (keep & (miss > limit)).any():
            break
        keep &= miss <= limit
    return fit


def carried_roi(xy: NDArray[np.floating], moved: NDArray[np.floating] | None) -> Roi | None:
    """The ROI on the key frame from the last estimated frame's 39 landmarks ``xy`` (39, 2)
    and the :func:`carried_points` of it moved there (``moved``); None without a fit."""
    if moved is None:
        return None
    fit = fit_similarity(carried_points(xy), moved)
    if fit is None:
        return None
    a, b = fit
    aux = np.asarray(xy, dtype=np.float64)[list(lm.AUX)]
    z = a * (aux[:, 0] + 1j * aux[:, 1]) + b
    if not np.isfinite(z).all():
        return None
    return roi_from_points((z[0].real, z[0].imag), (z[1].real, z[1].imag))


def roi_agrees(carried: Roi, found: Roi, shift: float = 0.25, ratio: float = 1.25) -> bool:
    """Whether the ROI that the landmarks found in ``carried`` give lies within ``shift``
    sides of it and within a factor ``ratio`` of its side: when it does not, the carried ROI
    cut the body badly and one more landmark pass, in ``found``, is worth its cost."""
    moved = float(np.hypot(found.cx - carried.cx, found.cy - carried.cy))
    scale = found.side / carried.side if carried.side > 0 else np.inf
    return moved <= shift * carried.side and 1 / ratio <= scale <= ratio
