"""What the timeline shows, as pure functions of the labels and the fill (no Qt here).

The timeline never holds one item per frame: it keeps one ``int8`` status per frame and, when
it paints, folds the visible range into at most one bin per pixel (``bin_status``), then
merges equal neighbouring bins into runs (``runs``). Both are NumPy reductions, so a
100,000-frame video paints in a few milliseconds.

Above the frame track sit optional rows (``ROWS``): the proposal score curve, the gate's
decisions, the residual energy curve, the fill uncertainty as a heat strip and the held or
flagged spans. A row is drawn when its data exist and the user has not hidden it
(``visible_rows``); each row's per-frame values are binned the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility

ROWS: tuple[str, ...] = ("spans", "uncertainty", "residual", "gate", "scores")
"""The optional rows, bottom to top (the frame track is below them all)."""

ROW_NAMES: dict[str, str] = {
    "scores": "score",
    "gate": "gate",
    "residual": "residual",
    "uncertainty": "uncertainty",
    "spans": "held / flagged",
}

HEAT_LEVELS = 12  # the uncertainty strip's colour steps (fewer rectangles than one per pixel)


class FrameStatus(IntEnum):
    """One frame's state on the timeline; a larger value wins when frames share a pixel."""

    EMPTY = 0
    FILLED = 1  # no manual label, but the fill gives at least one joint a value
    PREDICTED = 2  # no manual label, the estimator's joints (Prefill, an import) to review
    PARTIAL = 3  # some joints labelled by hand
    LABELLED = 4  # every joint labelled by hand (absent counts as a label)


def frame_status(
    manual: NDArray[np.floating],
    fill_source: NDArray[np.integer] | None,
    held: NDArray[np.bool_] | None = None,
) -> NDArray[np.int8]:
    """(F,) ``FrameStatus`` from manual labels (F, J, 3) and the fill's source codes (F, J).

    Values the fill only holds (before the first or after the last label, ``held``) do not
    make a frame FILLED: the timeline's filled spans are the interpolated ones. A frame with
    the estimator's joints laid over the fill (source PREDICTED) and no label is PREDICTED.
    """
    labelled = manual[:, :, 2] != Visibility.UNLABELLED
    count = labelled.sum(axis=1)
    status = np.zeros(manual.shape[0], dtype=np.int8)
    if fill_source is not None and fill_source.shape[0] == manual.shape[0]:
        filled_joint = (fill_source != Source.MANUAL) & (fill_source != Source.NONE)
        if held is not None and held.shape == fill_source.shape:
            filled_joint &= ~held
        filled = filled_joint.any(axis=1)
        status[filled] = FrameStatus.FILLED
        status[(fill_source == Source.PREDICTED).any(axis=1)] = FrameStatus.PREDICTED
    status[count > 0] = FrameStatus.PARTIAL
    status[count == manual.shape[1]] = FrameStatus.LABELLED
    return status


def _frozen(values: NDArray[Any]) -> NDArray[Any]:
    # A copy: the session updates its status array in place after each edit.
    out = np.array(values, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class TimelineState:
    """Everything the timeline paints, as one immutable value; the window hands in a new one
    (``dataclasses.replace``) whenever something changes, and new rows extend it.

    Per-frame rows (each None when there is nothing to show, else one value per frame):
    ``scores`` the proposer's score scaled to 0..1 (``scale_scores``); ``gate`` the gate's
    decisions (-1 none, 0 rejected, 1 accepted; None when no frame has one); ``residual`` the
    residual energy scaled to 0..1 (NaN unknown); ``uncertainty`` the fill's largest standard
    deviation on the frame in px (NaN where nothing is filled); ``held`` frames whose values
    are only held. ``flagged`` lists the frames flagged for review, ``reviewed`` those marked
    reviewed (the document's ``reviews``). ``hidden``: rows the user switched off.
    """

    status: NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    proposed: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    suggested: int | None = None
    scores: NDArray[np.float64] | None = None
    gate: NDArray[np.int8] | None = None
    residual: NDArray[np.float64] | None = None
    uncertainty: NDArray[np.float64] | None = None
    held: NDArray[np.bool_] | None = None
    flagged: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    reviewed: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hidden: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", _frozen(np.asarray(self.status, dtype=np.int8)))
        object.__setattr__(self, "proposed", _frozen(np.asarray(self.proposed, dtype=np.int64)))
        object.__setattr__(self, "flagged", _frozen(np.asarray(self.flagged, dtype=np.int64)))
        object.__setattr__(self, "reviewed", _frozen(np.asarray(self.reviewed, dtype=np.int64)))
        for name, dtype in (
            ("scores", np.float64),
            ("gate", np.int8),
            ("residual", np.float64),
            ("uncertainty", np.float64),
            ("held", np.bool_),
        ):
            value = getattr(self, name)
            if value is None:
                continue
            values = _frozen(np.asarray(value, dtype=dtype))
            if values.shape != self.status.shape:
                raise ValueError(f"the timeline needs one {name} value per frame")
            object.__setattr__(self, name, values)

    def has(self, row: str) -> bool:
        """Whether ``row`` has anything to show (hidden or not)."""
        if row == "spans":
            marked = bool(len(self.flagged)) or bool(len(self.reviewed))
            return marked or (self.held is not None and bool(self.held.any()))
        if row == "gate":
            return self.gate is not None and bool((self.gate >= 0).any())
        if row in ("residual", "uncertainty"):
            values = getattr(self, row)
            return values is not None and bool(np.isfinite(values).any())
        return getattr(self, row) is not None

    def visible_rows(self) -> list[str]:
        """The rows drawn, bottom to top: those with data that the user has not hidden."""
        return [row for row in ROWS if row not in self.hidden and self.has(row)]


def scale_scores(scores: NDArray[np.floating] | None) -> NDArray[np.float64] | None:
    """Scores scaled to 0..1 for drawing (a constant curve sits in the middle)."""
    if scores is None or len(scores) == 0:
        return None
    values = np.asarray(scores, dtype=np.float64)
    lo, hi = float(values.min()), float(values.max())
    if not hi > lo:
        return np.full(values.shape, 0.5)
    return (values - lo) / (hi - lo)


def bin_curve(
    values: NDArray[np.float64], start: int, stop: int, bins: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(x, y) of a per-frame curve over ``values[start:stop]``, at most one point per bin:
    each bin's maximum at its centre, so a peak (a proposed frame's score) is never lost.
    NaN values (unknown) are skipped; a bin with only NaN has no point."""
    start = max(0, start)
    stop = min(len(values), stop)
    if stop <= start:
        return np.zeros(0), np.zeros(0)
    edges = bin_edges(start, stop, bins)
    segment = values[start:stop].astype(np.float64)
    if stop - start <= bins:
        xs, ys = np.arange(start, stop, dtype=np.float64) + 0.5, segment
    else:
        idx = (edges[:-1] - start).astype(np.int64)
        # fmax: NaN loses to any number, so one unknown frame does not blank its bin.
        xs, ys = (edges[:-1] + edges[1:]) / 2, np.fmax.reduceat(segment, idx)
    keep = np.isfinite(ys)
    return xs[keep], ys[keep]


def heat_levels(
    values: NDArray[np.float64], start: int, stop: int, bins: int, top: float
) -> NDArray[np.int8]:
    """``values[start:stop]`` binned (maximum) and quantised to 1..HEAT_LEVELS against
    ``top`` (the value that gets the hottest colour); 0 where a bin has no finite value."""
    start = max(0, start)
    stop = min(len(values), stop)
    if stop <= start:
        return np.zeros(0, dtype=np.int8)
    segment = values[start:stop].astype(np.float64)
    n = stop - start
    if n > bins:
        segment = np.fmax.reduceat(segment, (np.arange(bins, dtype=np.int64) * n) // bins)
    out = np.zeros(segment.shape, dtype=np.int8)
    finite = np.isfinite(segment)
    scale = top if top > 0 else 1.0
    level = np.ceil(np.clip(segment[finite] / scale, 0.0, 1.0) * HEAT_LEVELS)
    out[finite] = np.maximum(1, level).astype(np.int8)
    return out


def scale_curve(values: NDArray[np.floating] | None) -> NDArray[np.float64] | None:
    """A per-frame curve with unknown (NaN) frames scaled to 0..1 over its finite values;
    None when nothing is known."""
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.any():
        return None
    lo, hi = float(arr[finite].min()), float(arr[finite].max())
    if not hi > lo:
        return np.where(finite, 0.5, np.nan)
    return (arr - lo) / (hi - lo)


def frame_uncertainty(
    variance: NDArray[np.floating] | None, manual: NDArray[np.floating]
) -> NDArray[np.float64] | None:
    """(F,) the largest standard deviation (px) of a filled joint on each frame; NaN where no
    joint is filled (labelled joints have no uncertainty); None without variances."""
    if variance is None:
        return None
    var = np.where(manual[:, :, 2] != Visibility.UNLABELLED, np.nan, variance)
    finite = np.isfinite(var)
    top = np.where(finite, var, -1.0).max(axis=1)
    return np.where(finite.any(axis=1), np.sqrt(np.maximum(top, 0.0)), np.nan)


def uncertain_frames(
    uncertainty: NDArray[np.float64] | None, status: NDArray[np.int8]
) -> NDArray[np.int64]:
    """The most uncertain frame of each unlabelled stretch (between labelled frames), sorted:
    where the jump-to-uncertain keys go."""
    if uncertainty is None or len(uncertainty) == 0:
        return np.zeros(0, dtype=np.int64)
    values = np.where(np.isfinite(uncertainty), uncertainty, -np.inf)
    free = status < FrameStatus.PARTIAL
    change = np.flatnonzero(np.diff(free.astype(np.int8))) + 1
    starts = np.concatenate(([0], change))
    stops = np.concatenate((change, [len(free)]))
    out = []
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        if free[a] and np.isfinite(values[a:b]).any() and values[a:b].max() > 0:
            out.append(a + int(np.argmax(values[a:b])))
    return np.asarray(out, dtype=np.int64)


def bin_status(status: NDArray[np.int8], start: int, stop: int, bins: int) -> NDArray[np.int8]:
    """Fold ``status[start:stop]`` into ``bins`` bins, each the maximum of its frames.

    When there are fewer frames than bins, each frame is its own bin.
    """
    start = max(0, start)
    stop = min(len(status), stop)
    if stop <= start:
        return np.zeros(0, dtype=np.int8)
    segment = status[start:stop]
    n = stop - start
    if n <= bins:
        copied: NDArray[np.int8] = segment.copy()
        return copied
    edges = (np.arange(bins, dtype=np.int64) * n) // bins
    return np.maximum.reduceat(segment, edges).astype(np.int8)


def bin_edges(start: int, stop: int, bins: int) -> NDArray[np.float64]:
    """Frame coordinates of the ``bins + 1`` edges used by :func:`bin_status`."""
    n = max(0, stop - start)
    if n <= bins:
        return np.arange(start, start + n + 1, dtype=np.float64)
    return start + (np.arange(bins + 1, dtype=np.int64) * n // bins).astype(np.float64)


@dataclass(frozen=True)
class Run:
    """Consecutive bins with one status, in frame coordinates ``[x0, x1)``."""

    x0: float
    x1: float
    status: int


def runs(
    binned: NDArray[np.int8], edges: NDArray[np.float64], skip_empty: bool = True
) -> list[Run]:
    """Merge equal neighbouring bins into runs (the rectangles the timeline paints)."""
    if len(binned) == 0:
        return []
    change = np.flatnonzero(np.diff(binned)) + 1
    starts = np.concatenate(([0], change))
    stops = np.concatenate((change, [len(binned)]))
    out = []
    for a, b in zip(starts, stops, strict=True):
        value = int(binned[a])
        if skip_empty and value == FrameStatus.EMPTY:
            continue
        out.append(Run(float(edges[a]), float(edges[b]), value))
    return out


def next_marked(frames: NDArray[np.integer], current: int, forward: bool) -> int | None:
    """The nearest frame of sorted ``frames`` strictly after (or before) ``current``."""
    if len(frames) == 0:
        return None
    if forward:
        i = int(np.searchsorted(frames, current, side="right"))
        return int(frames[i]) if i < len(frames) else None
    i = int(np.searchsorted(frames, current, side="left")) - 1
    return int(frames[i]) if i >= 0 else None
