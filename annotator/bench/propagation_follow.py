"""``annotator bench propagation --sections follow``: do the video fills follow a limb that
swings away from its label, or stay near the label?

Where a fill misses a fast limb, two different failures look alike in PCK: the walk may
*follow* the swing and scatter around it (a noisy field), or *stay* near the label while the
limb moves away (a field that does not see the motion at all: small, blurred, fast parts).
They call for different fixes (smoothing and better weights, against another source of
motion such as a pose estimator), so this section tells them apart.

For each scored limb joint (elbows and wrists: not a key frame, visible in the reference)
the *swing* is the reference's displacement from the joint's label on the nearest key frame.
Joints whose swing exceeds ``SWING`` of the body size are the ones where following matters.
For those, the fill's own displacement from the same label is projected on the swing:

    coverage = <fill − label, reference − label> / |reference − label|²

1 means the fill moved as far as the limb, 0 that it stayed at the label (a held value has
coverage 0), 0.5 half way. The table gives, per fill, the share of swung joints and PCK@0.05
among them, the median coverage, and the shares that stayed (coverage < 0.25) or followed
(0.75 to 1.25), among all swung joints and among the misses alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

SWING = 0.05  # share of the body size: the PCK threshold, so a held value would miss
STAYED = 0.25  # coverage below which the fill counts as having stayed at the label
FOLLOWED = (0.75, 1.25)  # coverage within which it counts as having followed
LIMBS = (3, 4, 5, 6)  # Penn Action: elbows and wrists
FILLS = ("linear", "mv", "hpim+mv")


@dataclass(frozen=True)
class Follow:
    """What one fill did on the swung limb joints of one clip (see the module docstring)."""

    swung_share: float  # of the scored limb joints, in %
    pck: float  # among the swung joints, in %
    coverage: float  # median
    stayed: float  # % of the swung joints
    followed: float  # % of the swung joints
    miss_coverage: float  # median among the misses (NaN without a miss)
    miss_stayed: float  # % of the misses
    miss_followed: float  # % of the misses


def nearest_key(frames: int, keep: Sequence[int] | NDArray[np.int64]) -> NDArray[np.int64]:
    """For each frame, the nearest of the sorted key frames ``keep`` (the earlier on a tie)."""
    keys = np.asarray(sorted(int(k) for k in keep), dtype=np.int64)
    t = np.arange(frames)
    after = np.clip(np.searchsorted(keys, t), 0, len(keys) - 1)
    before = np.clip(after - 1, 0, len(keys) - 1)
    pick_before = np.abs(t - keys[before]) <= np.abs(keys[after] - t)
    return np.where(pick_before, keys[before], keys[after])


def follow(
    fill: FloatArray,
    ref: FloatArray,
    scored: BoolArray,
    body: FloatArray,
    keep: Sequence[int] | NDArray[np.int64],
    joints: Sequence[int] = LIMBS,
    swing: float = SWING,
) -> Follow:
    """``fill`` and ``ref`` (F, J, 2) px; ``scored`` (F, J) the joints to score (not key
    frames); ``body`` (F,) body size px; ``keep`` the key frames, where ``ref`` is the label."""
    js = list(joints)
    label = ref[nearest_key(len(ref), keep)][:, js]  # (F, j, 2)
    away = ref[:, js] - label
    moved = fill[:, js] - label
    size = np.asarray(body, dtype=np.float64)[:, None]
    reach = np.linalg.norm(away, axis=2)
    ok = scored[:, js] & np.isfinite(reach) & np.isfinite(moved).all(axis=2)
    swung = ok & (reach > swing * size)
    if not swung.any():
        nan = float("nan")
        return Follow(0.0, nan, nan, nan, nan, nan, nan, nan)
    cover = (moved * away).sum(axis=2)[swung] / reach[swung] ** 2
    error = np.linalg.norm(fill[:, js] - ref[:, js], axis=2)[swung]
    miss = error > swing * np.broadcast_to(size, reach.shape)[swung]

    def shares(c: FloatArray) -> tuple[float, float, float]:
        if not len(c):
            return float("nan"), float("nan"), float("nan")
        within = (c >= FOLLOWED[0]) & (c <= FOLLOWED[1])
        return float(np.median(c)), 100 * float((c < STAYED).mean()), 100 * float(within.mean())

    all_median, all_stayed, all_followed = shares(cover)
    miss_median, miss_stayed, miss_followed = shares(cover[miss])
    return Follow(
        swung_share=100 * float(swung.sum()) / max(1, int(ok.sum())),
        pck=100 * float((~miss).mean()),
        coverage=all_median,
        stayed=all_stayed,
        followed=all_followed,
        miss_coverage=miss_median,
        miss_stayed=miss_stayed,
        miss_followed=miss_followed,
    )


def follow_section(data: Path, budget: str, fields: Sequence[Any], cell: int = 8) -> None:
    """Per real clip and motion field: ``linear``, ``mv`` and ``hpim+mv`` at ``uniform:budget``."""
    from annotator.bench.propagation import _fill_fn, labels_at, reference_clips
    from annotator.core.codes import Visibility
    from annotator.core.metrics import body_size
    from annotator.video.motion import extract_motion

    print(f"\nFollow: limb joints (elbows, wrists) that swung more than {100 * SWING:g} % of the")
    print(f"body from their label on the nearest key frame (uniform:{budget}); coverage = how")
    print("far along that swing the fill moved (1 followed, 0 stayed at the label); stayed <")
    print(f"{STAYED:g}, followed {FOLLOWED[0]:g}-{FOLLOWED[1]:g}; shares in %\n")
    print(
        "| clip | field | fill | swung | PCK swung | coverage | stayed | followed "
        "| misses: coverage | stayed | followed |"
    )
    print("|---" * 11 + "|")
    for name, video, ps in reference_clips(data):
        inst = ps.instances[0]
        raw = np.asarray(inst.poses, dtype=np.float64)
        ref = raw[:, :, :2]
        body = body_size(ref, boxes=inst.boxes)
        keep, man, scored = labels_at(ps, raw[:, :, 2] == Visibility.VISIBLE, budget)
        for field in fields:
            motion = extract_motion(video, field=field, cell=cell)
            for method in FILLS:
                if method == "linear" and field != fields[0]:
                    continue  # the straight line does not read the field
                xy = _fill_fn(method, motion, ps.fps)(man).poses[:, :, :2].astype(np.float64)
                f = follow(xy, ref, scored, body, keep)
                shown = "—" if method == "linear" else field
                cells = [f.swung_share, f.pck, f.coverage, f.stayed, f.followed]
                cells += [f.miss_coverage, f.miss_stayed, f.miss_followed]
                text = [_cell(v, 2 if k in (2, 5) else 1) for k, v in enumerate(cells)]
                print(f"| {name} | {shown} | {method} | " + " | ".join(text) + " |")


def _cell(value: float, digits: int) -> str:
    """A table cell: ``—`` where there is nothing to count (no swing, no miss)."""
    return "—" if np.isnan(value) else f"{value:.{digits}f}"
