"""Video-only frame selectors: uniform spacing and DeepLabCut-style k-means."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.errors import UsageError
from annotator.proposal.baselines import select_frames


def three_scenes() -> np.ndarray:
    """40 frames: 12 dark, 5 mid grey with a square, 23 bright (three looks, unequal lengths)."""
    frames = np.zeros((40, 48, 64, 3), np.uint8)
    frames[:12] = 20
    frames[12:17] = 128
    frames[12:17, 10:30, 10:30] = 250
    frames[17:] = 230
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 6, frames.shape, dtype=np.uint8)
    return frames + noise


def test_uniform_spreads_the_budget_with_both_ends() -> None:
    frames = three_scenes()
    assert select_frames(frames, 5, "uniform").tolist() == [0, 10, 20, 29, 39]


def test_kmeans_covers_every_look_even_a_short_one() -> None:
    picks = select_frames(three_scenes(), 3, "kmeans", seed=1)
    assert len(picks) == 3
    assert {0 if p < 12 else 1 if p < 17 else 2 for p in picks} == {0, 1, 2}
    # Uniform misses the 5-frame middle scene with the same budget.
    uni = select_frames(three_scenes(), 3, "uniform")
    assert not any(12 <= p < 17 for p in uni)


def test_kmeans_is_deterministic_distinct_and_takes_iterables_and_readers() -> None:
    frames = three_scenes()
    a = select_frames(frames, 8, "kmeans", seed=3)
    b = select_frames(iter(list(frames)), 8, "kmeans", seed=3)

    class Reader:
        def iter_frames(self):
            return iter(enumerate(frames))  # readers yield (index, frame)

    c = select_frames(Reader(), 8, "kmeans", seed=3)
    assert a.tolist() == b.tolist() == c.tolist()
    assert len(set(a.tolist())) == 8 and list(a) == sorted(a)
    assert select_frames(frames[:4], 10, "kmeans").tolist() == [0, 1, 2, 3]


def test_bad_requests_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        select_frames(three_scenes(), 3, "random")
    with pytest.raises(UsageError):
        select_frames(three_scenes(), 0, "uniform")
    with pytest.raises(UsageError):
        select_frames(np.zeros((0, 8, 8, 3), np.uint8), 3, "kmeans")
