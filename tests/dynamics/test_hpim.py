"""HPIM: label-anchored kriging with a learned variogram (synthetic models, no training)."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.codes import Source
from annotator.dynamics.fill import fill_track, make_filler
from annotator.dynamics.hpim import HpimFiller, HpimModel, make_hpim_filler
from tests.dynamics.helpers import manual_at

from .test_fill import assert_incremental_equals_full

LAGS = np.arange(200, dtype=float)
SMOOTH = HpimModel(variogram=1.0 - np.exp(-((LAGS / 12.0) ** 2)), fps=30.0, reach=2)


def _sine(f: int = 97) -> np.ndarray:
    t = np.arange(f, dtype=float)
    return np.stack([np.stack([40 * np.sin(t / 7), 25 * np.cos(t / 11)], -1)], axis=1)


def test_smooth_motion_beats_linear_without_seams() -> None:
    truth = _sine()
    keys = np.arange(0, 97, 8)
    hp = fill_track(manual_at(truth, keys), HpimFiller(SMOOTH)).poses[:, :, :2]
    lin = fill_track(manual_at(truth, keys), "linear").poses[:, :, :2]
    err_hp = np.abs(hp - truth).max()
    assert err_hp < 0.5 * np.abs(lin - truth).max()
    # no seam at the labels: the fill's steps next to a label match the true motion's
    step = np.diff(hp[:, 0, 0])
    true_step = np.diff(truth[:, 0, 0])
    lin_step = np.diff(lin[:, 0, 0])
    assert np.abs(step - true_step).max() < 0.5 * np.abs(lin_step - true_step).max()
    assert np.allclose(hp[keys], truth[keys], atol=1e-4)


def test_constant_and_straight_lines_are_kept() -> None:
    f = 50
    keys = np.array([0, 7, 20, 31, 49])
    still = np.full((f, 1, 2), 3.0)
    out = fill_track(manual_at(still, keys), HpimFiller(SMOOTH)).poses[:, :, :2]
    np.testing.assert_allclose(out, 3.0, atol=1e-6)
    line = np.stack([np.arange(f) * 2.0, 5 - np.arange(f) * 0.5], -1)[:, None]
    model = HpimModel(SMOOTH.variogram, trend=1)
    out = fill_track(manual_at(line, keys), HpimFiller(model)).poses[:, :, :2]
    np.testing.assert_allclose(out, line, atol=1e-3)


def test_variance_is_zero_on_labels_and_largest_mid_gap() -> None:
    truth = _sine()
    keys = np.arange(0, 97, 12)
    r = fill_track(manual_at(truth, keys), HpimFiller(SMOOTH))
    assert r.variance is not None
    assert (r.variance[keys] == 0).all()
    gap = r.variance[13:24, 0]
    assert (gap > 0).all() and np.argmax(gap) in (4, 5, 6)
    assert r.variance.dtype == np.float32


def test_frame_rate_rescales_the_lags() -> None:
    slow = HpimFiller(SMOOTH, fps=30.0)
    fast = HpimFiller(SMOOTH, fps=60.0)
    w30, _ = slow.weights((-6, 0, 6, 12), 6)
    w60, _ = fast.weights((-12, 0, 12, 24), 12)
    np.testing.assert_allclose(w60[1::2], w30, atol=1e-9)


def test_still_joint_keeps_the_nearer_label() -> None:
    model = HpimModel(SMOOTH.variogram, hold_below=1.0)
    f = 30
    vals = np.zeros((f, 1, 2))
    vals[:10] = [[5.0, 5.0]]
    vals[10:20] = [[5.5, 5.0]]  # moved half a pixel: jitter, not motion
    vals[20:] = [[40.0, 5.0]]
    keys = np.array([0, 10, 20, 29])
    out = fill_track(manual_at(vals, keys), HpimFiller(model)).poses[:, 0, 0]
    assert (out[1:6] == 5.0).all() and (out[6:10] == 5.5).all()
    assert (out[11:20] != 5.5).any()  # a real move is interpolated


@pytest.mark.parametrize(
    "model",
    [
        SMOOTH,
        HpimModel(SMOOTH.variogram, reach=1, hold_below=0.5, pchip_mix=(0.5,) * 5),
        # the data-dependent uncertainty stays within the filler's reach
        HpimModel(SMOOTH.variogram, reach=1, unc_loo=0.3, unc_disagree=3.0, unc_scale=0.5),
    ],
)
def test_incremental_equals_full_for_hpim(model: HpimModel) -> None:
    from annotator.dynamics import fill as fill_module

    original = fill_module.make_filler

    def fake(method: str = "hpim", **kw: object) -> object:
        return HpimFiller(model) if method == "hpim" else original(method, **kw)

    fill_module.make_filler = fake
    try:
        assert_incremental_equals_full("hpim", seed=3)
    finally:
        fill_module.make_filler = original


@pytest.mark.parametrize("method", ["eq17"])
def test_incremental_equals_full_for_eq17(method: str) -> None:
    assert_incremental_equals_full(method, seed=4)


def test_shipped_model_loads_and_fills() -> None:
    filler = make_hpim_filler()
    assert filler.model.reach >= 1 and len(filler.model.variogram) > 50
    truth = _sine()
    keys = np.arange(0, 97, 10)
    r = fill_track(manual_at(truth, keys), make_filler("hpim"))
    assert (r.source[keys] == Source.MANUAL).all() and (r.source[1:10] == Source.HPIM).all()
    assert np.isfinite(r.poses[:, :, :2]).all()


def test_fill_is_the_documented_mix_of_its_parts() -> None:
    model = HpimModel(SMOOTH.variogram, hold_below=0.5, pchip_mix=(0.5, 0.25, 0.0, 0.0, 1.0))
    filler = HpimFiller(model)
    rng = np.random.default_rng(2)
    frames = np.sort(rng.choice(np.arange(1, 199), 30, replace=False))
    frames = np.r_[0, frames, 199]
    values = np.cumsum(rng.normal(0, 3, size=(len(frames), 4)), axis=0)
    values[5] = values[4] + 0.1  # a still joint
    out, var = filler.fill_run(frames, values)
    parts = filler.components(frames, values)
    assert parts.pchip is not None and var is not None
    mix = np.asarray(model.pchip_mix)[parts.gap_bin][:, None]
    expected = np.where(parts.still, parts.nearest, (1 - mix) * parts.kriged + mix * parts.pchip)
    np.testing.assert_allclose(out, expected, atol=1e-9)
    np.testing.assert_allclose(out[frames], values)
