"""The fills that use the video: ``mv`` and ``hpim+mv``, one-shot and live.

``hpim+mv``: the joints propagated along the motion field (``mv.py``, or another registered
propagation method) enter HPIM's solve as noisy observations with their own variance (the
fill engine's ``observations``): in every gap the HPIM fill is the prior mean, its error
covariance given the labels (from the learned variogram, scaled by how fast the joint moves)
the prior covariance, and a Gaussian update weighs the two. Where the video is sure (small
step variance) the fill follows it; where it is not (guessed steps through I-frames, high
residual, the two walks disagreeing) HPIM's prior takes over. Labels stay exact. Without
motion fields it is plain ``hpim``, values and source code.

``LiveFill`` keeps such a fill current under edits: an edit re-propagates only the gaps it
touches and hands the fill engine the same span, so a drag costs the same on a short clip and
a long video.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.core.progress import Progress, ShouldStop
from annotator.dynamics.base import FloatArray, IntArray, Observations, RunFiller
from annotator.dynamics.fill import FillEngine, FillResult, fill_track
from annotator.dynamics.hpim import HpimFiller, make_hpim_filler
from annotator.errors import UsageError
from annotator.propagation.mv import MvFiller, body_extents
from annotator.propagation.registry import Propagator, VideoSource, get
from annotator.video.motion_store import FIELDS, Field

FILL_METHODS: tuple[str, ...] = ("mv", "hpim+mv")
AUTO_FILL = "auto"
FILL_FIELD: Field = "dis"
"""The motion field the video fills walk on by default (``motion_store.FIELDS``): DIS optical
flow on the decoded luma (longer side at most ``flow.DIS_MAX_SIDE``), at twice the codec
store's cell (``motion_cache.flow_cell``). It beats the codec's vectors on every real clip and
render budget of ``bench propagation --fields mv,dis`` at about 13 ms of CPU per 720p frame
against about 5 ms; the gate and the residual row keep reading the codec (``mv``) store they
were trained on."""

FillFunction = Callable[[NDArray[np.float64]], FillResult]

CORRELATION = 9.0
"""How many frames of a walk count as one independent observation in the fusion. A walk's
error is mostly drift shared by neighbouring frames, so its per-frame variances (calibrated as
mean squared errors) overstate what the frames say together; HPIM weighs each at this many
times its variance. 1 / (mean squared error / mean variance) of the uncalibrated walk on the
rendered training clips, where it also gave the best fused PCK at 5-30 % labels."""


CONFLICT = 1.5
"""Weight, in the fused variance, of the squared distance between the fused position and the
propagated one (:class:`HpimMvFiller`). Chosen so that the fused variance is calibrated (mean
squared error over mean variance 1.05) on the 24 rendered *training* clips at 5-30 % labels;
it moves no position."""


WAYPOINT_SD_PX = 6.0
"""A predicted joint (another source's observation, a pose estimator's) whose standard
deviation is at most this many pixels is a waypoint of the walks: they start and end there
as at a label, instead of crossing it. Walks drift (29 px median on taiji across the gaps
between two labels once the Prefill frames between them were no longer anchors, against
7 px from the Prefill frames), while a sure estimate sits within a few pixels of the body.
6 px is what the Prefill confidence model gives a joint at confidence 0.5, the estimator's
own line between seen and not seen (``estimation.prefill``)."""


def waypoints(manual: NDArray[Any], extra: Observations | None) -> NDArray[Any]:
    """The labels the walks start and end at: ``manual`` with the sure joints of ``extra``
    (see ``WAYPOINT_SD_PX``) laid in where a joint has no label (``manual`` itself when
    there are none). Only the walks see them; the fill weighs them as observations."""
    if extra is None:
        return manual
    man = np.asarray(manual)
    sure = (
        (man[:, :, 2] == Visibility.UNLABELLED)
        & np.isfinite(extra.xy).all(axis=2)
        & (extra.variance <= WAYPOINT_SD_PX**2)
    )
    if not sure.any():
        return manual
    out = np.array(man, dtype=np.float64)
    out[sure, :2] = extra.xy[sure]
    out[sure, 2] = Visibility.VISIBLE
    return out


class HpimMvFiller(HpimFiller):
    """HPIM conditioned on the propagated joints, with a variance that also says where the two
    disagreed.

    The Gaussian update's variance only ever shrinks HPIM's, so it cannot say that the video
    and the prior disagree there, which is where one of them is wrong (it underestimated the
    largest errors: mean squared error 3.4 times the mean variance on the training renders).
    ``CONFLICT`` times the squared distance per coordinate between the fused and the observed
    position is added wherever there was an observation; positions are HPIM's, unchanged."""

    source = Source.HPIM_MV

    def fill_run(
        self,
        frames: IntArray,
        values: FloatArray,
        observed: tuple[FloatArray, FloatArray] | None = None,
    ) -> tuple[FloatArray, FloatArray | None]:
        out, var = super().fill_run(frames, values, observed)
        if observed is None or var is None or CONFLICT <= 0:
            return out, var
        d2 = (out - observed[0]) ** 2
        pair = 0.5 * (d2[:, 0::2] + d2[:, 1::2])  # x and y share one variance per joint
        add = np.repeat(np.where(np.isfinite(pair), pair, 0.0), 2, axis=1)
        add[frames - frames[0]] = 0.0  # labels stay certain
        return out, var + CONFLICT * add


def hpim_mv_filler(fps: float | None = None, dictionary: Any = None) -> HpimFiller:
    """An HPIM filler that marks its values ``hpim+mv`` (an :class:`HpimMvFiller`)."""
    return HpimMvFiller(make_hpim_filler(fps=fps, model=dictionary).model, fps)


def _filler(method: str, fps: float | None, dictionary: Any) -> RunFiller:
    if method == "mv":
        return MvFiller()
    if method == "hpim+mv":
        return hpim_mv_filler(fps, dictionary)
    raise UsageError(f"unknown video fill {method!r}; expected one of {', '.join(FILL_METHODS)}")


def _usable(method: str, source: VideoSource, propagator: str | Propagator) -> bool:
    """Whether the propagation method can run on ``source``; ``mv`` cannot do without."""
    method_of = get(propagator) if isinstance(propagator, str) else propagator
    if not method_of.needs_fields or source.fields is not None:
        return True
    if method == "mv":
        raise UsageError("the mv fill needs the video's motion fields (give the video)")
    return False


def fill_with(
    manual: NDArray[Any],
    source: VideoSource,
    method: str = "hpim+mv",
    *,
    fps: float | None = None,
    dictionary: Any = None,
    propagator: str | Propagator = "mv",
    predicted: Observations | None = None,
) -> FillResult:
    """Fill ``manual`` (F, J, 3) with ``method`` (``mv`` or ``hpim+mv``) from ``source``.
    ``hpim+mv`` without usable motion is exactly ``hpim``; ``mv`` raises ``UsageError``.
    ``predicted``: a pose estimator's joints as observations, which ``hpim+mv`` (and its
    ``hpim`` fallback) weighs together with the propagated ones (``fuse_observations``)."""
    extra = predicted if method == "hpim+mv" else None
    method_of = get(propagator) if isinstance(propagator, str) else propagator
    if not _usable(method, source, method_of):
        return fill_track(
            manual,
            "hpim",
            scene_cuts=source.cuts,
            fps=fps,
            dictionary=dictionary,
            observations=extra,
        )
    obs = _weighed(method, method_of.propagate(waypoints(manual, extra), source))
    return fill_track(
        manual,
        _filler(method, fps, dictionary),
        scene_cuts=source.cuts,
        observations=obs if extra is None else fuse_observations(obs, extra),
    )


def _weighed(method: str, obs: Observations) -> Observations:
    """The observations as the method weighs them: ``mv`` reports them as they are; HPIM sees
    them with the walk's correlation (``CORRELATION``)."""
    if method == "mv":
        return obs
    return Observations(obs.xy, obs.variance * CORRELATION)


class LiveFill:
    """``FillEngine`` for the video fills: ``reset(manual)``, ``update(manual, frames)``,
    ``result``; same semantics, the propagation kept in step gap by gap."""

    def __init__(
        self,
        method: str,
        source: VideoSource,
        *,
        fps: float | None = None,
        dictionary: Any = None,
        propagator: str = "mv",
    ) -> None:
        self.source = source
        self._propagator = get(propagator)
        self._video = _usable(method, source, propagator)
        filler = _filler(method, fps, dictionary) if self._video else None
        self.engine = FillEngine(
            "hpim" if filler is None else method,
            fps=fps,
            scene_cuts=source.cuts,
            dictionary=dictionary,
            filler=filler,
        )
        self._method = method
        self._bodies: FloatArray | None = None  # each frame's body extent the walks were sized by
        self._obs: Observations | None = None  # as propagated
        self._seen: Observations | None = None  # as the filler weighs them (``_weighed``)
        self._extra: Observations | None = None  # another source's (a pose estimator's)

    def set_predicted(self, observations: Observations | None) -> None:
        """Observations from another source (a pose estimator's joints, with their own
        variance) for ``hpim+mv`` to weigh too, from the next ``reset``: fused with the
        propagated ones by inverse-variance weighting (``fuse_observations``)."""
        self._extra = observations if self._method == "hpim+mv" else None

    @property
    def result(self) -> FillResult:
        return self.engine.result

    @property
    def observations(self) -> Observations | None:
        """The propagated joints as walked (before the fill's weighting; None without
        motion fields), kept current by ``update``: what ``N`` compares the fill with."""
        return self._obs if self._video else None

    def reset(self, manual: NDArray[Any]) -> FillResult:
        if self._video:
            man = np.asarray(waypoints(manual, self._extra))
            self._bodies = body_extents(man, np.arange(man.shape[0]))
            self._obs = self._propagator.propagate(man, self.source)
            self._seen = _weighed(self._method, self._obs)
            if self._extra is not None:
                self._seen = fuse_observations(self._seen, self._extra)
            self.engine.set_observations(self._seen)
        elif self._extra is not None:  # no motion: plain hpim, which weighs them too
            self.engine.set_observations(self._extra)
        return self.engine.reset(manual)

    def update(
        self,
        manual: NDArray[Any],
        frames: tuple[int, int],
        joints: Sequence[int] | None = None,
    ) -> tuple[int, int]:
        """Labels changed on ``frames`` (inclusive): re-propagate the gaps around them, then
        the fill engine's own update over the same frames. ``joints``: only these joints'
        labels changed (a drag); the fill engine then refills just them (HPIM conditions each
        joint on its own observations, so the others cannot change), which is most of a
        drag step's cost on long gaps. The walks are redone for every joint whose gap
        overlaps the edit (the others' come out as before)."""
        man = np.asarray(manual)
        if self._video and self._obs is not None and self._obs.xy.shape[:2] == man.shape[:2]:
            walk = np.asarray(waypoints(man, self._extra))  # the walks' labels, as in reset
            lo, hi = int(min(frames)), int(max(frames))
            # a drag walks only the dragged joints when the method can (the others' labels,
            # hence their walks, did not change), unless the edit changed the size of the body
            # on its frames: every walk from there is sized by it (walking only the edited
            # joint left the others' walks sized by the body as it was before, so the fill
            # depended on the order the joints were placed in)
            few = joints if getattr(self._propagator, "accepts_joints", False) else None
            if self._bodies_changed(walk, lo, hi):
                few = joints = None
            a, b = _clear_around(self._obs, walk, lo, hi, few)
            extra: dict[str, Any] = {} if few is None else {"joints": list(few)}
            self._propagator.propagate(walk, self.source, only=[(lo, hi)], into=self._obs, **extra)
            if self._seen is not None and self._seen is not self._obs:
                weighed = _weighed(self._method, _frames(self._obs, a, b))
                if self._extra is not None:
                    weighed = fuse_observations(weighed, _frames(self._extra, a, b))
                self._seen.xy[a : b + 1] = weighed.xy
                self._seen.variance[a : b + 1] = weighed.variance
        elif self._video:
            return self._full(man)
        if joints is not None and self._method == "hpim+mv":
            return self.engine.update(man, frames, joints)
        return self.engine.update(man, frames)

    def _bodies_changed(self, man: NDArray[Any], lo: int, hi: int) -> bool:
        """Whether the body extent of a frame in ``lo..hi`` is no longer the one its walks
        were sized by (the record brought up to date)."""
        if self._bodies is None:  # pragma: no cover - set by ``reset`` with the walks
            return True
        now = body_extents(man, np.arange(lo, hi + 1))
        changed = not np.array_equal(self._bodies[lo : hi + 1], now)
        self._bodies[lo : hi + 1] = now
        return changed

    def _full(self, man: NDArray[Any]) -> tuple[int, int]:
        self.reset(man)
        return 0, self.result.frame_count - 1


def fuse_observations(a: Observations, b: Observations) -> Observations:
    """Two sources' observations of the same joints as one (new arrays): where both have
    one, the inverse-variance weighted mean and variance 1 / (1 / va + 1 / vb) (the Gaussian
    product); where one has, that one; NaN where neither has."""
    va = np.where(np.isfinite(a.variance) & np.isfinite(a.xy).all(axis=2), a.variance, np.inf)
    vb = np.where(np.isfinite(b.variance) & np.isfinite(b.xy).all(axis=2), b.variance, np.inf)
    wa = np.where(np.isinf(va), 0.0, 1.0 / np.where(va > 0, va, 1e-12))
    wb = np.where(np.isinf(vb), 0.0, 1.0 / np.where(vb > 0, vb, 1e-12))
    total = wa + wb
    some = total > 0
    safe = np.where(some, total, 1.0)
    xa = np.nan_to_num(a.xy)
    xb = np.nan_to_num(b.xy)
    xy = (xa * wa[..., None] + xb * wb[..., None]) / safe[..., None]
    xy = np.where(some[..., None], xy, np.nan)
    var = np.where(some, 1.0 / safe, np.nan)
    return Observations(np.asarray(xy, dtype=np.float64), np.asarray(var, dtype=np.float64))


def _frames(obs: Observations, a: int, b: int) -> Observations:
    return Observations(obs.xy[a : b + 1], obs.variance[a : b + 1])


def _clear_around(
    obs: Observations,
    man: NDArray[Any],
    lo: int,
    hi: int,
    joints: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Forget the observations of every joint (or of ``joints``) between its last label
    before ``lo`` and its first after ``hi``: the gaps an edit of ``lo..hi`` can change (old
    and new alike). Returns the frames cleared (first, last)."""
    first, last = lo, hi
    labelled = man[:, :, 2] != Visibility.UNLABELLED
    f = man.shape[0]
    for j in range(man.shape[1]) if joints is None else joints:
        before = np.flatnonzero(labelled[:lo, j])
        after = np.flatnonzero(labelled[hi + 1 :, j])
        a = int(before[-1]) if len(before) else 0
        b = hi + 1 + int(after[0]) if len(after) else f - 1
        obs.xy[a : b + 1, j] = np.nan
        obs.variance[a : b + 1, j] = np.nan
        first, last = min(first, a), max(last, b)
    return first, last


clear_around = _clear_around  # for the walks kept beside a labels-only fill (``live_walks.py``)


def hpim_mv_fill(
    manual: NDArray[Any],
    source: VideoSource,
    *,
    fps: float | None = None,
    dictionary: Any = None,
) -> FillResult:
    """``fill_with(..., method="hpim+mv")``."""
    return fill_with(manual, source, "hpim+mv", fps=fps, dictionary=dictionary)


__all__ = [
    "FILL_FIELD",
    "FILL_METHODS",
    "LiveFill",
    "as_field",
    "fill_with",
    "fuse_observations",
    "hpim_mv_fill",
    "hpim_mv_filler",
]


def resolve_fill(fill: str) -> str:
    """``auto``: ``hpim+mv``; any other name as it is. The fill walks ``FILL_FIELD``, an
    optical flow every decodable video has (``--fill-field mv`` on a video without codec
    vectors walks the store's flow fallback), so no video is left to plain ``hpim``; before
    the fill walked a flow, ``auto`` meant ``hpim`` for videos without codec vectors."""
    if fill != AUTO_FILL:
        return fill
    return "hpim+mv"


def video_fill(
    video: Path,
    method: str,
    fps: float | None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    field: str = FILL_FIELD,
) -> str | FillFunction:
    """A fill for joints given on some frames of ``video`` (an estimator's, say): ``method``
    itself for the fills of ``dynamics``; for ``mv`` and ``hpim+mv`` a function that extracts
    the video's motion store of ``field`` (default ``FILL_FIELD``; or opens the cached one) and
    fills along it. Where every frame has a value there is nothing to propagate, so no motion
    is extracted. ``progress`` and ``should_stop`` follow the extraction (``core.progress``)."""
    if method not in FILL_METHODS:
        return method

    def fill(manual: NDArray[np.float64]) -> FillResult:
        from annotator.video.motion_cache import open_motion

        if (manual[..., 2] != Visibility.UNLABELLED).any(axis=1).all():
            return fill_track(manual, "hpim", fps=fps)
        fields = open_motion(
            video, progress=progress, should_stop=should_stop, field=as_field(field)
        )
        source = VideoSource(video=video, fields=fields)
        return fill_with(manual, source, method, fps=fps)

    return fill


def as_field(name: str) -> Field:
    """``name`` as a motion field, or a one-line ``UsageError`` naming the choices."""
    for field in FIELDS:
        if field == name:
            return field
    raise UsageError(f"unknown motion field {name!r}: use {', '.join(FIELDS)}")
