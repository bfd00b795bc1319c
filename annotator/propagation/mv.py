"""The ``mv`` method: every gap between two labels filled by walking the joints along the video.

For each joint and each gap between two labels with a position (never across an ``absent``
label or a scene cut), the joints are walked forward from the label before the gap and backward
from the label after it (``walk.py``). Each walk misses the far label by its accumulated drift;
that miss is spread over the walk in proportion to how uncertain each step was (so a guessed
step through an I-frame takes most of it), which makes both walks end exactly on both labels.
The two corrected walks are then blended with weights that fall with each walk's accumulated
step variance (near a label its own walk dominates).

Per frame and joint the result carries a variance in px² per coordinate, the fill engine's
unit: the blended bridge of step variances (each step's variance grows with the spread of the
vectors it pooled, the residual at the joint and whether it had to be guessed) plus the squared
disagreement of the two corrected walks. :func:`propagate` returns these as the fill engine's
``Observations``; :func:`mv_fill` makes them a fill of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.dynamics.base import IntArray, LinearFiller, Observations
from annotator.dynamics.fill import FillResult, fill_track
from annotator.errors import UsageError
from annotator.propagation.blend_kernel import blend_walks
from annotator.propagation.walk import Walks, walk_many
from annotator.propagation.walk_chunks import walk_store
from annotator.video.motion import MotionFields
from annotator.video.motion_store import MotionStore

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class WalkSettings:
    """How far a step is trusted, and how wide a neighbourhood it reads.

    ``radius``: share of the body size (longest side of the labelled joints' extent) around a
    joint whose cells vote. Step variance (px²) = ``base``² + (``spread_weight`` x spread)² +
    (``residual_weight`` x residual)² + ``guess``² where the step was guessed. ``disagree``:
    weight of the two walks' squared disagreement in the variance. ``scale`` multiplies the
    whole variance so that it is a mean squared error (fit on 24 rendered *training* clips:
    mean squared error over mean variance, ``bench propagation`` prints it on the validation
    set). ``occluded`` (px): added to every step of a walk that starts at an ``occluded``
    label (the cells around an occluded joint move with whatever hides it), so the walk from the
    other label carries the blend.

    The weights were chosen on those training clips (PCK of ``hpim+mv`` at 5-30 % labels):
    the spread as the RMS deviation of all pooled vectors (a wrist over a still background is
    a mixture), a strong disagreement term and the occlusion penalty mattered (a tenth of the
    scored joints lie in gaps with an occluded label, a third of them were misses when such
    gaps were not walked at all); the radius (0.03-0.1) barely did.
    """

    radius: float = 0.04
    base: float = 1.0
    spread_weight: float = 2.0
    residual_weight: float = 0.05
    guess: float = 3.0
    disagree: float = 2.0
    min_radius: float = 12.0
    scale: float = 0.11
    occluded: float = 10.0


DEFAULT_SETTINGS = WalkSettings()


def body_extent(manual: NDArray[Any], frame: int) -> float:
    """Longest side of the labelled joints' extent on ``frame`` (0 when fewer than 2)."""
    return float(body_extents(manual, np.array([frame]))[0])


def body_extents(manual: NDArray[Any], frames: IntArray) -> FloatArray:
    """:func:`body_extent` of each of ``frames``, in one pass."""
    xy = np.asarray(manual[frames, :, :2], dtype=np.float64)  # (n, J, 2)
    codes = np.asarray(manual[frames, :, 2])
    ok = np.isfinite(xy).all(axis=2) & ((codes == Visibility.VISIBLE) | (codes == 2))
    hi = np.where(ok[..., None], xy, -np.inf).max(axis=1)
    lo = np.where(ok[..., None], xy, np.inf).min(axis=1)
    with np.errstate(invalid="ignore"):
        side = (hi - lo).max(axis=1)
    return np.asarray(np.where(ok.sum(axis=1) >= 2, side, 0.0), dtype=np.float64)


def gaps(manual: NDArray[Any], cuts: Sequence[int] = ()) -> dict[tuple[int, int], list[int]]:
    """Gaps of two frames or more between consecutive labels with a position, per joint, that
    no ``absent`` label or scene cut separates: ``{(a, b): joints}``."""
    man = np.asarray(manual)
    codes = man[:, :, 2]
    has_pos = ((codes == Visibility.VISIBLE) | (codes == Visibility.OCCLUDED)) & np.isfinite(
        man[:, :, :2]
    ).all(axis=2)
    labelled = codes != Visibility.UNLABELLED
    cut_arr = np.asarray(sorted(int(c) for c in cuts), dtype=np.int64)
    out: dict[tuple[int, int], list[int]] = {}
    for j in range(man.shape[1]):
        lab = np.flatnonzero(labelled[:, j])
        a, b = lab[:-1], lab[1:]
        # two frames or more apart, a position on both sides, no cut c (between c - 1 and c)
        keep = (b - a >= 2) & has_pos[a, j] & has_pos[b, j]
        keep &= np.searchsorted(cut_arr, a, side="right") == np.searchsorted(cut_arr, b, "right")
        for x, y in zip(a[keep].tolist(), b[keep].tolist(), strict=True):
            out.setdefault((x, y), []).append(j)
    return out


def blend(
    path_f: FloatArray,
    step_f: FloatArray,
    path_b: FloatArray,
    step_b: FloatArray,
    disagree: float,
) -> tuple[FloatArray, FloatArray]:
    """Blend walks over gaps of one length: (n, L + 1, 2) forward positions from the first
    label and backward positions from the last (both in frame order), with per-step variances
    (n, L + 1): ``step_f[:, k]`` for the step into frame k, ``step_b[:, k]`` for the step out of
    frame k + 1 into k (0 in the last column). Returns positions (n, L + 1, 2), exact on both
    labels, and variances (n, L + 1) px²."""
    # one compiled pass (``blend_kernel.py``), the arithmetic of the NumPy form it replaced
    return blend_walks(path_f, step_f, path_b, step_b, disagree)


def _step_variance(
    spread: FloatArray, residual: FloatArray, guessed: NDArray[np.bool_], s: WalkSettings
) -> FloatArray:
    """Per-step variance in px² (callers zero the start row)."""
    v = (
        s.base**2
        + (s.spread_weight * spread) ** 2
        + (s.residual_weight * residual) ** 2
        + np.where(guessed, s.guess**2, 0.0)
    )
    return np.asarray(v, dtype=np.float64)


WINDOW = 512  # frames of a stored field decoded at once (bounds resident memory)


def propagate(
    manual: NDArray[Any],
    fields: MotionFields | MotionStore,
    cuts: Sequence[int] = (),
    settings: WalkSettings = DEFAULT_SETTINGS,
    only: Sequence[tuple[int, int]] | None = None,
    into: Observations | None = None,
    joints: Sequence[int] | None = None,
) -> Observations:
    """Every gap of ``manual`` (F, J, 3) propagated along ``fields``: the fill engine's
    ``Observations`` on the frames strictly inside gaps (NaN elsewhere). ``only`` restricts the
    work to gaps overlapping these inclusive frame spans, ``joints`` to these joints, and
    ``into`` updates an earlier result in place (the live path: an edit recomputes only the
    gaps it touches; a drag, only the dragged joints'). ``fields`` may be a disk
    :class:`MotionStore`: then only about ``WINDOW`` frames of gaps are read at a time (a
    longer gap, a window at a time: ``walk_chunks.py``)."""
    man = np.asarray(manual)
    f, nj = man.shape[:2]
    if len(fields) != f:
        raise UsageError(f"the video has {len(fields)} frames, the labels {f}")
    obs = into or Observations(np.full((f, nj, 2), np.nan), np.full((f, nj), np.nan))
    found = gaps(man, cuts) if only is None else _gaps_near(man, cuts, only)
    if joints is not None:
        keep = set(joints)
        found = {k: [j for j in v if j in keep] for k, v in found.items()}
        found = {k: v for k, v in found.items() if v}
    if not found:
        return obs
    if isinstance(fields, MotionFields):
        _propagate_gaps(man, fields, 0, found, settings, obs)
        return obs
    # a store: gaps in frame order, a window of at most WINDOW frames (or one longer gap) each
    batch: dict[tuple[int, int], list[int]] = {}
    start = 0
    for key in sorted(found):
        if batch and key[1] - start > WINDOW:
            _propagate_window(man, fields, batch, settings, obs)
            batch = {}
        if not batch:
            start = key[0]
        batch[key] = found[key]
    _propagate_window(man, fields, batch, settings, obs)
    return obs


def _propagate_window(
    man: NDArray[Any],
    store: MotionStore,
    found: dict[tuple[int, int], list[int]],
    settings: WalkSettings,
    obs: Observations,
) -> None:
    first = min(a for a, _ in found)
    last = max(b for _, b in found)
    if last - first + 1 <= WINDOW:
        _propagate_gaps(man, store.window(first, last), first, found, settings, obs)
    else:  # one gap longer than a window: walked a window at a time (same steps)
        walker = partial(walk_store, store, span=WINDOW)
        _propagate_gaps(man, walker, 0, found, settings, obs)


def _propagate_gaps(
    man: NDArray[Any],
    fields: MotionFields | Callable[..., Walks],
    first: int,
    found: dict[tuple[int, int], list[int]],
    settings: WalkSettings,
    obs: Observations,
) -> None:
    """Walk and blend the gaps ``found`` into ``obs``; ``fields`` starts at frame ``first``
    (or is a ``walk_many`` without its first argument: ``walk_chunks.walk_store``)."""
    keys = np.asarray(list(found), dtype=np.int64).reshape(-1, 2)
    counts = np.fromiter((len(v) for v in found.values()), dtype=np.int64, count=len(keys))
    label_frames, where = np.unique(keys, return_inverse=True)
    bodies = body_extents(man, label_frames)[where.reshape(-1, 2)].max(axis=1)
    a_arr = np.repeat(keys[:, 0], counts)
    b_arr = np.repeat(keys[:, 1], counts)
    j_arr = np.fromiter(chain.from_iterable(found.values()), dtype=np.int64, count=counts.sum())
    radius = np.repeat(np.maximum(settings.min_radius, settings.radius * bodies), counts)
    n = len(a_arr)
    # the labels' own velocity starts each walk (the backward walks run the other way)
    vel = (man[b_arr, j_arr, :2] - man[a_arr, j_arr, :2]) / (b_arr - a_arr)[:, None]
    walk = partial(walk_many, fields) if isinstance(fields, MotionFields) else fields
    walks = walk(
        np.concatenate([a_arr, b_arr]) - first,
        np.concatenate([b_arr, a_arr]) - first,
        np.concatenate([man[a_arr, j_arr, :2], man[b_arr, j_arr, :2]]).astype(np.float64),
        np.concatenate([radius, radius]),
        np.concatenate([vel, -vel]),
    )
    step = _step_variance(walks.spread, walks.residual, walks.guessed, settings)
    if settings.occluded > 0:
        # a walk that starts at an occluded label starts on its occluder's cells: it counts
        # for little against the walk from the other label
        hidden = np.concatenate([man[a_arr, j_arr, 2], man[b_arr, j_arr, 2]]) == Visibility.OCCLUDED
        per_row = np.repeat(hidden, np.diff(walks.offset))
        step = step + np.where(per_row, settings.occluded**2, 0.0)
    lengths = b_arr - a_arr
    for length in np.unique(lengths):
        idx = np.flatnonzero(lengths == length)
        ramp = np.arange(length + 1)
        rows_f = walks.offset[idx][:, None] + ramp[None, :]
        rows_b = walks.offset[n + idx][:, None] + ramp[None, ::-1]  # in frame order
        step_f = step[rows_f]
        step_f[:, 0] = 0.0
        # backward row for frame k holds the step into k (from k + 1): the frame-order array
        # wants it at column k, and the last column (the start label) has none
        step_b = step[rows_b]
        step_b[:, -1] = 0.0
        xy, var = blend(walks.path[rows_f], step_f, walks.path[rows_b], step_b, settings.disagree)
        at = a_arr[idx][:, None] + ramp[None, 1:-1]
        who = np.repeat(j_arr[idx][:, None], length - 1, axis=1)
        obs.xy[at, who] = xy[:, 1:-1]
        obs.variance[at, who] = settings.scale * var[:, 1:-1]


def _gaps_near(
    man: NDArray[Any], cuts: Sequence[int], spans: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], list[int]]:
    """The gaps overlapping ``spans``, looking only at the labels around them."""
    out: dict[tuple[int, int], list[int]] = {}
    labelled = man[:, :, 2] != Visibility.UNLABELLED
    f = man.shape[0]
    for lo, hi in spans:
        lo, hi = max(0, min(lo, hi)), min(f - 1, max(lo, hi))
        # widen until every joint has a label on each side (or the video ends)
        width = 64
        while True:
            c0 = max(0, lo - width)
            if c0 == 0 or labelled[c0:lo].any(axis=0).all():
                break
            width *= 4
        width = 64
        while True:
            d0 = min(f - 1, hi + width)
            if d0 == f - 1 or labelled[hi + 1 : d0 + 1].any(axis=0).all():
                break
            width *= 4
        part = gaps(man[c0 : d0 + 1], [c - c0 for c in cuts])
        for (a, b), joints in part.items():
            if a + c0 <= hi and b + c0 >= lo:
                out.setdefault((a + c0, b + c0), []).extend(joints)
    return {k: sorted(set(v)) for k, v in out.items()}


propagate_gaps = _propagate_gaps  # for refined walkers (``lk.py``)
gaps_near = _gaps_near


class MvFiller:
    """The ``mv`` fill as a fill-engine method: the observations where there are any (the
    propagated walk), straight lines elsewhere (a gap the video could not cover)."""

    source = Source.MV
    reach = 1
    accepts_observations = True

    def fill_run(
        self,
        frames: IntArray,
        values: FloatArray,
        observed: tuple[FloatArray, FloatArray] | None = None,
    ) -> tuple[FloatArray, FloatArray | None]:
        out, _ = LinearFiller().fill_run(frames, values)
        var = np.full(out.shape, np.nan)
        var[frames - frames[0]] = 0.0
        if observed is not None:
            xy, v = observed
            have = np.isfinite(v) & np.isfinite(xy)
            have[frames - frames[0]] = False  # labels stay exact
            out = np.where(have, xy, out)
            var = np.where(have, v, var)
        return out, var


def mv_fill(
    manual: NDArray[Any],
    fields: MotionFields | MotionStore,
    cuts: Sequence[int] = (),
    settings: WalkSettings = DEFAULT_SETTINGS,
) -> FillResult:
    """The ``mv`` fill of ``manual`` along ``fields``."""
    obs = propagate(manual, fields, cuts, settings)
    return fill_track(manual, MvFiller(), scene_cuts=cuts, observations=obs)
