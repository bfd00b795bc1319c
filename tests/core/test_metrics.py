"""Hand-made checks of the accuracy measures (body size, PCK, mean error, coverage)."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.metrics import (
    body_size,
    covered,
    mean_error_pct,
    missing_share,
    pck,
    pck_counts,
)


def _gt() -> np.ndarray:
    # two frames, two joints; joint extent 0..30 in x and 0..40 in y on frame 0
    return np.array([[[0.0, 0.0], [30.0, 40.0]], [[10.0, 10.0], [20.0, 10.0]]])


def test_body_size_uses_box_then_joint_extent() -> None:
    gt = _gt()
    vis = np.ones((2, 2), bool)
    assert body_size(gt, vis).tolist() == [40.0, 10.0]
    boxes = np.array([[0, 0, 100, 50], [np.nan] * 4])
    assert body_size(gt, vis, boxes).tolist() == [100.0, 10.0]


def test_pck_mean_error_and_coverage_on_known_offsets() -> None:
    gt = _gt()
    vis = np.array([[True, True], [True, False]])
    body = np.array([100.0, 100.0])
    pred = gt.copy()
    pred[0, 0] += [3.0, 4.0]  # error 5 = 0.05 body
    pred[0, 1] += [0.0, 12.0]  # 0.12 body
    pred[1, 1] += [90.0, 0.0]  # not visible: ignored
    assert pck(pred, gt, vis, body, 0.05) == pytest.approx(2 / 3)
    assert pck(pred, gt, vis, body, 0.2) == pytest.approx(1.0)
    assert mean_error_pct(pred, gt, vis, body) == pytest.approx((5 + 12 + 0) / 3)
    assert covered(pred, gt, vis, body, 0.05).tolist() == [False, True]
    assert covered(pred, gt, vis, body, 0.12).tolist() == [True, True]


def test_pck_counts_are_the_hits_and_the_joints_counted() -> None:
    gt = _gt()
    vis = np.ones((2, 2), dtype=bool)
    pred = gt.copy()
    pred[0, 0] += [3.0, 4.0]  # 0.05 body: a hit
    pred[0, 1] += [0.0, 12.0]  # 0.12 body: a miss
    body = np.array([100.0, np.nan])  # frame 1 has no body size: its joints do not count
    assert pck_counts(pred, gt, vis, body, 0.05) == (1, 2)
    assert pck(pred, gt, vis, body, 0.05) == pytest.approx(0.5)
    assert pck_counts(pred, gt, np.zeros((2, 2), dtype=bool), body, 0.05) == (0, 0)


def test_missing_prediction_is_a_miss_not_an_average() -> None:
    gt = _gt()
    vis = np.ones((2, 2), bool)
    body = np.array([10.0, 10.0])
    pred = gt.copy()
    pred[1, 0] = np.nan
    assert pck(pred, gt, vis, body, 0.5) == pytest.approx(3 / 4)
    assert mean_error_pct(pred, gt, vis, body) == 0.0
    assert missing_share(pred, gt, vis, body) == pytest.approx(1 / 4)
    assert covered(pred, gt, vis, body).tolist() == [True, False]


def test_shape_mismatch_is_rejected() -> None:
    with pytest.raises(ValueError):
        pck(np.zeros((2, 3, 2)), _gt(), np.ones((2, 2), bool), np.ones(2), 0.1)
