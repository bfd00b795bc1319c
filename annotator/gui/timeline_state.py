"""What the timeline shows, as pure functions of the labels and the fill (no Qt here).

The timeline never holds one item per frame: it keeps one ``int8`` status per frame and, when
it paints, folds the visible range into at most one bin per pixel (``bin_status``), then
merges equal neighbouring bins into runs (``runs``). Both are NumPy reductions, so a
100,000-frame video paints in a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility


class FrameStatus(IntEnum):
    """One frame's state on the timeline; a larger value wins when frames share a pixel."""

    EMPTY = 0
    FILLED = 1  # no manual label, but the fill gives at least one joint a value
    PARTIAL = 2  # some joints labelled by hand
    LABELLED = 3  # every joint labelled by hand (absent counts as a label)


def frame_status(
    manual: NDArray[np.floating],
    fill_source: NDArray[np.integer] | None,
    held: NDArray[np.bool_] | None = None,
) -> NDArray[np.int8]:
    """(F,) ``FrameStatus`` from manual labels (F, J, 3) and the fill's source codes (F, J).

    Values the fill only holds (before the first or after the last label, ``held``) do not
    make a frame FILLED: the timeline's filled spans are the interpolated ones.
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

    ``scores`` is the proposer's score of every frame scaled to 0..1 (``scale_scores``), or
    None when the proposals have no scores.
    """

    status: NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    proposed: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    suggested: int | None = None
    scores: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", _frozen(np.asarray(self.status, dtype=np.int8)))
        object.__setattr__(self, "proposed", _frozen(np.asarray(self.proposed, dtype=np.int64)))
        if self.scores is not None:
            scores = _frozen(np.asarray(self.scores, dtype=np.float64))
            if scores.shape != self.status.shape:
                raise ValueError("the timeline needs one score per frame")
            object.__setattr__(self, "scores", scores)


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
    each bin's maximum at its centre, so a peak (a proposed frame's score) is never lost."""
    start = max(0, start)
    stop = min(len(values), stop)
    if stop <= start:
        return np.zeros(0), np.zeros(0)
    edges = bin_edges(start, stop, bins)
    segment = values[start:stop]
    if stop - start <= bins:
        return np.arange(start, stop, dtype=np.float64) + 0.5, segment.astype(np.float64)
    idx = (edges[:-1] - start).astype(np.int64)
    return (edges[:-1] + edges[1:]) / 2, np.maximum.reduceat(segment, idx).astype(np.float64)


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
