"""Heatmap refinement, landmark decoding and the one-euro ROI filter."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.estimation import landmarks as lm
from annotator.estimation.filters import OneEuroPoints


def test_refinement_moves_to_the_heatmap_peak_when_confident() -> None:
    heatmap = np.full((64, 64, 2), -20.0, np.float32)
    heatmap[30, 12, 0] = 5.0  # a sharp, confident peak for landmark 0 at column 12, row 30
    heatmap[30, 12, 1] = 0.0  # landmark 1: sigmoid 0.5 at most -> refined too
    xy = np.array([[13.2 / 64, 29.1 / 64], [12.5 / 64, 30.5 / 64]])
    out = lm.refine(xy, heatmap)
    assert out[0] == pytest.approx([12 / 64, 30 / 64], abs=1e-6)  # no half-cell offset
    assert out[1] == pytest.approx([12 / 64, 30 / 64], abs=1e-6)
    weak = np.full((64, 64, 1), -20.0, np.float32)
    weak[30, 12, 0] = -1.0  # sigmoid 0.27 < 0.5: left as regressed
    assert lm.refine(xy[:1], weak)[0] == pytest.approx(xy[0])
    outside = np.array([[-0.2, 0.5]])
    assert lm.refine(outside, heatmap[..., :1])[0] == pytest.approx(outside[0])


def test_decode_scales_and_activates() -> None:
    raw = np.zeros((39, 5), np.float32)
    raw[:, 0], raw[:, 1], raw[:, 2] = 128.0, 64.0, 25.6
    raw[:, 3] = 0.0
    raw[:, 4] = 100.0
    out = lm.decode(raw.reshape(-1), 0.9, None)
    assert out.xy[0] == pytest.approx([0.5, 0.25]) and out.z[0] == pytest.approx(0.1)
    assert out.visibility[0] == pytest.approx(0.5) and out.presence[0] == pytest.approx(1.0)
    assert out.pose_flag == pytest.approx(0.9)


def test_one_euro_filter_passes_first_and_smooths_jitter() -> None:
    f = OneEuroPoints()
    p0 = np.array([[100.0, 200.0], [100.0, 100.0]])
    assert f(p0, 0.0, 250.0) == pytest.approx(p0)
    # a 1 px jitter on a still object is mostly removed
    jittered = f(p0 + 1.0, 1 / 30, 250.0)
    assert np.abs(jittered - p0).max() < 0.2
    # a fast move is followed with little lag after a few frames
    out = p0
    for i in range(2, 10):
        out = f(p0 + np.array([50.0 * i, 0.0]), i / 30, 250.0)
    assert abs(out[0, 0] - (100 + 50 * 9)) < 60
    assert f(p0, 0.0, 250.0) == pytest.approx(p0)  # a time that is not later: unfiltered
