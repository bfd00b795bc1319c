"""Decoding BlazePose's person detector: raw SSD outputs to scored boxes with keypoints.

Per anchor the model gives 12 numbers: box centre x, y, width, height, then four keypoints
(x, y), all in input pixels (224) relative to the anchor's centre; and one score logit. The
keypoints are the hip centre (0), a point above the head on the body's axis (1, its distance
from 0 is half the body's extent), and two more the tracker does not use. Overlapping
detections are merged by weighted non-maximum suppression (a score-weighted mean of the
boxes and keypoints that overlap the best one), as MediaPipe does for this model.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from annotator.estimation.anchors import INPUT_SIZE, anchor_centres
from annotator.estimation.roi import Roi, roi_from_points

SCORE_THRESHOLD = 0.5
NMS_IOU = 0.3
SCORE_CLIP = 100.0
KEYPOINTS = 4


@dataclass(frozen=True)
class Detection:
    """One person: ``box`` (x_min, y_min, x_max, y_max) and ``keypoints`` (4, 2), both in the
    detector's input square normalised to [0, 1] until ``to_frame`` maps them to pixels."""

    score: float
    box: NDArray[np.float64]
    keypoints: NDArray[np.float64]


def decode(
    raw_boxes: NDArray[np.floating],
    raw_scores: NDArray[np.floating],
    anchors: NDArray[np.floating] | None = None,
    input_size: int = INPUT_SIZE,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Scores (N,), boxes (N, 4) as x_min, y_min, x_max, y_max and keypoints (N, 4, 2), all
    anchors, normalised to the input square."""
    anchors = anchor_centres() if anchors is None else anchors
    raw = np.asarray(raw_boxes, dtype=np.float64).reshape(-1, 4 + 2 * KEYPOINTS)
    if raw.shape[0] != anchors.shape[0]:
        raise ValueError(f"{raw.shape[0]} detector outputs for {anchors.shape[0]} anchors")
    logits = np.clip(np.asarray(raw_scores, dtype=np.float64).reshape(-1), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits))
    anchor = np.asarray(anchors, dtype=np.float64)
    centre = raw[:, 0:2] / input_size + anchor
    half = raw[:, 2:4] / input_size / 2.0
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:].reshape(-1, KEYPOINTS, 2) / input_size + anchor[:, None, :]
    return scores, boxes, keypoints


def iou(box: NDArray[np.float64], others: NDArray[np.float64]) -> NDArray[np.float64]:
    """Intersection over union of one box with each of ``others`` (x_min, y_min, x_max, y_max)."""
    lo = np.maximum(box[:2], others[:, :2])
    hi = np.minimum(box[2:], others[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(others[:, 2:] - others[:, :2], axis=1)
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def weighted_nms(
    scores: NDArray[np.float64],
    boxes: NDArray[np.float64],
    keypoints: NDArray[np.float64],
    score_threshold: float = SCORE_THRESHOLD,
    iou_threshold: float = NMS_IOU,
) -> list[Detection]:
    """Detections above ``score_threshold``, best first, each the score-weighted mean of the
    candidates overlapping the best remaining one by more than ``iou_threshold`` (its score
    is the best one's)."""
    order = np.flatnonzero(scores >= score_threshold)
    order = order[np.argsort(-scores[order], kind="stable")]
    out: list[Detection] = []
    while order.size:
        best = order[0]
        overlap = iou(boxes[best], boxes[order]) > iou_threshold
        overlap[0] = True
        members = order[overlap]
        w = scores[members]
        box = (boxes[members] * w[:, None]).sum(0) / w.sum()
        kps = (keypoints[members] * w[:, None, None]).sum(0) / w.sum()
        out.append(Detection(float(scores[best]), box, kps))
        order = order[~overlap]
    return out


@dataclass(frozen=True)
class Letterbox:
    """How a frame sits in the detector's input square: scaled by ``scale`` (aspect kept) and
    placed ``offset`` (x, y) input pixels from the top-left corner, the rest padded."""

    scale: float
    offset: tuple[int, int]

    def to_frame(self, points: NDArray[np.floating]) -> NDArray[np.float64]:
        """Input-square coordinates in [0, 1] (…, 2) to frame pixels."""
        pts = np.asarray(points, dtype=np.float64) * INPUT_SIZE - np.asarray(self.offset)
        return np.asarray(pts / self.scale, dtype=np.float64)


def letterbox(
    image: NDArray[np.uint8], size: int = INPUT_SIZE
) -> tuple[NDArray[np.float32], Letterbox]:
    """The detector's input: ``image`` shrunk by area averaging to fit ``size``², centred with
    whole-pixel padding, in [-1, 1] with the padding at -1 (black). This is the preprocessing
    that reproduces the golden reference's detections exactly."""
    height, width = image.shape[:2]
    scale = size / max(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    x0, y0 = (size - new_w) // 2, (size - new_h) // 2
    small = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    tensor = np.full((size, size, 3), -1.0, dtype=np.float32)
    tensor[y0 : y0 + new_h, x0 : x0 + new_w] = small.astype(np.float32) / 127.5 - 1.0
    return tensor, Letterbox(scale, (x0, y0))


def detection_to_frame(det: Detection, box: Letterbox) -> Detection:
    """``det`` with its box and keypoints in frame pixels (the detector saw ``box``)."""
    corners = box.to_frame(det.box.reshape(2, 2)).reshape(4)
    return Detection(det.score, corners, box.to_frame(det.keypoints))


def roi_from_detection(det: Detection) -> Roi:
    """The landmark model's ROI from a detection in frame pixels: centred on the hip centre,
    turned so that the hip-to-head axis points up."""
    return roi_from_points(det.keypoints[0], det.keypoints[1])
