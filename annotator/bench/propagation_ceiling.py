"""``annotator bench propagation --sections ceiling``: how far a smooth track can agree with
the per-frame reference of a real clip.

The real clips' references (``realgt/``) are an estimator's per-frame output, not smooth
motion: where it jumps between consecutive frames, no smooth fill, however good its motion
signal, follows it. This section measures that ceiling, per joint group, with PCK@0.05 against
the raw reference (the fill benchmark's measure):

- **smoothed w**: the reference itself averaged over a centred window of ``w`` frames (per
  joint, over the frames where it has a position), scored on every visible frame;
- **anchored w at B**: the best a smooth fill through the key frames of ``uniform:B`` could do
  knowing the true path between them: the smoothed reference, shifted on each gap by the
  straight line that takes it exactly through both key frames (key frames exact), scored on
  the other frames, as the fills are;
- the ``hpim+mv`` fill at the same key frames, per group, for comparison.

With ``w = 1`` the anchored track is the reference itself (100 %); a known smooth path keeps
100 % under any small window; a jittered one loses what its jitter exceeds (tests check both).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.metrics import pck

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

WINDOWS = (3, 5)
ALPHA = 0.05
# Penn Action layout (the realgt files): head, L/R shoulder, elbow, wrist, hip, knee, ankle
GROUPS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("head", (0,)),
    ("shoulders", (1, 2)),
    ("elbows", (3, 4)),
    ("wrists", (5, 6)),
    ("hips", (7, 8)),
    ("knees", (9, 10)),
    ("ankles", (11, 12)),
)


def smoothed(xy: FloatArray, window: int) -> FloatArray:
    """(F, J, 2) ``xy`` averaged over a centred window of ``window`` frames (odd), per joint,
    over the frames of the window where the joint has a position (narrower at the ends);
    frames without a position stay NaN."""
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be odd and positive, not {window}")
    xy = np.asarray(xy, dtype=np.float64)
    have: BoolArray = np.asarray(np.isfinite(xy).all(axis=2), dtype=bool)
    vals = np.where(have[..., None], xy, 0.0)
    half = window // 2
    f = len(xy)
    # running sums over frames: window sums in one subtraction
    csum = np.concatenate([np.zeros((1, *vals.shape[1:])), np.cumsum(vals, axis=0)])
    ccount = np.concatenate([np.zeros((1, have.shape[1])), np.cumsum(have, axis=0)])
    lo = np.clip(np.arange(f) - half, 0, f)
    hi = np.clip(np.arange(f) + half + 1, 0, f)
    total = csum[hi] - csum[lo]
    count = ccount[hi] - ccount[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / count[..., None]
    return np.asarray(np.where(have[..., None], out, np.nan), dtype=np.float64)


def anchored(xy: FloatArray, keep: Sequence[int] | NDArray[np.int64], window: int) -> FloatArray:
    """The smoothed reference (:func:`smoothed`) taken exactly through ``xy`` on the key
    frames ``keep``: per joint, its misses on the key frames where it has a position are
    interpolated linearly between them (held beyond the first and last) and added."""
    xy = np.asarray(xy, dtype=np.float64)
    smooth = smoothed(xy, window)
    out = smooth.copy()
    frames = np.arange(len(xy))
    keys = np.asarray(sorted(set(int(k) for k in keep)), dtype=np.int64)
    for j in range(xy.shape[1]):
        at = keys[np.asarray(np.isfinite(xy[keys, j]).all(axis=1), dtype=bool)]
        if len(at) == 0:
            continue
        miss = xy[at, j] - smooth[at, j]
        for c in range(2):
            out[:, j, c] += np.interp(frames, at, miss[:, c])
    return np.asarray(out, dtype=np.float64)


def group_pck(pred: FloatArray, gt: FloatArray, scored: BoolArray, body: FloatArray) -> list[float]:
    """PCK@0.05 in % over all joints, then per joint group of ``GROUPS``."""
    out = [100 * pck(pred, gt, scored, body, ALPHA)]
    for _, joints in GROUPS:
        mask = np.zeros_like(scored)
        mask[:, list(joints)] = scored[:, list(joints)]
        out.append(100 * pck(pred, gt, mask, body, ALPHA))
    return out


def ceiling_rows(
    gt: FloatArray,
    visible: BoolArray,
    body: FloatArray,
    keep: NDArray[np.int64],
    windows: Sequence[int] = WINDOWS,
) -> list[tuple[str, list[float]]]:
    """The table's rows for one clip and one key-frame set: (label, PCK per group)."""
    scored = visible.copy()
    scored[keep] = False
    rows = [(f"smoothed {w}", group_pck(smoothed(gt, w), gt, visible, body)) for w in windows]
    rows += [(f"anchored {w}", group_pck(anchored(gt, keep, w), gt, scored, body)) for w in windows]
    return rows


def ceiling_section(
    data: Path,
    budget: str = "0.1",
    field: Any = "dis",
    cell: int = 8,
    refine: Sequence[str] = (),
) -> None:
    """Per real clip: the smoothed and anchored reference and the ``hpim+mv`` fill at
    ``uniform:budget``, PCK@0.05 per joint group."""
    from annotator.bench.propagation import _fill_fn, labels_at, reference_clips
    from annotator.core.codes import Visibility
    from annotator.core.metrics import body_size
    from annotator.video.motion import extract_motion

    print("\nCeiling: smooth tracks against the per-frame reference (PCK@0.05 in %; key")
    print(f"frames uniform:{budget}; smoothed: all visible frames, anchored and the fill: the")
    print(f"other frames; hpim+mv walks {field} at {cell} px cells)\n")
    head = " | ".join(["all"] + [name for name, _ in GROUPS])
    print(f"| clip | track | {head} |")
    print("|---" * (3 + len(GROUPS)) + "|")
    for name, video, ps in reference_clips(data):
        inst = ps.instances[0]
        ref = np.asarray(inst.poses, dtype=np.float64)
        gt = ref[:, :, :2]
        vis = ref[:, :, 2] == Visibility.VISIBLE
        body = body_size(gt, boxes=inst.boxes)
        keep, man, scored = labels_at(ps, vis, budget)
        rows = ceiling_rows(gt, vis, body, keep)
        fields = extract_motion(video, field=field, cell=cell)
        fused = _fill_fn("hpim+mv", fields, ps.fps)(man).poses[:, :, :2].astype(np.float64)
        rows.append(("hpim+mv", group_pck(fused, gt, scored, body)))
        if refine:
            from annotator.bench.propagation import REFINED
            from annotator.propagation.lk import decode_luma

            luma = decode_luma(video)
            for how in refine:
                fn = _fill_fn(REFINED + how, fields, ps.fps, luma=luma)
                lk = fn(man).poses[:, :, :2].astype(np.float64)
                rows.append((REFINED + how, group_pck(lk, gt, scored, body)))
        for label, values in rows:
            print(f"| {name} | {label} | " + " | ".join(f"{v:.1f}" for v in values) + " |")
