"""Anchors, detector decoding, weighted NMS, the letterbox and the ROI geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotator.estimation import detector as det
from annotator.estimation.anchors import anchor_centres
from annotator.estimation.roi import (
    Roi,
    crop_to_frame_matrix,
    normalize_radians,
    roi_from_points,
    to_crop,
    to_frame,
    warp,
)


def test_anchor_count_and_layout() -> None:
    a = anchor_centres()
    # 28x28 cells x 2 (stride 8) + 14x14 x 2 (stride 16) + 7x7 x 6 (three stride-32 layers)
    assert a.shape == (28 * 28 * 2 + 14 * 14 * 2 + 7 * 7 * 6, 2) == (2254, 2)
    np.testing.assert_allclose(a[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(a[1], a[0])  # two anchors per cell
    np.testing.assert_allclose(a[2], [1.5 / 28, 0.5 / 28])  # row-major: x moves first
    np.testing.assert_allclose(a[1568], [0.5 / 14, 0.5 / 14])  # first stride-16 anchor
    np.testing.assert_allclose(a[1960:1966], [[0.5 / 7, 0.5 / 7]] * 6)  # six per 7x7 cell
    np.testing.assert_allclose(a[-1], [6.5 / 7, 6.5 / 7])


def _raw(n: int = 2254) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((1, n, 12), np.float32), np.full((1, n, 1), -10.0, np.float32)


def test_decoding_against_hand_computed_boxes() -> None:
    anchors = anchor_centres()
    boxes, scores = _raw()
    k = 1000  # an anchor of the 28x28 grid: cell index 500 -> row 17, column 24
    assert np.allclose(anchors[k], [24.5 / 28, 17.5 / 28])
    boxes[0, k, :4] = [22.4, -11.2, 44.8, 89.6]  # centre offset, width, height in input px
    boxes[0, k, 4:6] = [0.0, 22.4]  # keypoint 0: 0.1 below the anchor
    scores[0, k, 0] = 2.0
    s, b, kp = det.decode(boxes, scores, anchors)
    cx, cy = 24.5 / 28 + 0.1, 17.5 / 28 - 0.05
    np.testing.assert_allclose(b[k], [cx - 0.1, cy - 0.2, cx + 0.1, cy + 0.2], atol=1e-6)
    np.testing.assert_allclose(kp[k, 0], [24.5 / 28, 17.5 / 28 + 0.1], atol=1e-6)
    assert s[k] == pytest.approx(1 / (1 + math.exp(-2.0)))
    found = det.weighted_nms(s, b, kp)
    assert len(found) == 1 and found[0].score == pytest.approx(s[k])


def test_weighted_nms_merges_overlaps_and_keeps_the_rest() -> None:
    boxes = np.array([[0, 0, 1, 1], [0.1, 0, 1.1, 1], [3, 3, 4, 4], [0, 0, 1, 1]], float)
    scores = np.array([0.9, 0.6, 0.8, 0.4])  # the last is below the threshold
    kps = np.zeros((4, 4, 2))
    kps[:, 0, 0] = [0.0, 1.0, 5.0, 9.0]
    found = det.weighted_nms(scores, boxes, kps)
    assert [f.score for f in found] == [0.9, 0.8]
    assert found[0].keypoints[0, 0] == pytest.approx(0.6 / 1.5)  # (0.9*0 + 0.6*1) / 1.5
    np.testing.assert_allclose(found[0].box, [0.04, 0, 1.04, 1])
    np.testing.assert_allclose(found[1].box, boxes[2])


def test_letterbox_centres_the_frame_and_maps_back() -> None:
    image = np.full((720, 1280, 3), 255, np.uint8)
    tensor, box = det.letterbox(image)
    assert tensor.shape == (224, 224, 3)
    assert box.scale == pytest.approx(0.175) and box.offset == (0, 49)  # 720*0.175 = 126 rows
    assert (tensor[:49] == -1).all() and (tensor[49:175] == 1).all() and (tensor[175:] == -1).all()
    np.testing.assert_allclose(box.to_frame(np.array([0.5, 0.5])), [640, 360])
    np.testing.assert_allclose(box.to_frame(np.array([0.0, 49 / 224])), [0, 0], atol=1e-9)


def test_roi_from_points_upright_and_turned() -> None:
    upright = roi_from_points((100.0, 200.0), (100.0, 100.0))  # axis points up
    assert (upright.cx, upright.cy) == (100.0, 200.0)
    assert upright.side == pytest.approx(2 * 100 * 1.25) and upright.rotation == pytest.approx(0)
    lying = roi_from_points((100.0, 200.0), (200.0, 200.0))  # axis points right
    assert lying.rotation == pytest.approx(math.pi / 2)
    assert normalize_radians(3 * math.pi / 2) == pytest.approx(-math.pi / 2)


def test_roi_round_trip_and_matrix_agree() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        roi = Roi(*rng.uniform(50, 500, 2), rng.uniform(20, 400), rng.uniform(-math.pi, math.pi))
        pts = rng.uniform(-0.5, 1.5, (7, 2))
        np.testing.assert_allclose(to_crop(to_frame(pts, roi), roi), pts, atol=1e-9)
        m = crop_to_frame_matrix(roi, 256)
        via_matrix = (m[:, :2] @ (pts * 256).T).T + m[:, 2]
        np.testing.assert_allclose(via_matrix, to_frame(pts, roi), atol=1e-9)


def test_warp_puts_a_frame_point_where_the_geometry_says() -> None:
    image = np.zeros((300, 400, 3), np.uint8)
    image[140:143, 250:253] = 255  # a bright 3x3 spot centred on pixel (251, 141)
    roi = Roi(200.0, 150.0, 180.0, 0.6)
    crop = warp(image, roi, 256)
    ys, xs = np.nonzero(crop[..., 0] > 100)
    expected = to_crop(np.array([251.0, 141.0]), roi) * 256
    assert abs(xs.mean() - expected[0]) < 1.0 and abs(ys.mean() - expected[1]) < 1.0
