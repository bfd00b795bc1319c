"""Weighted observations in the fill engine: no weight changes nothing, confident observations
pull the fill, labels never move, and incremental updates equal a full fill."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.codes import Visibility
from annotator.dynamics.base import Observations
from annotator.dynamics.fill import FillEngine, fill_track
from annotator.errors import UsageError


def _track(frames: int = 60, joints: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A wiggly truth and manual labels on every 12th frame."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None, None]
    truth = 100 + 30 * np.sin(t / 5.0 + rng.uniform(0, 6, (1, joints, 2))) + t * 0.5
    man = np.full((frames, joints, 3), np.nan)
    man[:, :, 2] = Visibility.UNLABELLED
    keep = np.r_[0:frames:12, frames - 1]
    man[keep, :, :2] = truth[keep]
    man[keep, :, 2] = Visibility.VISIBLE
    return truth, man


def test_observations_without_weight_leave_hpim_exactly() -> None:
    truth, man = _track()
    plain = fill_track(man, "hpim")
    for var in (np.nan, np.inf):
        obs = Observations(truth.copy(), np.full(truth.shape[:2], var))
        res = fill_track(man, "hpim", observations=obs)
        assert np.array_equal(res.poses, plain.poses, equal_nan=True)
        assert res.variance is not None and plain.variance is not None
        assert np.array_equal(res.variance, plain.variance, equal_nan=True)


def test_confident_observations_pull_the_fill_and_shrink_its_variance() -> None:
    truth, man = _track()
    plain = fill_track(man, "hpim")
    obs = Observations(truth.copy(), np.full(truth.shape[:2], 0.01))
    res = fill_track(man, "hpim", observations=obs)
    err_plain = np.abs(plain.poses[:, :, :2] - truth).max()
    err_obs = np.abs(res.poses[:, :, :2] - truth).max()
    assert err_obs < 0.5 < err_plain
    assert res.variance is not None and plain.variance is not None
    assert (res.variance <= plain.variance + 1e-9).all()
    # vague observations move it less than confident ones
    vague = fill_track(man, "hpim", observations=Observations(truth.copy(), np.full((60, 3), 1e4)))
    assert err_obs < np.abs(vague.poses[:, :, :2] - truth).max() <= err_plain + 1e-6


def test_observations_never_move_labels_and_only_touch_their_gap() -> None:
    truth, man = _track()
    wrong = truth + 50.0
    var = np.full(truth.shape[:2], np.nan)
    var[13:24] = 1.0  # only inside the second gap
    res = fill_track(man, "hpim", observations=Observations(wrong, var))
    plain = fill_track(man, "hpim")
    labelled = man[:, 0, 2] == Visibility.VISIBLE
    assert np.array_equal(res.poses[labelled, :, :2], man[labelled, :, :2].astype(np.float32))
    outside = np.ones(60, dtype=bool)
    outside[13:24] = False
    assert np.array_equal(res.poses[outside], plain.poses[outside])
    assert not np.allclose(res.poses[13:24], plain.poses[13:24])


def test_engine_update_with_observations_equals_a_full_fill() -> None:
    truth, man = _track(frames=120)
    obs = Observations(truth + 1.0, np.full(truth.shape[:2], 4.0))
    engine = FillEngine("hpim")
    engine.set_observations(obs)
    engine.reset(man)
    man[30, :, :2] = truth[30]
    man[30, :, 2] = Visibility.VISIBLE
    engine.update(man, (30, 30))
    full = fill_track(man, "hpim", observations=obs)
    np.testing.assert_allclose(engine.result.poses, full.poses, rtol=0, atol=1e-4)


def test_methods_without_observations_refuse_them() -> None:
    truth, man = _track()
    obs = Observations(truth, np.ones(truth.shape[:2]))
    with pytest.raises(UsageError, match="does not take observations"):
        fill_track(man, "linear", observations=obs)
    with pytest.raises(UsageError, match="observations cover"):
        fill_track(man, "hpim", observations=Observations(truth[:10], np.ones((10, 3))))
