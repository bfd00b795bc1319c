"""The faster walk (an insertion sort into a walker's buffer in place of ``np.argsort`` for the
weighted medians; body sizes in one pass; the blend compiled) gives exactly the walks and blends
of the former code."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import pytest

import annotator.propagation.walk as walk_module
from annotator.core.codes import Visibility
from annotator.propagation.mv import blend, body_extents
from annotator.propagation.walk import walk_many
from annotator.video.motion import MotionFields


def _argsort_median(values: Any, weights: Any, n: int, order: Any = None) -> float:
    """The former weighted median (``np.argsort``), as it was."""
    order = np.argsort(values[:n])
    total = 0.0
    for k in range(n):
        total += weights[k]
    acc = 0.0
    for k in range(n):
        acc += weights[order[k]]
        if acc >= 0.5 * total:
            return float(values[order[k]])
    return float(values[order[n - 1]])


def _former_body_extent(manual: np.ndarray, frame: int) -> float:
    """The former per-frame body size, as it was."""
    xy = np.asarray(manual[frame, :, :2], dtype=np.float64)
    codes = np.asarray(manual[frame, :, 2])
    ok = np.isfinite(xy).all(axis=1) & ((codes == Visibility.VISIBLE) | (codes == 2))
    if ok.sum() < 2:
        return 0.0
    return float((xy[ok].max(axis=0) - xy[ok].min(axis=0)).max())


def test_weighted_median_equals_the_argsort_one() -> None:
    rng = np.random.default_rng(0)
    order = np.empty(64, dtype=np.int64)
    for trial in range(400):
        n = int(rng.integers(1, 60))
        values = np.zeros(64)
        # quarter-pel vectors: many ties, as codec fields have
        values[:n] = rng.integers(-8, 8, n) / 4.0 if trial % 2 else rng.normal(0, 3, n)
        weights = rng.uniform(0.01, 1.0, 64)
        got = walk_module._weighted_median(values, weights, n, order)
        assert got == _argsort_median(values, weights, n)


def _field(frames: int = 16, gh: int = 12, gw: int = 16, cell: int = 8) -> MotionFields:
    """A field of mixed motions (two regions, quarter-pel noise, invalid cells, residual)."""
    rng = np.random.default_rng(3)
    dx = np.where(np.arange(gw)[None, None, :] < gw // 2, 1.5, -2.25) + np.zeros((frames, gh, gw))
    dy = np.full((frames, gh, gw), 0.75)
    dx += rng.integers(-4, 5, dx.shape) / 4.0
    dy += rng.integers(-4, 5, dy.shape) / 4.0
    valid = rng.uniform(size=dx.shape) > 0.2
    valid[5] = False  # an intra frame: guessed steps
    return MotionFields(
        dx=dx.astype(np.float32),
        dy=dy.astype(np.float32),
        valid=valid,
        residual=rng.uniform(0, 30, dx.shape).astype(np.float32),
        picture_types=("P",) * frames,
        times=np.arange(frames) / 30.0,
        derived=np.zeros(frames, dtype=bool),
        kind="mv",
        cell=cell,
        width=gw * cell,
        height=gh * cell,
        codec="synthetic",
    )


def test_walks_equal_the_former_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    fields = _field()
    rng = np.random.default_rng(1)
    k = 12
    start = rng.integers(0, 16, k)
    stop = rng.integers(0, 16, k)
    points = rng.uniform(10, 118, (k, 2))
    radius = rng.uniform(8, 20, k)
    velocity = rng.normal(0, 1, (k, 2))
    fast = walk_many(fields, start, stop, points, radius, velocity)
    # the same kernel compiled afresh with the former median (compiled, not run as Python:
    # the interpreter rounds exp and sqrt an ulp differently)
    monkeypatch.setattr(walk_module, "_weighted_median", numba.njit(_argsort_median))
    monkeypatch.setattr(walk_module, "_sample", numba.njit(walk_module._sample.py_func))
    monkeypatch.setattr(walk_module, "_walk_kernel", numba.njit(walk_module._walk_kernel.py_func))
    former = walk_many(fields, start, stop, points, radius, velocity)
    assert fast.guessed.any() and (~fast.guessed).any()
    np.testing.assert_array_equal(fast.offset, former.offset)
    np.testing.assert_array_equal(fast.path, former.path)
    np.testing.assert_array_equal(fast.spread, former.spread)
    np.testing.assert_array_equal(fast.residual, former.residual)
    np.testing.assert_array_equal(fast.guessed, former.guessed)


def test_body_extents_equal_the_former_per_frame_ones() -> None:
    rng = np.random.default_rng(2)
    man = np.empty((30, 6, 3))
    man[:, :, :2] = rng.uniform(0, 500, (30, 6, 2))
    man[:, :, 2] = rng.choice(
        [Visibility.VISIBLE, Visibility.OCCLUDED, Visibility.UNLABELLED, 2], (30, 6)
    )
    man[3, :, :2] = np.nan
    man[4, 1:, 2] = Visibility.UNLABELLED  # a single labelled joint: no size
    man[7, 2, 0] = np.nan
    frames = np.arange(30)
    got = body_extents(man, frames)
    want = np.array([_former_body_extent(man, f) for f in frames])
    np.testing.assert_array_equal(got, want)


def _former_blend(
    path_f: np.ndarray, step_f: np.ndarray, path_b: np.ndarray, step_b: np.ndarray, disagree: float
) -> tuple[np.ndarray, np.ndarray]:
    """The former NumPy blend, as it was."""
    start, end = path_f[:, :1], path_b[:, -1:]
    cf = np.cumsum(step_f, axis=1)
    cb = np.cumsum(step_b[:, ::-1], axis=1)[:, ::-1]
    tf = np.maximum(cf[:, -1:], 1e-12)
    tb = np.maximum(cb[:, :1], 1e-12)
    fixed_f = path_f + (cf / tf)[..., None] * (end - path_f[:, -1:])
    fixed_b = path_b + (cb / tb)[..., None] * (start - path_b[:, :1])
    wf = 1.0 / np.maximum(cf, 1e-12)
    wb = 1.0 / np.maximum(cb, 1e-12)
    xy = (wf[..., None] * fixed_f + wb[..., None] * fixed_b) / (wf + wb)[..., None]
    bridge_f = np.maximum(cf * (tf - cf) / tf, 1e-12)
    bridge_b = np.maximum(cb * (tb - cb) / tb, 1e-12)
    var = 1.0 / (1.0 / bridge_f + 1.0 / bridge_b)
    var = var + disagree * ((fixed_f - fixed_b) ** 2).sum(axis=2) / 2.0
    xy[:, 0], xy[:, -1] = start[:, 0], end[:, 0]
    var[:, 0] = var[:, -1] = 0.0
    return xy, var


@pytest.mark.parametrize("length", [2, 3, 10, 57])
def test_blend_equals_the_former_numpy_one(length: int) -> None:
    rng = np.random.default_rng(length)
    n = 40
    path_f = rng.uniform(0, 700, (n, length + 1, 2))
    path_b = path_f + rng.normal(0, 5, path_f.shape)
    step_f = rng.uniform(0.5, 40, (n, length + 1))
    step_b = rng.uniform(0.5, 40, (n, length + 1))
    step_f[:, 0] = 0.0
    step_b[:, -1] = 0.0
    step_f[:3] = 0.0  # walks with no variance at all: the 1e-12 floors
    step_b[:3] = 0.0
    got = blend(path_f, step_f, path_b, step_b, 2.0)
    want = _former_blend(path_f, step_f, path_b, step_b, 2.0)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
