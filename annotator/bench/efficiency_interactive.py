"""Protocol B (how annotators work): label what the tool ranks next until the fill is right.

A simulated annotator labels one frame at a time (the ground truth on that frame) and stops as
soon as every visible joint of every frame is within 5% of body size (the contract's "full
coverage"); the ground truth decides only when to stop, never which frame comes next. The
figure is the labels needed per video as a fraction of its frames. For the ranked strategies
(``variance``, ``variance+video``, ``kfpn``) the share of those labels added while at most
``TAIL_FRAMES`` frames were still uncovered is reported too ("tail"): labels that chase the
last few wrong frames, which the ranking's uncertainty does not point at.

Strategies, and what ranks the next frame:

- ``variance``: the app's ranking without the video (``dynamics.ranking.rank_next_frames``
  on the fill's result: the frame with the largest joint variance), from the first and last
  frame of each shot; only for fills that give a variance.
- ``variance+video``: the app's ranking as ``N`` runs it once the video's descriptors are
  ready: ``rank_next_frames(..., video=...)`` with ``proposal.ranking_video``'s descriptors
  (each frame's variance weighted by how badly straight lines between the labelled frames
  rebuild the video there) and the joints walked along the clip's motion fields from the
  labels (``efficiency_data.make_observe``; each joint's variance raised to the fill's squared
  distance from them where larger, ``ranking.video_disagreement``; ``--disagreement-weight 0``
  leaves them out). Both call exactly the function the app calls, with the app's
  rule for held frames unless ``held_rule`` says otherwise (``--held-rule all``, the former
  rule that put joints held toward an ``absent`` label first too, for comparison).
- ``kfpn``: K-FPN's proposals first, best score first (the annotator stops as soon as the
  video is right, so not every proposal need be labelled), then the fill's variance, or the
  largest gap when the fill has none.
- ``bisection``: the middle of the largest gap (what a tool with no uncertainty can do).
- ``uniform`` / ``kmeans``: the smallest evenly spaced / k-means set that covers (a user who
  re-extracts with a larger count until done; k-means' count is found by bisection over k).
- ``dp-linear`` and ``greedy-gt``: references that use the ground truth: the exact minimum for
  linear interpolation, and adding the worst-filled frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from annotator.bench.efficiency_data import (
    FloatArray,
    IntArray,
    RenderedClip,
    make_fill,
    make_fill_result,
    make_observe,
)
from annotator.bench.placement import (
    bisection_frames,
    dp_optimal_linear,
    greedy_with_gt,
    uniform_to_cover,
)
from annotator.core.framespec import uniform_frames
from annotator.core.metrics import covered
from annotator.dynamics import ranking
from annotator.dynamics.base import Observations
from annotator.dynamics.fill import FillResult

ALPHA = 0.05
TAIL_FRAMES = 3  # "tail": labels added while at most this many frames were uncovered
FillWithVariance = Callable[[IntArray], tuple[FloatArray, FloatArray | None]]
FillToResult = Callable[[IntArray], FillResult]
Observe = Callable[[IntArray], Observations]

RANKING = {
    "variance": "fill variance",
    "variance+video": "fill variance x video evidence (K-FPN features)",
    "kfpn": "K-FPN proposals, then fill variance or largest gap",
    "bisection": "largest gap (no uncertainty)",
    "uniform": "evenly spaced, smallest covering count",
    "kmeans": "k-means (video), smallest covering k",
    "dp-linear": "ground truth (reference, linear fill)",
    "greedy-gt": "ground truth: worst-filled frame (reference)",
}


@dataclass(frozen=True)
class InteractiveRow:
    strategy: str
    fill: str
    needed: tuple[float, ...]  # labels needed / frames, one per clip
    covered: tuple[bool, ...]  # whether the strategy's frames reached full coverage
    note: str = ""
    tail: tuple[float, ...] = ()  # ranked strategies: share of each clip's labels in the tail


def _covers(clip: RenderedClip, pred: FloatArray) -> bool:
    return bool(covered(pred, clip.gt_xy, clip.visible, clip.body, ALPHA).all())


def _shot_ends(clip: RenderedClip) -> list[int]:
    starts = [0, *clip.cuts]
    ends = [c - 1 for c in clip.cuts] + [clip.frame_count - 1]
    return sorted(set(starts) | set(ends))


def _farthest_from_labels(frame_count: int, labelled: set[int]) -> int:
    """The frame farthest from any labelled frame: the middle of the largest gap (or an end)."""
    t = np.arange(frame_count)
    lab = np.fromiter(sorted(labelled), dtype=np.int64)
    dist = np.abs(t[:, None] - lab[None, :]).min(axis=1)
    return int(np.argmax(dist))


def label_until_covered(
    clip: RenderedClip,
    fill: FillToResult,
    start: Sequence[int],
    use_variance: bool,
    queue: Sequence[int] = (),
    descriptors: FloatArray | None = None,
    evidence_weight: float | None = None,
    held_rule: str = ranking.DEFAULT_HELD,
    uncovered: list[int] | None = None,
    observe: Observe | None = None,
    disagreement_weight: float | None = None,
    disagreement_mode: str = ranking.DEFAULT_DISAGREEMENT_MODE,
) -> tuple[IntArray, bool]:
    """Label ``start``, then the frames of ``queue`` in order (a tool's proposals, best first),
    then the frame the app's ranking (``ranking.rank_next_frames``, with the video's
    ``descriptors`` when given, and ``held_rule``) puts first, until the fill covers the clip.
    Without ``use_variance``, or for a fill with no variance, the middle of the largest gap.
    ``uncovered``, when given, receives the count of uncovered frames before each label
    added after ``start``. ``observe``: the video's walks from the labels, handed to the
    ranking as ``observed`` (with ``disagreement_weight`` and ``disagreement_mode``)."""
    labelled = set(int(f) for f in start) or {0}
    pending = [int(q) for q in queue]
    f = clip.frame_count
    while True:
        frames = np.asarray(sorted(labelled), dtype=np.int64)
        result = fill(frames)
        pred = np.asarray(result.poses[:, :, :2], dtype=np.float64)
        ok = covered(pred, clip.gt_xy, clip.visible, clip.body, ALPHA)
        if ok.all():
            return frames, True
        if uncovered is not None:
            uncovered.append(int((~ok).sum()))
        if len(labelled) >= f:
            return frames, False
        nxt = -1
        while pending and nxt < 0:
            candidate = pending.pop(0)
            nxt = -1 if candidate in labelled else candidate
        if nxt < 0 and use_variance and result.variance is not None:
            ranked = ranking.rank_next_frames(
                clip.manual(frames),
                result,
                top=1,
                video=descriptors,
                evidence_weight=evidence_weight,
                held_rule=held_rule,
                observed=None if observe is None else observe(frames),
                disagreement_weight=disagreement_weight,
                disagreement_mode=disagreement_mode,
            )
            nxt = ranked[0][0] if ranked else -1
        if nxt < 0:
            nxt = _farthest_from_labels(f, labelled)
        labelled.add(nxt)


def smallest_covering_kmeans(clip: RenderedClip, fill: FillWithVariance, seed: int) -> IntArray:
    """k-means picks with the smallest k that covers (k found by doubling then bisection)."""
    from annotator.proposal.baselines import select_frames

    f = clip.frame_count

    def picks(k: int) -> IntArray:
        return select_frames(clip.frames(), k, "kmeans", seed)

    def ok(k: int) -> bool:
        return _covers(clip, fill(picks(k))[0])

    hi = 2
    while hi < f and not ok(hi):
        hi = min(2 * hi, f)
    lo = hi // 2 if hi > 2 else 1  # lo does not cover (or is below 2)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return picks(hi)


def _kfpn_queue(clip: RenderedClip) -> list[int]:
    """K-FPN's proposed frames (its natural count), highest score first."""
    from annotator.proposal.registry import propose

    result = propose(clip.video, "kfpn")
    frames = [int(x) for x in result.frames]
    if result.scores is not None:
        frames.sort(key=lambda fr: -float(result.scores[fr]))  # type: ignore[index]
    return frames


def _video_descriptors(clip: RenderedClip, step: int | None = None) -> FloatArray:
    """The clip's descriptors for the ranking, as the app's ``N`` gets them (cached);
    ``step``: the backbone on every ``step``-th frame (default the app's)."""
    from annotator.proposal.backbones import DEFAULT_STEP
    from annotator.proposal.ranking_video import ranking_descriptors

    out = ranking_descriptors(clip.video, step=DEFAULT_STEP if step is None else step)
    assert out is not None  # computed when not cached
    return np.asarray(out, dtype=np.float64)


def run_interactive(
    clips: Sequence[RenderedClip],
    fills: Sequence[str],
    strategies: Sequence[str],
    seed: int = 0,
    evidence_weight: float | None = None,
    held_rule: str = ranking.DEFAULT_HELD,
    disagreement_weight: float | None = None,
    disagreement_mode: str = ranking.DEFAULT_DISAGREEMENT_MODE,
    walk_field: str = "mv",
    feature_step: int | None = None,
) -> list[InteractiveRow]:
    rows = []
    for fill_name in fills:
        for strategy in strategies:
            needed, ok, note, tail = [], [], "", []
            for clip in clips:
                trace: list[int] = []
                fill = make_fill(clip, fill_name)
                fill_result = make_fill_result(clip, fill_name)

                def fill_xy(frames: IntArray, fill: FillWithVariance = fill) -> FloatArray:
                    return fill(frames)[0]

                gt, vis, body = clip.gt_xy, clip.visible, clip.body
                if strategy in ("variance", "variance+video"):
                    probe = uniform_frames(clip.frame_count, max(3, clip.frame_count // 10))
                    if fill(probe)[1] is None:
                        note = f"{fill_name} gives no variance"
                        break
                    with_video = strategy == "variance+video"
                    video = _video_descriptors(clip, feature_step) if with_video else None
                    observe = (
                        make_observe(clip, walk_field)
                        if with_video and disagreement_weight != 0
                        else None
                    )
                    frames, done = label_until_covered(
                        clip,
                        fill_result,
                        _shot_ends(clip),
                        True,
                        descriptors=video,
                        evidence_weight=evidence_weight,
                        held_rule=held_rule,
                        uncovered=trace,
                        observe=observe,
                        disagreement_weight=disagreement_weight,
                        disagreement_mode=disagreement_mode,
                    )
                elif strategy == "kfpn":
                    queue = _kfpn_queue(clip)
                    frames, done = label_until_covered(
                        clip,
                        fill_result,
                        queue[:1],
                        True,
                        queue[1:],
                        held_rule=held_rule,
                        uncovered=trace,
                    )
                elif strategy == "bisection":
                    frames = bisection_frames(fill_xy, gt, vis, body, ALPHA)
                elif strategy == "uniform":
                    frames = uniform_to_cover(fill_xy, gt, vis, body, ALPHA)
                elif strategy == "kmeans":
                    frames = smallest_covering_kmeans(clip, fill, seed)
                elif strategy == "dp-linear":
                    if fill_name != "linear":
                        note = "reference for the linear fill only"
                        break
                    frames = dp_optimal_linear(gt, vis, body, ALPHA)
                elif strategy == "greedy-gt":
                    frames = greedy_with_gt(fill_xy, gt, vis, body, ALPHA)
                else:
                    raise ValueError(f"unknown strategy {strategy!r}")
                if strategy not in ("variance", "variance+video", "kfpn"):
                    done = _covers(clip, fill_xy(frames))
                needed.append(len(frames) / clip.frame_count)
                ok.append(done)
                if strategy in ("variance", "variance+video", "kfpn"):
                    tail.append(sum(u <= TAIL_FRAMES for u in trace) / max(len(frames), 1))
            if note:
                rows.append(InteractiveRow(strategy, fill_name, (), (), note))
            else:
                rows.append(
                    InteractiveRow(strategy, fill_name, tuple(needed), tuple(ok), tail=tuple(tail))
                )
    return rows
