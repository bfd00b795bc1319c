"""One open project in the window: video, document, history, live fill, current frame/joint.

The session is the Qt-side bridge to the pure model. It subscribes to the document's change
events, recomputes the fill over just the span an edit touches, keeps the timeline's per-frame
status current, and re-emits all of it as fine-grained Qt signals the views connect to. Every
edit goes through a history command; the session never writes document data itself.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from PySide6 import QtCore

from annotator.core import commands as cmd
from annotator.core.codes import Source, Visibility
from annotator.core.document import Change, Document, Proposals
from annotator.core.history import History
from annotator.core.journal import RecoveryJournal
from annotator.core.skeleton import Skeleton
from annotator.dynamics import fill as fill_mod
from annotator.dynamics.ranking import rank_next_frames
from annotator.errors import AnnotatorError, VideoError
from annotator.gui.frame_loader import FrameLoader
from annotator.gui.overlay import PoseView
from annotator.gui.timeline_state import frame_status, next_marked

if TYPE_CHECKING:
    from annotator.video.base import VideoReader

log = logging.getLogger(__name__)

METHOD_SETTING = "fill_method"  # the project setting holding the chosen fill method


class Session(QtCore.QObject):
    """State of one open project; views observe its signals."""

    frame_changed = QtCore.Signal(int)
    joint_changed = QtCore.Signal(int)
    poses_changed = QtCore.Signal(int, int)  # [start, stop): shown poses may differ there
    status_changed = QtCore.Signal()  # the per-frame timeline status (``status``) changed
    history_changed = QtCore.Signal()
    proposals_changed = QtCore.Signal()
    method_changed = QtCore.Signal(str)
    dirty_changed = QtCore.Signal(bool)
    reader_changed = QtCore.Signal()  # frames now come from another reader (a proxy)

    def __init__(
        self,
        reader: VideoReader,
        document: Document,
        path: Path | None = None,
        method: str | None = None,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.reader = reader
        self.proxy: Path | None = None  # where frames come from when not the video itself
        self._fps = float(reader.fps or 25.0)  # the video's, also while reading a proxy
        self.doc = document
        self.history = History(document)
        self.path = path
        self.instance = 0
        self.frame = 0
        self.joint = 0
        self._drag_id = 0
        self.journal: RecoveryJournal | None = None  # autosave, started by the window
        self.loader = FrameLoader(reader, self)
        saved = document.settings.get(METHOD_SETTING)
        wanted = method or (saved if isinstance(saved, str) else None)
        self.method = wanted if wanted in available_methods() else default_method()
        self.engine = self._make_engine(self.method)
        self.status = self._status(0, self.frame_count)
        self._unsubscribe = document.subscribe(self._on_change)
        self._unsubscribe_history = self.history.subscribe(self._on_history)

    # -- facts -----------------------------------------------------------------------------
    @property
    def skeleton(self) -> Skeleton:
        return self.doc.skeleton

    @property
    def frame_count(self) -> int:
        return int(self.reader.frame_count)

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def dirty(self) -> bool:
        return not self.history.is_clean

    @property
    def proposed(self) -> NDArray[np.int64]:
        proposals = self.doc.proposals
        return np.asarray(proposals.frames if proposals else (), dtype=np.int64)

    def manual(self) -> NDArray[np.float32]:
        return np.asarray(self.doc.manual(self.instance))

    def pose_view(self, frame: int | None = None) -> PoseView:
        """What the frame shows: manual labels, else the fill's values."""
        f = self.frame if frame is None else frame
        result = self.engine.result
        manual = self.manual()[f]
        labelled = manual[:, 2] != Visibility.UNLABELLED
        xy = np.where(labelled[:, None], manual[:, :2], result.poses[f, :, :2]).astype(np.float64)
        vis = np.where(labelled, manual[:, 2], result.poses[f, :, 2]).astype(np.int8)
        src = np.where(labelled, Source.MANUAL, result.source[f]).astype(np.int8)
        sigma = None
        if result.variance is not None:
            sigma = np.where(labelled, np.nan, np.sqrt(result.variance[f])).astype(np.float64)
        held = np.asarray(result.held[f] & ~labelled, dtype=np.bool_)
        return PoseView(xy, vis, src, sigma, held)

    def labelled_frames(self) -> NDArray[np.int64]:
        return np.flatnonzero(self.status >= 2)

    def use_frames_from(self, reader: VideoReader) -> None:
        """Read frames from ``reader``, a copy of the same video with faster seeks (a
        proxy), from now on. The document keeps the original video's path and fingerprint;
        a copy whose frame count or frame times differ is refused (``VideoError``)."""
        n = int(reader.frame_count)
        if n != self.frame_count:
            raise VideoError(
                f"{Path(reader.path).name} has {n} frames but the video has {self.frame_count}"
            )
        ours, theirs = self.reader.timestamps, reader.timestamps
        if (
            ours is not None
            and theirs is not None
            and np.abs(np.asarray(ours) - np.asarray(theirs)).max() > 0.5 / self.fps
        ):
            raise VideoError(f"the frame times of {Path(reader.path).name} differ")
        old_reader, old_loader = self.reader, self.loader
        for signal in (old_loader.ready, old_loader.failed):
            with contextlib.suppress(RuntimeError, TypeError):  # nothing was connected
                signal.disconnect()
        self.reader = reader
        self.proxy = Path(reader.path)
        self.loader = FrameLoader(reader, self)
        # A long-GOP seek under way would hold the GUI thread: retire the old pair off it.
        threading.Thread(
            target=_retire, args=(old_loader, old_reader), name="retire-reader", daemon=True
        ).start()
        self.reader_changed.emit()

    # -- navigation ------------------------------------------------------------------------
    def go_to(self, frame: int) -> None:
        frame = int(np.clip(frame, 0, self.frame_count - 1))
        if frame != self.frame:
            self.frame = frame
            self.frame_changed.emit(frame)

    def step(self, delta: int) -> None:
        self.go_to(self.frame + delta)

    def jump_labelled(self, forward: bool) -> bool:
        target = next_marked(self.labelled_frames(), self.frame, forward)
        if target is not None:
            self.go_to(target)
        return target is not None

    def jump_proposed(self, forward: bool) -> bool:
        target = next_marked(self.proposed, self.frame, forward)
        if target is not None:
            self.go_to(target)
        return target is not None

    def ranking_problem(self) -> str | None:
        """Why ``rank_to_label`` cannot rank now (one sentence), or None when it can."""
        if len(self.labelled_frames()) < 2:
            return "label two frames first: the next frame to label comes from the fill between"
        if self.engine.result.variance is None:
            return (
                f"the {self.method} fill estimates no uncertainty: choose hpim in the Fill dock "
                "to rank the frames to label"
            )
        return None

    def rank_to_label(self, top: int | None = 1) -> list[tuple[int, float]]:
        """Unlabelled frames, best first, by the current fill's uncertainty: the session's own
        fill result goes to ``rank_next_frames`` (no second fill). Empty when
        ``ranking_problem()`` says why not, or when no filled frame is left to label."""
        if self.ranking_problem() is not None:
            return []
        return rank_next_frames(self.manual(), self.engine.result, top=top)

    def held_on(self, frame: int) -> bool:
        """True when some unlabelled joint of ``frame`` is only held (before the first or after
        the last label), so its ranking score is a distance, not an expected error."""
        unlabelled = self.manual()[frame, :, 2] == Visibility.UNLABELLED
        return bool((self.engine.result.held[frame] & unlabelled).any())

    def set_joint(self, joint: int) -> None:
        joint = int(joint) % self.skeleton.num_joints
        if joint != self.joint:
            self.joint = joint
            self.joint_changed.emit(joint)

    # -- edits (each one a history command) ------------------------------------------------
    def push(self, command: cmd.Command) -> None:
        self.history.push(command)

    def place(self, x: float, y: float) -> None:
        """Place the current joint at (x, y) on the current frame, then advance the joint."""
        self.history.seal()
        self.push(cmd.PlaceJoint(self.frame, self.joint, x, y, instance=self.instance))
        self.history.seal()
        self.set_joint(self.joint + 1)

    def begin_drag(self, joint: int) -> None:
        self.history.seal()
        self._drag_id += 1
        self.set_joint(joint)

    def drag(self, joint: int, x: float, y: float) -> None:
        """One mouse move of a drag: merged with the drag's other moves into one undo step.

        A filled joint dragged becomes a manual label on this frame (``MoveJoint`` gives a
        joint without a manual label a visible label where it is dropped)."""
        self.push(
            cmd.MoveJoint(self.frame, joint, x, y, instance=self.instance, drag=self._drag_id)
        )

    def end_drag(self, joint: int) -> None:
        self.history.seal()

    def toggle_occluded(self, joint: int | None = None) -> None:
        """Visible <-> occluded; a filled joint becomes a manual label at its filled place."""
        j = self.joint if joint is None else joint
        pose = self.pose_view()
        current = Visibility(int(pose.visibility[j]))
        if not current.has_position:
            return
        target = Visibility.VISIBLE if current == Visibility.OCCLUDED else Visibility.OCCLUDED
        x, y = (float(v) for v in pose.xy[j])
        self.push(cmd.SetVisibility(self.frame, j, target, self.instance, x, y))

    def mark_absent(self, joint: int | None = None) -> None:
        j = self.joint if joint is None else joint
        self.push(cmd.SetVisibility(self.frame, j, Visibility.ABSENT, self.instance))

    def delete(self, joint: int | None = None) -> None:
        j = self.joint if joint is None else joint
        if self.manual()[self.frame, j, 2] != Visibility.UNLABELLED:
            self.push(cmd.DeleteJoint(self.frame, j, self.instance))

    def clear_frame(self) -> None:
        if (self.manual()[self.frame, :, 2] != Visibility.UNLABELLED).any():
            self.push(cmd.ClearFrame(self.frame, self.instance))

    def copy_from_nearest(self) -> int | None:
        """Copy the pose of the nearest labelled frame onto this one; its frame, or None."""
        before = self.doc.nearest_labelled(self.frame, "previous", self.instance)
        after = self.doc.nearest_labelled(self.frame, "next", self.instance)
        if before is None and after is None:
            return None
        if after is None or (before is not None and self.frame - before <= after - self.frame):
            command = cmd.CopyPose(self.frame, "previous", self.instance)
        else:
            command = cmd.CopyPose(self.frame, "next", self.instance)
        self.push(command)
        return command.source_frame

    def accept_fill(self) -> bool:
        """Filled joints of this frame become manual labels (one command); False if none."""
        frame = self.frame
        values = np.array(self.engine.result.poses[frame : frame + 1])
        manual = self.manual()[frame]
        if not ((manual[:, 2] == Visibility.UNLABELLED) & (values[0, :, 2] != 0)).any():
            return False
        self.push(cmd.AcceptFill(frame, values, self.instance))
        return True

    def flip(self) -> None:
        self.push(cmd.FlipLeftRight(self.frame, self.instance))

    def accept_proposals(self, frames: NDArray[np.int64], scores: Any, method: str) -> None:
        """Take a proposer's result in (one undo step); ``scores``: one per video frame."""
        proposals = Proposals(
            tuple(int(f) for f in frames),
            None if scores is None else tuple(float(s) for s in scores),
            method,
        )
        self.push(cmd.AcceptProposals(proposals, instance=self.instance))

    @property
    def proposal_scores(self) -> NDArray[np.float64] | None:
        """The proposer's score of every frame (the score curve), or None."""
        proposals = self.doc.proposals
        if proposals is None or proposals.scores is None:
            return None
        return np.asarray(proposals.scores, dtype=np.float64)

    def undo(self) -> None:
        self.history.undo()

    def redo(self) -> None:
        self.history.redo()

    # -- fill ------------------------------------------------------------------------------
    def _make_engine(self, method: str) -> fill_mod.FillEngine:
        engine = fill_mod.FillEngine(method, fps=self.fps, scene_cuts=self.doc.scene_cuts)
        engine.reset(self.manual())
        return engine

    def _status(self, start: int, stop: int) -> NDArray[np.int8]:
        result = self.engine.result
        return frame_status(
            self.manual()[start:stop], result.source[start:stop], result.held[start:stop]
        )

    def set_method(self, method: str) -> None:
        """Choose the fill method: a project setting, so saved with it and undoable."""
        if method != self.method:
            self.push(cmd.SetSetting(METHOD_SETTING, method))

    def _apply_method(self, method: str) -> None:
        if method == self.method or method not in available_methods():
            return
        self.engine = self._make_engine(method)
        self.method = method
        self.status = self._status(0, self.frame_count)
        self.method_changed.emit(method)
        self.status_changed.emit()
        self.poses_changed.emit(0, self.frame_count)

    def _on_change(self, change: Change) -> None:
        """Document event: refill the touched span, refresh its status, tell the views."""
        if change.kind == "proposals":
            self.proposals_changed.emit()
            return
        if change.kind == "settings":
            saved = self.doc.settings.get(METHOD_SETTING)
            self._apply_method(saved if isinstance(saved, str) else default_method())
            return
        if change.kind == "scene_cuts":
            self.engine = self._make_engine(self.method)
            change = Change("labels", self.instance, None)
        if change.kind not in ("labels", "instances"):
            return
        if change.instance not in (None, self.instance):
            return
        manual = self.manual()
        n = self.frame_count
        start, stop = change.frames if change.frames is not None else (0, n)
        if change.frames is None or change.kind == "instances":
            self.engine.reset(manual)
            lo, hi = 0, n
        else:
            a, b = self.engine.update(manual, (start, max(start, stop - 1)))
            lo, hi = min(start, a), max(stop, b + 1)
        new = self._status(lo, hi)
        changed = not np.array_equal(new, self.status[lo:hi])
        self.status[lo:hi] = new
        self.poses_changed.emit(lo, hi)
        if changed:  # most drag steps change positions only: the timeline need not repaint
            self.status_changed.emit()

    def _on_history(self) -> None:
        self.history_changed.emit()
        self.dirty_changed.emit(self.dirty)

    # -- saving ----------------------------------------------------------------------------
    def mark_saved(self, path: Path) -> None:
        self.path = path
        self.history.set_clean()
        if self.journal is not None:
            self.journal.mark_saved(path)

    def close(self, discard_unsaved: bool = True) -> None:
        """Stop observing; ``discard_unsaved=False`` keeps the recovery journal on disk."""
        self._unsubscribe()
        self._unsubscribe_history()
        if self.journal is not None:
            self.journal.close(discard=discard_unsaved)
            self.journal = None
        self.loader.close()
        self.reader.close()


def _retire(loader: FrameLoader, reader: VideoReader) -> None:
    """Stop a frame loader and close its reader (off the GUI thread: may wait on a decode)."""
    loader.close()
    reader.close()


_AVAILABLE: list[str] = []


def available_methods() -> list[str]:
    """Fill methods that can be built here (a method whose model is missing is left out)."""
    if not _AVAILABLE:
        for name in fill_mod.METHODS:
            try:
                fill_mod.make_filler(name, fps=30.0)
            except (ImportError, AnnotatorError, OSError) as err:
                log.info("fill method %s unavailable: %s", name, err)
                continue
            _AVAILABLE.append(name)
        if not _AVAILABLE:
            _AVAILABLE.append("linear")
    return list(_AVAILABLE)


def default_method() -> str:
    methods = available_methods()
    return fill_mod.DEFAULT_METHOD if fill_mod.DEFAULT_METHOD in methods else methods[0]
