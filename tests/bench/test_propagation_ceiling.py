"""``annotator bench propagation --sections ceiling``: how far a smooth track can follow a
per-frame reference. A known smooth path has a ceiling of 100; a jittered one less, and the
smoothing itself is right (windows, missing frames, key frames exact)."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.bench.propagation_ceiling import GROUPS, anchored, ceiling_rows, smoothed


def _smooth_path(frames: int = 120, joints: int = 13) -> np.ndarray:
    t = np.arange(frames, dtype=np.float64)[:, None]
    base = np.linspace(100.0, 300.0, joints)[None, :]
    xy = np.empty((frames, joints, 2))
    xy[:, :, 0] = base + 40.0 * np.sin(2 * np.pi * t / 60.0)  # slow swing, 4 px a frame at most
    xy[:, :, 1] = 200.0 + 0.5 * t + 0 * base
    return xy


def _rows(xy: np.ndarray) -> dict[str, list[float]]:
    frames = len(xy)
    visible = np.ones(xy.shape[:2], dtype=bool)
    body = np.full(frames, 200.0)  # 0.05 x body = 10 px
    keep = np.arange(0, frames, 10)
    return dict(ceiling_rows(xy, visible, body, keep))


def test_a_smooth_path_has_a_ceiling_of_100() -> None:
    rows = _rows(_smooth_path())
    assert set(rows) == {"smoothed 3", "smoothed 5", "anchored 3", "anchored 5"}
    for values in rows.values():
        assert len(values) == 1 + len(GROUPS)
        assert values == [100.0] * len(values)


def test_a_jittered_path_has_a_lower_ceiling_and_wider_windows_lose_more() -> None:
    xy = _smooth_path()
    rng = np.random.default_rng(3)
    # the wrists (5, 6) jump by 30 px on a fifth of the frames, as a per-frame estimator does
    jump = rng.random(len(xy)) < 0.2
    xy[jump, 5:7, 0] += 30.0
    rows = _rows(xy)
    wrists = 1 + [name for name, _ in GROUPS].index("wrists")
    for label in ("smoothed 3", "smoothed 5", "anchored 3", "anchored 5"):
        assert rows[label][wrists] < 90.0  # the jumps are misses for any smooth track
        assert rows[label][1] == 100.0  # the shoulders are untouched
        assert rows[label][0] < 100.0
    assert rows["smoothed 5"][wrists] <= rows["smoothed 3"][wrists] + 5.0


def test_smoothed_is_a_centred_mean_over_the_frames_with_a_position() -> None:
    xy = np.zeros((6, 1, 2))
    xy[:, 0, 0] = [0.0, 3.0, 6.0, 30.0, 12.0, 15.0]
    xy[2, 0] = np.nan  # a frame without a position: left out, and stays without one
    out = smoothed(xy, 3)
    assert out[0, 0, 0] == pytest.approx(1.5)  # frames 0-1 (the window is cut at the start)
    assert out[1, 0, 0] == pytest.approx(1.5)  # frames 0, 1 (2 has no position)
    assert np.isnan(out[2, 0]).all()
    assert out[3, 0, 0] == pytest.approx(21.0)  # frames 3, 4
    assert out[4, 0, 0] == pytest.approx(19.0)
    assert np.array_equal(smoothed(xy, 1), xy, equal_nan=True)
    with pytest.raises(ValueError):
        smoothed(xy, 4)


def test_anchored_passes_through_the_key_frames_and_is_the_reference_at_window_1() -> None:
    rng = np.random.default_rng(0)
    xy = _smooth_path(60, 2) + rng.normal(0, 5.0, (60, 2, 2))
    keep = np.array([0, 20, 40, 59])
    out = anchored(xy, keep, 5)
    assert np.allclose(out[keep], xy[keep])
    assert not np.allclose(out, xy)
    assert np.allclose(anchored(xy, keep, 1), xy)
