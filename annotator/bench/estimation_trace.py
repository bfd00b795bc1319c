"""``annotator bench estimation --roi-trace CLIP``: where our every-frame run parts from the
golden reference, frame by frame.

The reference (``DATA/realgt/CLIP.npz``) stores, per frame, the ROI its landmarks came from
(``roi``) and the unfiltered auxiliary landmarks that its tracker turned into the next ROI
(``aux_xy``). That splits each tracking step in two, and the trace checks each half alone:

- *replay*: the ROI arithmetic. The reference's own auxiliary landmarks of frame t - 1 through
  our one-euro filter and ROI geometry (``blazepose.next_roi``) against the reference's ROI of
  frame t, as the largest difference relative to max(|value|, 1).
- *model*: the landmark stage. Our landmarks in the reference's ROI of frame t against the
  reference's auxiliary landmarks of that frame (px).
- *tracked*: both together, our every-frame run's ROI (centre, side in px, rotation in rad)
  and the median distance of its 33 landmarks against the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from annotator.estimation import landmarks as lm
from annotator.estimation.blazepose import BlazePose, next_roi
from annotator.estimation.filters import OneEuroPoints
from annotator.estimation.roi import Roi
from annotator.video import open_video


@dataclass(frozen=True)
class RoiTrace:
    """Per frame (F,): ``centre_px``, ``side_px``, ``rotation_rad`` (|ours - reference| of the
    tracked ROI), ``landmarks_px`` (median over the 33 landmarks), ``replay_rel`` (NaN where
    the reference re-ran its detector), ``model_aux_px`` (largest coordinate difference)."""

    centre_px: NDArray[np.float64]
    side_px: NDArray[np.float64]
    rotation_rad: NDArray[np.float64]
    landmarks_px: NDArray[np.float64]
    replay_rel: NDArray[np.float64]
    model_aux_px: NDArray[np.float64]


def replay_rois(
    aux_xy: NDArray[np.floating], redetected: NDArray[np.bool_], fps: float
) -> NDArray[np.float64]:
    """ROIs (F, 4) that our tracking step makes from the reference's auxiliary landmarks
    ``aux_xy`` (F, 2, 2): row t from frames 0..t-1 (row 0 and rows where the reference
    re-ran its detector are NaN, the filter restarting there as in ``BlazePose``)."""
    aux = np.asarray(aux_xy, dtype=np.float64)
    out = np.full((aux.shape[0], 4), np.nan)
    smoother = OneEuroPoints()
    for t in range(aux.shape[0] - 1):
        if redetected[t]:
            smoother.reset()
        roi = next_roi(smoother, aux[t], t / fps)
        if not redetected[t + 1]:
            out[t + 1] = roi.as_array()
    return out


def relative_difference(
    ours: NDArray[np.floating], ref: NDArray[np.floating]
) -> NDArray[np.float64]:
    """Per row, the largest |ours - ref| / max(|ref|, 1) over the columns."""
    a, b = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    return np.asarray(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0), axis=-1))


def roi_trace(video: Path, ref_path: Path, threads: int = 1) -> RoiTrace:
    """The trace of ``video`` against its reference ``ref_path`` (see the module docstring)."""
    ref = np.load(ref_path)
    ref_roi = np.asarray(ref["roi"], np.float64)
    ref_xy = np.asarray(ref["xy"], np.float64)
    replay = replay_rois(ref["aux_xy"], np.asarray(ref["redetected"], bool), float(ref["fps"]))
    estimator = BlazePose(threads=threads)
    reader = open_video(video, build_index=False)
    try:
        ours = estimator.run(reader)
        model = np.full(ref_roi.shape[0], np.nan)
        for t, row in enumerate(ref_roi):
            pts = estimator.landmarks(reader.frame(t), Roi(*map(float, row)))[1]
            model[t] = np.abs(pts[list(lm.AUX)] - ref["aux_xy"][t]).max()
    finally:
        reader.close()
    diff = np.abs(ours.roi - ref_roi)
    return RoiTrace(
        centre_px=diff[:, :2].max(axis=1),
        side_px=diff[:, 2],
        rotation_rad=diff[:, 3],
        landmarks_px=np.median(np.linalg.norm(ours.xy - ref_xy, axis=-1), axis=1),
        replay_rel=relative_difference(replay, ref_roi),
        model_aux_px=model,
    )


def print_roi_trace(clip: str, trace: RoiTrace) -> None:
    print(f"\nROI trace, {clip}: our every-frame run against realgt/{clip}.npz")
    print(f"{'':>5} {'tracked (ours vs reference)':^40}  {'replay':>9}  {'model':>9}")
    print(
        f"{'frame':>5} {'centre px':>10} {'side px':>10} {'rot rad':>9} {'lmk px':>9}  "
        f"{'ROI rel':>9}  {'aux px':>9}"
    )
    for t in range(trace.centre_px.size):
        print(
            f"{t:>5} {trace.centre_px[t]:>10.2e} {trace.side_px[t]:>10.2e} "
            f"{trace.rotation_rad[t]:>9.1e} {trace.landmarks_px[t]:>9.3f}  "
            f"{trace.replay_rel[t]:>9.1e}  {trace.model_aux_px[t]:>9.1e}"
        )
    for limit in (1e-2, 1.0):
        over = np.flatnonzero(trace.centre_px > limit)
        first = str(over[0]) if over.size else "never"
        print(f"first frame whose tracked ROI centre is off by more than {limit:g} px: {first}")
    replay = trace.replay_rel[np.isfinite(trace.replay_rel)]
    if replay.size:
        print(f"replay (ROI arithmetic alone): largest relative difference {replay.max():.1e}")
    print(
        "model (landmark stage alone, in the reference's ROI): auxiliary landmarks off by "
        f"{np.median(trace.model_aux_px):.1e} px median, {trace.model_aux_px.max():.1e} px worst"
    )
