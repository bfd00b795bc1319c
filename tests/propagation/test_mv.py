"""The ``mv`` propagation on generated videos with known motion: translation, rotation, cuts,
absent joints, labels kept exactly, and the live update."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.codes import Source, Visibility
from annotator.propagation import LiveFill, VideoSource, fill_with
from annotator.propagation.mv import mv_fill, propagate
from annotator.propagation.walk import walk_many
from annotator.video.motion import MotionFields, extract_motion
from tests.propagation.scenes import (
    FRAMES,
    encode_rotation,
    encode_translation,
    labels_at,
    rotation_truth,
    translation_truth,
)

# points well inside the moving square / the turning disc, away from their edges
SQUARE_POINTS = np.array([[70.0, 60.0], [100.0, 75.0], [85.0, 95.0], [115.0, 65.0]])
DISC_POINTS = np.array([[178.0, 96.0], [128.0, 46.0], [93.0, 131.0], [150.0, 120.0]])


@pytest.fixture(scope="module", params=["h264", "mpeg4"])
def translation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> MotionFields:
    path = tmp_path_factory.mktemp("translation") / f"square-{request.param}.mp4"
    return extract_motion(encode_translation(path, request.param), use_cache=False)


@pytest.fixture(scope="module", params=["h264", "mpeg4"])
def rotation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> MotionFields:
    path = tmp_path_factory.mktemp("rotation") / f"disc-{request.param}.mp4"
    return extract_motion(encode_rotation(path, request.param), use_cache=False)


def _truth_track(truth, points: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.stack([truth(points, t) for t in range(FRAMES)])


def test_follows_a_translation_within_half_a_pixel(translation: MotionFields) -> None:
    man = labels_at(translation_truth, SQUARE_POINTS, [0, FRAMES - 1])
    res = mv_fill(man, translation)
    err = np.hypot(*(res.poses[:, :, :2] - _truth_track(translation_truth, SQUARE_POINTS)).T)
    assert err.max() <= 0.5, err.max()
    assert (res.source[1:-1] == Source.MV).all()
    # a walk on its own, from one label, already follows it (the blend is not doing the work)
    walks = walk_many(
        translation, np.zeros(4, np.int64), np.full(4, 20), SQUARE_POINTS, np.full(4, 16.0)
    )
    end = walks.path[walks.offset[1:] - 1]
    assert np.abs(end - translation_truth(SQUARE_POINTS, 20)).max() <= 1.5


def test_follows_a_rotation_within_two_pixels(rotation: MotionFields) -> None:
    man = labels_at(rotation_truth, DISC_POINTS, [0, FRAMES - 1])
    res = mv_fill(man, rotation)
    truth = _truth_track(rotation_truth, DISC_POINTS)
    err = np.hypot(*(res.poses[:, :, :2] - truth).T)
    assert err.max() <= 2.0, err.max()
    # and a straight line does not (the points swing 45 degrees around the centre)
    straight = man[0, :, :2] + (man[-1, :, :2] - man[0, :, :2]) * 0.5
    assert np.hypot(*(straight - truth[FRAMES // 2]).T).max() > 3.5


def test_variance_is_in_px2_zero_on_labels_and_grows_inside(translation: MotionFields) -> None:
    man = labels_at(translation_truth, SQUARE_POINTS, [0, 15, FRAMES - 1])
    res = mv_fill(man, translation)
    assert res.variance is not None
    assert (res.variance[[0, 15, FRAMES - 1]] == 0).all()
    inside = res.variance[1:15]
    assert (inside > 0).all() and np.isfinite(inside).all()
    assert (inside[6] > inside[0]).all()  # larger mid-gap than next to a label


def test_labels_stay_exact(rotation: MotionFields) -> None:
    frames = [0, 9, 20, FRAMES - 1]
    man = labels_at(rotation_truth, DISC_POINTS, frames)
    for method in ("mv", "hpim+mv"):
        res = fill_with(man, VideoSource(fields=rotation), method)
        assert np.array_equal(res.poses[frames, :, :2], man[frames, :, :2].astype(np.float32))
        assert (res.source[frames] == Source.MANUAL).all()


def test_stops_at_a_scene_cut_and_at_absent_labels(translation: MotionFields) -> None:
    man = labels_at(translation_truth, SQUARE_POINTS, [0, FRAMES - 1])
    assert np.isnan(propagate(man, translation, cuts=[12]).variance).all()
    res = fill_with(man, VideoSource(fields=translation, cuts=(12,)), "mv")
    # no fill across the cut: held on each side, as every fill does
    assert res.held[1:-1].all()
    man[10, 1] = [np.nan, np.nan, Visibility.ABSENT]
    obs = propagate(man, translation)
    assert np.isnan(obs.variance[:, 1]).all()
    assert np.isfinite(obs.variance[1:-1, 0]).all()
    res = fill_with(man, VideoSource(fields=translation), "hpim+mv")
    assert (res.poses[10:-1, 1, 2] == Visibility.ABSENT).all()


def test_live_update_equals_a_full_fill(rotation: MotionFields) -> None:
    man = labels_at(rotation_truth, DISC_POINTS, [0, 10, 20, FRAMES - 1])
    source = VideoSource(fields=rotation)
    for method in ("mv", "hpim+mv"):
        live = LiveFill(method, source)
        live.reset(man)
        edited = man.copy()
        edited[15, :, :2] = rotation_truth(DISC_POINTS, 15) + 1.0  # a new label
        edited[15, :, 2] = Visibility.VISIBLE
        edited[10] = [np.nan, np.nan, Visibility.UNLABELLED]  # and one removed
        live.update(edited, (10, 15))
        full = fill_with(edited, source, method)
        np.testing.assert_allclose(live.result.poses, full.poses, rtol=0, atol=1e-4)
        assert live.result.variance is not None and full.variance is not None
        np.testing.assert_allclose(live.result.variance, full.variance, rtol=1e-4, atol=1e-4)
        assert np.array_equal(live.result.source, full.source)
