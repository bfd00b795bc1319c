"""The data-dependent uncertainty and the next-frame-to-label ranking."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from annotator.core.codes import Source
from annotator.dynamics.fill import fill_track
from annotator.dynamics.hpim import HpimFiller, HpimModel
from annotator.dynamics.ranking import flag_for_review, rank_next_frames
from tests.dynamics.helpers import manual_at

LAGS = np.arange(200, dtype=float)
MODEL = HpimModel(
    variogram=LAGS**1.5, fps=30.0, reach=2, unc_loo=0.3, unc_disagree=3.0, unc_scale=0.5
)


def _track(bend_at: int, f: int = 81) -> np.ndarray:
    """A joint drifting slowly, with one quick excursion around ``bend_at``."""
    t = np.arange(f, dtype=float)
    x = 100 + 0.2 * t + 60.0 * np.exp(-(((t - bend_at) / 6.0) ** 2))
    return np.stack([x, 50 + 0.1 * t], axis=-1)[:, None, :]


def test_same_label_frames_different_motion_different_uncertainty() -> None:
    keys = np.arange(0, 81, 10)
    a = fill_track(manual_at(_track(25), keys), HpimFiller(MODEL))
    b = fill_track(manual_at(_track(55), keys), HpimFiller(MODEL))
    assert a.variance is not None and b.variance is not None
    va, vb = a.variance[:, 0], b.variance[:, 0]
    # each motion's uncertainty is largest where that motion bends, not at a fixed place
    assert 15 <= int(np.argmax(va)) <= 35
    assert 45 <= int(np.argmax(vb)) <= 65
    assert va[21:30].mean() > 5 * vb[21:30].mean()


def test_ranking_follows_the_motion_not_the_biggest_gap() -> None:
    truth = _track(25)
    keys = np.array([0, 10, 20, 30, 40, 50, 80])  # the biggest gap, 50-80, is a slow drift
    man = manual_at(truth, keys)
    res = fill_track(man, HpimFiller(MODEL))
    ranked = rank_next_frames(man, res)
    assert 10 < ranked[0][0] < 40
    frames = [f for f, _ in ranked]
    assert not set(frames) & set(keys.tolist())
    assert all(s1 >= s2 for (_, s1), (_, s2) in itertools.pairwise(ranked))
    assert len(rank_next_frames(man, res, top=3)) == 3


def test_held_ends_rank_first_and_methods_without_variance_use_hpim() -> None:
    truth = _track(40)
    man = manual_at(truth, np.array([20, 30, 40, 50]))
    res = fill_track(man, "linear")
    assert res.variance is None
    ranked = rank_next_frames(man, res)
    frames = [f for f, _ in ranked]
    assert frames[0] == 80  # the end farthest from a label
    held = set(range(20)) | set(range(51, 81))
    assert set(frames[: len(held)]) == held  # every held frame before any gap frame
    assert frames.index(0) < frames.index(35)


def test_review_flags_uncertain_frames_only() -> None:
    keys = np.arange(0, 81, 10)
    res = fill_track(manual_at(_track(25), keys), HpimFiller(MODEL))
    flags = flag_for_review(res, body_px=100.0, alpha=0.05)
    assert flags.any() and not flags[keys].any()
    assert flags[15:35].sum() > flags[55:75].sum()


def test_uncertainty_tracks_error_on_validation_videos(data_dir: Path) -> None:
    """Rank correlation of the shipped HPIM's uncertainty with its squared error on a spread
    of validation videos (the benchmark reports it on all 258)."""
    from scipy.stats import spearmanr

    from annotator.core.datasets import load_penn_action
    from annotator.core.framespec import uniform_count, uniform_frames
    from annotator.core.split import penn_action_split

    _, val = penn_action_split(data_dir / "penn_action" / "labels")
    var, err = [], []
    for p in val[::26]:
        s = load_penn_action(p)
        keys = uniform_frames(s.frame_count, uniform_count(s.frame_count, 0.1))
        res = fill_track(manual_at(s.xy, keys), "hpim")
        assert res.variance is not None
        counted = s.visible & (res.source == Source.HPIM)
        var.append(res.variance[counted])
        err.append(((res.poses[:, :, :2] - s.xy) ** 2).sum(axis=2)[counted])
    rho = float(spearmanr(np.concatenate(var), np.concatenate(err))[0])
    assert rho > 0.5


def test_distance_to_nearest_label_matches_brute_force() -> None:
    from annotator.dynamics.ranking import _distance_to_nearest

    rng = np.random.default_rng(3)
    for _ in range(50):
        f = int(rng.integers(1, 300))
        marks = np.unique(rng.integers(0, f, size=int(rng.integers(1, 12))))
        t = np.arange(f)
        brute = np.min(np.abs(t[:, None] - marks[None, :]), axis=1)
        assert np.array_equal(_distance_to_nearest(t, marks), brute)


def test_video_evidence_marks_where_the_picture_leaves_the_labels_straight_line() -> None:
    from annotator.dynamics.ranking import video_evidence, weight_by_evidence

    y = np.zeros((10, 2))
    y[:, 0] = np.arange(10)  # steady change: straight lines between labels rebuild it
    y[6:, 1] = 5.0  # a step at frame 6
    e = video_evidence(y, np.array([0, 9]))
    assert e[0] == e[9] == 0.0
    assert int(np.argmax(e)) in (5, 6)  # the frames around the step
    assert np.median(e[e > 0]) == pytest.approx(1.0)
    # Labels on both sides of the step explain everything.
    assert np.allclose(video_evidence(y, np.array([0, 5, 6, 9])), 0.0)
    # Before the first label the picture is compared with that label (held).
    held = video_evidence(y, np.array([3]))
    assert held[3] == 0.0 and held[0] > held[2] > 0.0
    assert np.allclose(video_evidence(y[:, :1], np.array([0, 9])), 0.0)  # no residual at all
    score = np.ones(10)
    assert np.allclose(weight_by_evidence(score, e, weight=2.0), 1.0 + 2.0 * e)


def test_with_the_video_the_ranking_goes_where_the_picture_leaves_the_labels_line() -> None:
    """A steady drift, equally uncertain everywhere between labels: without the video the
    ranking prefers the middle of the gap; with descriptors that change over frames 18-22
    (something passes, then the picture is as before) it picks a frame there, and held frames
    still come first."""
    f = 60
    t = np.arange(f, dtype=float)
    truth = np.stack([100 + 0.5 * t, 50 + 0.2 * t], axis=-1)[:, None, :]
    keys = np.array([10, 59])
    man = manual_at(truth, keys)
    res = fill_track(man, "hpim")
    assert res.variance is not None
    video = np.zeros((f, 4))
    video[18:23, 2] = 3.0  # the picture changes over frames 18-22
    plain = rank_next_frames(man, res)
    seen = rank_next_frames(man, res, video=video)
    gaps_plain = [fr for fr, _ in plain if fr > 10]
    gaps_seen = [fr for fr, _ in seen if fr > 10]
    assert 18 <= gaps_seen[0] <= 22 and abs(gaps_plain[0] - 20) > 5
    # the ten held frames before the first label rank first either way, farthest first
    assert [fr for fr, _ in seen[:10]] == [fr for fr, _ in plain[:10]] == list(range(10))
    with pytest.raises(ValueError, match="frames"):
        rank_next_frames(man, res, video=video[:-1])


def test_peak_ranks_by_the_frames_own_variance_gain_by_the_gap() -> None:
    from annotator.dynamics.ranking import expected_reduction

    keys = np.array([0, 10, 20, 30, 40, 50, 80])
    man = manual_at(_track(25), keys)
    res = fill_track(man, HpimFiller(MODEL))
    assert res.variance is not None
    peak = expected_reduction(man, res, "peak")
    gain = expected_reduction(man, res, "gain")
    var = res.variance[:, 0].astype(float)
    assert np.allclose(peak[51:80], var[51:80])
    assert np.allclose(gain[51:80], var[51:80] * 30 / 3.0)
    with pytest.raises(ValueError, match="objective"):
        expected_reduction(man, res, "worst")
