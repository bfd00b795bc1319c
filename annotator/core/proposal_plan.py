"""The proposals as a plan of frames to label: extending a set, and what accepting it means.

Pure functions over frame indices, so the proposal panel's rules are tested without Qt.

*Accepted* proposals are the user's plan: the document's project setting ``ACCEPTED`` is true,
``N`` visits the plan's unlabelled frames before any other, and the panel lists how many are
left. New proposals (a fresh run) are not accepted until the user says so; extending an
accepted plan keeps it accepted; clearing the proposals drops the plan. Labels are never
touched by any of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ACCEPTED", "extend_frames", "extend_target", "plan_order"]

ACCEPTED = "proposals_accepted"  # project setting: True while the proposals are the plan
GROWTH = 1.5  # Extend without a larger budget: half as many frames again


def extend_target(current: int, budget: int | None, frame_count: int) -> int:
    """How many frames Extend aims at: the budget when it is above the current count, else
    half as many again (at least one more), never more than the video has."""
    if budget is not None and budget > current:
        target = budget
    else:
        target = max(current + 1, math.ceil(current * GROWTH))
    return min(target, frame_count)


def extend_frames(
    existing: Sequence[int],
    candidates: Sequence[int],
    target: int,
    scores: Sequence[float] | None = None,
) -> tuple[int, ...]:
    """``existing`` plus candidates not in it, until there are ``target`` frames (sorted).

    Candidates are taken farthest first from the frames already chosen (a frame next to a
    proposed one adds little), ties by higher score, then the earlier frame. Every existing
    frame is kept, even beyond ``target``; fewer than ``target`` come back when the candidates
    run out."""
    chosen = sorted({int(f) for f in existing})
    pool = sorted({int(f) for f in candidates} - set(chosen))
    score = np.zeros(max([*pool, *chosen, 0]) + 1) if scores is None else np.asarray(scores)
    while len(chosen) < target and pool:
        if chosen:
            marks = np.asarray(chosen)
            p = np.asarray(pool)
            after = np.clip(np.searchsorted(marks, p), 0, len(marks) - 1)
            before = np.clip(after - 1, 0, len(marks) - 1)
            dist = np.minimum(np.abs(marks[after] - p), np.abs(p - marks[before]))
        else:
            dist = np.zeros(len(pool), dtype=np.int64)
        # lexsort: the last key is the primary one
        best = int(np.lexsort((np.asarray(pool), -score[pool], -dist))[0])
        chosen.append(pool.pop(best))
        chosen.sort()
    return tuple(chosen)


def plan_order(
    plan: Sequence[int], labelled: ArrayLike, ranked: Sequence[tuple[int, float]] = ()
) -> list[int]:
    """The plan's frames still to label, in the order ``N`` visits them: those the fill's
    ranking lists (``(frame, gain)`` best first) in its order, then the rest by frame.
    ``labelled``: (F,) true where a frame needs no more labels."""
    done: NDArray[np.bool_] = np.asarray(labelled, dtype=bool)
    todo = [int(f) for f in plan if 0 <= int(f) < len(done) and not done[int(f)]]
    rank = {frame: k for k, (frame, _gain) in enumerate(ranked)}
    return sorted(todo, key=lambda f: (rank.get(f, len(rank)), f))
