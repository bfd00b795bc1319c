"""Every edit of a document as an undoable command (push them on a ``History``).

Commands take the instance *index* as the keyword ``instance`` (default 0: the GUI edits one
person at a time). Arguments are checked when the command first runs: a command that cannot
apply raises ``EditError`` (one readable sentence) before touching the document. ``text`` is
the human name shown in the Edit menu ("Move L-wrist"); it is final once the command has run.
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from annotator.core.codes import Visibility
from annotator.core.document import (
    Document,
    FloatArray,
    Instance,
    Proposals,
    Review,
    normalize_confidence,
    normalize_labels,
)
from annotator.core.history import Command
from annotator.core.skeleton import Skeleton
from annotator.errors import AnnotatorError


class EditError(AnnotatorError):
    """An edit that cannot apply (no labelled frame to copy from, frame outside the video...)."""


def _check_instance(doc: Document, instance: int) -> None:
    if not 0 <= instance < len(doc.instances):
        raise EditError(f"there is no person number {instance + 1}")


def _check_span(doc: Document, start: int, stop: int) -> None:
    if not 0 <= start < stop <= doc.frame_count:
        what = f"frame {start}" if stop == start + 1 else f"frames {start}..{stop - 1}"
        raise EditError(f"{what} outside the video (frames 0..{doc.frame_count - 1})")


def _joint_name(doc: Document, instance: int, joint: int) -> str:
    joints = doc.instances[instance].skeleton.joints
    if not 0 <= joint < len(joints):
        raise EditError(f"joint {joint} does not exist (the skeleton has {len(joints)})")
    return joints[joint]


def _frames_text(start: int, stop: int) -> str:
    return f"frame {start}" if stop - start == 1 else f"frames {start}–{stop - 1}"


class SetLabels(Command):
    """Write a block of labels; the base of every label edit (keeps the old block for undo)."""

    def __init__(
        self,
        start: int,
        values: ArrayLike | None,
        joints: Sequence[int] | None = None,
        instance: int = 0,
        text: str = "Edit labels",
    ) -> None:
        self.instance = instance
        self.start = start
        self.joints = None if joints is None else tuple(int(j) for j in joints)
        self.text = text
        self._new: FloatArray | None = None if values is None else np.asarray(values, np.float32)
        self._old: FloatArray | None = None

    def compute(self, doc: Document) -> FloatArray:
        """The new block (subclasses compute it from the document on first run)."""
        if self._new is None:
            raise EditError("no label values given")
        return self._new

    def do(self, doc: Document) -> None:
        _check_instance(doc, self.instance)
        if self._old is None:
            new = self.compute(doc)
            if new.ndim != 3 or new.shape[0] == 0:
                raise EditError("a label block must be (frames, joints, 3)")
            stop = self.start + int(new.shape[0])
            _check_span(doc, self.start, stop)
            old = np.array(doc.manual(self.instance)[self.start : stop], dtype=np.float32)
            if self.joints is not None:
                if not all(0 <= j < old.shape[1] for j in self.joints):
                    raise EditError("joint index out of range")
                old = old[:, list(self.joints)]
            if old.shape != new.shape:
                raise EditError(f"label block {new.shape} does not fit {old.shape}")
            try:
                self._new = normalize_labels(new)
            except ValueError as err:
                raise EditError(f"invalid label values: {err}") from None
            self._old = old
        assert self._new is not None
        doc.write_labels(self.instance, self.start, self._new, self.joints)

    def undo(self, doc: Document) -> None:
        assert self._old is not None
        doc.write_labels(self.instance, self.start, self._old, self.joints)

    @property
    def span(self) -> tuple[int, int] | None:
        """The frames it writes (half-open), once known (None before a computed block)."""
        return None if self._new is None else (self.start, self.start + int(self._new.shape[0]))

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self._old, self._new) if a is not None)


class _JointCommand(SetLabels):
    """A label edit of one joint on one frame."""

    verb = "Edit"

    def __init__(self, frame: int, joint: int, instance: int = 0) -> None:
        super().__init__(frame, None, (joint,), instance)
        self.frame = frame
        self.joint = joint

    def compute(self, doc: Document) -> FloatArray:
        name = _joint_name(doc, self.instance, self.joint)
        _check_span(doc, self.frame, self.frame + 1)
        self.text = f"{self.verb} {name}"
        x, y, vis = doc.label(self.instance, self.frame, self.joint)
        return np.array([[self.value(x, y, vis)]], dtype=np.float32)

    def value(self, x: float, y: float, vis: Visibility) -> tuple[float, float, int]:
        raise NotImplementedError


def _finite_xy(x: float, y: float) -> None:
    if not (np.isfinite(x) and np.isfinite(y)) or max(abs(x), abs(y)) > 1e7:
        raise EditError("a joint position must be a finite point")


class PlaceJoint(_JointCommand):
    """Put a joint at (x, y) with a visibility (visible unless told otherwise)."""

    verb = "Place"

    def __init__(
        self,
        frame: int,
        joint: int,
        x: float,
        y: float,
        visibility: Visibility = Visibility.VISIBLE,
        instance: int = 0,
    ) -> None:
        super().__init__(frame, joint, instance)
        _finite_xy(x, y)
        if not Visibility(visibility).has_position:
            raise EditError("a placed joint is visible or occluded")
        self.x, self.y, self.visibility = float(x), float(y), Visibility(visibility)

    def value(self, x: float, y: float, vis: Visibility) -> tuple[float, float, int]:
        return self.x, self.y, int(self.visibility)


class MoveJoint(_JointCommand):
    """Move a joint; consecutive moves of the same joint in one drag merge into one step.

    Give each drag its own ``drag`` id (or call ``History.seal()`` when the drag ends).
    A joint without a position becomes visible where it is dropped.
    """

    verb = "Move"

    def __init__(
        self, frame: int, joint: int, x: float, y: float, instance: int = 0, drag: Hashable = None
    ) -> None:
        super().__init__(frame, joint, instance)
        _finite_xy(x, y)
        self.x, self.y = float(x), float(y)
        self.merge_key = ("move", instance, frame, joint, drag)

    def value(self, x: float, y: float, vis: Visibility) -> tuple[float, float, int]:
        keep = vis if vis.has_position else Visibility.VISIBLE
        return self.x, self.y, int(keep)

    def merge(self, other: Command) -> bool:
        if not isinstance(other, MoveJoint) or other._new is None:
            return False
        self._new = other._new
        self.x, self.y = other.x, other.y
        return True


class DeleteJoint(_JointCommand):
    """Make a joint unlabelled on one frame."""

    verb = "Delete"

    def value(self, x: float, y: float, vis: Visibility) -> tuple[float, float, int]:
        return np.nan, np.nan, int(Visibility.UNLABELLED)


class SetVisibility(_JointCommand):
    """Change a joint's visibility; visible/occluded need a position (kept, or ``x, y``)."""

    def __init__(
        self,
        frame: int,
        joint: int,
        visibility: Visibility,
        instance: int = 0,
        x: float | None = None,
        y: float | None = None,
    ) -> None:
        super().__init__(frame, joint, instance)
        self.visibility = Visibility(visibility)
        self.verb = f"Mark {self.visibility.name.lower()}:"
        if (x is None) != (y is None):
            raise EditError("give both x and y, or neither")
        if x is not None and y is not None:
            _finite_xy(x, y)
        self.xy = None if x is None or y is None else (float(x), float(y))

    def value(self, x: float, y: float, vis: Visibility) -> tuple[float, float, int]:
        if not self.visibility.has_position:
            return np.nan, np.nan, int(self.visibility)
        if self.xy is not None:
            return self.xy[0], self.xy[1], int(self.visibility)
        if not vis.has_position:
            raise EditError("place the joint first: it has no position to mark")
        return x, y, int(self.visibility)


class ClearFrame(SetLabels):
    """Make every joint of frames ``frame..stop`` unlabelled (one frame by default)."""

    def __init__(self, frame: int, instance: int = 0, stop: int | None = None) -> None:
        super().__init__(frame, None, None, instance)
        self.stop = frame + 1 if stop is None else stop

    def compute(self, doc: Document) -> FloatArray:
        _check_span(doc, self.start, self.stop)
        self.text = f"Clear {_frames_text(self.start, self.stop)}"
        j = doc.instances[self.instance].skeleton.num_joints
        block = np.full((self.stop - self.start, j, 3), np.nan, dtype=np.float32)
        block[:, :, 2] = Visibility.UNLABELLED
        return block


class CopyPose(SetLabels):
    """Copy the pose of the previous (or next) labelled frame onto the joints of ``frame``
    that have no label (the joints already placed there stay)."""

    def __init__(
        self, frame: int, direction: Literal["previous", "next"] = "previous", instance: int = 0
    ) -> None:
        if direction not in ("previous", "next"):
            raise EditError("copy the pose from the 'previous' or 'next' labelled frame")
        super().__init__(frame, None, None, instance)
        self.direction = direction
        self.source_frame: int | None = None

    def compute(self, doc: Document) -> FloatArray:
        _check_span(doc, self.start, self.start + 1)
        src = doc.nearest_labelled(self.start, self.direction, self.instance)
        if src is None:
            where = "before" if self.direction == "previous" else "after"
            raise EditError(f"there is no labelled frame {where} frame {self.start}")
        self.source_frame = src
        self.text = f"Copy pose from frame {src}"
        manual = doc.manual(self.instance)
        here = np.array(manual[self.start : self.start + 1], dtype=np.float32)
        empty = here[0, :, 2] == Visibility.UNLABELLED
        here[0, empty] = manual[src, empty]
        return here


class FlipLeftRight(SetLabels):
    """Swap every left/right joint pair on frames ``frame..stop`` (fixes swapped labels)."""

    def __init__(self, frame: int, instance: int = 0, stop: int | None = None) -> None:
        super().__init__(frame, None, None, instance)
        self.stop = frame + 1 if stop is None else stop

    def compute(self, doc: Document) -> FloatArray:
        _check_span(doc, self.start, self.stop)
        skeleton = doc.instances[self.instance].skeleton
        if not skeleton.symmetry:
            raise EditError(f"skeleton {skeleton.name!r} has no left/right pairs to flip")
        self.text = f"Flip left/right on {_frames_text(self.start, self.stop)}"
        block = doc.manual(self.instance)[self.start : self.stop]
        return np.array(block[:, list(skeleton.flip_permutation())], dtype=np.float32)


class AcceptFill(SetLabels):
    """Freeze filled values of frames ``start..start+n`` into manual labels.

    ``values`` is the fill engine's (n, joints, 3) block; only joints without a manual label
    take the filled value (manual labels stay authoritative); unlabelled fill values are ignored.
    """

    def __init__(self, start: int, values: ArrayLike, instance: int = 0) -> None:
        super().__init__(start, values, None, instance)

    def compute(self, doc: Document) -> FloatArray:
        assert self._new is not None
        filled = self._new
        n = filled.shape[0] if filled.ndim == 3 else 0
        _check_span(doc, self.start, self.start + n)
        current = np.array(doc.manual(self.instance)[self.start : self.start + n])
        if filled.shape != current.shape:
            raise EditError(f"filled block {filled.shape} does not fit {current.shape}")
        fv = filled[:, :, 2]
        finite = np.isfinite(filled[:, :, 0]) & np.isfinite(filled[:, :, 1])
        usable = (((fv == Visibility.VISIBLE) | (fv == Visibility.OCCLUDED)) & finite) | (
            fv == Visibility.ABSENT
        )
        take = (current[:, :, 2] == Visibility.UNLABELLED) & usable
        current[take] = filled[take]
        self.text = f"Accept fill on {_frames_text(self.start, self.start + n)}"
        return current


class SetPredicted(Command):
    """Replace the predicted layer (an estimator's joints and confidence) on ``frames``.

    ``values`` (len(frames), joints, 3) and ``confidence`` (len(frames), joints) in 0..1; a
    row of unlabelled joints clears that frame's prediction. One command for a whole run, so
    one undo takes it all back. Frames between those given keep their predictions.
    """

    def __init__(
        self,
        frames: Sequence[int],
        values: ArrayLike,
        confidence: ArrayLike,
        instance: int = 0,
        text: str | None = None,
    ) -> None:
        self.frames = np.asarray(list(frames), dtype=np.int64)
        self.instance = instance
        self._values = np.asarray(values, dtype=np.float32)
        self._conf = np.asarray(confidence, dtype=np.float32)
        n = len(self.frames)
        self.text = text or f"Prefill {n} frame{'s' if n != 1 else ''}"
        self._start = 0
        self._old: tuple[FloatArray, NDArray[np.float32]] | None = None
        self._new: tuple[FloatArray, NDArray[np.float32]] | None = None

    def do(self, doc: Document) -> None:
        if self._new is None:
            _check_instance(doc, self.instance)
            if len(self.frames) == 0:
                raise EditError("no frame to prefill")
            if len(np.unique(self.frames)) != len(self.frames):
                raise EditError("a prefilled frame is given twice")
            lo, hi = int(self.frames.min()), int(self.frames.max()) + 1
            _check_span(doc, lo, hi)
            j = doc.instances[self.instance].skeleton.num_joints
            if self._values.shape != (len(self.frames), j, 3):
                raise EditError(f"predicted poses must be ({len(self.frames)}, {j}, 3)")
            try:
                values = normalize_labels(self._values)
                conf = normalize_confidence(self._conf, values)
            except ValueError as err:
                raise EditError(f"invalid predicted pose: {err}") from None
            old_v = np.array(doc.predicted(self.instance)[lo:hi])
            old_c = np.array(doc.confidence(self.instance)[lo:hi])
            new_v, new_c = old_v.copy(), old_c.copy()
            new_v[self.frames - lo] = values
            new_c[self.frames - lo] = conf
            self._start, self._old, self._new = lo, (old_v, old_c), (new_v, new_c)
        doc.write_predicted(self.instance, self._start, *self._new)

    def undo(self, doc: Document) -> None:
        assert self._old is not None
        doc.write_predicted(self.instance, self._start, *self._old)

    @property
    def nbytes(self) -> int:
        held = (self._old, self._new)
        return sum(a.nbytes for pair in held if pair is not None for a in pair)


class _StateCommand(Command):
    """A command whose undo restores a captured piece of frame-level state."""

    def __init__(self) -> None:
        self._before: Any = None
        self._after: Any = None
        self._ran = False

    def capture(self, doc: Document) -> Any:
        raise NotImplementedError

    def apply(self, doc: Document, state: Any) -> None:
        raise NotImplementedError

    def build(self, doc: Document) -> Any:
        raise NotImplementedError

    def do(self, doc: Document) -> None:
        if not self._ran:
            self._before = self.capture(doc)
            self._after = self.build(doc)
            self._ran = True
        self.apply(doc, self._after)

    def undo(self, doc: Document) -> None:
        self.apply(doc, self._before)


class AcceptProposals(Command):
    """Take a set of proposed key frames into the document (replacing the previous set).

    With ``poses`` ((len(frames), joints, 3), e.g. a detector's predictions) the poses become
    manual labels on proposed frames that have no manual label yet.
    """

    def __init__(
        self, proposals: Proposals, poses: ArrayLike | None = None, instance: int = 0
    ) -> None:
        self.proposals = proposals
        self.instance = instance
        self.poses = None if poses is None else np.asarray(poses, dtype=np.float32)
        n = len(proposals.frames)
        # What the user did: a proposer's run (the panel's own Accept is another command).
        self.text = f"Propose {n} frame{'' if n == 1 else 's'} ({proposals.method})"
        self._before: Proposals | None = None
        self._labels: list[SetLabels] = []
        self._ran = False

    def do(self, doc: Document) -> None:
        if not self._ran:
            _check_instance(doc, self.instance)
            frames = self.proposals.frames
            if frames and (frames[0] < 0 or frames[-1] >= doc.frame_count):
                raise EditError("a proposed frame is outside the video")
            scores = self.proposals.scores
            if scores is not None and len(scores) != doc.frame_count:
                raise EditError(
                    f"proposals need one score per video frame: {len(scores)} scores for "
                    f"{doc.frame_count} frames"
                )
            self._before = doc.proposals
            if self.poses is not None:
                j = doc.instances[self.instance].skeleton.num_joints
                if self.poses.shape != (len(frames), j, 3):
                    raise EditError(f"proposed poses must be ({len(frames)}, {j}, 3)")
                try:
                    poses = normalize_labels(self.poses)
                except ValueError as err:
                    raise EditError(f"invalid proposed pose: {err}") from None
                counts = doc.labelled_joint_counts(self.instance)
                self._labels = [
                    SetLabels(f, poses[k : k + 1], None, self.instance)
                    for k, f in enumerate(frames)
                    if counts[f] == 0
                ]
            self._ran = True
        doc.set_proposals(self.proposals)
        for cmd in self._labels:
            cmd.do(doc)

    def undo(self, doc: Document) -> None:
        for cmd in reversed(self._labels):
            cmd.undo(doc)
        doc.set_proposals(self._before)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self._labels)


class ClearProposals(_StateCommand):
    """Remove the proposed frames and their score curve; labels are untouched."""

    text = "Clear proposed frames"

    def capture(self, doc: Document) -> Any:
        return doc.proposals

    def build(self, doc: Document) -> Any:
        return None

    def apply(self, doc: Document, state: Any) -> None:
        doc.set_proposals(state)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class MarkReviewed(_StateCommand):
    """Mark frames ``start..stop`` reviewed by ``by`` (or clear the marks with reviewed=False)."""

    def __init__(
        self, start: int, stop: int, by: str, reviewed: bool = True, at: str | None = None
    ) -> None:
        super().__init__()
        self.start, self.stop, self.by, self.reviewed = start, stop, by, reviewed
        self.at = at
        verb = "Mark" if reviewed else "Unmark"
        self.text = f"{verb} {_frames_text(start, stop)} reviewed"

    def capture(self, doc: Document) -> Any:
        _check_span(doc, self.start, self.stop)
        return doc.spans_of("reviews", self.start, self.stop)

    def build(self, doc: Document) -> Any:
        if not self.reviewed:
            return {}
        mark = Review(self.by, self.at or _now())
        return dict.fromkeys(range(self.start, self.stop), mark)

    def apply(self, doc: Document, state: Any) -> None:
        doc.set_reviews(self.start, self.stop, state)


class SetFlag(_StateCommand):
    """Flag a frame for review with a reason, or clear its flag (``reason=None``)."""

    def __init__(self, frame: int, reason: str | None) -> None:
        super().__init__()
        self.frame, self.reason = frame, reason
        self.text = f"Flag frame {frame}" if reason is not None else f"Unflag frame {frame}"

    def capture(self, doc: Document) -> Any:
        _check_span(doc, self.frame, self.frame + 1)
        return doc.spans_of("flags", self.frame, self.frame + 1)

    def build(self, doc: Document) -> Any:
        return {} if self.reason is None else {self.frame: self.reason}

    def apply(self, doc: Document, state: Any) -> None:
        doc.set_flags(self.frame, self.frame + 1, state)


class AddFlags(_StateCommand):
    """Flag several frames for review at once (one undo step); a frame already flagged keeps
    its reason with the new one appended."""

    def __init__(self, flags: dict[int, str], text: str | None = None) -> None:
        super().__init__()
        self.flags = {int(f): str(r) for f, r in flags.items()}
        n = len(self.flags)
        self.text = text or f"Flag {n} frame{'s' if n != 1 else ''}"
        self._span = (min(self.flags), max(self.flags) + 1) if self.flags else (0, 0)

    def capture(self, doc: Document) -> Any:
        if self.flags:
            _check_span(doc, *self._span)
        return doc.spans_of("flags", *self._span)

    def build(self, doc: Document) -> Any:
        merged = dict(self._before)
        for f, reason in self.flags.items():
            old = merged.get(f)
            merged[f] = reason if not old or reason in old else f"{old}; {reason}"
        return merged

    def apply(self, doc: Document, state: Any) -> None:
        doc.set_flags(self._span[0], self._span[1], state)


class SetSceneCut(_StateCommand):
    """Mark (or unmark) ``frame`` as the first frame of a new shot."""

    def __init__(self, frame: int, cut: bool = True) -> None:
        super().__init__()
        self.frame, self.cut = frame, cut
        self.text = f"{'Add' if cut else 'Remove'} scene cut at frame {frame}"

    def capture(self, doc: Document) -> Any:
        _check_span(doc, self.frame, self.frame + 1)
        return self.frame in doc.scene_cuts

    def build(self, doc: Document) -> Any:
        return self.cut

    def apply(self, doc: Document, state: Any) -> None:
        doc.set_scene_cut(self.frame, bool(state))


class SetGate(_StateCommand):
    """Set gate decisions (-1 none, 0 rejected, 1 accepted) from ``start`` on."""

    def __init__(self, start: int, decisions: ArrayLike) -> None:
        super().__init__()
        self.start = start
        self.decisions = np.asarray(decisions).reshape(-1)
        self.text = f"Set gate on {_frames_text(start, start + max(1, self.decisions.size))}"

    def capture(self, doc: Document) -> Any:
        _check_span(doc, self.start, self.start + self.decisions.size)
        if not np.isin(self.decisions, (-1, 0, 1)).all():
            raise EditError("gate decisions must be -1, 0 or 1")
        return doc.gate[self.start : self.start + self.decisions.size].copy()

    def build(self, doc: Document) -> Any:
        return self.decisions.astype(np.int8)

    def apply(self, doc: Document, state: Any) -> None:
        doc.set_gate(self.start, state)


class SetSetting(_StateCommand):
    """Change one project setting (``None`` removes it)."""

    def __init__(self, key: str, value: Any, text: str | None = None) -> None:
        super().__init__()
        self.key, self.value = key, value
        self.text = text or f"Change {key}"

    def capture(self, doc: Document) -> Any:
        return doc.settings.get(self.key)

    def build(self, doc: Document) -> Any:
        return self.value

    def apply(self, doc: Document, state: Any) -> None:
        doc.set_setting(self.key, state)


class AddInstance(Command):
    """Add a person (new track id by default, the project skeleton by default)."""

    def __init__(
        self,
        track_id: int | None = None,
        skeleton: Skeleton | None = None,
        index: int | None = None,
    ) -> None:
        self.track_id, self.skeleton, self.index = track_id, skeleton, index
        self.text = "Add person"

    def do(self, doc: Document) -> None:
        ids = [i.track_id for i in doc.instances]
        if self.track_id is None:
            self.track_id = max(ids, default=-1) + 1
        if self.track_id in ids:
            raise EditError(f"track id {self.track_id} is already used")
        if self.index is None:
            self.index = len(ids)
        self.text = f"Add person {self.track_id}"
        try:
            doc.insert_instance(self.index, Instance(self.track_id, self.skeleton or doc.skeleton))
        except ValueError as err:
            raise EditError(str(err)) from None

    def undo(self, doc: Document) -> None:
        assert self.index is not None
        doc.remove_instance(self.index)


class RemoveInstance(Command):
    """Remove a person and all their labels (undo brings them back)."""

    def __init__(self, instance: int) -> None:
        self.instance = instance
        self.text = "Remove person"
        self._removed: tuple[Instance, FloatArray] | None = None
        self._predicted: tuple[FloatArray, NDArray[np.float32]] | None = None

    def do(self, doc: Document) -> None:
        _check_instance(doc, self.instance)
        if len(doc.instances) == 1:
            raise EditError("a project keeps at least one person")
        self._predicted = (
            np.array(doc.predicted(self.instance)),
            np.array(doc.confidence(self.instance)),
        )
        self._removed = doc.remove_instance(self.instance)
        self.text = f"Remove person {self._removed[0].track_id}"

    def undo(self, doc: Document) -> None:
        assert self._removed is not None and self._predicted is not None
        doc.insert_instance(self.instance, *self._removed, *self._predicted)

    @property
    def nbytes(self) -> int:
        return 0 if self._removed is None else self._removed[1].nbytes


@dataclass(frozen=True)
class _Content:
    # per person: instance, labels, predicted joints, their confidence
    instances: tuple[tuple[Instance, FloatArray, FloatArray, NDArray[np.float32]], ...]
    proposals: Proposals | None
    gate: NDArray[np.int8]
    flags: dict[int, str]
    reviews: dict[int, Review]
    scene_cuts: tuple[int, ...]
    settings: dict[str, Any]

    @classmethod
    def of(cls, doc: Document) -> _Content:
        return cls(
            tuple(
                (
                    inst,
                    np.array(doc.manual(i)),
                    np.array(doc.predicted(i)),
                    np.array(doc.confidence(i)),
                )
                for i, inst in enumerate(doc.instances)
            ),
            doc.proposals,
            np.array(doc.gate),
            dict(doc.flags),
            dict(doc.reviews),
            doc.scene_cuts,
            dict(doc.settings),
        )

    def apply(self, doc: Document) -> None:
        n = doc.frame_count
        # New people first (a document is never empty), under track ids that neither side
        # uses: valid ids, so that a recovery journal that snapshots the document half-way
        # (its first change is this one) can be replayed.
        used = {inst.track_id for inst in doc.instances} | {i.track_id for i, *_ in self.instances}
        spare = (t for t in itertools.count() if t not in used)
        for k, ((inst, *layers), track_id) in enumerate(zip(self.instances, spare, strict=False)):
            doc.insert_instance(k, replace(inst, track_id=track_id), *layers)
        while len(doc.instances) > len(self.instances):
            doc.remove_instance(len(self.instances))
        for k, (inst, *layers) in enumerate(self.instances):  # restore the real track ids
            doc.remove_instance(k)
            doc.insert_instance(k, inst, *layers)
        doc.set_proposals(self.proposals)
        doc.set_gate(0, self.gate)
        doc.set_flags(0, n, self.flags)
        doc.set_reviews(0, n, self.reviews)
        for f in doc.scene_cuts:
            if f not in self.scene_cuts:
                doc.set_scene_cut(f, False)
        for f in self.scene_cuts:
            doc.set_scene_cut(f, True)
        for key in doc.settings:
            if key not in self.settings:
                doc.set_setting(key, None)
        for key, value in self.settings.items():
            doc.set_setting(key, value)


class ReplaceContent(Command):
    """Replace everything the user made (people, labels, frame states, settings) by the
    content of ``source``, e.g. a document restored from the recovery journal. One undo step."""

    def __init__(self, source: Document, text: str = "Restore unsaved work") -> None:
        self.text = text
        self._after = _Content.of(source)
        self._frames = source.frame_count
        self._before: _Content | None = None

    def do(self, doc: Document) -> None:
        if self._frames != doc.frame_count:
            raise EditError(
                f"the content covers {self._frames} frames but the video has {doc.frame_count}"
            )
        if self._before is None:
            self._before = _Content.of(doc)
        self._after.apply(doc)

    def undo(self, doc: Document) -> None:
        assert self._before is not None
        self._before.apply(doc)

    @property
    def nbytes(self) -> int:
        held = (self._after, self._before)
        return sum(
            a.nbytes for c in held if c is not None for _, *layers in c.instances for a in layers
        )


class Batch(Command):
    """Several commands as one undo step; if one fails, those already run are undone."""

    def __init__(self, text: str, commands: Sequence[Command]) -> None:
        self.text = text
        self.commands = list(commands)

    def do(self, doc: Document) -> None:
        done: list[Command] = []
        try:
            for cmd in self.commands:
                cmd.do(doc)
                done.append(cmd)
        except Exception:
            for cmd in reversed(done):
                cmd.undo(doc)
            raise

    def undo(self, doc: Document) -> None:
        for cmd in reversed(self.commands):
            cmd.undo(doc)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.commands)


__all__ = [
    "AcceptFill",
    "AcceptProposals",
    "AddFlags",
    "AddInstance",
    "Batch",
    "ClearFrame",
    "Command",
    "CopyPose",
    "DeleteJoint",
    "EditError",
    "FlipLeftRight",
    "MarkReviewed",
    "MoveJoint",
    "PlaceJoint",
    "RemoveInstance",
    "ReplaceContent",
    "SetFlag",
    "SetGate",
    "SetLabels",
    "SetPredicted",
    "SetSceneCut",
    "SetSetting",
    "SetVisibility",
]
