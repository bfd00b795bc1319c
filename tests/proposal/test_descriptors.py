"""Descriptor kinds for the recovery search: camera motion removed, shapes, caching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.errors import UsageError
from annotator.proposal import descriptors as desc
from tests.proposal.helpers import ArrayVideo, moving_square


def _pan_field(frames: int, gh: int = 12, gw: int = 16, pan: float = 3.0) -> np.ndarray:
    return np.full((frames, gh, gw), pan)


def test_camera_motion_fits_pan_and_zoom_and_ignores_a_moving_limb() -> None:
    gh, gw = 12, 16
    yy, xx = np.mgrid[0:gh, 0:gw].astype(float)
    xn, yn = (xx - (gw - 1) / 2) / gw, (yy - (gh - 1) / 2) / gh
    dx = 2.0 + 1.5 * xn  # pan right and zoom in
    dy = -1.0 + 1.5 * yn
    dx_moving = dx.copy()
    dx_moving[4:7, 6:9] += 9.0  # a limb moving against the camera
    valid = np.ones((gh, gw), bool)
    cx, cy = desc.camera_motion(dx_moving, dy, valid)
    assert np.allclose(cx, dx, atol=1e-6) and np.allclose(cy, dy, atol=1e-6)


def test_fgmotion_is_zero_under_a_pure_pan_and_accumulates_a_moving_patch() -> None:
    frames, gh, gw = 10, 12, 16
    dx, dy = _pan_field(frames), np.zeros((frames, gh, gw))
    valid = np.ones((frames, gh, gw), bool)
    still = desc.fgmotion_descriptor(dx, dy, valid, scale=128.0)
    assert still.shape == (frames, 2 * desc.FG_GRID**2)
    assert np.allclose(still, 0.0, atol=1e-9)
    dx[:, 0:3, 0:4] += 4.0  # the top-left grid cell moves 4 px per frame against the camera
    moving = desc.fgmotion_descriptor(dx, dy, valid, scale=128.0)
    top_left_x = moving[:, 0]
    assert np.allclose(np.diff(top_left_x), 4.0 / 128.0, atol=1e-6)  # a position, rising
    assert np.allclose(moving[:, 1:], 0.0, atol=1e-9)


def test_frames_without_motion_take_their_neighbours_motion() -> None:
    frames, gh, gw = 6, 8, 8
    dx = np.zeros((frames, gh, gw))
    dx[:, :2, :2] = 2.0
    dy = np.zeros_like(dx)
    valid = np.ones((frames, gh, gw), bool)
    valid[3] = False  # an intra frame: no vectors at all
    dx[3] = np.nan
    out = desc.fgmotion_descriptor(dx, dy, valid, scale=1.0)
    steps = np.diff(out[:, 0])
    assert np.allclose(steps, steps[0])  # the intra frame is not a stop


def test_saliency_sums_to_one_and_follows_the_moving_cells() -> None:
    frames, gh, gw = 8, 14, 14
    dx = np.zeros((frames, gh, gw))
    dx[:, 10:14, 10:14] = 5.0
    w = desc.saliency(dx, np.zeros_like(dx), np.ones((frames, gh, gw), bool))
    assert w.shape == (frames, 7, 7)
    assert np.allclose(w.sum(axis=(1, 2)), 1.0)
    assert w[0, 6, 6] > 10 * w[0, 0, 0]


def test_even_weights_give_the_plain_pooled_maps() -> None:
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(3, 5, 7, 7))
    out = desc.weighted_maps(maps, np.full((3, 7, 7), 1 / 49))
    assert out.shape == (3, 5 * 9)
    assert np.isclose(out.reshape(3, 5, 3, 3)[1, 2, 0, 0], maps[1, 2, 0:2, 0:2].mean())


def test_descriptors_are_cached_under_their_own_key(tmp_path: Path) -> None:
    video = ArrayVideo(moving_square(12), fingerprint="fp-desc")
    calls: list[str] = []

    def compute(kind: str, source: object, path: Path, device: str) -> np.ndarray:
        calls.append(kind)
        return np.arange(12 * 4, dtype=np.float64).reshape(12, 4)

    first = desc.descriptors(video, "fgmotion", compute=compute)
    again = desc.descriptors(video, "fgmotion", compute=compute)
    assert calls == ["fgmotion"] and np.allclose(first, again)
    assert desc.cache_path("fp-desc", "fgmotion").is_file()
    assert desc.cache_path("fp-desc", "fgmotion") != desc.cache_path("fp-desc", "effnet")
    desc.descriptors(video, "effnet-fg", compute=compute)
    assert calls == ["fgmotion", "effnet-fg"]
    with pytest.raises(UsageError):
        desc.descriptors(video, "nope", compute=compute)


def test_effnet_descriptor_of_a_real_frame_source(tmp_path: Path) -> None:
    video = ArrayVideo(moving_square(5), fingerprint="fp-effnet")
    out = desc.descriptors(video, "effnet")
    assert out.shape == (5, 320 * 9) and np.isfinite(out).all()


def test_motion_descriptors_of_a_real_video(data_dir: Path) -> None:
    video = data_dir / "videos" / "mmaction2_test.avi"
    fg = desc.descriptors(video, "fgmotion")
    assert fg.shape == (164, 2 * desc.FG_GRID**2) and np.isfinite(fg).all()
    assert np.allclose(fg[0], 0.0) and np.abs(fg).max() > 0  # positions start at zero, then move
    weighted = desc.descriptors(video, "effnet-fg")
    assert weighted.shape == (164, 320 * 9) and np.isfinite(weighted).all()
