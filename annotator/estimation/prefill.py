"""Prefill: an estimator's joints as a person's predicted layer, and that layer in the fill.

What the app's Prefill action and ``annotator fill`` on a project share, kept free of Qt:

- ``estimate_layer`` runs an estimator (by registry name) on some frames of a video and
  returns the rows of the document's predicted layer: joints in the contract layout (the
  codes of ``observations.py``: visible, occluded, absent, unlabelled) and their confidence,
  with the run's ``Estimates`` (model calls, carried regions). Given a ``carry`` (the
  caller's walk along the video's motion, ``estimation.carry``), a key frame far from the
  last one gets its region carried there, as in ``annotator estimate``; without one, the
  detector's.
- ``low_confidence_flags`` names, per frame, the joints below ``LOW_CONFIDENCE`` so the user
  reviews them.
- ``predicted_observations`` turns the layer into the fill engine's weighted observations
  (``dynamics.base.Observations``), with ``confidence_variance`` as each joint's variance.
- ``fill_inputs`` splits the layer for the fill: a predicted joint between two manual labels
  of its joint (same shot, no ``absent`` label between) is a weighted observation there;
  one where the joint has no label on one side (before its first label, after its last, on a
  joint nobody labelled yet) anchors the fill like a label, so that after Prefill the frames
  between predicted frames are filled too, not only those between the user's labels. A fill
  that weighs no observations (``weighs``: all but hpim and hpim+mv) takes every predicted
  joint without a label as one.
- ``combine`` lays the predicted joints over a fill result: where a joint has a prediction and
  no manual label, the value shown, exported and accepted is the estimator's (source
  ``predicted``, with its confidence); manual labels always win.

Confidence as variance: the standard deviation of a predicted coordinate is taken as
``SD_SURE_PX / c`` pixels for confidence ``c`` (floored at ``MIN_CONFIDENCE``), so a sure
joint (c = 1) counts like a label within 3 px, one at c = 0.5 like one within 6 px, and an
unsure one (c = 0.05, 60 px) barely moves the fill's own prior. 3 px is the size of the
landmark jitter we measured on the real clips (``docs/benchmarks-estimation.md``: the same
clip run twice differs by 1.7 px median; key frames sit 2.3-9.4 px from the every-frame run);
no human ground truth exists to calibrate it further, so it is a stated assumption.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.core.progress import Progress, ShouldStop
from annotator.dynamics.base import Observations
from annotator.dynamics.fill import FillResult
from annotator.errors import UsageError
from annotator.estimation.blazepose import Estimates
from annotator.estimation.carry import Carry
from annotator.estimation.observations import MIN_VISIBILITY, observations
from annotator.estimation.registry import create

# Below this a joint is flagged for review. It is BlazePose's own line between "seen" and
# "not seen" (``observations.MIN_VISIBILITY``, MediaPipe's default for drawing a landmark):
# under it the estimator itself says the point is a guess.
LOW_CONFIDENCE = MIN_VISIBILITY
SD_SURE_PX = 3.0
MIN_CONFIDENCE = 0.05
FLAG_PREFIX = "prefill: low confidence on"


class Layer(NamedTuple):
    """An estimator run as predicted-layer rows: the sorted ``frames`` (K,), their joints
    ``values`` (K, J, 3) and ``confidence`` (K, J), and the run itself (``estimates``)."""

    frames: NDArray[np.int64]
    values: NDArray[np.float32]
    confidence: NDArray[np.float32]
    estimates: Estimates


def estimate_layer(
    video: Any,
    frames: Sequence[int],
    skeleton: str,
    *,
    estimator: str = "blazepose",
    carry: Carry | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> Layer:
    """The estimator on ``frames`` of ``video`` (a frame reader) for the built-in
    ``skeleton``; ``carry``: moves points along the video's motion, so that a key frame far
    from the last one gets its region from there instead of from the detector (None: the
    detector). A skeleton without a joint mapping is a ``UsageError`` (one line for the
    user)."""
    from annotator.estimation.mapping import MAPPINGS

    if skeleton not in MAPPINGS:
        raise UsageError(
            f"the estimator has no joint mapping for the skeleton {skeleton!r}; "
            f"prefill works with {', '.join(sorted(MAPPINGS))}"
        )
    model = create(estimator) if carry is None else create(estimator, carry=carry)
    est = model.run(video, list(frames), progress, should_stop)
    values, confidence = observations(est, int(video.frame_count), skeleton)
    rows = np.asarray(est.frames, dtype=np.int64)
    return Layer(rows, values[rows].astype(np.float32), confidence[rows].astype(np.float32), est)


def low_confidence_flags(
    frames: Sequence[int],
    values: NDArray[Any],
    confidence: NDArray[Any],
    joints: Sequence[str],
    threshold: float = LOW_CONFIDENCE,
) -> dict[int, str]:
    """Frame -> reason naming the predicted joints whose confidence is below ``threshold``
    (frames where every predicted joint is sure are left out)."""
    out: dict[int, str] = {}
    predicted = np.asarray(values)[:, :, 2] != Visibility.UNLABELLED
    conf = np.asarray(confidence, dtype=np.float64)
    low = predicted & np.isfinite(conf) & (conf < threshold)
    for k, frame in enumerate(frames):
        names = [joints[j] for j in np.flatnonzero(low[k]).tolist()]
        if names:
            out[int(frame)] = f"{FLAG_PREFIX} {', '.join(names)} (< {threshold:g})"
    return out


def confidence_variance(confidence: NDArray[Any]) -> NDArray[np.float64]:
    """Variance (px², per coordinate) of a predicted joint from its confidence; NaN where the
    confidence is NaN. See the module docstring for the model."""
    conf = np.asarray(confidence, dtype=np.float64)
    sd = SD_SURE_PX / np.clip(conf, MIN_CONFIDENCE, 1.0)
    return np.asarray(np.where(np.isfinite(conf), sd * sd, np.nan), dtype=np.float64)


def predicted_observations(
    predicted: NDArray[Any], confidence: NDArray[Any]
) -> Observations | None:
    """The predicted joints that have a position, as weighted observations for the fill;
    None when there are none (so the fill runs its plain path)."""
    pred = np.asarray(predicted, dtype=np.float64)
    vis = pred[:, :, 2]
    has = (vis == Visibility.VISIBLE) | (vis == Visibility.OCCLUDED)
    has &= np.isfinite(pred[:, :, :2]).all(axis=2) & np.isfinite(np.asarray(confidence))
    if not has.any():
        return None
    xy = np.where(has[..., None], pred[:, :, :2], np.nan)
    var = np.where(has, confidence_variance(confidence), np.nan)
    return Observations(xy, var)


class FillInputs(NamedTuple):
    """What a fill starts from: ``labels`` (F, J, 3), the manual labels with the anchoring
    predicted joints added (the manual array itself when nothing anchors), the weighted
    ``observations`` (the other predicted joints; None when there are none) and the
    ``anchors`` mask (F, J) of the predicted joints in ``labels`` (None when there are none)."""

    labels: NDArray[Any]
    observations: Observations | None
    anchors: NDArray[np.bool_] | None


# The fills that weigh observations (``dynamics`` hpim, ``propagation`` hpim+mv); every other
# one takes the predicted joints as labels.
WEIGHING_METHODS = ("hpim", "hpim+mv")


def weighs(method: str) -> bool:
    """Whether the fill ``method`` weighs predicted joints as observations."""
    return method in WEIGHING_METHODS


def fill_inputs(
    manual: NDArray[Any],
    predicted: NDArray[Any],
    observations: Observations | None,
    scene_cuts: Sequence[int] = (),
    method: str = "hpim",
) -> FillInputs:
    """Split the predicted layer into anchors and observations (see the module) for the fill
    ``method``. ``observations``: ``predicted_observations`` of the layer (None: nothing
    predicted). A method that does not weigh observations takes every predicted joint with
    no label as one, between labels too (dropped there, the frames the estimator saw were
    filled by the labels alone, off the estimate shown on them)."""
    man = np.asarray(manual)
    if observations is None:
        return FillInputs(man, None, None)
    has = np.isfinite(observations.variance)
    anchors = has & (man[:, :, 2] == Visibility.UNLABELLED)
    if weighs(method):
        anchors &= ~between_labels(man, scene_cuts)
    if not anchors.any():
        return FillInputs(man, observations, None)
    labels = np.array(man, dtype=np.float64)
    labels[anchors] = np.asarray(predicted, dtype=np.float64)[anchors]
    rest = has & ~anchors
    weighed = None
    if rest.any():
        xy = np.where(rest[..., None], observations.xy, np.nan)
        weighed = Observations(xy, np.where(rest, observations.variance, np.nan))
    return FillInputs(labels, weighed, anchors)


def changed_rows(
    before: NDArray[np.bool_] | None, after: NDArray[np.bool_] | None
) -> tuple[int, int] | None:
    """First and last frame (inclusive) where two anchor masks differ; None if nowhere."""
    if before is None and after is None:
        return None
    if before is None or after is None:
        mask = before if after is None else after
        assert mask is not None
        rows = np.flatnonzero(mask.any(axis=1))
    else:
        rows = np.flatnonzero((before != after).any(axis=1))
    return (int(rows[0]), int(rows[-1])) if len(rows) else None


def between_labels(manual: NDArray[Any], scene_cuts: Sequence[int] = ()) -> NDArray[np.bool_]:
    """(F, J): frames strictly between two consecutive manual labels of the joint that both
    have a position, with no scene cut between them (an ``absent`` label between two others
    is a label too, so it breaks the pair): where the fill joins two labels (elsewhere it
    holds a label's value, or knows nothing). Vectorised over frames and joints."""
    codes = np.asarray(manual)[:, :, 2]
    f = codes.shape[0]
    labelled = codes != Visibility.UNLABELLED
    positioned = (codes == Visibility.VISIBLE) | (codes == Visibility.OCCLUDED)
    frames = np.arange(f)[:, None]
    prev = np.maximum.accumulate(np.where(labelled, frames, -1), axis=0)  # last label <= t
    nxt = np.minimum.accumulate(np.where(labelled, frames, f)[::-1], axis=0)[::-1]
    inside = (prev >= 0) & (prev < frames) & (nxt < f) & (nxt > frames)
    cols = np.arange(codes.shape[1])[None, :]
    p, n = np.clip(prev, 0, f - 1), np.clip(nxt, 0, f - 1)
    inside &= positioned[p, cols] & positioned[n, cols]
    if len(scene_cuts):
        shot = np.searchsorted(
            np.sort(np.asarray(scene_cuts, dtype=np.int64)), np.arange(f), "right"
        )
        inside &= shot[p] == shot[n]
    return np.asarray(inside)


def combine(
    result: FillResult,
    manual: NDArray[Any],
    predicted: NDArray[Any],
    confidence: NDArray[Any],
    span: tuple[int, int] | None = None,
    into: FillResult | None = None,
) -> FillResult:
    """``result`` with the predicted joints laid over it where there is no manual label.

    Without ``into``: a new result (arrays copied). With ``into`` (an earlier ``combine``
    output of the same shape): only frames ``span`` (half-open) are rewritten in place, and
    ``into`` is returned. ``confidence`` of the output holds the estimator's confidence where
    the source is ``PREDICTED`` (NaN elsewhere), or is None when nothing was predicted."""
    f = result.frame_count
    lo, hi = span if span is not None else (0, f)
    pred = np.asarray(predicted)[lo:hi]
    conf = np.asarray(confidence, dtype=np.float32)[lo:hi]
    take = (pred[:, :, 2] != Visibility.UNLABELLED) & (
        np.asarray(manual)[lo:hi, :, 2] == Visibility.UNLABELLED
    )
    if into is None:
        variance = None if result.variance is None else result.variance.copy()
        has_any = bool((np.asarray(predicted)[:, :, 2] != Visibility.UNLABELLED).any())
        out = FillResult(
            result.poses.copy(),
            result.source.copy(),
            result.held.copy(),
            variance,
            np.full(result.source.shape, np.nan, dtype=np.float32) if has_any else None,
        )
    else:
        out = into
        out.poses[lo:hi] = result.poses[lo:hi]
        out.source[lo:hi] = result.source[lo:hi]
        out.held[lo:hi] = result.held[lo:hi]
        if out.variance is not None and result.variance is not None:
            out.variance[lo:hi] = result.variance[lo:hi]
        if out.confidence is None and take.any():
            out = replace(out, confidence=np.full(out.source.shape, np.nan, dtype=np.float32))
        if out.confidence is not None:
            out.confidence[lo:hi] = np.nan
    out.poses[lo:hi][take] = pred[take]
    out.source[lo:hi][take] = Source.PREDICTED
    out.held[lo:hi][take] = False
    if out.variance is not None:
        vis = pred[:, :, 2][take]
        has_pos = (vis == Visibility.VISIBLE) | (vis == Visibility.OCCLUDED)
        var = np.where(has_pos, confidence_variance(conf[take]), np.nan)
        out.variance[lo:hi][take] = var.astype(np.float32)
    if out.confidence is not None:
        out.confidence[lo:hi][take] = conf[take]
    return out
