"""The fill engine's rules: held ends, absent labels, scene cuts, per-joint labels,
incremental updates equal to a full recompute."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from annotator.core.codes import Source, Visibility
from annotator.dynamics.fill import FillEngine, fill_track
from annotator.errors import UsageError

CHEAP = ("linear", "pchip")


def _empty(f: int, j: int) -> np.ndarray:
    m = np.full((f, j, 3), np.nan)
    m[:, :, 2] = Visibility.UNLABELLED
    return m


def _label(m: np.ndarray, t: int, j: int, x: float, y: float, vis: int = 1) -> None:
    m[t, j] = [x, y, vis]


@pytest.mark.parametrize("method", CHEAP)
def test_ends_are_held_and_flagged_and_labels_kept(method: str) -> None:
    m = _empty(10, 1)
    _label(m, 3, 0, 1.0, 2.0)
    _label(m, 7, 0, 5.0, 6.0, Visibility.OCCLUDED)
    r = fill_track(m, method)
    assert np.allclose(r.poses[:3, 0, :2], [1.0, 2.0]) and r.held[:3, 0].all()
    assert np.allclose(r.poses[8:, 0, :2], [5.0, 6.0]) and r.held[8:, 0].all()
    assert not r.held[3:8, 0].any()
    assert r.source[3, 0] == Source.MANUAL and r.source[7, 0] == Source.MANUAL
    assert np.allclose(r.poses[[3, 7], 0, :2], [[1, 2], [5, 6]])
    # a filled frame next to an occluded label is occluded
    assert (r.poses[4:7, 0, 2] == Visibility.OCCLUDED).all()
    assert np.isfinite(r.poses[:, 0, :2]).all()


def test_linear_between_labels() -> None:
    m = _empty(5, 1)
    _label(m, 0, 0, 0.0, 0.0)
    _label(m, 4, 0, 8.0, 4.0)
    r = fill_track(m, "linear")
    assert np.allclose(r.poses[:, 0, 0], [0, 2, 4, 6, 8])
    assert (r.source[1:4, 0] == Source.LINEAR).all()


@pytest.mark.parametrize("method", CHEAP)
def test_absent_label_is_never_crossed(method: str) -> None:
    m = _empty(12, 1)
    _label(m, 0, 0, 0.0, 0.0)
    m[4, 0, 2] = Visibility.ABSENT
    _label(m, 8, 0, 8.0, 8.0)
    r = fill_track(m, method)
    assert np.isnan(r.poses[4:8, 0, :2]).all()
    assert (r.poses[4:8, 0, 2] == Visibility.ABSENT).all()
    assert r.source[4, 0] == Source.MANUAL and (r.source[5:8, 0] == Source.NONE).all()
    assert np.allclose(r.poses[1:4, 0, :2], 0.0) and r.held[1:4, 0].all()


@pytest.mark.parametrize("method", CHEAP)
def test_scene_cut_is_never_crossed(method: str) -> None:
    m = _empty(12, 1)
    _label(m, 1, 0, 0.0, 0.0)
    _label(m, 10, 0, 9.0, 9.0)
    r = fill_track(m, method, scene_cuts=[6])
    assert np.allclose(r.poses[:6, 0, :2], 0.0) and np.allclose(r.poses[6:, 0, :2], 9.0)
    assert r.held[2:10, 0].all()


def test_per_joint_label_sets() -> None:
    m = _empty(9, 2)
    for t in (0, 4, 8):
        _label(m, t, 0, float(t), 0.0)
    _label(m, 2, 1, 2.0, 2.0)
    _label(m, 6, 1, 6.0, 2.0)
    r = fill_track(m, "linear")
    assert np.allclose(r.poses[:, 0, 0], np.arange(9))
    assert np.allclose(r.poses[2:7, 1, 0], np.arange(2, 7))
    assert r.held[:2, 1].all() and r.held[7:, 1].all() and not r.held[:, 0].any()


def test_unlabelled_joint_stays_empty() -> None:
    m = _empty(5, 2)
    _label(m, 0, 0, 1.0, 1.0)
    r = fill_track(m, "linear")
    assert np.isnan(r.poses[:, 1, :2]).all() and (r.source[:, 1] == Source.NONE).all()


def test_bad_input_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        fill_track(np.zeros((4, 2)), "linear")
    with pytest.raises(UsageError):
        fill_track(_empty(4, 1), "spline")


def _random_manual(rng: np.random.Generator, f: int, j: int) -> np.ndarray:
    truth = np.cumsum(rng.normal(0, 2, size=(f, j, 2)), axis=0)
    m = _empty(f, j)
    pick = rng.random((f, j)) < 0.2
    m[pick, :2] = truth[pick]
    m[pick, 2] = np.where(rng.random(pick.sum()) < 0.2, 2, 1)
    m[rng.random((f, j)) < 0.02, 2] = Visibility.ABSENT
    return m


def assert_incremental_equals_full(method: str, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    f, nj = 120, 3
    m = _random_manual(rng, f, nj)
    engine = FillEngine(method, scene_cuts=[50])
    engine.reset(m)
    for _ in range(15):
        t = int(rng.integers(0, f))
        j = int(rng.integers(0, nj))
        op = rng.integers(0, 3)
        if op == 0:
            m[t, j] = [rng.normal(0, 20), rng.normal(0, 20), 1]
        elif op == 1:
            m[t, j] = [np.nan, np.nan, Visibility.UNLABELLED]
        else:
            m[t, j] = [np.nan, np.nan, Visibility.ABSENT]
        lo, hi = engine.update(m, (t, t))
        assert lo <= t <= hi
        full = fill_track(m, engine._filler, scene_cuts=[50])
        np.testing.assert_allclose(engine.result.poses, full.poses, rtol=0, atol=1e-4)
        assert (engine.result.source == full.source).all()
        assert (engine.result.held == full.held).all()
        if full.variance is not None:
            assert engine.result.variance is not None
            np.testing.assert_allclose(
                engine.result.variance, full.variance, rtol=1e-4, atol=1e-4, equal_nan=True
            )


@pytest.mark.parametrize("method", CHEAP)
def test_incremental_equals_full(method: str) -> None:
    assert_incremental_equals_full(method)


def test_update_touches_only_the_labels_around_the_edit() -> None:
    m = _empty(100, 1)
    for t in range(0, 100, 10):
        _label(m, t, 0, float(t), 0.0)
    engine = FillEngine("linear")
    engine.reset(m)
    _label(m, 45, 0, 0.0, 0.0)
    assert engine.update(m, (45, 45)) == (40, 50)


@pytest.mark.parametrize("method", CHEAP)
def test_no_nan_between_two_positions(method: str) -> None:
    rng = np.random.default_rng(7)
    m = _random_manual(rng, 200, 4)
    cuts = [60, 130]
    r = fill_track(m, method, scene_cuts=cuts)
    codes = m[:, :, 2]
    for j in range(4):
        labels = np.flatnonzero(codes[:, j] != Visibility.UNLABELLED)
        for a, b in itertools.pairwise(labels):
            both = codes[a, j] in (1, 2) and codes[b, j] in (1, 2)
            crosses_cut = any(a < c <= b for c in cuts)
            if both and not crosses_cut:
                assert np.isfinite(r.poses[a : b + 1, j, :2]).all()
            if codes[a, j] == Visibility.ABSENT:
                assert np.isnan(r.poses[a:b, j, :2]).all()


def test_engine_follows_new_scene_cuts_and_methods() -> None:
    m = _empty(20, 1)
    _label(m, 0, 0, 0.0, 0.0)
    _label(m, 19, 0, 19.0, 0.0)
    engine = FillEngine("linear")
    assert np.allclose(engine.reset(m).poses[:, 0, 0], np.arange(20))
    cut = engine.set_scene_cuts([10])
    assert cut is not None and np.allclose(cut.poses[:10, 0, 0], 0.0)
    assert (engine.set_method("pchip").source[1:10, 0] == Source.PCHIP).all()
