"""What review mode, the joint trail and the joint plot show, as pure functions (no Qt here).

Review mode walks a queue of frames worth a second look: frames flagged in the document (with
their reason) and uncertain frames, where the fill's standard deviation exceeds a threshold.
Uncertain frames are the peaks the timeline's uncertainty row and its jump keys use
(``timeline_state.uncertain_frames``: the most uncertain frame of each unlabelled stretch), so
the queue names one frame per doubtful gap, not every frame of it. Reviewed frames leave the
queue.

The trail and the plot read one joint's track: the manual labels where there are any, the
fill's values elsewhere, and the fill's standard deviation (the square root of its variance,
px) for the uncertainty band. ``PoseTrack`` is a frozen copy of those arrays, so a worker
(the overlay export) can read it while the user keeps editing.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core import commands as cmd
from annotator.core.codes import Source, Visibility
from annotator.gui.timeline_state import FrameStatus, frame_uncertainty, uncertain_frames

DEFAULT_THRESHOLD_PX = 4.0  # a filled joint this uncertain (1 sigma, px) is worth a look
NAMED_JOINTS = 3  # an uncertain frame's reason names this many joints, the most uncertain
TRAIL_RADIUS = 15  # frames either side of the current one that the trail shows


@dataclass(frozen=True)
class ReviewItem:
    """One frame of the review queue and why it is there."""

    frame: int
    reasons: tuple[str, ...]  # "flagged: ...", "uncertain: joints ..., σ ≈ N px"
    flagged: bool
    sigma: float | None  # the frame's largest filled standard deviation (px), if uncertain

    @property
    def text(self) -> str:
        return "; ".join(self.reasons)


def uncertain_reason(
    variance: NDArray[np.floating],
    manual: NDArray[np.floating],
    joint_names: Sequence[str],
    threshold: float,
) -> tuple[str, float] | None:
    """Why one frame is uncertain: ("uncertain: joints a, b, σ ≈ N px", largest σ), the joints
    most uncertain first; None when no filled joint exceeds ``threshold`` (px)."""
    sigma = np.sqrt(np.where(manual[:, 2] != Visibility.UNLABELLED, np.nan, variance))
    over = np.flatnonzero(np.isfinite(sigma) & (sigma > threshold))
    if len(over) == 0:
        return None
    order = over[np.argsort(-sigma[over], kind="stable")]
    top = float(sigma[order[0]])
    names = ", ".join(joint_names[j] for j in order[:NAMED_JOINTS])
    if len(order) > NAMED_JOINTS:
        names += f" and {len(order) - NAMED_JOINTS} more"
    word = "joint" if len(order) == 1 else "joints"
    return f"uncertain: {word} {names}, σ ≈ {top:.0f} px", top


def review_queue(
    flags: Mapping[int, str],
    reviewed: Sequence[int] | Mapping[int, object],
    variance: NDArray[np.floating] | None,
    manual: NDArray[np.floating],
    status: NDArray[np.int8],
    joint_names: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD_PX,
) -> list[ReviewItem]:
    """Frames to review, in frame order: flagged frames and the uncertain peaks above
    ``threshold``, less the frames already reviewed. ``variance`` (F, J) is the fill's (None
    when it has none: then only flags), ``manual`` (F, J, 3) the labels, ``status`` the
    timeline's per-frame status."""
    done = set(int(f) for f in reviewed)
    uncertain: dict[int, tuple[str, float]] = {}
    if variance is not None:
        peaks = uncertain_frames(frame_uncertainty(variance, manual), status)
        for frame in peaks.tolist():
            found = uncertain_reason(variance[frame], manual[frame], joint_names, threshold)
            if found is not None:
                uncertain[frame] = found
    items = []
    for frame in sorted((set(flags) | set(uncertain)) - done):
        reasons: list[str] = []
        if frame in flags:
            reason = flags[frame].strip()
            reasons.append(f"flagged: {reason}" if reason else "flagged")
        sigma = None
        if frame in uncertain:
            text, sigma = uncertain[frame]
            reasons.append(text)
        items.append(ReviewItem(frame, tuple(reasons), frame in flags, sigma))
    return items


def step_queue(items: Sequence[ReviewItem], current: int, forward: bool) -> int | None:
    """The queue's next (previous) frame strictly after (before) ``current``; None at the end."""
    frames = [item.frame for item in items]
    if forward:
        later = [f for f in frames if f > current]
        return later[0] if later else None
    earlier = [f for f in frames if f < current]
    return earlier[-1] if earlier else None


def reviewer_name(configured: str | None = None) -> str:
    """Who marks frames reviewed: the configured name, else the operating system's user."""
    if configured and configured.strip():
        return configured.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        return os.environ.get("USERNAME") or "unknown"


def _frozen(values: NDArray[Any], dtype: type[Any]) -> NDArray[Any]:
    out: NDArray[Any] = np.array(values, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class PoseTrack:
    """Frozen copies of one person's labels and fill: what every frame shows."""

    manual: NDArray[np.float32]  # (F, J, 3) contract layout
    poses: NDArray[np.float32]  # (F, J, 3) the fill's values
    source: NDArray[np.int8]  # (F, J) the fill's source codes
    held: NDArray[np.bool_]  # (F, J)
    variance: NDArray[np.float32] | None  # (F, J) px², or None

    @classmethod
    def of(
        cls,
        manual: NDArray[np.floating],
        poses: NDArray[np.floating],
        source: NDArray[np.integer],
        held: NDArray[np.bool_],
        variance: NDArray[np.floating] | None,
    ) -> PoseTrack:
        return cls(
            _frozen(manual, np.float32),
            _frozen(poses, np.float32),
            _frozen(source, np.int8),
            _frozen(held, np.bool_),
            None if variance is None else _frozen(variance, np.float32),
        )

    @property
    def frame_count(self) -> int:
        return int(self.manual.shape[0])

    def labelled(self) -> NDArray[np.bool_]:
        """(F, J) True where a manual label exists (absent included)."""
        return np.asarray(self.manual[:, :, 2] != Visibility.UNLABELLED)

    def frame(
        self, f: int
    ) -> tuple[
        NDArray[np.float64], NDArray[np.int8], NDArray[np.int8], NDArray[np.float64] | None,
        NDArray[np.bool_],
    ]:  # fmt: skip
        """One frame as shown: (xy, visibility, source, sigma or None, held), manual first."""
        labelled = self.manual[f, :, 2] != Visibility.UNLABELLED
        xy = np.where(labelled[:, None], self.manual[f, :, :2], self.poses[f, :, :2])
        vis = np.where(labelled, self.manual[f, :, 2], self.poses[f, :, 2]).astype(np.int8)
        src = np.where(labelled, Source.MANUAL, self.source[f]).astype(np.int8)
        sigma = None
        if self.variance is not None:
            sigma = np.where(labelled, np.nan, np.sqrt(self.variance[f])).astype(np.float64)
        held = np.asarray(self.held[f] & ~labelled, dtype=np.bool_)
        return xy.astype(np.float64), vis, src, sigma, held


@dataclass(frozen=True)
class JointSeries:
    """One joint over frames: positions shown (NaN where none), which are manual, and the
    fill's standard deviation (NaN on labels and where the fill has none)."""

    frames: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    manual: NDArray[np.bool_]  # a manual label with a position
    sigma: NDArray[np.float64]


def joint_series(
    track: PoseTrack, joint: int, start: int = 0, stop: int | None = None
) -> JointSeries:
    """Joint ``joint`` over frames ``start..stop`` (half-open; all by default)."""
    n = track.frame_count
    a, b = max(0, start), n if stop is None else min(n, stop)
    manual = track.manual[a:b, joint]
    fill = track.poses[a:b, joint]
    labelled = manual[:, 2] != Visibility.UNLABELLED
    xy = np.where(labelled[:, None], manual[:, :2], fill[:, :2]).astype(np.float64)
    vis = np.where(labelled, manual[:, 2], fill[:, 2])
    xy[vis == Visibility.ABSENT] = np.nan
    has_manual = labelled & np.isfinite(manual[:, :2]).all(axis=1)
    sigma = np.full(b - a, np.nan)
    if track.variance is not None:
        sigma = np.where(labelled, np.nan, np.sqrt(track.variance[a:b, joint])).astype(np.float64)
    return JointSeries(
        np.arange(a, b, dtype=np.int64), xy[:, 0], xy[:, 1], has_manual.astype(np.bool_), sigma
    )


def trail(track: PoseTrack, joint: int, frame: int, radius: int = TRAIL_RADIUS) -> JointSeries:
    """The joint over the frames within ``radius`` of ``frame``: what the trail draws."""
    return joint_series(track, joint, frame - radius, frame + radius + 1)


def review_again(reviewed: Mapping[int, Any], frames: Sequence[int]) -> list[cmd.Command]:
    """The commands that take the review mark off those of ``frames`` marked reviewed: a new
    flag asks for a new review (Flag This Frame, Prefill's unsure joints), and a frame still
    marked stays out of the queue (``review_queue`` leaves reviewed frames out)."""
    again = sorted(set(int(f) for f in frames) & set(reviewed))
    return [cmd.MarkReviewed(f, f + 1, "", reviewed=False) for f in again]


def contact_frames(track: PoseTrack, count: int) -> list[int]:
    """Frames for a contact sheet, in frame order: the labelled frames, then the most
    uncertain filled frames (each gap's peak first, then others at least frames/count
    apart), up to ``count``; evenly spaced frames when there are too few of either (a
    project with no labels still gets a sheet)."""
    count = max(1, int(count))
    labelled = np.flatnonzero(track.labelled().any(axis=1)).tolist()
    chosen: list[int] = []
    if len(labelled) > count:
        picks = np.linspace(0, len(labelled) - 1, count).round().astype(np.int64)
        chosen = [labelled[i] for i in np.unique(picks).tolist()]
    else:
        chosen = list(labelled)
    spread = frame_uncertainty(track.variance, track.manual)
    if spread is not None and len(chosen) < count:
        # Each unlabelled stretch's peak first (one tile per doubtful gap), then the most
        # uncertain of the rest, kept apart so that one long gap does not take every tile.
        values = np.where(np.isfinite(spread), spread, -np.inf)
        status = np.where(
            track.labelled().any(axis=1), FrameStatus.PARTIAL, FrameStatus.FILLED
        ).astype(np.int8)
        peaks = sorted(uncertain_frames(spread, status).tolist(), key=lambda f: -values[f])
        apart = max(1, track.frame_count // count)
        for f in peaks:  # its gap's own frame, wherever it lies (beside a label, too)
            if len(chosen) >= count or not np.isfinite(values[f]):
                break
            if f not in chosen:
                chosen.append(int(f))
        for f in np.argsort(-values, kind="stable").tolist():
            if len(chosen) >= count or not np.isfinite(values[f]):
                break
            if all(abs(f - c) >= apart for c in chosen):
                chosen.append(int(f))
    if len(chosen) < count:
        even = np.linspace(0, track.frame_count - 1, count).round().astype(np.int64)
        for f in np.unique(even).tolist():
            if len(chosen) >= count:
                break
            if f not in chosen:
                chosen.append(int(f))
    return sorted(chosen)


def grid_shape(count: int, columns: int | None = None) -> tuple[int, int]:
    """(rows, columns) for ``count`` tiles: about square unless ``columns`` is given."""
    cols = columns if columns else max(1, int(np.ceil(np.sqrt(count))))
    cols = max(1, min(cols, count))
    return int(np.ceil(count / cols)), cols
