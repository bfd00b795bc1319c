"""Rendered validation videos: does BlazePose find the rendered bodies, and does prefill plus
correction save manual joint placements over labelling from scratch?

Per video (``annotator bench render`` output: ``NAME.mp4`` + ``NAME.npz`` with exact ground
truth), against the ground truth, Penn Action joints:

- *estimator, every frame*: PCK@0.05 of the estimator alone (visible joints). Where it is
  low, the estimator does not find the rendered body, and the rows below say little.
- *scratch*: the user places every joint with a position on the uniform key frames; the
  rest is filled. Placements = those joints.
- *prefill + correct*: the app's Prefill on the same key frames (``estimation.prefill``
  ``estimate_layer``, what Tools > Prefill runs); the user moves only the joints that are more
  than 0.05 × body size off (or missing) to their true place. Placements = the corrected
  joints. Two endings, both with the app's functions: *kept*, the other joints stay
  predicted: they anchor the fill where their joint has no correction on one side and are
  weighed by their confidence between corrections (``fill_inputs``, then ``combine``: what
  the session shows and exports); *accepted*, the user accepts each key
  frame (Accept makes its predicted joints manual) and the fill runs on labels alone.

All end with the same key-frame accuracy (every joint on a key frame within 0.05 × body
size); PCK is then measured on all frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.codes import Visibility
from annotator.core.framespec import uniform_count, uniform_frames
from annotator.core.metrics import body_size, normalized_errors, pck
from annotator.dynamics.fill import fill_track
from annotator.estimation.pipeline import estimate_track
from annotator.estimation.prefill import (
    combine,
    estimate_layer,
    fill_inputs,
    predicted_observations,
)
from annotator.video import open_video

ALPHA = 0.05


def renders_rows(
    folder: Path, count: int, budget: float, fill: str, threads: int
) -> list[dict[str, Any]]:
    rows = []
    for video in sorted(folder.glob("*.mp4"))[:count]:
        print(f"# render {video.name} ...", flush=True)
        rows.append(_one(video, budget, fill, threads))
    return rows


def _one(video: Path, budget: float, fill: str, threads: int) -> dict[str, Any]:
    truth = np.load(video.with_suffix(".npz"))
    gt = np.asarray(truth["poses"], dtype=np.float64)
    frames = gt.shape[0]
    codes = gt[..., 2]
    visible = codes == Visibility.VISIBLE
    placed = np.isin(codes, (Visibility.VISIBLE, Visibility.OCCLUDED))
    body = body_size(gt[..., :2], boxes=np.asarray(truth["boxes"])[0])
    fps = float(truth["fps"])
    keys = uniform_frames(frames, uniform_count(frames, budget))
    reader = open_video(video, build_index=False)
    try:
        every = estimate_track(reader, range(frames), fill=fill, threads=threads)
        rows, values, confidence, _ = estimate_layer(reader, keys.tolist(), "penn_action")
    finally:
        reader.close()

    scratch = np.full(gt.shape, np.nan)
    scratch[..., 2] = Visibility.UNLABELLED
    scratch[keys] = gt[keys]
    scratch_fill = fill_track(scratch, fill, fps=fps)

    # the document's predicted layer after Prefill
    pred = np.full(gt.shape, np.nan)
    pred[..., 2] = Visibility.UNLABELLED
    pred[rows] = values
    conf = np.full(gt.shape[:2], np.nan, dtype=np.float32)
    conf[rows] = confidence
    err = normalized_errors(pred[keys, :, :2], gt[keys, :, :2], placed[keys], body[keys])
    wrong = np.nan_to_num(err, nan=0.0) > ALPHA  # off by more than 5 %, or no position (inf)
    fix = np.zeros(gt.shape[:2], dtype=bool)
    fix[keys] = wrong
    # kept: the corrections are the manual labels, the rest stays predicted (the session)
    manual = np.full(gt.shape, np.nan)
    manual[..., 2] = Visibility.UNLABELLED
    manual[fix] = gt[fix]
    inputs = fill_inputs(manual, pred, predicted_observations(pred, conf), method=fill)
    weighed = fill_track(inputs.labels, fill, fps=fps, observations=inputs.observations)
    kept = combine(weighed, manual, pred, conf)
    # accepted: every key-frame joint manual, the corrected ones at their true place
    accepted = manual.copy()
    take = ~fix & (pred[..., 2] != Visibility.UNLABELLED)
    accepted[take] = pred[take]
    accepted_fill = fill_track(accepted, fill, fps=fps)

    def score(xy: np.ndarray) -> float:
        return pck(xy, gt[..., :2], visible, body, ALPHA)

    return {
        "video": video.stem,
        "frames": frames,
        "key_frames": len(keys),
        "pck_estimator": score(every.poses[..., :2]),
        "scratch_placements": int(placed[keys].sum()),
        "scratch_pck": score(scratch_fill.poses[..., :2]),
        "prefill_placements": int(fix.sum()),
        "prefill_pck": score(kept.poses[..., :2]),
        "accepted_pck": score(accepted_fill.poses[..., :2]),
    }


def print_renders(rows: list[dict[str, Any]], budget: float, fill: str) -> None:
    print(
        f"\nRendered validation videos, uniform key frames {budget:g}, fill {fill}: "
        f"PCK@{ALPHA} against ground truth; placements = joints placed by hand"
    )
    print(
        f"{'video':<8} {'frames':>6} {'keys':>5} {'est. PCK':>8} {'scratch n':>9} "
        f"{'PCK':>6} {'prefill n':>9} {'kept':>6} {'accept':>6}"
    )
    for r in rows:
        print(
            f"{r['video']:<8} {r['frames']:>6} {r['key_frames']:>5} {r['pck_estimator']:>8.3f} "
            f"{r['scratch_placements']:>9} {r['scratch_pck']:>6.3f} "
            f"{r['prefill_placements']:>9} {r['prefill_pck']:>6.3f} {r['accepted_pck']:>6.3f}"
        )
    if rows:
        tot_s = sum(r["scratch_placements"] for r in rows)
        tot_p = sum(r["prefill_placements"] for r in rows)
        print(
            f"{'all':<8} {sum(r['frames'] for r in rows):>6} "
            f"{sum(r['key_frames'] for r in rows):>5} "
            f"{np.mean([r['pck_estimator'] for r in rows]):>8.3f} {tot_s:>9} "
            f"{np.mean([r['scratch_pck'] for r in rows]):>6.3f} {tot_p:>9} "
            f"{np.mean([r['prefill_pck'] for r in rows]):>6.3f} "
            f"{np.mean([r['accepted_pck'] for r in rows]):>6.3f}"
        )
