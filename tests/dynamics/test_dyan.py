"""DYAN dictionaries and the paper's fills: shape, normalisation, eq. 17 exactness, pole
recovery, frame-rate change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.dynamics.dyan import (
    DyanFiller,
    Poles,
    dyan_dictionary,
    eq17,
    fista,
    load_dictionary,
    make_dyan_filler,
    poles_from_dictionary,
)
from annotator.errors import FormatError
from tests.dynamics.helpers import manual_at

POLES = Poles(np.array([0.98, 1.0, 0.95]), np.array([0.1, 0.25, 0.6]))


def test_dictionary_shape_and_unit_columns() -> None:
    d = dyan_dictionary(POLES, 40)
    assert d.shape == (40, 1 + 4 * 3)
    np.testing.assert_allclose(np.linalg.norm(d, axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(d[:, 0], 1 / np.sqrt(40))
    t = np.arange(40)
    col = 0.98**t * np.cos(0.1 * t)
    np.testing.assert_allclose(d[:, 1], col / np.linalg.norm(col))
    col = (-0.98) ** t * np.cos(0.1 * t)  # the (-r)^t family
    np.testing.assert_allclose(d[:, 4], col / np.linalg.norm(col), atol=1e-12)


def test_a_dictionary_without_the_mirrored_columns() -> None:
    plain = Poles(POLES.r, POLES.theta, mirrored=False)
    d = dyan_dictionary(plain, 40)
    assert d.shape == (40, 1 + 2 * 3)
    full = dyan_dictionary(POLES, 40)
    np.testing.assert_allclose(d[:, 1:4], full[:, 1:4])  # r^t cos tθ
    np.testing.assert_allclose(d[:, 4:], full[:, 7:10])  # r^t sin tθ
    assert plain.at_rate(60.0).mirrored is False


def test_published_dictionary_is_rebuilt_from_its_poles(data_dir: Path) -> None:
    matrix, poles = load_dictionary(
        data_dir / "kfpn_reference" / "PENN_2DGauNorm_train_T60_DYAN_mask.mat"
    )
    assert matrix.shape == (60, 161) and len(poles.r) == 40
    np.testing.assert_allclose(dyan_dictionary(poles, 60), matrix, atol=1e-3)
    again = poles_from_dictionary(dyan_dictionary(POLES, 30))
    np.testing.assert_allclose(again.r, POLES.r, rtol=1e-9)
    np.testing.assert_allclose(again.theta, POLES.theta, rtol=1e-9)


def test_unregularised_eq17_reproduces_the_labels() -> None:
    d = dyan_dictionary(POLES, 40)
    rows = np.array([0, 7, 19, 30, 39])
    vals = np.random.default_rng(1).normal(size=(5, 4))
    out = eq17(d, rows, vals)
    np.testing.assert_allclose(out[rows], vals, atol=1e-8)


def _trajectory(poles: Poles, length: int) -> np.ndarray:
    d = dyan_dictionary(poles, length)
    code = np.zeros(d.shape[1])
    code[[0, 2, 6, 11]] = [3.0, 2.0, -1.5, 1.0]
    return d @ code


def test_a_trajectory_of_the_dictionarys_poles_is_recovered_from_few_frames() -> None:
    y = _trajectory(POLES, 40)[:, None]
    rows = np.arange(0, 40, 3)  # 14 of 40 frames, more than the 13 columns
    d = dyan_dictionary(POLES, 40)
    np.testing.assert_allclose(eq17(d, rows, y[rows], ridge=1e-12), y, atol=1e-4)
    err_fista = np.abs(fista(d, rows, y[rows], lam=1e-4, iters=3000) - y).max()
    linear = np.interp(np.arange(40), rows, y[rows, 0])
    assert err_fista < 0.3 * np.abs(linear - y[:, 0]).max()


def test_frame_rate_change_maps_the_poles() -> None:
    # at 60 fps the poles become p^(30/60); every other frame then replays the 30 fps motion
    fast = POLES.at_rate(60.0)
    np.testing.assert_allclose(fast.r, POLES.r**0.5)
    np.testing.assert_allclose(fast.theta, POLES.theta * 0.5)
    d30 = dyan_dictionary(POLES, 20)
    d60 = dyan_dictionary(fast, 39)[::2]
    d60 = d60 / np.linalg.norm(d60, axis=0)
    np.testing.assert_allclose(d60, d30, atol=1e-9)
    assert POLES.at_rate(30.0) is POLES


@pytest.mark.parametrize("method", ["eq17", "fista"])
def test_engine_methods_fill_every_gap(method: str, data_dir: Path) -> None:
    from annotator.dynamics.fill import fill_track

    filler = make_dyan_filler(
        method, dictionary=data_dir / "kfpn_reference" / "PENN_2DGauNorm_train_T60_DYAN_mask.mat"
    )
    t = np.arange(120)
    m = np.full((120, 2, 3), np.nan)
    m[:, :, 2] = 0
    keys = np.arange(0, 120, 12)
    m[keys, 0, 0] = np.sin(keys / 9) * 20
    m[keys, 0, 1] = keys * 0.5
    m[keys, 0, 2] = 1
    m[keys[:4], 1] = [5.0, 5.0, 1]
    r = fill_track(m, filler)
    assert np.isfinite(r.poses[:, 0, :2]).all() and np.isfinite(r.poses[:37, 1, :2]).all()
    np.testing.assert_allclose(r.poses[keys, 0, 0], np.sin(keys / 9) * 20, atol=1e-4)
    assert np.abs(r.poses[:109, 0, 0] - np.sin(t[:109] / 9) * 20).max() < 40


def test_bad_dictionary_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        load_dictionary(tmp_path / "missing.mat")
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(FormatError):
        load_dictionary(bad)


def _motion(fps: float, joints: int, seconds: float = 4.0) -> np.ndarray:
    """The same motion (in seconds) sampled at ``fps``: a few slow sinusoids per coordinate."""
    tau = np.arange(int(seconds * fps))[:, None] / fps
    rng = np.random.default_rng(5)
    out = np.zeros((len(tau), joints, 2))
    for j in range(joints):
        for c in range(2):
            f, a, p = rng.uniform(0.2, 1.2, 3), rng.uniform(10, 40, 3), rng.uniform(0, 6, 3)
            out[:, j, c] = (a * np.sin(2 * np.pi * f * tau + p)).sum(axis=1)
    return out


def test_shipped_dictionary_is_ours_and_loads() -> None:
    from annotator.core.paths import model_path, models_dir
    from annotator.dynamics.dyan import DEFAULT_DICTIONARY, load_dyan_model

    model = load_dyan_model(model_path(DEFAULT_DICTIONARY))
    per_pole = 4 if model.poles.mirrored else 2
    assert model.ridge > 0
    assert model.matrix.shape == (model.rows, 1 + per_pole * len(model.poles.r))
    assert not (models_dir() / "kfpn_penn_dictionary.mat").exists()  # published: not shipped
    assert isinstance(make_dyan_filler("eq17"), DyanFiller)


@pytest.mark.parametrize("method", ["eq17", "hpim"])
def test_a_60fps_trajectory_fills_as_well_as_its_30fps_version(method: str) -> None:
    from annotator.dynamics.fill import fill_track

    t30, t60 = _motion(30.0, 3), _motion(60.0, 3)
    k30 = np.arange(0, len(t30), 6)  # the same instants: every 0.2 s
    k60 = np.arange(0, len(t60), 12)
    f30 = fill_track(manual_at(t30, k30), method, fps=30.0).poses[:, :, :2]
    f60 = fill_track(manual_at(t60, k60), method, fps=60.0).poses[:, :, :2]
    n = int(k30[-1])
    e30 = np.abs(f30 - t30)[:n].mean()
    e60 = np.abs(f60[::2] - t60[::2])[:n].mean()  # at the instants both videos have
    assert e60 <= 1.1 * e30 + 0.05
    assert e30 > 0.1  # a real fill, not an exact copy


def test_one_dictionary_fills_a_coco_track_per_coordinate() -> None:
    """COCO-17 joints, no mapping to Penn's 13: the fill of all 17 joints equals each joint
    filled alone, and every labelled value is kept."""
    from annotator.core.skeleton import COCO
    from annotator.dynamics.fill import fill_track

    truth = _motion(30.0, COCO.num_joints, seconds=3.0)
    keys = np.arange(0, len(truth), 7)
    filler = make_dyan_filler("eq17", fps=30.0)
    both = fill_track(manual_at(truth, keys), filler).poses[:, :, :2]
    assert both.shape == (len(truth), 17, 2) and np.isfinite(both).all()
    np.testing.assert_allclose(both[keys], truth[keys], atol=1e-3)
    for j in (0, 9, 16):
        alone = fill_track(manual_at(truth[:, j : j + 1], keys), filler).poses[:, 0, :2]
        np.testing.assert_allclose(both[:, j], alone, atol=1e-3)
