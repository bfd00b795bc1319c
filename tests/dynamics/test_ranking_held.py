"""Held frames in the next-frame ranking: unanchored ends first, joints held toward an
``absent`` label ranked by the evidence, and every open frame still reachable."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.codes import Visibility
from annotator.dynamics.fill import fill_track
from annotator.dynamics.ranking import held_ends, rank_next_frames
from tests.dynamics.helpers import manual_at

F = 81


def _truth() -> np.ndarray:
    """One joint: a quick excursion around frame 20, then a slow drift."""
    t = np.arange(F, dtype=float)
    x = 100 + 0.2 * t + 60.0 * np.exp(-(((t - 20) / 6.0) ** 2))
    return np.stack([x, 50 + 0.1 * t], axis=-1)[:, None, :]


def _labels(positioned: list[int], absent: list[int]) -> np.ndarray:
    man = manual_at(_truth(), np.asarray(positioned))
    man[absent, :, :2] = np.nan
    man[absent, :, 2] = Visibility.ABSENT
    return man


def test_a_joint_held_toward_an_absent_label_does_not_jump_the_queue() -> None:
    """Labels at 0 and 40, the joint absent at 60: the fill holds frames 41-59 at frame 40's
    value, but the absent label bounds them, so the uncertain gap 1-39 (the excursion) comes
    first; the held frames stay reachable, after every frame with evidence, farthest from a
    labelled frame first. The former rule ("all") put them first."""
    man = _labels([0, 40], [60])
    res = fill_track(man, "hpim")
    assert res.variance is not None
    assert res.held[41:60, 0].all() and not res.held[61:, 0].any()  # 61-80: absent
    toward_absent = list(range(41, 60))
    assert not held_ends(man, res).any()
    assert held_ends(man, res, "all")[toward_absent].all()

    ranked = rank_next_frames(man, res)
    frames = [f for f, _ in ranked]
    assert 1 <= frames[0] <= 39
    assert set(frames) == set(range(1, 40)) | set(toward_absent)  # every open frame listed
    # farthest from a labelled frame (40 or the absent label at 60) first
    assert frames[39:] == sorted(toward_absent, key=lambda f: (-min(f - 40, 60 - f), f))
    assert min(s for f, s in ranked if f < 40) > max(s for f, s in ranked if f > 40) > 0

    video = np.zeros((F, 3))
    video[15:26, 1] = 4.0  # the picture changes with the excursion
    seen = [f for f, _ in rank_next_frames(man, res, video=video)]
    assert 15 <= seen[0] <= 25 and set(seen[39:]) == set(toward_absent)

    former = [f for f, _ in rank_next_frames(man, res, held_rule="all")]
    assert former[0] == 50 and set(former[: len(toward_absent)]) == set(toward_absent)


def test_unanchored_ends_still_rank_first_next_to_an_absent_label() -> None:
    """Frames 0-19 are held before the first label (no label beyond them): they come first,
    farthest first, ahead of the frames held toward the absent label and of the gap."""
    man = _labels([20, 40], [60])
    res = fill_track(man, "hpim")
    ends = held_ends(man, res)
    assert ends[:20].all() and not ends[20:].any()
    for video in (None, np.random.default_rng(0).normal(size=(F, 4))):
        frames = [f for f, _ in rank_next_frames(man, res, video=video)]
        assert frames[:20] == list(range(20))  # farthest from the labels first
        assert set(frames[20:]) == set(range(21, 40)) | set(range(41, 60))  # then the rest
    with pytest.raises(ValueError, match="held rule"):
        rank_next_frames(man, res, held_rule="ends-unscored")
