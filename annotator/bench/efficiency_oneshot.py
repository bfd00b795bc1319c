"""Protocol A (one-shot, the K-FPN paper's): pick k frames, label them, fill, score.

A selector picks k = ceil(fraction x frames) (at least 2) frames; the ground truth is given on
them; a fill completes the video; PCK@0.05/0.1/0.2 and the mean error (% of body size) are
computed over the visible joints of every frame of every clip, pooled.

Selectors: ``uniform`` and ``kmeans`` (video only), ``bisection`` (the middle of the largest gap,
from the first and last frame; needs nothing), ``kfpn`` (the shipped model, when present,
with the app's features: every ``PROPOSAL_STEP``-th frame; ``kfpn/stepN`` every N-th),
``direct`` (eq. 16 minimised per video with the K-FPN model's dictionary, no network:
``proposal.direct``; ``annotator bench proposal-direct`` compares it with ``kfpn``) and
``dp-linear``, a reference that uses the ground truth: the k frames minimising the total
linear-interpolation error, exact by dynamic programming.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from annotator.bench.efficiency_data import FloatArray, IntArray, RenderedClip, make_fill
from annotator.bench.paired import paired_interval
from annotator.core.framespec import uniform_frames
from annotator.core.metrics import mean_error_pct, pck, pck_counts
from annotator.proposal.backbones import INPUT_SIZES, PROPOSAL_STEP

Selector = Callable[[RenderedClip, int, int], IntArray]
ALPHAS = (0.05, 0.1, 0.2)
ERROR_CAP = 1.0  # one body size: a joint with no position costs this much in the DP


def budget_for(frame_count: int, fraction: float) -> int:
    """The contract's count for a fraction: rounded up, at least 2, at most every frame."""
    return min(frame_count, max(2, math.ceil(fraction * frame_count - 1e-9)))


def bisection_at_budget(frame_count: int, k: int) -> IntArray:
    """First and last frame, then the middle of the largest gap, until ``k`` frames."""
    frames = sorted({0, frame_count - 1})
    while len(frames) < min(k, frame_count):
        gaps = np.diff(frames)
        i = int(np.argmax(gaps))
        frames.insert(i + 1, frames[i] + int(gaps[i]) // 2)
    return np.asarray(frames, dtype=np.int64)


def _linear_costs(clip: RenderedClip) -> tuple[FloatArray, FloatArray, FloatArray]:
    """seg[i, j]: summed capped error of frames strictly between labels i < j under the linear
    fill (held on both sides of a scene cut); head[j]/tail[i]: frames held before the first /
    after the last label."""
    gt, vis, body = clip.gt_xy, clip.visible, clip.body
    f = clip.frame_count
    body = np.where(np.isfinite(body) & (body > 0), body, np.inf)

    def err(pred: FloatArray, ts: IntArray) -> FloatArray:
        # pred (..., len(ts), J, 2) -> summed capped error per leading index
        d = np.sqrt(((pred - gt[ts]) ** 2).sum(axis=-1)) / body[ts][:, None]
        d = np.where(np.isfinite(d), np.minimum(d, ERROR_CAP), ERROR_CAP)
        return np.asarray(np.where(vis[ts], d, 0.0).sum(axis=(-1, -2)), dtype=np.float64)

    shot = np.zeros(f, dtype=np.int64)
    for c in clip.cuts:
        shot[c:] += 1
    ts_all = np.arange(f)
    seg = np.zeros((f, f))
    for i in range(f - 1):
        js = np.arange(i + 1, f)
        for j in js:
            ts = ts_all[i + 1 : j]
            if ts.size == 0:
                continue
            if shot[i] == shot[j]:
                w = (ts - i) / (j - i)
                pred = gt[i] + w[:, None, None] * (gt[j] - gt[i])
            else:  # the fill holds each side up to the cut
                pred = np.where((shot[ts] == shot[i])[:, None, None], gt[i], gt[j])
            seg[i, j] = err(pred, ts)
    head = np.array([err(np.broadcast_to(gt[j], (j, *gt.shape[1:])), ts_all[:j]) for j in range(f)])
    tail = np.array(
        [err(np.broadcast_to(gt[i], (f - i - 1, *gt.shape[1:])), ts_all[i + 1 :]) for i in range(f)]
    )
    return seg, head, tail


def dp_linear_at_budget(clip: RenderedClip, k: int) -> IntArray:
    """The ``k`` frames whose linear fill has the least total error (uses the ground truth)."""
    f = clip.frame_count
    k = min(k, f)
    if "linear_costs" not in clip.cache:
        clip.cache["linear_costs"] = _linear_costs(clip)
    seg, head, tail = clip.cache["linear_costs"]
    seg_masked = np.where(np.triu(np.ones((f, f), bool), 1), seg, np.inf)
    best = head.copy()  # best[j]: least cost of frames <= j with m labels, the last at j
    back: list[NDArray[np.int64]] = []
    for _ in range(1, k):
        total = best[:, None] + seg_masked  # (i, j)
        arg = np.argmin(total, axis=0)
        best = total[arg, np.arange(f)]
        back.append(arg)
    j = int(np.argmin(best + tail))
    frames = [j]
    for arg in reversed(back):
        j = int(arg[j])
        frames.append(j)
    return np.asarray(sorted(frames), dtype=np.int64)


def _kfpn(
    clip: RenderedClip, k: int, seed: int, input_size: int | None = None, step: int | None = None
) -> IntArray:
    from annotator.proposal.registry import propose

    # The app's step taken as asked: a cache of every frame's features that another selector
    # left (``kfpn/step1``) must not stand in for it.
    every = PROPOSAL_STEP if step is None else step
    run = propose(clip.video, "kfpn", k, input_size=input_size, feature_step=every)
    return np.asarray(sorted(run.frames), dtype=np.int64)


def _kfpn_at(size: int | None, step: int | None = None) -> Selector:
    return lambda clip, k, seed: _kfpn(clip, k, seed, size, step)


def _direct(clip: RenderedClip, k: int, seed: int) -> IntArray:
    from annotator.proposal.direct_video import propose_direct_video

    return np.asarray(sorted(propose_direct_video(clip.video, k)), dtype=np.int64)


def _kmeans(clip: RenderedClip, k: int, seed: int) -> IntArray:
    from annotator.proposal.baselines import select_frames

    return select_frames(clip.frames(), k, "kmeans", seed)


SELECTORS: dict[str, Selector] = {
    "uniform": lambda clip, k, seed: uniform_frames(clip.frame_count, k),
    "kmeans": _kmeans,
    "bisection": lambda clip, k, seed: bisection_at_budget(clip.frame_count, k),
    "kfpn": _kfpn,
    "dp-linear": lambda clip, k, seed: dp_linear_at_budget(clip, k),
    "direct": _direct,
    # the shipped K-FPN with its backbone at another input (``annotator bench proposal-speed``)
    **{f"kfpn@{size}": _kfpn_at(size) for size in INPUT_SIZES},
    **{f"kfpn/step{step}": _kfpn_at(None, step) for step in (1, 2, 3)},
}
USES_GROUND_TRUTH = {"dp-linear"}
RESAMPLES = 2000


@dataclass(frozen=True)
class OneShotRow:
    fill: str
    fraction: float
    selector: str
    pck: tuple[float, ...]  # at ALPHAS
    mean_error: float
    labels: int  # labelled frames over all clips
    frames: int  # frames over all clips
    hits: tuple[int, ...] = ()  # per clip: counted joints within PCK@0.05 (``paired``)
    counted: tuple[int, ...] = ()  # per clip: counted joints


def run_one_shot(
    clips: Sequence[RenderedClip],
    fills: Sequence[str],
    selectors: Sequence[str],
    fractions: Sequence[float],
    seed: int = 0,
    table: Mapping[str, Selector] | None = None,
) -> list[OneShotRow]:
    """Every (fill, fraction, selector) over ``clips``; picks are reused across fills.
    ``table`` maps selector names to selectors (default ``SELECTORS``)."""
    table = SELECTORS if table is None else table
    picks: dict[tuple[str, float, str], IntArray] = {}
    for clip in clips:
        for fraction in fractions:
            k = budget_for(clip.frame_count, fraction)
            for name in selectors:
                picks[(clip.name, fraction, name)] = table[name](clip, k, seed)
    rows = []
    for fill_name in fills:
        fillers = {clip.name: make_fill(clip, fill_name) for clip in clips}
        for fraction in fractions:
            for name in selectors:
                pred, gt, vis, body = [], [], [], []
                labels = 0
                per_clip = []
                for clip in clips:
                    frames = picks[(clip.name, fraction, name)]
                    labels += len(frames)
                    pred.append(fillers[clip.name](frames)[0])
                    gt.append(clip.gt_xy)
                    vis.append(clip.visible)
                    body.append(clip.body)
                    per_clip.append(pck_counts(pred[-1], gt[-1], vis[-1], body[-1], ALPHAS[0]))
                p, g = np.concatenate(pred), np.concatenate(gt)
                v, b = np.concatenate(vis), np.concatenate(body)
                rows.append(
                    OneShotRow(
                        fill_name,
                        fraction,
                        name,
                        tuple(pck(p, g, v, b, a) for a in ALPHAS),
                        mean_error_pct(p, g, v, b),
                        labels,
                        int(sum(c.frame_count for c in clips)),
                        tuple(h for h, _ in per_clip),
                        tuple(n for _, n in per_clip),
                    )
                )
    return rows


def paired_rows(
    rows: Sequence[OneShotRow], against: str, resamples: int = RESAMPLES, seed: int = 0
) -> list[tuple[str, float, str, float, float, float]]:
    """Each selector's PCK@0.05 minus ``against``'s at the same fill and budget, with its 95 %
    paired bootstrap interval over clips: (fill, fraction, selector, difference, low, high)."""
    base = {(r.fill, r.fraction): r for r in rows if r.selector == against}
    out = []
    for r in rows:
        ref = base.get((r.fill, r.fraction))
        if r.selector == against or ref is None:
            continue
        a = (np.asarray(r.hits, np.int64), np.asarray(r.counted, np.int64))
        b = (np.asarray(ref.hits, np.int64), np.asarray(ref.counted, np.int64))
        out.append((r.fill, r.fraction, r.selector, *paired_interval(a, b, resamples, seed)))
    return out
