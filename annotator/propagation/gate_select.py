"""How a budget of B labels is chosen from the gate's logits (``annotator propose --method gate
--budget B``).

Without a budget the gate's frames are those with g = 1 (``gate_fields``; unchanged here). With
one, the network runs at the budget's price of a label (the largest price at which it still
opens B frames) and a *selection rule* turns its logits into exactly B frames. The rules, all
over the same network's logits:

- ``top``: the B largest logits with the windows' shared boundaries forced (every 31 steps,
  like MAPN's I-frames): the first rule, kept for comparison.
- ``free-top``: the B largest *free* logits: no boundary skeleton. Each step's logit comes from
  whichever of two window tilings, offset by half a window, puts it farther from a window
  boundary (a boundary's own output was never trained: training forces g = 1 there). The
  video's first and last frames are always taken, as uniform spacing takes them.
- ``segment``: the ends, and in each of the B - 2 even segments around uniform spacing's
  interior frames the frame with the largest free logit (ties: nearest the uniform frame).
- ``nudge``: ``segment`` with each search kept within a quarter of uniform's spacing of its
  uniform frame (half the segment), so that two neighbours never meet and no gap grows past
  1.5 spacings.
- ``spaced``: the ends, then free logits in falling order, each taken when it lies at least
  half of uniform's spacing from every frame taken so far; the spacing shrinks one frame at a
  time only if that leaves fewer than B.

Every rule prefers representatives (one video frame per training-rate step, ``GateResult``) so
that a 60 fps video does not spend two labels on one 1/30 s, and returns exactly
``min(B, frames)`` sorted frames, deterministically. ``DEFAULT_RULE`` is the one the benchmark
(``annotator bench gate --rules``, docs/benchmarks-gate.md) found best on the validation renders,
a ranking that holds on training renders; it is still not better than uniform spacing there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from annotator.core.framespec import uniform_frames
from annotator.errors import UsageError
from annotator.propagation.gate import (
    GateModel,
    GateResult,
    _decide,
    _prepare,
    _Prepared,
    _result,
    budget_price,
    encode_steps,
    step_logits,
    window_starts,
)

if TYPE_CHECKING:
    from annotator.video.motion import MotionFields
    from annotator.video.motion_store import MotionStore

RULES = ("top", "free-top", "segment", "nudge", "spaced")
DEFAULT_RULE = "nudge"
NUDGE_REACH = 0.25  # of uniform spacing, either side
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float32]


def _boundary_distance(length: int, boundaries: list[int]) -> IntArray:
    """Per step, the distance in steps to the nearest of ``boundaries``."""
    steps = np.arange(length)
    marks = np.asarray(sorted(set(boundaries)), dtype=np.int64)
    after = np.clip(np.searchsorted(marks, steps), 0, len(marks) - 1)
    before = np.clip(after - 1, 0, len(marks) - 1)
    near = np.minimum(np.abs(marks[after] - steps), np.abs(steps - marks[before]))
    return np.asarray(near, dtype=np.int64)


def _tiling_boundaries(length: int, window: int, offset: int) -> list[int]:
    """Boundary steps of the windows tiling ``length`` steps from ``offset`` (plus the steps
    before it as one shorter window)."""
    marks = [0, length - 1, offset]
    for s in window_starts(length - offset, window):
        marks += [offset + s, offset + min(s + window - 1, length - offset - 1)]
    return marks


class _FreeLogits:
    """Step logits without the boundary skeleton: two tilings, offset by half a window; each
    step takes its logit from the tiling that puts it farther from a boundary."""

    def __init__(self, model: GateModel, prep: _Prepared) -> None:
        self.model, self.prep = model, prep
        t, window = len(prep.steps), model.config.window
        self.offset = (window - 1) // 2
        self.shifted = t > window and self.offset < t - 1
        if self.shifted:
            self.head = encode_steps(model, prep.steps[: self.offset + 1])
            self.tail = encode_steps(model, prep.steps[self.offset :])
            a = _boundary_distance(t, _tiling_boundaries(t, window, 0))
            b = _boundary_distance(t, _tiling_boundaries(t, window, self.offset))
            self.use_shifted = b > a

    def __call__(self, lam: float) -> GateResult:
        base = step_logits(self.model, self.prep.encoded, lam)
        if self.shifted:
            other = np.concatenate(
                [
                    step_logits(self.model, self.head, lam)[:-1],
                    step_logits(self.model, self.tail, lam),
                ]
            )
            base = np.where(self.use_shifted, other, base).astype(np.float32)
        return _result(self.prep, base, lam)


def _candidates(result: GateResult) -> NDArray[np.bool_]:
    """Frames a rule may take first: the representatives of training-rate steps."""
    mask = np.zeros(len(result.logits), dtype=bool)
    mask[np.unique(result.representatives)] = True
    return mask


def segment_frames(
    logits: FloatArray, count: int, prefer: NDArray[np.bool_] | None = None, reach: float = 0.5
) -> IntArray:
    """The first and last frame, and in each even segment around uniform spacing's interior
    frames the frame with the largest logit (ties: nearest the uniform frame); frames in
    ``prefer`` first, when a segment has any. ``reach``: the segment's half-width as a share
    of uniform's spacing (0.5: the segments tile the video)."""
    f = len(logits)
    anchors = uniform_frames(f, max(1, min(count, f)))
    if len(anchors) <= 2:
        return anchors
    chosen = [int(anchors[0]), int(anchors[-1])]
    for i in range(1, len(anchors) - 1):
        lo = (int(anchors[i - 1]) + int(anchors[i])) // 2 + 1
        hi = (int(anchors[i]) + int(anchors[i + 1])) // 2
        step = (f - 1) / (len(anchors) - 1)
        lo = max(lo, int(anchors[i]) - int(reach * step))
        hi = min(hi, int(anchors[i]) + int(reach * step))
        span = np.arange(lo, hi + 1)
        if prefer is not None and prefer[span].any():
            span = span[prefer[span]]
        # largest logit, then nearest the anchor, then the earlier frame
        key = np.lexsort((span, np.abs(span - anchors[i]), -logits[span]))
        chosen.append(int(span[key[0]]))
    return np.asarray(sorted(chosen), dtype=np.int64)


def spaced_frames(
    logits: FloatArray, count: int, prefer: NDArray[np.bool_] | None = None
) -> IntArray:
    """The first and last frame, then the largest logits at least half of uniform spacing
    apart; the spacing shrinks one frame at a time while that gives fewer than ``count``."""
    f = len(logits)
    count = max(1, min(count, f))
    if count == 1:
        return np.zeros(1, dtype=np.int64)
    rank = np.zeros(f) if prefer is None else (~prefer).astype(np.float64)
    order = np.lexsort((np.arange(f), -logits, rank))  # preferred first, then logit, then frame
    taken = np.zeros(f, dtype=bool)
    taken[[0, f - 1]] = True
    have = int(taken.sum())
    gap = max(1, int((f - 1) / (count - 1) / 2))
    while have < count and gap >= 1:  # gap 1 admits every frame, so the budget fills
        for t in order:
            if have >= count:
                break
            if not taken[max(0, t - gap + 1) : t + gap].any():
                taken[t] = True
                have += 1
        gap -= 1
    return np.flatnonzero(taken).astype(np.int64)


def free_top_frames(
    logits: FloatArray, count: int, prefer: NDArray[np.bool_] | None = None
) -> IntArray:
    """The first and last frame and the largest logits."""
    return (
        spaced_frames(logits, count, prefer)
        if count <= 2
        else _top_with_ends(logits, count, prefer)
    )


def _top_with_ends(logits: FloatArray, count: int, prefer: NDArray[np.bool_] | None) -> IntArray:
    f = len(logits)
    count = min(count, f)
    rank = np.zeros(f) if prefer is None else (~prefer).astype(np.float64)
    order = [int(t) for t in np.lexsort((np.arange(f), -logits, rank)) if t not in (0, f - 1)]
    return np.asarray(sorted([0, f - 1, *order[: count - 2]]), dtype=np.int64)


def select(
    model: GateModel,
    fields: MotionFields | MotionStore,
    budget: int,
    rule: str = DEFAULT_RULE,
    fps: float | None = None,
) -> tuple[list[int], GateResult]:
    """``budget`` frames by ``rule`` (see the module docstring) and the decisions they came
    from (the budget's price of a label; for the free rules, the free logits)."""
    if rule not in RULES:
        raise UsageError(f"unknown gate selection rule {rule!r}; choose one of {', '.join(RULES)}")
    prep = _prepare(model, fields, fps)
    if rule == "top":
        result = budget_price(lambda lam: _decide(model, prep, lam), model.config, budget)
        return result.top(budget), result
    result = budget_price(_FreeLogits(model, prep), model.config, budget)
    prefer = _candidates(result)
    if rule == "nudge":
        frames = segment_frames(result.logits, budget, prefer, reach=NUDGE_REACH)
    else:
        pick = {"free-top": free_top_frames, "segment": segment_frames, "spaced": spaced_frames}
        frames = pick[rule](result.logits, budget, prefer)
    return [int(t) for t in frames], result
