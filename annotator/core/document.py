"""The annotation document: manual labels, frame-level states and fine-grained change events.

One ``Document`` per video. Each instance (a person, with a track id and a skeleton) owns a
float32 array ``(frames, joints, 3)`` of manual labels in the contract layout: x, y and the
visibility code; x and y are NaN where the joint has no position (unlabelled or absent). Only
these labels are authoritative: filled values are derived by the fill engine and only become
labels through an "accept fill" command.

Each instance also owns a *predicted* layer, kept apart from its manual labels: a pose
estimator's joints (same layout) with their confidence (frames, joints) in 0..1, NaN where the
estimator gave no value. Predicted joints are a guess to correct: the fill weighs them as
observations, the views draw them apart, and they become labels only through a command that
writes manual labels (a drag, accepting the frame).

Frame-level state (proposals, gate decisions, flags, reviews, scene cuts) is shared by all
instances. Settings are a small JSON-able dict saved with the project.

``residual_energy`` (one float per frame, NaN where unknown) is derived, not authored: the
mean motion-compensated residual of each frame, computed from the video's motion fields when
they arrive. It lives here so that every view (timeline rows, benchmarks) reads it from one
place, but it is neither saved with the project nor undoable: the fields are cached by video
fingerprint, so reopening a project derives it again in milliseconds.

The mutators below (``write_labels``, ``set_proposals`` ...) change the data and emit a
``Change``; the GUI calls them only through commands (``annotator.core.commands``) so that every
edit can be undone. A ``Change`` names what changed (kind, instance, half-open frame span,
joints) so that views and the fill engine recompute just that span.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.skeleton import Skeleton
from annotator.errors import ProjectError

log = logging.getLogger(__name__)

MAX_FRAMES = 10_000_000  # ~ 4 days at 30 fps; arrays beyond this are refused, not allocated
MAX_INSTANCES = 256
FILL_METHOD_SETTING = "fill_method"  # the project setting: the fill method chosen in the app
COORD_DECIMALS = 3  # positions are kept to 1/1000 pixel, so files store short exact decimals
ChangeKind = Literal[
    "labels", "proposals", "review", "flags", "scene_cuts", "instances", "gate", "settings",
    "video", "residual", "predicted",
]  # fmt: skip
FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class VideoRef:
    """The video a document annotates. Timestamps live on the ``Document``.

    ``fps``, ``width`` and ``height`` are 0 when unknown (e.g. labels imported without a video).
    """

    path: str
    fingerprint: str | None
    frame_count: int
    fps: float
    width: int
    height: int


@dataclass(frozen=True)
class Instance:
    """One person: a track id (stable across saves) and the skeleton its labels use."""

    track_id: int
    skeleton: Skeleton


@dataclass(frozen=True)
class Proposals:
    """Key frames proposed for labelling (sorted, unique) with optional scores.

    ``scores`` follows the proposals contract: one score per *video* frame (K-FPN scores every
    frame, and the timeline draws them as a curve), not one per proposed frame. The document
    checks the length against its frame count when the proposals are set.
    """

    frames: tuple[int, ...]
    scores: tuple[float, ...] | None
    method: str

    def __post_init__(self) -> None:
        if list(self.frames) != sorted(set(self.frames)):
            raise ValueError("proposal frames must be sorted and unique")
        if self.scores is not None:
            if self.frames and len(self.scores) <= self.frames[-1]:
                raise ValueError(
                    f"proposals need one score per video frame: {len(self.scores)} scores "
                    f"for a proposed frame {self.frames[-1]}"
                )
            if not all(math.isfinite(s) for s in self.scores):
                raise ValueError("proposal scores must be finite")

    def score_of(self, frame: int) -> float | None:
        """The score of one video frame (None without scores)."""
        return None if self.scores is None else self.scores[frame]


@dataclass(frozen=True)
class Review:
    """A frame marked as reviewed: by whom and when (ISO 8601, UTC)."""

    by: str
    at: str


@dataclass(frozen=True)
class Change:
    """What an edit changed; ``frames`` is a half-open span ``(start, stop)``.

    ``None`` means "all" (all frames, all joints) or "not applicable" (no instance for
    frame-level kinds).
    """

    kind: str
    instance: int | None = None
    frames: tuple[int, int] | None = None
    joints: tuple[int, ...] | None = None
    # "instances": ("insert" | "remove", position), so the journal records one person, not all
    op: tuple[str, int] | None = None


@dataclass(frozen=True)
class FrameStates:
    """Per-frame state of one instance, as (frames,) arrays, for timelines and navigation."""

    labelled: NDArray[np.bool_]  # every joint has a manual label
    partial: NDArray[np.bool_]  # some but not all joints labelled
    proposed: NDArray[np.bool_]
    filled: NDArray[np.bool_]  # given by the caller (the fill engine owns filled values)
    flagged: NDArray[np.bool_]
    reviewed: NDArray[np.bool_]
    scene_cut: NDArray[np.bool_]  # a new shot starts at this frame
    gate: NDArray[np.int8]  # -1 no decision, 0 rejected, 1 accepted
    labelled_joints: NDArray[np.int32]  # manual joints per frame


def empty_labels(frame_count: int, num_joints: int) -> FloatArray:
    """An all-unlabelled label array (NaN positions, visibility 0)."""
    arr = np.full((frame_count, num_joints, 3), np.nan, dtype=np.float32)
    arr[:, :, 2] = Visibility.UNLABELLED
    return arr


def normalize_labels(values: ArrayLike) -> FloatArray:
    """Check label values ``(..., 3)``, blank x, y for states without a position and round
    positions to ``COORD_DECIMALS`` (1/1000 pixel).

    Raises ``ValueError`` for unknown visibility codes or a missing position on a visible or
    occluded joint (callers turn this into a user-facing error where the user can cause it).
    """
    arr = np.array(values, dtype=np.float32, copy=True)
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ValueError(f"label values must end in (x, y, visibility), not shape {arr.shape}")
    vis = arr[..., 2]
    # Plain comparisons: np.isin costs ~100 µs per call, too much for every drag step.
    if not ((vis == 0) | (vis == 1) | (vis == 2) | (vis == 3)).all():
        raise ValueError("visibility codes must be 0, 1, 2 or 3")
    has_pos = (vis == 1) | (vis == 2)  # visible, occluded
    xy = arr[..., :2]
    if (has_pos & ~np.isfinite(xy).all(axis=-1)).any():
        raise ValueError("visible and occluded joints need finite x and y")
    xy[~has_pos] = np.nan
    xy[...] = np.round(xy.astype(np.float64), COORD_DECIMALS)
    return arr


def empty_confidence(frame_count: int, num_joints: int) -> NDArray[np.float32]:
    """An all-NaN confidence array (no estimator value anywhere)."""
    return np.full((frame_count, num_joints), np.nan, dtype=np.float32)


def predicted_layer(
    inst: PoseInstance, exclude: NDArray[np.bool_] | None = None
) -> tuple[FloatArray, NDArray[np.float32]] | None:
    """The instance's values whose source is PREDICTED (with a position, or ``absent``) as a
    predicted layer and its confidence, leaving out the ``exclude`` (frames, joints) cells; None
    when there are none."""
    has_pos = inst.has_position() | (inst.poses[:, :, 2] == Visibility.ABSENT)
    predicted = (inst.source == Source.PREDICTED) & has_pos
    if exclude is not None:
        predicted &= ~exclude
    if not predicted.any():
        return None
    frames, joints = inst.source.shape
    pred = empty_labels(frames, joints)
    pred[predicted] = inst.poses[predicted]
    conf = empty_confidence(frames, joints)
    if inst.confidence is not None:
        conf[predicted] = inst.confidence[predicted]
    return pred, conf


def normalize_confidence(values: ArrayLike, predicted: FloatArray) -> NDArray[np.float32]:
    """Check a confidence block against its predicted block: finite values in 0..1 where a
    joint was predicted (any code but unlabelled), NaN elsewhere. Raises ``ValueError``."""
    conf = np.array(values, dtype=np.float32, copy=True)
    if conf.shape != predicted.shape[:-1]:
        raise ValueError(f"confidence has shape {conf.shape}, expected {predicted.shape[:-1]}")
    known = predicted[..., 2] != Visibility.UNLABELLED
    finite = np.isfinite(conf)
    if (finite & ((conf < 0) | (conf > 1))).any():
        raise ValueError("confidence must lie in 0..1")
    conf[~known] = np.nan
    return conf


def _readonly(arr: NDArray[Any]) -> NDArray[Any]:
    view: NDArray[Any] = arr.view()
    view.flags.writeable = False
    return view


class Document:
    """Labels and frame-level state of one video; see the module docstring."""

    def __init__(
        self, video: VideoRef, skeleton: Skeleton, timestamps: ArrayLike | None = None
    ) -> None:
        frames = int(video.frame_count)
        if not 1 <= frames <= MAX_FRAMES:
            raise ProjectError(f"a video must have 1 to {MAX_FRAMES} frames, not {frames}")
        self._video = video
        self._skeleton = skeleton
        self._timestamps = _check_timestamps(timestamps, frames, video.fps)
        self._instances: list[Instance] = []
        self._labels: list[FloatArray] = []
        self._counts: list[NDArray[np.int32]] = []  # manual joints per frame, per instance
        self._predicted: list[FloatArray] = []  # the estimator's joints, per instance
        self._confidence: list[NDArray[np.float32]] = []  # (frames, joints) 0..1, NaN none
        self._proposals: Proposals | None = None
        self._gate = np.full(frames, -1, dtype=np.int8)
        self._residual = np.full(frames, np.nan, dtype=np.float32)
        self._flags: dict[int, str] = {}
        self._reviews: dict[int, Review] = {}
        self._scene_cuts: set[int] = set()
        self._settings: dict[str, Any] = {}
        self._subscribers: list[Callable[[Change], None]] = []

    # ----------------------------------------------------------------- construction
    @classmethod
    def new(
        cls, video: VideoRef, skeleton: Skeleton, timestamps: ArrayLike | None = None
    ) -> Document:
        """An empty document with one instance (track id 0)."""
        doc = cls(video, skeleton, timestamps)
        doc.insert_instance(0, Instance(0, skeleton))
        return doc

    @classmethod
    def from_pose_set(cls, ps: PoseSet, video: VideoRef | None = None) -> Document:
        """Values whose source is MANUAL become manual labels; values whose source is
        PREDICTED (a model's output, e.g. DeepLabCut likelihood columns) become the person's
        predicted layer with their confidence; everything else (fills) is dropped.

        ``ps`` must fit a project (``schema.check_pose_set``): a document that could be saved
        but not loaded again would lose the user's work.
        """
        from annotator.core.schema import check_pose_set

        check_pose_set(ps, "the labels")
        if video is None:
            video = VideoRef(
                path=ps.video_path or "",
                fingerprint=None,
                frame_count=ps.frame_count,
                fps=float(ps.fps or 0.0),
                width=int(ps.width or 0),
                height=int(ps.height or 0),
            )
        elif video.frame_count != ps.frame_count:
            raise ProjectError(
                f"the labels cover {ps.frame_count} frames but the video has {video.frame_count}"
            )
        doc = cls(video, ps.skeleton, ps.timestamps)
        for inst in ps.instances or [PoseInstance.empty(0, ps.frame_count, ps.skeleton.num_joints)]:
            labels = empty_labels(ps.frame_count, ps.skeleton.num_joints)
            manual = inst.source == Source.MANUAL
            poses = inst.poses.copy()
            # Manual values must be coherent: a position-less visible joint becomes unlabelled.
            has_pos = inst.has_position()
            vis = poses[:, :, 2]
            keep = manual & (has_pos | (vis == Visibility.ABSENT))
            labels[keep] = poses[keep]
            pred, conf = predicted_layer(inst, exclude=keep) or (None, None)
            try:
                doc.insert_instance(
                    len(doc.instances), Instance(inst.track_id, ps.skeleton), labels, pred, conf
                )
            except ValueError as err:
                raise ProjectError(f"instance {inst.track_id}: {err}") from None
        return doc

    def to_pose_set(self) -> PoseSet:
        """Manual labels only: source MANUAL where labelled, NONE elsewhere."""
        for inst in self._instances:
            if inst.skeleton != self._skeleton:
                raise ProjectError(
                    f"instance {inst.track_id} uses skeleton {inst.skeleton.name!r}, not "
                    f"{self._skeleton.name!r}; a PoseSet holds one skeleton"
                )
        instances = []
        for inst, labels in zip(self._instances, self._labels, strict=True):
            source = np.where(labels[:, :, 2] != Visibility.UNLABELLED, Source.MANUAL, Source.NONE)
            instances.append(PoseInstance(inst.track_id, labels.copy(), source.astype(np.int8)))
        v = self._video
        return PoseSet(
            skeleton=self._skeleton,
            frame_count=self.frame_count,
            instances=instances,
            fps=v.fps or None,
            timestamps=self._timestamps.copy(),
            width=v.width or None,
            height=v.height or None,
            video_path=v.path or None,
        )

    # ----------------------------------------------------------------- reading
    @property
    def video(self) -> VideoRef:
        return self._video

    @property
    def skeleton(self) -> Skeleton:
        """The project's skeleton (new instances use it)."""
        return self._skeleton

    @property
    def frame_count(self) -> int:
        return self._video.frame_count

    @property
    def timestamps(self) -> NDArray[np.float64]:
        """(frames,) presentation time of each frame in seconds (read-only)."""
        return _readonly(self._timestamps)

    def time(self, frame: int) -> float:
        return float(self._timestamps[frame])

    @property
    def instances(self) -> tuple[Instance, ...]:
        return tuple(self._instances)

    def manual(self, instance: int = 0) -> FloatArray:
        """Live read-only view (frames, joints, 3) of the manual labels; copy to keep."""
        return _readonly(self._labels[instance])

    def predicted(self, instance: int = 0) -> FloatArray:
        """Live read-only view (frames, joints, 3) of the predicted layer (the estimator's
        joints, contract layout; code 0 where nothing was predicted); copy to keep."""
        return _readonly(self._predicted[instance])

    def confidence(self, instance: int = 0) -> NDArray[np.float32]:
        """Live read-only view (frames, joints) of the predicted joints' confidence in 0..1,
        NaN where nothing was predicted."""
        return _readonly(self._confidence[instance])

    def predicted_frames(self, instance: int = 0) -> NDArray[np.int64]:
        """Frames with at least one predicted joint (sorted)."""
        return np.flatnonzero((self._predicted[instance][:, :, 2] != Visibility.UNLABELLED).any(1))

    def label(self, instance: int, frame: int, joint: int) -> tuple[float, float, Visibility]:
        x, y, v = self._labels[instance][frame, joint]
        return float(x), float(y), Visibility(int(v))

    def source(self, instance: int = 0) -> NDArray[np.int8]:
        """(frames, joints) MANUAL where labelled, NONE elsewhere (fills are not stored here)."""
        vis = self._labels[instance][:, :, 2]
        return np.where(vis != Visibility.UNLABELLED, Source.MANUAL, Source.NONE).astype(np.int8)

    def labelled_joint_counts(self, instance: int = 0) -> NDArray[np.int32]:
        return _readonly(self._counts[instance])

    def labelled_frames(self, instance: int = 0) -> NDArray[np.int64]:
        """Frames with at least one manual joint (sorted)."""
        return np.flatnonzero(self._counts[instance] > 0)

    def nearest_labelled(
        self, frame: int, direction: Literal["previous", "next"], instance: int = 0
    ) -> int | None:
        """The closest frame before (or after) ``frame`` that has any manual joint."""
        counts = self._counts[instance]
        if direction == "previous":
            hits = np.flatnonzero(counts[:frame] > 0)
            return int(hits[-1]) if hits.size else None
        hits = np.flatnonzero(counts[frame + 1 :] > 0)
        return int(hits[0]) + frame + 1 if hits.size else None

    @property
    def proposals(self) -> Proposals | None:
        return self._proposals

    @property
    def gate(self) -> NDArray[np.int8]:
        """(frames,) gate decisions: -1 none, 0 rejected, 1 accepted (read-only)."""
        return _readonly(self._gate)

    @property
    def residual_energy(self) -> NDArray[np.float32]:
        """(frames,) mean motion-compensated residual per frame (luma 0..255), NaN where
        unknown (no motion fields yet, frame 0, intra frames); derived, never saved."""
        return _readonly(self._residual)

    @property
    def flags(self) -> Mapping[int, str]:
        """Frames flagged for review -> reason."""
        return dict(self._flags)

    @property
    def reviews(self) -> Mapping[int, Review]:
        return dict(self._reviews)

    @property
    def scene_cuts(self) -> tuple[int, ...]:
        """Frames that start a new shot (fills never cross them), sorted."""
        return tuple(sorted(self._scene_cuts))

    @property
    def settings(self) -> Mapping[str, Any]:
        return dict(self._settings)

    def frame_states(self, instance: int = 0, filled: ArrayLike | None = None) -> FrameStates:
        """All frame states of ``instance`` as arrays; ``filled`` is the fill engine's mask."""
        n = self.frame_count
        counts = self._counts[instance]
        joints = self._instances[instance].skeleton.num_joints

        def mask(frames: Iterable[int]) -> NDArray[np.bool_]:
            out = np.zeros(n, dtype=bool)
            idx = np.fromiter(frames, dtype=np.int64)
            out[idx] = True
            return out

        filled_mask = np.zeros(n, dtype=bool)
        if filled is not None:
            f = np.asarray(filled)
            filled_mask = (f.reshape(n, -1) != 0).any(axis=1) if f.ndim > 1 else f.astype(bool)
        return FrameStates(
            labelled=counts == joints,
            partial=(counts > 0) & (counts < joints),
            proposed=mask(self._proposals.frames if self._proposals else ()),
            filled=filled_mask,
            flagged=mask(self._flags),
            reviewed=mask(self._reviews),
            scene_cut=mask(self._scene_cuts),
            gate=self._gate.copy(),
            labelled_joints=counts.copy(),
        )

    # ----------------------------------------------------------------- events
    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``callback(change)`` after every change; returns the unsubscribe function."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, change: Change) -> None:
        for callback in list(self._subscribers):
            try:
                callback(change)
            except Exception:  # a broken view must not stop the others or the edit
                log.exception("document subscriber %r failed on %r", callback, change)

    # ----------------------------------------------------------------- mutators
    # Called by commands (for undo), the loader and the recovery journal.
    def write_labels(
        self,
        instance: int,
        start: int,
        values: ArrayLike,
        joints: Sequence[int] | None = None,
    ) -> None:
        """Overwrite labels of frames ``start..start+n`` (and only ``joints`` if given)."""
        labels = self._labels[instance]
        arr = normalize_labels(values)
        if arr.ndim != 3:
            raise ValueError(f"label block must be (frames, joints, 3), not {arr.shape}")
        n = arr.shape[0]
        stop = start + n
        if start < 0 or stop > labels.shape[0] or n == 0:
            raise ValueError(f"frames {start}..{stop} outside 0..{labels.shape[0]}")
        width = labels.shape[1] if joints is None else len(joints)
        if arr.shape[1] != width:
            raise ValueError(f"label block has {arr.shape[1]} joints, expected {width}")
        if joints is None:
            labels[start:stop] = arr
            changed: tuple[int, ...] | None = None
        else:
            jidx = np.asarray(joints, dtype=np.int64)
            if jidx.size and (jidx.min() < 0 or jidx.max() >= labels.shape[1]):
                raise ValueError("joint index out of range")
            labels[start:stop, jidx] = arr
            changed = tuple(int(j) for j in joints)
        self._counts[instance][start:stop] = (labels[start:stop, :, 2] != 0).sum(axis=1)
        self._emit(Change("labels", instance, (start, stop), changed))

    def write_predicted(
        self, instance: int, start: int, values: ArrayLike, confidence: ArrayLike
    ) -> None:
        """Overwrite the predicted layer of frames ``start..start+n`` (values and confidence)."""
        layer = self._predicted[instance]
        arr = normalize_labels(values)
        if arr.ndim != 3 or arr.shape[1:] != layer.shape[1:] or arr.shape[0] == 0:
            raise ValueError(f"predicted block {arr.shape} does not fit (n, {layer.shape[1]}, 3)")
        stop = start + arr.shape[0]
        if start < 0 or stop > layer.shape[0]:
            raise ValueError(f"frames {start}..{stop} outside 0..{layer.shape[0]}")
        conf = normalize_confidence(confidence, arr)
        layer[start:stop] = arr
        self._confidence[instance][start:stop] = conf
        self._emit(Change("predicted", instance, (start, stop)))

    def insert_instance(
        self,
        index: int,
        instance: Instance,
        labels: ArrayLike | None = None,
        predicted: ArrayLike | None = None,
        confidence: ArrayLike | None = None,
    ) -> None:
        if len(self._instances) >= MAX_INSTANCES:
            raise ValueError(f"a document holds at most {MAX_INSTANCES} instances")
        if any(i.track_id == instance.track_id for i in self._instances):
            raise ValueError(f"track id {instance.track_id} is already used")
        shape = (self.frame_count, instance.skeleton.num_joints, 3)
        if labels is None:
            arr = empty_labels(shape[0], shape[1])
        else:
            arr = normalize_labels(labels)
            if arr.shape != shape:
                raise ValueError(f"labels have shape {arr.shape}, expected {shape}")
        pred = empty_labels(shape[0], shape[1])
        conf = empty_confidence(shape[0], shape[1])
        if predicted is not None:
            pred = normalize_labels(predicted)
            if pred.shape != shape:
                raise ValueError(f"predicted joints have shape {pred.shape}, expected {shape}")
            conf = normalize_confidence(
                empty_confidence(shape[0], shape[1]) if confidence is None else confidence, pred
            )
        index = max(0, min(index, len(self._instances)))
        self._instances.insert(index, instance)
        self._labels.insert(index, arr)
        self._predicted.insert(index, pred)
        self._confidence.insert(index, conf)
        self._counts.insert(index, (arr[:, :, 2] != 0).sum(axis=1).astype(np.int32))
        self._emit(Change("instances", op=("insert", index)))

    def remove_instance(self, index: int) -> tuple[Instance, FloatArray]:
        """Remove and return an instance with (a copy of) its labels; its predicted layer goes
        with it (read ``predicted`` and ``confidence`` first to keep them)."""
        inst = self._instances.pop(index)
        labels = self._labels.pop(index)
        self._counts.pop(index)
        self._predicted.pop(index)
        self._confidence.pop(index)
        self._emit(Change("instances", op=("remove", index % (len(self._instances) + 1))))
        return inst, labels

    def set_proposals(self, proposals: Proposals | None) -> None:
        frames = proposals.frames if proposals is not None else ()
        if frames and (frames[0] < 0 or frames[-1] >= self.frame_count):
            raise ValueError("a proposed frame is outside the video")
        scores = proposals.scores if proposals is not None else None
        if scores is not None and len(scores) != self.frame_count:
            raise ValueError(
                f"proposals need one score per video frame: {len(scores)} scores for "
                f"{self.frame_count} frames"
            )
        self._proposals = proposals
        self._emit(Change("proposals"))

    def set_gate(self, start: int, decisions: ArrayLike) -> None:
        arr = np.asarray(decisions, dtype=np.int8).reshape(-1)
        stop = start + arr.size
        if start < 0 or stop > self.frame_count or not np.isin(arr, (-1, 0, 1)).all():
            raise ValueError("gate decisions must be -1, 0 or 1 on frames of the video")
        self._gate[start:stop] = arr
        self._emit(Change("gate", None, (start, stop)))

    def set_residual_energy(self, values: ArrayLike | None) -> None:
        """Replace the per-frame residual energy (``None``: unknown again). Derived data, so
        no command: the session sets it when motion fields arrive."""
        if values is None:
            arr = np.full(self.frame_count, np.nan, dtype=np.float32)
        else:
            arr = np.asarray(values, dtype=np.float32).reshape(-1)
            if arr.size != self.frame_count:
                raise ValueError(
                    f"residual energy needs one value per frame: {arr.size} for "
                    f"{self.frame_count} frames"
                )
        self._residual = arr.copy()
        self._emit(Change("residual"))

    def set_flags(self, start: int, stop: int, flags: Mapping[int, str]) -> None:
        """Replace the flags of frames ``start..stop`` by ``flags``."""
        self._replace_span(self._flags, start, stop, flags)
        self._emit(Change("flags", None, (start, stop)))

    def set_reviews(self, start: int, stop: int, reviews: Mapping[int, Review]) -> None:
        """Replace the review marks of frames ``start..stop`` by ``reviews``."""
        self._replace_span(self._reviews, start, stop, reviews)
        self._emit(Change("review", None, (start, stop)))

    def set_scene_cut(self, frame: int, cut: bool) -> None:
        self._check_frame(frame)
        if cut:
            self._scene_cuts.add(frame)
        else:
            self._scene_cuts.discard(frame)
        self._emit(Change("scene_cuts", None, (frame, frame + 1)))

    def set_setting(self, key: str, value: Any) -> None:
        """Set (or, with ``None``, remove) one setting; values must be JSON-able."""
        if value is None:
            self._settings.pop(key, None)
        else:
            self._settings[key] = value
        self._emit(Change("settings"))

    def set_video(self, video: VideoRef) -> None:
        """Point at a moved or re-encoded copy of the same video (same frame count)."""
        if video.frame_count != self.frame_count:
            raise ProjectError(
                f"the new video has {video.frame_count} frames; the project has {self.frame_count}"
            )
        self._video = video
        self._emit(Change("video"))

    def spans_of(self, kind: Literal["flags", "reviews"], start: int, stop: int) -> dict[int, Any]:
        """Entries of a frame-keyed map within ``start..stop`` (for undo snapshots)."""
        source: Mapping[int, Any] = self._flags if kind == "flags" else self._reviews
        return {f: v for f, v in source.items() if start <= f < stop}

    def _replace_span(
        self, target: dict[int, Any], start: int, stop: int, entries: Mapping[int, Any]
    ) -> None:
        if start < 0 or stop > self.frame_count or start > stop:
            raise ValueError(f"frames {start}..{stop} outside 0..{self.frame_count}")
        if any(not start <= f < stop for f in entries):
            raise ValueError("entry outside its span")
        if stop - start > len(target):
            for f in [f for f in target if start <= f < stop]:
                del target[f]
        else:
            for f in range(start, stop):
                target.pop(f, None)
        target.update(entries)

    def _check_frame(self, frame: int) -> None:
        if not 0 <= frame < self.frame_count:
            raise ValueError(f"frame {frame} outside 0..{self.frame_count - 1}")


def _check_timestamps(timestamps: ArrayLike | None, frames: int, fps: float) -> NDArray[np.float64]:
    if timestamps is None:
        rate = fps if fps and math.isfinite(fps) and fps > 0 else 1.0
        ts = np.arange(frames, dtype=np.float64) / rate  # the same formula as the schema's
    else:
        ts = np.array(timestamps, dtype=np.float64, copy=True).reshape(-1)
        if ts.shape != (frames,):
            raise ProjectError(f"{ts.size} timestamps for {frames} frames")
        if not np.isfinite(ts).all() or (np.diff(ts) < 0).any():
            raise ProjectError("frame timestamps must be finite and non-decreasing")
    ts.flags.writeable = False
    return ts
