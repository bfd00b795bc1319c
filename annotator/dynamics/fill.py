"""The fill engine: manual labels of one person in, a position for every frame and joint out.

Rules (CONTRACTS.md): a label is a joint's visibility code on a frame. ``visible`` and
``occluded`` labels with a position are interpolated between; an ``absent`` label is never
crossed (the joint stays absent until the next label with a position); scene cuts are never
crossed; before the first and after the last label of a shot the pose is held and flagged in
``FillResult.held``. A joint with a position on both sides of a frame always gets one there.

Methods (``METHODS``) plug in through ``base.RunFiller``; ``make_filler`` configures one.
``FillEngine`` keeps the current result for the GUI and recomputes only the span an edit
can change (between the ``reach``-th labels around it), which equals a full recompute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.dynamics.base import (
    FloatArray,
    IntArray,
    LinearFiller,
    Observations,
    PchipFiller,
    RunFiller,
)
from annotator.errors import UsageError

METHODS: tuple[str, ...] = ("linear", "pchip", "eq17", "fista", "hpim")
DEFAULT_METHOD = "hpim"

# per-frame kinds inside a group of joints that share their label frames
_UNKNOWN, _MANUAL, _FILLED, _HELD, _ABSENT = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class FillResult:
    """A filled track in the contract's layout.

    ``poses`` (F, J, 3) float32 x, y, visibility code (NaN x, y where there is no position);
    ``source`` (F, J) int8 ``Source`` codes (``MANUAL`` on labels, the method's code where
    filled or held, ``NONE`` where there is no position); ``held`` (F, J) True where the value
    is a copy of the nearest label before the first or after the last label of a shot;
    ``variance`` (F, J) float32 when the method has one: the expected squared error of *each*
    coordinate in pixels² (x and y averaged; 0 on labels, NaN where there is no estimate);
    ``confidence`` (F, J) float32 in 0..1 where a pose estimator gave the value (source
    ``PREDICTED``), NaN elsewhere; None when no value came from an estimator.
    """

    poses: NDArray[np.float32]
    source: NDArray[np.int8]
    held: NDArray[np.bool_]
    variance: NDArray[np.float32] | None = None
    confidence: NDArray[np.float32] | None = None

    @property
    def frame_count(self) -> int:
        return int(self.poses.shape[0])


def make_filler(
    method: str = DEFAULT_METHOD, *, fps: float | None = None, dictionary: Any = None
) -> RunFiller:
    """A configured fill method. ``dictionary`` is a path or a loaded model for the
    dictionary-based methods (their shipped default when None)."""
    if method == "linear":
        return LinearFiller()
    if method == "pchip":
        return PchipFiller()
    if method in ("eq17", "fista"):
        from annotator.dynamics.dyan import make_dyan_filler

        return make_dyan_filler(method, fps=fps, dictionary=dictionary)
    if method == "hpim":
        from annotator.dynamics.hpim import make_hpim_filler

        return make_hpim_filler(fps=fps, model=dictionary)
    raise UsageError(f"unknown fill method {method!r}; expected one of {', '.join(METHODS)}")


def fill_track(
    manual: NDArray[Any],
    method: str | RunFiller = DEFAULT_METHOD,
    *,
    scene_cuts: Sequence[int] = (),
    fps: float | None = None,
    dictionary: Any = None,
    observations: Observations | None = None,
) -> FillResult:
    """Fill one person's track. ``manual`` is (F, J, 3) x, y, visibility code with code 0
    (unlabelled) wherever there is no manual label; ``scene_cuts`` are the first frames of
    new shots. ``observations``: noisy positions between the labels (e.g. propagated along
    the video, or an estimator's) that a method accepting them (``hpim``) weighs against its
    prior; an observation with no weight (NaN or infinite variance) changes nothing."""
    filler = (
        make_filler(method, fps=fps, dictionary=dictionary) if isinstance(method, str) else method
    )
    man = _check_manual(manual)
    obs = _check_observations(observations, filler, man.shape)
    return _fill(man, filler, _check_cuts(scene_cuts, man.shape[0]), obs)


def fill_pose_set(
    ps: PoseSet,
    method: str = DEFAULT_METHOD,
    *,
    scene_cuts: Sequence[int] = (),
    dictionary: Any = None,
) -> PoseSet:
    """A copy of ``ps`` with every instance filled from its ``MANUAL`` values."""
    filler = make_filler(method, fps=ps.fps, dictionary=dictionary)
    cuts = _check_cuts(scene_cuts, ps.frame_count)
    out = []
    for inst in ps.instances:
        res = _fill(manual_of(inst), filler, cuts)
        boxes = None if inst.boxes is None else inst.boxes.copy()
        out.append(PoseInstance(inst.track_id, res.poses, res.source, boxes, res.held))
    return replace(ps, instances=out)


def manual_of(inst: PoseInstance) -> NDArray[np.float64]:
    """The manual labels of an instance: its values where ``source`` is ``MANUAL``."""
    man = np.full(inst.poses.shape, np.nan, dtype=np.float64)
    man[:, :, 2] = Visibility.UNLABELLED
    is_manual = inst.source == Source.MANUAL
    man[is_manual] = inst.poses[is_manual]
    return man


class FillEngine:
    """Holds the current fill of one track and updates it after edits (for the GUI).

    ``reset`` and ``set_method`` make a new ``FillResult``; ``update`` patches the current
    one in place so that an edit costs the same on a 100-frame clip and a 100,000-frame video.
    Read ``result`` again after an update rather than keeping an old one.
    """

    def __init__(
        self,
        method: str = DEFAULT_METHOD,
        fps: float | None = None,
        scene_cuts: Sequence[int] = (),
        dictionary: Any = None,
        filler: RunFiller | None = None,
    ) -> None:
        self._fps = fps
        self._dictionary = dictionary
        self._cuts_arg = tuple(int(c) for c in scene_cuts)
        self.method = method
        self._filler = filler or make_filler(method, fps=fps, dictionary=dictionary)
        self._manual: NDArray[Any] | None = None
        self._result: FillResult | None = None
        self._observations: Observations | None = None

    def set_observations(self, observations: Observations | None) -> None:
        """Observations for the next ``reset`` or ``update`` (read, not copied: an owner that
        changes them in place passes the frames it changed to ``update``)."""
        self._observations = observations

    @property
    def result(self) -> FillResult:
        if self._result is None:
            raise RuntimeError("FillEngine.reset(manual) must be called first")
        return self._result

    def reset(self, manual: NDArray[Any]) -> FillResult:
        """Full recompute from ``manual`` (F, J, 3); a new result (earlier ones are kept)."""
        man = _check_manual(manual)
        obs = _check_observations(self._observations, self._filler, man.shape)
        self._manual = np.asarray(manual)
        self._cuts = _check_cuts(self._cuts_arg, man.shape[0])
        self._result = _fill(man, self._filler, self._cuts, obs)
        return self._result

    def set_method(self, method: str) -> FillResult:
        """Switch method (full recompute when labels are loaded)."""
        self._filler = make_filler(method, fps=self._fps, dictionary=self._dictionary)
        self.method = method
        return self.reset(self._manual) if self._manual is not None else self.result

    def set_scene_cuts(self, scene_cuts: Sequence[int]) -> FillResult | None:
        """New scene cuts (first frames of shots): full recompute when labels are loaded."""
        self._cuts_arg = tuple(int(c) for c in scene_cuts)
        return self.reset(self._manual) if self._manual is not None else None

    def update(
        self,
        manual: NDArray[Any],
        frames: tuple[int, int],
        joints: Sequence[int] | None = None,
    ) -> tuple[int, int]:
        """Labels changed on frames ``frames[0]..frames[1]`` (inclusive); returns the span
        whose values were recomputed. Frames outside it keep their previous values.

        ``joints``: only these joints' labels changed (None: any). Every filler fills each
        joint from its own labels and observations, so the others keep their values and are
        not recomputed: a drag of one joint costs one joint's gaps, not the skeleton's.

        Work is proportional to the span, not to the video: ``manual`` is read, not copied
        (pass the current labels each time), and ``result``'s arrays are updated in place.
        """
        man = np.asarray(manual)
        if self._result is None or self._manual is None or man.shape != self._manual.shape:
            self.reset(man)
            return 0, self.result.frame_count - 1
        f = man.shape[0]
        lo, hi = max(0, int(min(frames))), min(f - 1, int(max(frames)))
        _check_codes(man[lo : hi + 1, :, 2])
        js = np.arange(man.shape[1]) if joints is None else np.unique(np.asarray(joints, int))
        if len(js) == 0:
            return lo, hi
        sub = man if joints is None else man[:, js]
        reach = max(1, int(self._filler.reach))
        a = _reach_before(sub, lo, reach)  # per joint: first frame that may change
        b = _reach_after(sub, hi, reach)
        c0 = int(_reach_before(sub, int(a.min()), reach).min())  # context to recompute it
        d0 = int(_reach_after(sub, int(b.max()), reach).max())
        sub_cuts = self._cuts[(self._cuts > c0) & (self._cuts <= d0)] - c0
        obs = _check_observations(self._observations, self._filler, man.shape)
        sub_obs = None
        if obs is not None:
            xy, var = obs.xy[c0 : d0 + 1], obs.variance[c0 : d0 + 1]
            sub_obs = (
                Observations(xy, var) if joints is None else Observations(xy[:, js], var[:, js])
            )
        part = _fill(
            np.asarray(sub[c0 : d0 + 1], dtype=np.float64), self._filler, sub_cuts, sub_obs
        )
        res = self._result
        if part.variance is not None and res.variance is None:
            res = replace(res, variance=np.full(res.source.shape, np.nan, np.float32))
        for k, j in enumerate(js.tolist()):
            src = slice(int(a[k]) - c0, int(b[k]) + 1 - c0)
            dst = slice(int(a[k]), int(b[k]) + 1)
            res.poses[dst, j] = part.poses[src, k]
            res.source[dst, j] = part.source[src, k]
            res.held[dst, j] = part.held[src, k]
            if res.variance is not None and part.variance is not None:
                res.variance[dst, j] = part.variance[src, k]
        self._manual = man
        self._result = res
        return int(a.min()), int(b.max())


def _reach_before(man: NDArray[np.float64], frame: int, n: int) -> IntArray:
    """Per joint, the frame of the n-th label strictly before ``frame`` (0 if fewer)."""
    width = 64
    while True:
        start = max(0, frame - width)
        lab = man[start:frame, :, 2] != Visibility.UNLABELLED
        if start == 0 or (lab.sum(axis=0) >= n).all():
            break
        width *= 4
    out = np.zeros(man.shape[1], dtype=np.int64)
    for j in range(man.shape[1]):
        idx = np.flatnonzero(lab[:, j])
        if len(idx) >= n:
            out[j] = start + idx[-n]
    return out


def _reach_after(man: NDArray[np.float64], frame: int, n: int) -> IntArray:
    """Per joint, the frame of the n-th label strictly after ``frame`` (last frame if fewer)."""
    f = man.shape[0]
    width = 64
    while True:
        stop = min(f, frame + 1 + width)
        lab = man[frame + 1 : stop, :, 2] != Visibility.UNLABELLED
        if stop == f or (lab.sum(axis=0) >= n).all():
            break
        width *= 4
    out = np.full(man.shape[1], f - 1, dtype=np.int64)
    for j in range(man.shape[1]):
        idx = np.flatnonzero(lab[:, j])
        if len(idx) >= n:
            out[j] = frame + 1 + idx[n - 1]
    return out


def _check_codes(codes: NDArray[np.float64]) -> None:
    if ((codes != 0) & (codes != 1) & (codes != 2) & (codes != 3)).any():
        raise UsageError("visibility codes must be 0, 1, 2 or 3")


def _check_manual(manual: NDArray[Any]) -> NDArray[np.float64]:
    man = np.asarray(manual, dtype=np.float64)
    if man.ndim != 3 or man.shape[2] != 3:
        raise UsageError(f"manual labels must be (frames, joints, 3), not {man.shape}")
    _check_codes(man[:, :, 2])
    return man


def _check_observations(
    obs: Observations | None, filler: RunFiller, shape: tuple[int, ...]
) -> Observations | None:
    if obs is None:
        return None
    if not getattr(filler, "accepts_observations", False):
        raise UsageError(f"the {filler.source.label} fill does not take observations")
    if obs.xy.shape != (shape[0], shape[1], 2):
        raise UsageError(
            f"observations cover {obs.xy.shape[:2]} frames x joints, the labels {shape[:2]}"
        )
    return obs


def _check_cuts(cuts: Sequence[int] | IntArray, frame_count: int) -> IntArray:
    arr = np.unique(np.asarray(list(cuts), dtype=np.int64))
    return arr[(arr > 0) & (arr < frame_count)]


def _fill(
    man: NDArray[np.float64],
    filler: RunFiller,
    cuts: IntArray,
    observations: Observations | None = None,
) -> FillResult:
    f, nj, _ = man.shape
    codes = man[:, :, 2].astype(np.int64)
    has_pos = ((codes == Visibility.VISIBLE) | (codes == Visibility.OCCLUDED)) & np.isfinite(
        man[:, :, :2]
    ).all(axis=2)
    # a visible/occluded code without coordinates cannot anchor a fill: treat as unlabelled
    absent = codes == Visibility.ABSENT
    poses = np.full((f, nj, 3), np.nan, dtype=np.float32)
    poses[:, :, 2] = Visibility.UNLABELLED
    source = np.full((f, nj), Source.NONE, dtype=np.int8)
    held = np.zeros((f, nj), dtype=bool)
    variance: NDArray[np.float32] | None = None
    # joints that share their label frames are filled together (the usual case)
    groups: dict[bytes, list[int]] = {}
    for j in range(nj):
        key = np.packbits(has_pos[:, j]).tobytes() + np.packbits(absent[:, j]).tobytes()
        groups.setdefault(key, []).append(j)
    for joints in groups.values():
        # one group of consecutive joints (the usual case) is a slice: no fancy-index copies
        js: slice | IntArray = (
            slice(joints[0], joints[-1] + 1)
            if joints == list(range(joints[0], joints[-1] + 1))
            else np.asarray(joints)
        )
        pos_frames = np.flatnonzero(has_pos[:, joints[0]])
        abs_frames = np.flatnonzero(absent[:, joints[0]])
        obs = None
        if observations is not None:
            obs = (observations.xy[:, js], observations.variance[:, js])
        xy, var, kind, prev_i, next_i = _fill_group(
            man[:, js, :2], pos_frames, abs_frames, cuts, filler, obs
        )
        poses[:, js, :2] = xy
        if var is not None:
            if variance is None:
                variance = np.full((f, nj), np.nan, dtype=np.float32)
            variance[:, js] = var
        # visibility: a label's own code; filled frames are visible only between two visible
        # labels; held frames take the held label's code
        label_codes = codes[pos_frames][:, js] if len(pos_frames) else np.zeros((1, len(joints)))
        label_vis = label_codes == Visibility.VISIBLE
        filled = (kind == _FILLED)[:, None]
        is_held = (kind == _HELD)[:, None]
        is_manual = (kind == _MANUAL)[:, None]
        both = label_vis[prev_i] & label_vis[next_i]
        vis = np.where(filled, np.where(both, Visibility.VISIBLE, Visibility.OCCLUDED), 0)
        vis = np.where(is_held, label_codes[prev_i], vis)
        vis = np.where((kind == _ABSENT)[:, None], Visibility.ABSENT, vis)
        vis = np.where(is_manual, codes[:, js], vis)
        poses[:, js, 2] = vis
        src = np.where(filled | is_held, np.int8(filler.source), np.int8(Source.NONE))
        src = np.where(is_manual | absent[:, js], np.int8(Source.MANUAL), src)
        source[:, js] = src
        held[:, js] = is_held
    return FillResult(poses, source, held, variance)


def _fill_group(
    xy: NDArray[np.float64],
    pos_frames: IntArray,
    abs_frames: IntArray,
    cuts: IntArray,
    filler: RunFiller,
    observations: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> tuple[FloatArray, FloatArray | None, IntArray, IntArray, IntArray]:
    """Fill joints sharing label frames. Returns xy (F, Jg, 2), variance (F, Jg) or None, the
    per-frame kind, and per frame the index (into ``pos_frames``) of the label whose value or
    visibility it follows before and after (kind-dependent)."""
    f, ng, _ = xy.shape
    out = np.full((f, ng, 2), np.nan)
    var: FloatArray | None = None
    kind = np.full(f, _UNKNOWN, dtype=np.int64)
    prev_i = np.zeros(f, dtype=np.int64)
    next_i = np.zeros(f, dtype=np.int64)
    # absent spans: from an absent label to the next label with a position, cut or absent label
    stops = np.concatenate([pos_frames, cuts, abs_frames, [f]])
    for z in abs_frames:
        end = int(stops[stops > z].min())
        kind[z:end] = _ABSENT
    if len(pos_frames) == 0:
        return out, var, kind, prev_i, next_i
    # runs: split the positioned labels at absent labels and cuts
    breaks = np.concatenate([abs_frames, cuts - 0.5])  # a cut c lies between c - 1 and c
    breaks.sort()
    seg = np.searchsorted(breaks, pos_frames)
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    ends = np.r_[starts[1:], len(pos_frames)]
    flat = xy.reshape(f, ng * 2)
    for s, e in zip(starts, ends, strict=True):
        frames = pos_frames[s:e]
        a, b = int(frames[0]), int(frames[-1])
        k = int(seg[s])
        left = breaks[k - 1] if k > 0 else -0.5
        right = breaks[k] if k < len(breaks) else float(f)
        if len(frames) >= 2:
            observed = _run_observations(observations, a, b)
            if observed is None:
                vals, v = filler.fill_run(frames, flat[frames])
            else:  # only fillers with accepts_observations get here (_check_observations)
                vals, v = filler.fill_run(frames, flat[frames], observed)  # type: ignore[call-arg]
            out[a : b + 1] = vals.reshape(b - a + 1, ng, 2)
            kind[a : b + 1] = _FILLED
            idx = np.searchsorted(frames, np.arange(a, b + 1), side="right") - 1
            prev_i[a : b + 1] = s + np.minimum(idx, len(frames) - 2)
            next_i[a : b + 1] = prev_i[a : b + 1] + 1
            if v is not None:
                if var is None:
                    var = np.full((f, ng), np.nan)
                var[a : b + 1] = v.reshape(b - a + 1, ng, 2).mean(axis=2)
        out[frames] = xy[frames]
        kind[frames] = _MANUAL
        # held before the run unless an absent label precedes it (then it stays absent)
        left_absent = k > 0 and float(left).is_integer() and left in abs_frames
        lo = int(np.ceil(left))
        if not left_absent and lo < a:
            out[lo:a] = xy[a]
            kind[lo:a] = _HELD
            prev_i[lo:a] = s
        hi = int(np.ceil(right)) - 1 if float(right).is_integer() else int(np.floor(right))
        if b < hi:
            out[b + 1 : hi + 1] = xy[b]
            kind[b + 1 : hi + 1] = _HELD
            prev_i[b + 1 : hi + 1] = e - 1
    if var is not None:
        var[kind == _MANUAL] = 0.0  # a label is certain, whichever run made ``var``
    return out, var, kind, prev_i, next_i


def _run_observations(
    observations: tuple[NDArray[np.float64], NDArray[np.float64]] | None, a: int, b: int
) -> tuple[FloatArray, FloatArray] | None:
    """A run's observations as (span, K) columns in (x, y) pairs, or None when it has none
    with weight (so the method's plain path runs, unchanged)."""
    if observations is None:
        return None
    xy, var = observations[0][a : b + 1], observations[1][a : b + 1]
    weighty = np.isfinite(var) & (var < np.inf) & np.isfinite(xy).all(axis=2)
    if not weighty.any():
        return None
    span, ng = var.shape
    v = np.where(weighty, var, np.nan)
    cols = np.where(weighty[..., None], xy, np.nan).reshape(span, ng * 2)
    return np.asarray(cols, dtype=np.float64), np.repeat(v, 2, axis=1).astype(np.float64)


def save_fill_npz(path: str | Path, result: FillResult) -> None:
    """Write a fill in the contract's npz layout."""
    from annotator.core.codes import SOURCE_NAMES

    arrays: dict[str, Any] = {
        "poses": result.poses.astype(np.float32),
        "source": result.source.astype(np.int8),
        "source_names": np.asarray(SOURCE_NAMES),
        "held": result.held,
    }
    if result.variance is not None:
        arrays["variance"] = result.variance.astype(np.float32)
    if result.confidence is not None:
        arrays["confidence"] = result.confidence.astype(np.float32)
    from annotator.core.safeio import atomic_savez
    from annotator.errors import UsageError

    atomic_savez(path, arrays, True, UsageError)
