"""``annotator bench propagation --sections render-groups``: where the fills miss on the
rendered validation clips.

The renders have exact ground truth, so every miss can be placed. For uniform key frames at
5/10/20 % and the fills ``mv`` (the walk alone), ``hpim`` and ``hpim+mv``, PCK@0.05 over the
visible joints of all frames (protocol A, as the render section counts it), split two ways:

- per joint group (``GROUPS`` of the ceiling section);
- by what the renderer knows about each scored joint: its group again (with the points each
  costs); its distance in frames to the nearest key frame; its speed (the ground truth's
  centred step, in % of body size per frame), in the picture and against the torso's centre
  (the mean of shoulders and hips: a limb's own swing, not the camera's or the body's drift);
  whether the joint is hidden (``occluded`` in the ground truth) on a key frame of its gap, only
  between them, or nowhere in the gap; and, for limb joints (elbows, wrists, knees, ankles),
  whether it lies over the torso (inside the shoulders-hips quadrilateral) or off it.

Each split's row gives the share of scored joints in it, and per fill the PCK inside it and
the points it costs the whole (its misses over all scored joints, in %): a partition's points
add up to 100 minus the overall PCK.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.bench.propagation_ceiling import ALPHA, GROUPS, group_pck
from annotator.core.codes import Visibility

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

BUDGETS = (0.05, 0.1, 0.2)
FILLS = ("mv", "hpim", "hpim+mv")
# Penn Action layout: the torso quadrilateral in order (L shoulder, R shoulder, R hip, L hip)
TORSO = (1, 2, 8, 7)
LIMBS = (3, 4, 5, 6, 9, 10, 11, 12)
DISTANCE_BINS = ((0, 0, "0 (key frame)"), (1, 2, "1-2"), (3, 5, "3-5"), (6, 10**9, "6+"))
SPEED_EDGES = (1.0, 3.0)  # % of body size per frame

Split = tuple[str, list[tuple[str, BoolArray]]]


def gap_ends(frames: int, keep: Sequence[int] | IntArray) -> tuple[IntArray, IntArray]:
    """Per frame: the key frame at or before it and the one at or after it (the first and
    last key frame beyond the ends)."""
    keys = np.asarray(sorted(set(int(k) for k in keep)), dtype=np.int64)
    t = np.arange(frames)
    after = np.clip(np.searchsorted(keys, t, side="left"), 0, len(keys) - 1)
    before = np.clip(np.searchsorted(keys, t, side="right") - 1, 0, len(keys) - 1)
    return keys[before], keys[after]


def speed_pct(gt_xy: FloatArray, body: FloatArray) -> FloatArray:
    """(F, J) the joint's centred step per frame (one-sided at the ends and next to a frame
    without a position) in % of the frame's body size; NaN where neither side has one."""
    xy = np.asarray(gt_xy, dtype=np.float64)
    step = np.full(xy.shape[:2], np.nan)
    if len(xy) < 2:
        return step
    d = np.linalg.norm(np.diff(xy, axis=0), axis=2)  # (F-1, J): step t -> t+1
    fwd = np.vstack([d, np.full((1, d.shape[1]), np.nan)])
    back = np.vstack([np.full((1, d.shape[1]), np.nan), d])
    with np.errstate(invalid="ignore"):
        both = np.isfinite(fwd) & np.isfinite(back)
        step = np.where(both, (fwd + back) / 2, np.where(np.isfinite(fwd), fwd, back))
        return np.asarray(100 * step / np.asarray(body, dtype=np.float64)[:, None])


def over_torso(gt_xy: FloatArray) -> BoolArray:
    """(F, J) the joint lies inside the torso quadrilateral (``TORSO``; even-odd rule, so a
    twisted quadrilateral counts its two triangles); False where anything is missing."""
    xy = np.asarray(gt_xy, dtype=np.float64)
    quad = xy[:, list(TORSO)]  # (F, 4, 2)
    px, py = xy[:, :, 0], xy[:, :, 1]
    inside = np.zeros(xy.shape[:2], dtype=bool)
    for k in range(4):
        a, b = quad[:, k], quad[:, (k + 1) % 4]
        ax, ay, bx, by = (v[:, None] for v in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
        with np.errstate(invalid="ignore", divide="ignore"):
            crosses = (ay > py) != (by > py)
            x_at = ax + (py - ay) * (bx - ax) / (by - ay)
            inside ^= crosses & (px < x_at)
    quad_known = np.asarray(np.isfinite(quad).all(axis=(1, 2)), dtype=bool)
    known = quad_known[:, None] & np.isfinite(xy).all(axis=2)
    return np.asarray(inside & known, dtype=bool)


def split_masks(
    codes: NDArray[Any], gt_xy: FloatArray, body: FloatArray, keep: Sequence[int] | IntArray
) -> list[Split]:
    """The splits of one clip's (F, J) joints: (title, [(label, mask)]); ``codes`` is the
    ground truth's visibility code per joint and frame."""
    f, j = codes.shape
    before, after = gap_ends(f, keep)
    t = np.arange(f)
    dist = np.minimum(t - before, after - t)[:, None].repeat(j, axis=1)
    distance = [(label, (dist >= lo) & (dist <= hi)) for lo, hi, label in DISTANCE_BINS]

    speed = speed_pct(gt_xy, body)
    lo, hi = SPEED_EDGES
    with np.errstate(invalid="ignore"):
        speeds = [
            (f"< {lo:g}", speed < lo),
            (f"{lo:g}-{hi:g}", (speed >= lo) & (speed < hi)),
            (f">= {hi:g}", speed >= hi),
        ]

    centre = np.mean(np.asarray(gt_xy, dtype=np.float64)[:, list(TORSO)], axis=1)
    relative = speed_pct(np.asarray(gt_xy, dtype=np.float64) - centre[:, None], body)
    with np.errstate(invalid="ignore"):
        swings = [
            (f"< {lo:g}", relative < lo),
            (f"{lo:g}-{hi:g}", (relative >= lo) & (relative < hi)),
            (f">= {hi:g}", relative >= hi),
            ("no torso (a shoulder or hip absent)", ~np.isfinite(relative)),
        ]

    hidden = np.asarray(codes == Visibility.OCCLUDED, dtype=bool)
    at_key = hidden[before] | hidden[after]
    # hidden on some frame strictly between the gap's key frames: running counts per joint
    count = np.vstack([np.zeros((1, j), dtype=np.int64), np.cumsum(hidden, axis=0)])
    inner = (count[after] - count[np.minimum(before + 1, f)]) > 0
    occlusion = [
        ("hidden at a key frame of the gap", at_key),
        ("hidden only inside the gap", inner & ~at_key),
        ("seen through the gap", ~inner & ~at_key),
    ]

    limb = np.zeros((f, j), dtype=bool)
    limb[:, list(LIMBS)] = True
    torso = over_torso(gt_xy)
    torso_split = [("limb over the torso", limb & torso), ("limb off the torso", limb & ~torso)]
    groups = []
    for name, joints in GROUPS:
        mask = np.zeros((f, j), dtype=bool)
        mask[:, list(joints)] = True
        groups.append((name, mask))
    return [
        ("joint group", groups),
        ("frames to the nearest key frame", distance),
        ("speed, % of body per frame", speeds),
        ("speed against the torso's centre", swings),
        ("occlusion of the joint", occlusion),
        ("limb joints and the torso", torso_split),
    ]


def hits(pred: FloatArray, gt: FloatArray, body: FloatArray) -> BoolArray:
    """(F, J) the prediction is within ``ALPHA`` x body size (False where it has none)."""
    err = np.linalg.norm(np.asarray(pred) - np.asarray(gt), axis=2)
    with np.errstate(invalid="ignore"):
        return np.asarray(err <= ALPHA * np.asarray(body)[:, None], dtype=bool)


def split_scores(hit: BoolArray, scored: BoolArray, mask: BoolArray) -> tuple[float, float, float]:
    """(share of scored joints in ``mask``, PCK inside it, points it costs), all in %."""
    total = int(scored.sum())
    inside = scored & mask
    n = int(inside.sum())
    if total == 0:
        return float("nan"), float("nan"), float("nan")
    missed = int((inside & ~hit).sum())
    pck_in = 100 * (n - missed) / n if n else float("nan")
    return 100 * n / total, pck_in, 100 * missed / total


def _fmt(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v:.1f}"


def render_groups_section(
    data: Path, folder: Path | None, field: Any = "mv", cell: int = 8
) -> None:
    """Print the per-group and per-situation tables for each budget of ``BUDGETS``."""
    from annotator.bench.efficiency_data import load_set
    from annotator.bench.efficiency_oneshot import budget_for
    from annotator.bench.propagation import _fill_fn, render_folder
    from annotator.core.framespec import uniform_frames
    from annotator.video.motion import extract_motion

    folder = render_folder(data, folder)
    clips = load_set(folder)
    fields = {c.name: extract_motion(c.video, field=field, cell=cell) for c in clips}
    print(f"\nRendered clips, where the fills miss: field {field} ({cell} px cells), protocol A")
    print(f"(PCK@0.05 in %, visible joints of all frames), {len(clips)} clips ({folder})")
    for budget in BUDGETS:
        gt = np.concatenate([c.gt_xy for c in clips])
        vis = np.concatenate([c.visible for c in clips])
        body = np.concatenate([c.body for c in clips])
        keeps = [uniform_frames(c.frame_count, budget_for(c.frame_count, budget)) for c in clips]
        per_clip = [
            split_masks(c.poses[:, :, 2], c.gt_xy, c.body, k)
            for c, k in zip(clips, keeps, strict=True)
        ]
        splits: list[Split] = [
            (
                title,
                [
                    (label, np.concatenate([pc[s][1][b][1] for pc in per_clip]))
                    for b, (label, _) in enumerate(bins)
                ],
            )
            for s, (title, bins) in enumerate(per_clip[0])
        ]
        preds = {}
        for method in FILLS:
            parts = []
            for clip, keep in zip(clips, keeps, strict=True):
                fill = _fill_fn(method, fields[clip.name], clip.fps, clip.cuts)
                parts.append(np.asarray(fill(clip.manual(keep)).poses[:, :, :2], np.float64))
            preds[method] = np.concatenate(parts)
        print(f"\nLabels at {budget * 100:g} %, per joint group\n")
        print("| fill | all | " + " | ".join(name for name, _ in GROUPS) + " |")
        print("|---" * (2 + len(GROUPS)) + "|")
        for method in FILLS:
            row = group_pck(preds[method], gt, vis, body)
            print(f"| {method} | " + " | ".join(_fmt(v) for v in row) + " |")
        print(f"\nLabels at {budget * 100:g} %, by situation: share of scored joints; per fill")
        print("PCK inside / points of the whole it costs\n")
        print("| split | share | " + " | ".join(FILLS) + " |")
        print("|---" * (2 + len(FILLS)) + "|")
        hit = {m: hits(p, gt, body) for m, p in preds.items()}
        for title, bins in splits:
            for label, mask in bins:
                cells = []
                share = float("nan")
                for method in FILLS:
                    share, inside, cost = split_scores(hit[method], vis, mask)
                    cells.append(f"{_fmt(inside)} / {_fmt(cost)}")
                print(f"| {title}: {label} | {_fmt(share)} | " + " | ".join(cells) + " |")
