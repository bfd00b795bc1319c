"""What the timeline shows, as pure functions of the labels and the fill (no Qt here).

The timeline never holds one item per frame: it keeps one ``int8`` status per frame and, when
it paints, folds the visible range into at most one bin per pixel (``bin_status``), then
merges equal neighbouring bins into runs (``runs``). Both are NumPy reductions, so a
100,000-frame video paints in a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

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
