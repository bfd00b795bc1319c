"""BlazePose, the two-stage estimator: a person detector, then 33 landmarks in a tracked ROI.

``BlazePose.run(video, frames)`` estimates the pose on the given frames (sorted 0-based
indices) of a video:

- A frame that follows the previous processed frame directly is *tracked*: its ROI comes from
  the previous frame's auxiliary landmarks (hip centre and body-axis point) after the
  one-euro filter, as MediaPipe tracks. This is how every-frame runs (and the golden
  reference in ``shared/data/realgt``) work.
- A key frame far from the last processed one has no previous pose to track from. Given a
  ``carry`` function (the video's motion, see ``carry.py``), the last frame's landmarks are
  carried along the motion field to it and give its ROI: one landmark call, no detector
  call. A second landmark pass, in the ROI its first answer gives, runs only when that ROI
  disagrees with the carried one (``carry.roi_agrees``) and the next frame is not processed.
- The first frame, a key frame that cannot be carried (no ``carry``, the motion cannot be
  trusted, or the carried ROI loses the person: pose flag below 0.5), and a tracked frame
  whose pose flag says the person was lost, run the detector on the whole frame. Its ROI is
  coarser than a tracked one, so by default the landmark model then runs a second time in the
  ROI that its own first answer gives (``refine_passes``), which is what a tracked frame
  would have seen, unless the next frame is processed too (then tracking takes over, as in
  MediaPipe). The filter restarts on a carried or detected frame.

Everything is returned in frame pixels in the video's display orientation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from annotator.core.progress import Cancelled, Progress, ShouldStop, check_stop, report
from annotator.estimation import detector as det
from annotator.estimation import landmarks as lm
from annotator.estimation.carry import Carry, carried_points, carried_roi, roi_agrees
from annotator.estimation.filters import OneEuroPoints
from annotator.estimation.roi import Roi, roi_from_points, to_frame, warp
from annotator.estimation.runtime import DETECTOR, LANDMARKER, LiteModel, checked_model

__all__ = ["LANDMARK_NAMES", "BlazePose", "Cancelled", "Estimates", "next_roi"]

POSE_FLAG_THRESHOLD = 0.5

LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip


@dataclass(frozen=True)
class Estimates:
    """Per processed frame (K of them, in ``frames`` order): ``xy`` (K, 33, 2) pixels (NaN
    where no person was found), ``z`` (K, 33), ``visibility`` and ``presence`` (K, 33) in
    [0, 1], ``pose_flag`` (K,), ``roi`` (K, 4) centre x, y, side, rotation of the ROI the
    reported landmarks came from, ``detected`` (K,) True where the detector ran; the number
    of model calls and the wall time; ``carried`` (K,) True where the ROI was carried along
    the motion field."""

    frames: NDArray[np.int64]
    xy: NDArray[np.float64]
    z: NDArray[np.float64]
    visibility: NDArray[np.float64]
    presence: NDArray[np.float64]
    pose_flag: NDArray[np.float64]
    roi: NDArray[np.float64]
    detected: NDArray[np.bool_]
    width: int
    height: int
    detector_calls: int = 0
    landmark_calls: int = 0
    seconds: float = 0.0
    landmark_names: tuple[str, ...] = field(default=LANDMARK_NAMES)
    carried: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))


def next_roi(smoother: OneEuroPoints, aux: NDArray[np.floating], time: float) -> Roi:
    """The next frame's ROI from this frame's (2, 2) unfiltered auxiliary landmarks in frame
    pixels at ``time`` seconds, through ``smoother`` (the tracking step; the object size for
    the filter is the side of the ROI the unfiltered points give)."""
    raw = np.asarray(aux, dtype=np.float64)
    scale = roi_from_points(raw[0], raw[1]).side
    filtered = smoother(raw, time, scale)
    return roi_from_points(filtered[0], filtered[1])


@dataclass
class _State:
    """What tracking carries from one processed frame to the next."""

    last: int = -2
    roi: Roi | None = None
    xy: NDArray[np.float64] | None = None  # the last processed frame's 39 landmarks, unfiltered
    smoother: OneEuroPoints = field(default_factory=OneEuroPoints)


class FrameReader(Protocol):
    """The little of a video reader the estimator needs (``annotator.video`` readers fit)."""

    @property
    def frame_count(self) -> int: ...
    @property
    def fps(self) -> float: ...
    def frame(self, i: int) -> NDArray[np.uint8]: ...


class BlazePose:
    """BlazePose full on LiteRT. ``threads``: interpreter threads (1 is the reference);
    ``carry``: moves points along the video's motion (``carry.Carry``), None to run the
    detector on every key frame that tracking cannot reach."""

    name = "blazepose"
    landmark_names = LANDMARK_NAMES

    def __init__(
        self, threads: int = 1, refine_passes: int = 1, carry: Carry | None = None
    ) -> None:
        self.threads = threads
        self.refine_passes = refine_passes
        self.carry = carry
        self._detector: LiteModel | None = None
        self._landmarker: LiteModel | None = None
        self.detector_calls = 0
        self.landmark_calls = 0

    # -- the two models ---------------------------------------------------------------
    def detect(self, image: NDArray[np.uint8]) -> det.Detection | None:
        """The most confident person in ``image`` (RGB uint8), in frame pixels, or None."""
        if self._detector is None:
            self._detector = LiteModel(checked_model(DETECTOR), self.threads)
        tensor, box = det.letterbox(image)
        raw_boxes, raw_scores = self._detector.run(tensor[None])[:2]
        self.detector_calls += 1
        found = det.weighted_nms(*det.decode(raw_boxes, raw_scores))
        return det.detection_to_frame(found[0], box) if found else None

    def landmarks(
        self, image: NDArray[np.uint8], roi: Roi
    ) -> tuple[lm.CropLandmarks, NDArray[np.float64]]:
        """The 39 landmarks in ``roi`` of ``image``: in the crop, and (39, 2) in frame pixels."""
        if self._landmarker is None:
            self._landmarker = LiteModel(checked_model(LANDMARKER), self.threads)
        crop = warp(image, roi, lm.INPUT_SIZE)
        tensor = (crop.astype(np.float32) / 255.0)[None]
        raw, flag, _segmentation, heatmap = self._landmarker.run(tensor)[:4]
        self.landmark_calls += 1
        found = lm.decode(raw[0], float(np.asarray(flag).reshape(-1)[0]), heatmap[0])
        return found, to_frame(found.xy, roi)

    # -- one frame ----------------------------------------------------------------------
    def _from_detection(
        self, image: NDArray[np.uint8], isolated: bool
    ) -> tuple[lm.CropLandmarks, NDArray[np.float64], Roi] | None:
        found = self.detect(image)
        if found is None:
            return None
        roi = det.roi_from_detection(found)
        crop_lms, xy = self.landmarks(image, roi)
        # A frame that the tracker continues from needs no second pass: the next frame's ROI
        # comes from these landmarks anyway (and MediaPipe does not re-run it).
        for _ in range(self.refine_passes if isolated else 0):
            if crop_lms.pose_flag < POSE_FLAG_THRESHOLD:
                break
            roi = roi_from_points(xy[lm.AUX[0]], xy[lm.AUX[1]])
            crop_lms, xy = self.landmarks(image, roi)
        return crop_lms, xy, roi

    def _carried(
        self, state: _State, index: int, image: NDArray[np.uint8], isolated: bool
    ) -> tuple[lm.CropLandmarks, NDArray[np.float64], Roi] | None:
        """The landmarks in the ROI carried from the last processed frame, or None."""
        if self.carry is None or state.xy is None or index <= state.last + 1:
            return None
        roi = carried_roi(state.xy, self.carry(state.last, index, carried_points(state.xy)))
        if roi is None:
            return None
        crop_lms, xy = self.landmarks(image, roi)
        if crop_lms.pose_flag < POSE_FLAG_THRESHOLD:
            return None
        found = roi_from_points(xy[lm.AUX[0]], xy[lm.AUX[1]])
        if isolated and self.refine_passes > 0 and not roi_agrees(roi, found):
            again, xy_again = self.landmarks(image, found)
            if again.pose_flag >= POSE_FLAG_THRESHOLD:
                return again, xy_again, found
        return crop_lms, xy, roi

    def _step(
        self, state: _State, index: int, image: NDArray[np.uint8], fps: float, isolated: bool
    ) -> tuple[lm.CropLandmarks, NDArray[np.float64], Roi, bool, bool] | None:
        result: tuple[lm.CropLandmarks, NDArray[np.float64], Roi] | None = None
        detected = carried = False
        if state.roi is not None and index == state.last + 1:
            crop_lms, xy = self.landmarks(image, state.roi)
            if crop_lms.pose_flag >= POSE_FLAG_THRESHOLD:
                result = (crop_lms, xy, state.roi)
        if result is None:
            state.smoother.reset()
            result = self._carried(state, index, image, isolated)
            carried = result is not None
        if result is None:
            detected = True
            result = self._from_detection(image, isolated)
        state.last = index
        if result is None or result[0].pose_flag < POSE_FLAG_THRESHOLD:
            state.roi = state.xy = None
            return None
        crop_lms, xy, roi = result
        state.xy = xy
        state.roi = next_roi(state.smoother, xy[list(lm.AUX)], index / fps)
        return crop_lms, xy, roi, detected, carried

    # -- a video ------------------------------------------------------------------------
    def run(
        self,
        video: FrameReader,
        frames: Sequence[int] | NDArray[np.integer] | None = None,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
    ) -> Estimates:
        """Estimate the pose on ``frames`` (default: every frame) of ``video``."""
        start = time.perf_counter()
        calls = (self.detector_calls, self.landmark_calls)
        count = int(video.frame_count)
        todo = np.arange(count) if frames is None else np.unique(np.asarray(frames, np.int64))
        if todo.size and (todo[0] < 0 or todo[-1] >= count):
            raise ValueError(f"frames must lie in 0..{count - 1}")
        fps = float(video.fps) if video.fps and video.fps > 0 else 30.0
        k = todo.size
        n = len(LANDMARK_NAMES)
        xy = np.full((k, n, 2), np.nan)
        z = np.full((k, n), np.nan)
        vis = np.zeros((k, n))
        pres = np.zeros((k, n))
        flag = np.zeros(k)
        rois = np.full((k, 4), np.nan)
        detected = np.zeros(k, dtype=bool)
        carried = np.zeros(k, dtype=bool)
        state = _State()
        width = height = 0
        for row, index in enumerate(todo):
            check_stop(should_stop, "pose estimation")
            image = video.frame(int(index))
            height, width = image.shape[:2]
            isolated = row + 1 >= k or todo[row + 1] != index + 1
            found = self._step(state, int(index), image, fps, isolated)
            if found is not None:
                crop_lms, pts, roi, detected[row], carried[row] = found
                xy[row] = pts[:n]
                z[row] = crop_lms.z[:n] * roi.side
                vis[row] = crop_lms.visibility[:n]
                pres[row] = crop_lms.presence[:n]
                flag[row] = crop_lms.pose_flag
                rois[row] = roi.as_array()
            report(progress, row + 1, k)
        return Estimates(
            frames=todo,
            xy=xy,
            z=z,
            visibility=vis,
            presence=pres,
            pose_flag=flag,
            roi=rois,
            detected=detected,
            width=int(width),
            height=int(height),
            detector_calls=self.detector_calls - calls[0],
            landmark_calls=self.landmark_calls - calls[1],
            seconds=time.perf_counter() - start,
            carried=carried,
        )
