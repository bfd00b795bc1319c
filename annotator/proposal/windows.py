"""Time handling for K-FPN: resampling to the training frame rate and sliding windows.

The network was trained on windows of T frames at one frame rate (Penn Action: 30 fps). A
video at another rate is read on a time grid at the training rate (``resample_positions``),
so a window always spans the same duration; picked grid positions map back to the nearest
real frame. Videos longer than one window are covered by windows overlapping by half; each
position takes its score from the window whose centre is nearest (``window_owner``), so
scores never come from a window's unreliable edge when a better-centred window exists, and
the result does not depend on where the video happens to be cut. A video of T positions or
fewer is one window, padded by repeating its last frame.
"""

from __future__ import annotations

import numpy as np

# Frame rates this close to the training rate are used as they are.
FPS_TOLERANCE = 0.05


def resample_positions(frame_count: int, fps: float, train_fps: float) -> np.ndarray:
    """Frame index of each step of a time grid at ``train_fps`` over the video (int64)."""
    if frame_count <= 0:
        raise ValueError("a video needs at least one frame")
    if fps <= 0 or train_fps <= 0 or abs(fps / train_fps - 1.0) <= FPS_TOLERANCE:
        return np.arange(frame_count, dtype=np.int64)
    duration_steps = int(np.floor((frame_count - 1) * train_fps / fps + 1e-9)) + 1
    steps = np.arange(duration_steps, dtype=np.float64)
    pos = np.clip(np.rint(steps * fps / train_fps).astype(np.int64), 0, frame_count - 1)
    # The grid ends on the last frame (moved by less than one step), so the video's end is
    # always seen and can be proposed.
    pos[-1] = frame_count - 1
    return pos


def window_starts(length: int, window: int) -> list[int]:
    """Start of each window over ``length`` positions (stride window // 2, last one flush)."""
    if length <= window:
        return [0]
    stride = max(1, window // 2)
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def window_indices(length: int, window: int) -> np.ndarray:
    """(windows, window) position indices; short inputs are padded with the last position."""
    rows = [np.arange(s, s + window) for s in window_starts(length, window)]
    return np.minimum(np.stack(rows), length - 1)


def window_owner(length: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """For each position: the window whose centre is nearest, and the offset inside it."""
    starts = np.asarray(window_starts(length, window))
    centres = starts + (window - 1) / 2.0
    pos = np.arange(length)
    owner = _nearest(pos, centres)
    return owner, pos - starts[owner]


def _nearest(values: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """Index of the nearest of the increasing ``marks`` to each value (the first on ties), by
    binary search: memory O(len(values)), not values x marks (8 GB at 100,000 frames)."""
    right = np.clip(np.searchsorted(marks, values, side="left"), 0, len(marks) - 1)
    left = np.clip(right - 1, 0, len(marks) - 1)
    take_left = np.abs(values - marks[left]) <= np.abs(marks[right] - values)
    return np.where(take_left, left, right)


def merge_scores(window_scores: np.ndarray, length: int) -> np.ndarray:
    """Per-position scores (length,) from per-window scores (windows, window)."""
    owner, offset = window_owner(length, window_scores.shape[1])
    return np.asarray(window_scores[owner, offset], dtype=np.float64)


def frame_scores(positions: np.ndarray, pos_scores: np.ndarray, frame_count: int) -> np.ndarray:
    """A score for every real frame: the best score of a grid position on that frame,
    otherwise the score of the nearest grid position in time."""
    best = np.full(frame_count, -np.inf)
    np.maximum.at(best, positions, pos_scores)
    have = np.isfinite(best)
    if not have.all():
        known = np.flatnonzero(have)
        best = best[known[_nearest(np.arange(frame_count), known)]]
    return best
