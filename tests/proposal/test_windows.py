"""Time grid resampling and sliding windows with centre-owned merging."""

from __future__ import annotations

import numpy as np

from annotator.proposal.windows import (
    frame_scores,
    merge_scores,
    resample_positions,
    window_indices,
    window_owner,
    window_starts,
)


def test_same_rate_is_identity_and_other_rates_keep_duration() -> None:
    assert np.array_equal(resample_positions(50, 30.0, 30.0), np.arange(50))
    assert np.array_equal(resample_positions(50, 29.97, 30.0), np.arange(50))
    fast = resample_positions(121, 60.0, 30.0)  # 2 s at 60 fps -> 61 grid steps, every 2nd
    assert np.array_equal(fast, np.arange(0, 121, 2))
    odd = resample_positions(40, 60.0, 30.0)  # the last grid step lands on the last frame
    assert odd[-2] == 36 and odd[-1] == 39
    slow = resample_positions(21, 15.0, 30.0)  # 15 fps: each frame twice on a 30 fps grid
    assert len(slow) == 41 and slow[0] == 0 and slow[-1] == 20
    assert np.all(np.diff(slow) >= 0)


def test_windows_cover_every_position_and_end_flush() -> None:
    assert window_starts(30, 40) == [0]
    assert window_starts(100, 40) == [0, 20, 40, 60]
    assert window_starts(105, 40) == [0, 20, 40, 60, 65]
    idx = window_indices(30, 40)
    assert idx.shape == (1, 40) and idx[0, -1] == 29  # padded with the last position
    owner, offset = window_owner(105, 40)
    starts = np.asarray(window_starts(105, 40))
    assert np.array_equal(starts[owner] + offset, np.arange(105))


def test_each_position_scored_by_the_window_it_is_most_central_in() -> None:
    length, t = 80, 40
    starts = window_starts(length, t)  # 0, 20, 40
    # Mark each window's scores with its number so the merge shows who owned each position.
    scores = np.stack([np.full(t, w, float) for w in range(len(starts))])
    merged = merge_scores(scores, length)
    # Centres 19.5, 39.5, 59.5: ownership switches half way between them.
    assert merged[0] == 0 and merged[29] == 0 and merged[30] == 1
    assert merged[49] == 1 and merged[50] == 2 and merged[79] == 2


def test_frame_scores_fill_frames_off_the_grid() -> None:
    positions = np.array([0, 2, 4])
    out = frame_scores(positions, np.array([0.1, 0.9, 0.3]), 5)
    assert out.tolist() == [0.1, 0.1, 0.9, 0.9, 0.3]


def test_nearest_window_and_grid_position_match_brute_force() -> None:
    """The owner of each position and the nearest grid position for frames off the grid come
    from a binary search (no positions x windows matrix on long videos): same as argmin."""
    from annotator.proposal.windows import _nearest, window_owner, window_starts

    rng = np.random.default_rng(1)
    for length in (1, 7, 40, 41, 97, 333):
        owner, offset = window_owner(length, 40)
        starts = np.asarray(window_starts(length, 40))
        centres = starts + 19.5
        pos = np.arange(length)
        want = np.argmin(np.abs(pos[:, None] - centres[None, :]), axis=1)
        assert np.array_equal(owner, want) and np.array_equal(offset, pos - starts[want])
    for _ in range(30):
        marks = np.unique(rng.integers(0, 200, size=int(rng.integers(1, 20))))
        values = np.arange(200)
        want = np.argmin(np.abs(values[:, None] - marks[None, :]), axis=1)
        assert np.array_equal(_nearest(values, marks), want)
