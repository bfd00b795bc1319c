"""How much any frame picker could gain over uniform spacing (``bench gate --headroom``).

An oracle that sees the ground truth starts from the uniform key frames and moves each inner
one by up to ``reach`` frames (one greedy pass in frame order, each move kept when the filled
clip's PCK@0.05 rises). The gap between the two says how much there is to gain on these clips
with this fill by placing labels a little better than even spacing, which is what a gate or
K-FPN tries without the truth: a reference for reading the gate's table (not a bound on every
picker, and not a method).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from annotator.bench.efficiency_data import RenderedClip as Clip
from annotator.bench.efficiency_oneshot import budget_for
from annotator.core.framespec import uniform_frames

IntArray = NDArray[np.int64]
Scorer = Callable[[Clip, IntArray], tuple[int, int]]


def nudged_uniform(clip: Clip, count: int, score: Scorer, reach: int = 3) -> tuple[int, int, int]:
    """(hits at uniform, hits after the oracle's moves, visible joints) for one clip."""
    keep = [int(f) for f in uniform_frames(clip.frame_count, count)]
    base, total = score(clip, np.asarray(keep, dtype=np.int64))
    best = base
    for i in range(1, len(keep) - 1):
        origin = keep[i]
        for step in [d for r in range(1, reach + 1) for d in (-r, r)]:
            moved = origin + step
            if not keep[i - 1] < moved < keep[i + 1]:
                continue
            trial = [*keep[:i], moved, *keep[i + 1 :]]
            hits, _ = score(clip, np.asarray(trial, dtype=np.int64))
            if hits > best:
                best, keep = hits, trial
    return base, best, total


def print_headroom(clips: Sequence[Clip], fractions: Sequence[float], score: Scorer) -> None:
    print(
        "\nHeadroom: uniform key frames, and the same frames each moved by up to 3 frames by a "
        "greedy search that sees the ground truth (a reference, not a method)\n"
    )
    print("| labels | uniform | uniform moved with the truth | room |")
    print("|---|---|---|---|")
    for fraction in fractions:
        base = best = total = 0
        for clip in clips:
            b, m, n = nudged_uniform(clip, budget_for(clip.frame_count, fraction), score)
            base, best, total = base + b, best + m, total + n
        u, o = 100 * base / max(total, 1), 100 * best / max(total, 1)
        print(f"| {100 * fraction:g}% | {u:.1f} | {o:.1f} | {o - u:+.1f} |")
