"""``N`` with the video's walks: a frame where the fill and the joints walked along the video
from the labels disagree ranks as uncertain, also right next to a label, where the fill's own
variance vanishes (``ranking.video_disagreement``)."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.dynamics.base import Observations
from annotator.dynamics.fill import fill_track
from annotator.dynamics.ranking import rank_next_frames, video_disagreement
from tests.dynamics.helpers import manual_at

F = 41
KEYS = np.array([0, 10, 20, 30, 40])


def _truth() -> np.ndarray:
    """One joint drifting slowly, with a quick 40-pixel move just after the label at 10."""
    t = np.arange(F, dtype=float)
    x = 100 + 0.3 * t + np.where(t >= 11, 40.0, 0.0)
    return np.stack([x, 50 + 0.2 * t], axis=-1)[:, None, :]


def _walks(xy: np.ndarray, labelled: np.ndarray, variance: float = 1.0) -> Observations:
    """Walks that found ``xy`` on every unlabelled frame (NaN on labels, as propagated)."""
    obs_xy = np.array(xy, dtype=np.float64)
    obs_var = np.full(obs_xy.shape[:2], variance)
    obs_xy[labelled] = np.nan
    obs_var[labelled] = np.nan
    return Observations(obs_xy, obs_var)


def test_a_wrong_frame_next_to_a_label_that_the_walks_see_ranks_first() -> None:
    truth = _truth()
    man = manual_at(truth, KEYS)
    res = fill_track(man, "hpim")
    err = np.hypot(*(res.poses[:, 0, :2] - truth[:, 0]).T)
    assert int(np.argmax(err)) == 11 and err[11] > 20  # the fill misses the quick move
    plain = rank_next_frames(man, res)
    assert plain[0][0] != 11  # the fill's variance points mid-gap, not next to the label
    walks = _walks(truth, np.isin(np.arange(F), KEYS))
    seen = rank_next_frames(man, res, observed=walks)
    assert seen[0][0] == 11
    # every unlabelled frame stays reachable, labelled ones never listed
    assert sorted(f for f, _ in seen) == sorted(set(range(F)) - set(KEYS.tolist()))


def test_walks_that_agree_with_the_fill_change_nothing() -> None:
    man = manual_at(_truth(), KEYS)
    res = fill_track(man, "hpim")
    agree = _walks(res.poses[:, :, :2], np.isin(np.arange(F), KEYS))
    assert rank_next_frames(man, res, observed=agree) == rank_next_frames(man, res)
    nothing = _walks(np.full((F, 1, 2), np.nan), np.zeros(F, dtype=bool))
    assert rank_next_frames(man, res, observed=nothing) == rank_next_frames(man, res)


def test_the_disagreement_is_in_the_variance_units_and_combines_by_mode() -> None:
    truth = _truth()
    man = manual_at(truth, KEYS)
    res = fill_track(man, "hpim")
    assert res.variance is not None
    walks = _walks(truth, np.isin(np.arange(F), KEYS), variance=4.0)
    d2 = 0.5 * ((res.poses[:, :, :2] - truth) ** 2).sum(axis=2)
    var = res.variance.astype(np.float64)
    free = ~np.isin(np.arange(F), KEYS)
    got = video_disagreement(man, res, walks)  # weight 1, the larger of the two
    assert np.allclose(got[free], np.maximum(var, d2)[free])
    assert np.allclose(got[KEYS], var[KEYS])  # labels: nothing added
    summed = video_disagreement(man, res, walks, weight=2.0, mode="sum")
    assert np.allclose(summed[free], (var + 2.0 * d2)[free])
    excess = video_disagreement(man, res, walks, mode="excess")
    assert np.allclose(excess[free], np.maximum(var, np.maximum(d2 - 4.0, 0.0))[free])
    with pytest.raises(ValueError, match="mode"):
        video_disagreement(man, res, walks, mode="nope")
    with pytest.raises(ValueError, match="frames"):
        short = Observations(walks.xy[:-1], walks.variance[:-1])
        rank_next_frames(man, res, observed=short)
