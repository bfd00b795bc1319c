"""Which frame to label next, and which filled frames to review, from the fill's uncertainty.

The uncertainty is ``FillResult.variance`` (HPIM's, which follows the motion: see
``hpim.py``); for a fill without one, an HPIM fill of the same labels supplies it.

Labelling frame t inside a gap of L frames removes the error at t and shrinks it on both
sides: for an error that grows like a Brownian bridge, the summed variance of the gap drops
by var(t) x L / 3 (from L² / 6 to u² / 6 + (L − u)² / 6 in units of the rate, u = t − a).
``objective="gain"`` sorts unlabelled frames by that expected reduction, taken from the joint
that gains most, ``"total"`` sums it over joints. The default, ``"peak"``, ranks by the
largest joint variance at the frame itself: coverage needs every joint of every frame within
tolerance, so the frame most likely to be wrong comes first (protocol B: 48.9 % of frames to
full coverage against 53.2 % for ``"gain"``, docs/benchmarks-efficiency.md).
Frames held before the first or after the last label of a track rank by their distance to
it, ahead of every gap (an unanchored end can be arbitrarily wrong). A joint held toward an
``absent`` label (it leaves the picture somewhere in between) is not such an end: the labels
on both sides bound it, so it adds nothing to its frames' scores (the fill gives it no
variance); they rank by the other joints' evidence, and after every frame with some when there
is none, still reachable (``held_rule="ends"``, the default; ``"all"``, the former rule, put
them first and needed more labels in protocol B, docs/benchmarks-efficiency.md).

``rank_next_frames`` is the one ranking: the app's ``N`` and the benchmark's protocol B
(``bench/efficiency_interactive.py``) both call it. Given the video's per-frame descriptors
(``video``, e.g. K-FPN's pooled backbone features, ``proposal.ranking_video``), each frame's
score is raised where straight lines between the labelled frames rebuild the video badly
(``video_evidence``): where the picture changes in a way the labels around it do not explain,
the pose likely does too. Given the joints walked along the video from the neighbouring
labels (``observed``, the ``mv`` propagation's walks), each joint's variance is raised to the
squared distance between the fill and the walks where that is larger
(``video_disagreement``): HPIM's variance vanishes next to a label, a walk of one or two steps
from it does not miss a fast joint, so the disagreement points at the wrong frames next to
labels that the variance misses (protocol B on two training sets: 39.4 -> 36.3 % and
39.0 -> 38.6 % of frames; docs/benchmarks-efficiency.md, "The fill against the video's
walks"). For ``hpim+mv`` it changes nothing: that fill's variance already holds 1.5 x the
same squared distance (``propagation.fuse.CONFLICT``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.dynamics.base import Observations
from annotator.dynamics.fill import FillResult, fill_track


def frame_uncertainty(manual: NDArray[Any], result: FillResult) -> NDArray[np.float64]:
    """(F, J) variance per coordinate in pixels²: ``result``'s, or HPIM's when it has none
    (0 on labels, NaN where there is no estimate)."""
    var = result.variance
    if var is None:
        var = fill_track(manual, "hpim").variance
    if var is None:  # pragma: no cover - hpim always returns one
        raise RuntimeError("the hpim fill returned no variance")
    return np.asarray(var, dtype=np.float64)


OBJECTIVES = ("peak", "gain", "total")
DEFAULT_OBJECTIVE = "peak"
# Which held frames rank ahead of every gap: only unanchored ends ("ends"), or also joints
# held toward an absent label ("all", the former rule; protocol B needed more labels with it,
# docs/benchmarks-efficiency.md).
HELD_RULES = ("ends", "all")
DEFAULT_HELD = "ends"


def held_ends(
    manual: NDArray[Any], result: FillResult, rule: str = DEFAULT_HELD
) -> NDArray[np.bool_]:
    """(F,) unlabelled frames where some joint is held with no label beyond it (before the
    first or after the last label of its shot): the frames ``N`` offers before any gap. With
    ``rule="ends"`` a joint held toward an ``absent`` label does not count (the absent label
    bounds it); ``"all"`` counts every held joint."""
    if rule not in HELD_RULES:
        raise ValueError(f"unknown held rule {rule!r}; one of {HELD_RULES}")
    man = np.asarray(manual)
    codes = man[:, :, 2]
    held = np.asarray(result.held, dtype=bool) & (codes == Visibility.UNLABELLED)
    if rule == "ends":
        held = held & ~_held_toward_absent(held, codes)
    return np.asarray(held.any(axis=1), dtype=bool)


def _held_toward_absent(held: NDArray[np.bool_], codes: NDArray[Any]) -> NDArray[np.bool_]:
    """(F, J) held frames whose run of held frames ends just before an ``absent`` label."""
    f, nj = held.shape
    out = np.zeros_like(held)
    t = np.arange(f)
    for j in range(nj):
        if not held[:, j].any():
            continue
        stop = np.flatnonzero(~held[:, j])  # the frame that ends each held run
        k = np.searchsorted(stop, t)
        end = np.where(k < len(stop), stop[np.minimum(k, len(stop) - 1)], f)
        after = np.where(end < f, codes[np.minimum(end, f - 1), j], Visibility.UNLABELLED)
        out[:, j] = held[:, j] & (end < f) & (after == Visibility.ABSENT)
    return out


def expected_reduction(
    manual: NDArray[Any],
    result: FillResult,
    objective: str = DEFAULT_OBJECTIVE,
    held_rule: str = DEFAULT_HELD,
    variance: NDArray[Any] | None = None,
) -> NDArray[np.float64]:
    """(F,) score of labelling each frame (pixels²): the largest joint variance (``"peak"``)
    or the expected reduction of the summed squared error (``"gain"``: the joint that gains
    most; ``"total"``: summed over joints); 0 on fully labelled frames; on held ends
    (``held_ends`` with ``held_rule``), a score above every gap's that grows with the
    distance to the nearest labelled frame. ``variance``: the (F, J) uncertainty to rank
    by (default ``frame_uncertainty``; ``video_disagreement``'s with the video)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown ranking objective {objective!r}; one of {OBJECTIVES}")
    man = np.asarray(manual)
    var = frame_uncertainty(man, result) if variance is None else np.asarray(variance)
    var = np.nan_to_num(var, nan=0.0)
    labelled = man[:, :, 2] != Visibility.UNLABELLED
    f, nj = labelled.shape
    score = np.zeros(f)
    t = np.arange(f)
    for j in range(nj):
        lab = np.flatnonzero(labelled[:, j])
        if len(lab) == 0:
            continue
        i = np.searchsorted(lab, t, side="right") - 1
        inside = (i >= 0) & (i < len(lab) - 1)
        gap = np.where(inside, lab[np.clip(i + 1, 0, len(lab) - 1)] - lab[np.clip(i, 0, None)], 0)
        factor = 1.0 if objective == "peak" else gap / 3.0
        gain = np.where(inside & ~labelled[:, j], var[:, j] * factor, 0.0)
        # "total": summed over joints; "gain": the joint that gains most (what coverage,
        # every joint within tolerance, asks for)
        score = score + gain if objective == "total" else np.maximum(score, gain)
    held = held_ends(man, result, held_rule)
    if held.any():
        first = np.flatnonzero(labelled.any(axis=1))
        dist = _distance_to_nearest(t, first) if len(first) else t
        top = float(score[~held].max()) if (~held).any() else 0.0
        score = np.where(held, (top + 1.0) * (1.0 + dist), score)
    return score


def _distance_to_nearest(t: NDArray[np.int64], marks: NDArray[np.int64]) -> NDArray[np.int64]:
    """Distance from each frame in ``t`` to the nearest of the sorted, non-empty ``marks``,
    in O((F + L) log L) rather than an F x L matrix (long videos with many labels)."""
    after = np.clip(np.searchsorted(marks, t), 0, len(marks) - 1)
    before = np.clip(after - 1, 0, len(marks) - 1)
    dist = np.minimum(np.abs(marks[after] - t), np.abs(t - marks[before]))
    return np.asarray(dist, dtype=np.int64)


# How the fill's variance and its disagreement with the video's walks combine per joint: the
# larger of the two ("max", the app's) or their sum ("sum"); "excess" takes the disagreement
# less the walk's own variance (what of it the walk's error cannot explain). The weight is 1:
# the squared distance per coordinate is what the variance estimates; 0.5, 2 and 4 and the
# other modes needed more labels on the training renders (docs/benchmarks-efficiency.md).
DISAGREEMENT_MODES = ("max", "sum", "excess")
DEFAULT_DISAGREEMENT_MODE = "max"
DISAGREEMENT_WEIGHT = 1.0


def video_disagreement(
    manual: NDArray[Any],
    result: FillResult,
    observed: Observations,
    weight: float = DISAGREEMENT_WEIGHT,
    mode: str = DEFAULT_DISAGREEMENT_MODE,
) -> NDArray[np.float64]:
    """(F, J) the fill's uncertainty (``frame_uncertainty``, px² per coordinate) raised where
    the fill and the video's own estimate of the joints (``observed``: e.g. the motion walks
    from the neighbouring labels, ``propagation.mv``) disagree: ``weight`` x the squared
    distance per coordinate, combined by ``mode`` (``DISAGREEMENT_MODES``). A fill's variance
    vanishes at labels, the walk one step from a label does not miss a fast joint: there the
    disagreement says the fill is wrong. Unchanged on labelled joints and where the video has
    no estimate."""
    if mode not in DISAGREEMENT_MODES:
        raise ValueError(f"unknown disagreement mode {mode!r}; one of {DISAGREEMENT_MODES}")
    man = np.asarray(manual)
    var = frame_uncertainty(man, result)
    if observed.xy.shape[:2] != var.shape:
        raise ValueError(
            f"video observations for {observed.xy.shape[:2]} frames x joints, "
            f"the fill has {var.shape}"
        )
    diff = np.asarray(result.poses[:, :, :2], dtype=np.float64) - observed.xy
    d2 = 0.5 * (diff**2).sum(axis=2)  # per coordinate, the variance's unit
    if mode == "excess":
        d2 = d2 - np.nan_to_num(observed.variance, nan=0.0, posinf=0.0)
    add = np.where(np.isfinite(d2), np.maximum(weight * d2, 0.0), 0.0)
    add = np.where(man[:, :, 2] == Visibility.UNLABELLED, add, 0.0)
    base = np.nan_to_num(var, nan=0.0)
    out = np.maximum(base, add) if mode != "sum" else base + add
    # keep NaN (no estimate) where neither the fill nor the video says anything
    return np.asarray(np.where(np.isnan(var) & (add == 0), np.nan, out), dtype=np.float64)


def rank_next_frames(
    manual: NDArray[Any],
    result: FillResult,
    top: int | None = None,
    objective: str = DEFAULT_OBJECTIVE,
    video: NDArray[Any] | None = None,
    evidence_weight: float | None = None,
    held_rule: str = DEFAULT_HELD,
    observed: Observations | None = None,
    disagreement_weight: float | None = None,
    disagreement_mode: str = DEFAULT_DISAGREEMENT_MODE,
) -> list[tuple[int, float]]:
    """Unlabelled frames (some joint unlabelled and filled or held) as (frame, score), best
    first; at most ``top`` of them. Every such frame is listed: one with no evidence at all
    (e.g. a joint held toward an ``absent`` label, the fill's variance 0 elsewhere) ranks
    after every frame with some, farthest from the labelled frames first.

    ``video``: per-frame descriptors ``(F, M)`` of the video; the scores of frames between
    labels are then weighted by ``weight_by_evidence`` (``evidence_weight``, default
    ``EVIDENCE_WEIGHT``). Held ends (``held_ends`` with ``held_rule``) keep their rank ahead
    of every gap. ``observed``: the video's own estimate of the joints (the motion walks
    from the labels); each joint's variance is then raised where the fill disagrees with it
    (``video_disagreement`` with ``disagreement_weight``, default ``DISAGREEMENT_WEIGHT``,
    and ``disagreement_mode``)."""
    man = np.asarray(manual)
    var = None
    if observed is not None:
        w = DISAGREEMENT_WEIGHT if disagreement_weight is None else disagreement_weight
        var = video_disagreement(man, result, observed, w, disagreement_mode)
    score = expected_reduction(man, result, objective, held_rule, var)
    labelled_any = (man[:, :, 2] != Visibility.UNLABELLED).any(axis=1)
    if video is not None:
        if len(video) != len(man):
            raise ValueError(f"video descriptors for {len(video)} frames, the track has {len(man)}")
        held = held_ends(man, result, held_rule)
        weight = EVIDENCE_WEIGHT if evidence_weight is None else evidence_weight
        evidence = video_evidence(video, np.flatnonzero(labelled_any))
        weighted = weight_by_evidence(score, evidence, weight)
        top_gap = float(weighted[~held].max()) if (~held).any() else 0.0
        # held ends stay ahead of every gap, in their distance order
        score = np.where(held, score + top_gap, weighted)
    filled = (result.source != Source.MANUAL) & (result.source != Source.NONE)
    filled &= man[:, :, 2] == Visibility.UNLABELLED
    open_frames = filled.any(axis=1)
    if not (score[open_frames] > 0).all() and labelled_any.any():
        # frames with no evidence at all: after every other one, farthest from a label first
        dist = _distance_to_nearest(np.arange(len(man)), np.flatnonzero(labelled_any))
        floor = float(score[score > 0].min()) if (score > 0).any() else 1.0
        tiny = floor * 1e-3 * (1.0 + dist) / (2.0 + float(dist.max()))
        score = np.where(open_frames & ~(score > 0), tiny, score)
    cand = np.flatnonzero(open_frames & (score > 0))
    order = cand[np.lexsort((cand, -score[cand]))]  # ties: earlier frame first
    if top is not None:
        order = order[:top]
    return [(int(k), float(score[k])) for k in order]


def flag_for_review(
    result: FillResult, body_px: float | NDArray[Any], alpha: float = 0.05
) -> NDArray[np.bool_]:
    """(F,) frames where some filled joint's expected error (√(2 x variance), both
    coordinates) exceeds ``alpha`` x body size (per frame or one number)."""
    if result.variance is None:
        return np.zeros(result.frame_count, dtype=bool)
    err = np.sqrt(2.0 * np.nan_to_num(result.variance.astype(np.float64), nan=0.0))
    body = np.broadcast_to(np.asarray(body_px, dtype=np.float64), (result.frame_count,))
    return np.asarray((err > alpha * body[:, None]).any(axis=1), dtype=bool)


# Weight of the video evidence in a ranking (score x (1 + weight x evidence)): chosen on two
# sets of 24 rendered training clips in protocol B with the held-frame rule above
# (docs/benchmarks-efficiency.md, "Held frames next to an absent label").
EVIDENCE_WEIGHT = 4.0


def video_evidence(descriptors: NDArray[Any], labelled: NDArray[Any]) -> NDArray[np.float64]:
    """(F,) how badly straight lines between the labelled frames rebuild the video's per-frame
    descriptors ``(F, M)`` (e.g. K-FPN's pooled backbone features): where the picture changes
    in a way the labels around it do not explain, the pose likely does too. The residual's
    length per frame over its median among frames with any (the length, not its square: on
    training renders protocol B needed 38.3 % of frames against 40.1 %); 0 on labelled frames;
    frames before the first or after the last label are compared with that label."""
    y = np.asarray(descriptors, dtype=np.float64)
    marks = np.unique(np.asarray(labelled, dtype=np.int64))
    f = y.shape[0]
    if len(marks) == 0:
        return np.zeros(f)
    t = np.arange(f)
    i = np.clip(np.searchsorted(marks, t, side="right") - 1, 0, len(marks) - 1)
    a = marks[i]
    b = marks[np.clip(i + 1, 0, len(marks) - 1)]
    w = np.where(b > a, (t - a) / np.maximum(b - a, 1), 0.0)
    w = np.where(t < marks[0], 0.0, w)  # before the first label: held at it
    pred = y[a] * (1.0 - w)[:, None] + y[b] * w[:, None]
    resid = np.sqrt(((y - pred) ** 2).sum(axis=1))
    positive = resid[resid > 0]
    out = resid / float(np.median(positive)) if len(positive) else resid
    return np.asarray(out, dtype=np.float64)


def weight_by_evidence(
    score: NDArray[Any], evidence: NDArray[Any], weight: float = EVIDENCE_WEIGHT
) -> NDArray[np.float64]:
    """A ranking score raised where the video evidence is strong: ``score x (1 + weight x
    evidence)``."""
    return np.asarray(score, dtype=np.float64) * (1.0 + weight * np.asarray(evidence))
