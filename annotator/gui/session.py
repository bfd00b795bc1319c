"""One open project in the window: video, document, history, live fill, current frame/joint.

The session is the Qt-side bridge to the pure model. It subscribes to the document's change
events, recomputes the fill over just the span an edit touches, keeps the timeline's per-frame
status current, and re-emits all of it as fine-grained Qt signals the views connect to. Every
edit goes through a history command; the session never writes document data itself, except the
derived per-frame residual energy when the video's motion fields arrive (``set_motion``).

The video fills (``mv``, ``hpim+mv``) need those fields. Until they arrive (or when the video
has none) a video fill runs as ``hpim``, exactly, and ``fill_note`` says so; once they arrive,
``hpim+mv`` becomes the fill unless the user chose a method (the project setting). The fill
first walks those codec fields, then the optical flow once it arrives too (``set_fill_fields``,
``gui/motion_flow.py``); the residual energy stays the codec's.

Predicted joints (the document's predicted layer, from Prefill) enter the fill as weighted
observations where the method takes them (``hpim``, ``hpim+mv``), and ``result`` lays them over
the fill: where a joint has a prediction and no manual label, it shows the estimator's value
(source ``predicted``, its confidence, a variance from that confidence: so the ``N`` ranking
sees unsure predictions as uncertain frames). A predicted joint with no label of its joint on
one side (``estimation.prefill.fill_inputs``) anchors the fill like a label instead, so the
frames between predicted frames are filled before the user has labelled anything; which
predictions anchor follows every edit (``_fill_labels_changed``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from PySide6 import QtCore

from annotator.core import commands as cmd
from annotator.core import edits
from annotator.core.codes import Source, Visibility
from annotator.core.document import FILL_METHOD_SETTING, Change, Document
from annotator.core.history import History
from annotator.core.journal import RecoveryJournal
from annotator.core.proposal_plan import ACCEPTED, plan_order
from annotator.core.skeleton import Skeleton
from annotator.dynamics import fill as fill_mod
from annotator.dynamics import ranking
from annotator.dynamics.base import Observations
from annotator.errors import AnnotatorError, VideoError
from annotator.estimation.prefill import (
    FillInputs,
    changed_rows,
    combine,
    fill_inputs,
    predicted_observations,
)
from annotator.gui.frame_loader import FrameLoader
from annotator.gui.overlay import PoseView
from annotator.gui.ranking_walks import RankingWalks
from annotator.gui.timeline_state import (
    FrameStatus,
    frame_status,
    frame_uncertainty,
    next_marked,
    uncertain_frames,
)
from annotator.propagation import FILL_METHODS as VIDEO_METHODS
from annotator.propagation import LiveFill, VideoSource

if TYPE_CHECKING:
    from annotator.video.base import VideoReader
    from annotator.video.motion import MotionFields
    from annotator.video.motion_store import MotionStore

log = logging.getLogger(__name__)

METHOD_SETTING = FILL_METHOD_SETTING  # the project setting holding the chosen fill method
VIDEO_DEFAULT = "hpim+mv"  # the fill once motion fields exist, unless the user chose another

Engine = fill_mod.FillEngine | LiveFill  # same reset / update / result semantics
# method, labels, scene cuts, (predicted joints, confidence): what ``prepare_fill`` starts from
FillSnapshot = tuple[
    str,
    NDArray[np.float32],
    tuple[int, ...],
    tuple[NDArray[np.float32], NDArray[np.float32]],
]
# Fills that fill each joint from its own labels alone, bit for bit whichever other joints
# are filled with it, so an edit of some joints refills only those (the DYAN fills solve all
# of a label pattern's columns together, with one stopping rule).
PER_JOINT_FILLS = frozenset({"linear", "pchip", "hpim"})
# A video fill's update costs the cube of the gap around the edit (HPIM conditions each gap in
# one dense solve): past this, the window tells the user why edits lag and what helps.
SLOW_FILL_S = 0.25
SLOW_UPDATES = 2  # that many slow updates in a row


def file_stamp(path: Path) -> tuple[int, int] | None:
    """(modification time in ns, size) of ``path``; None when it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


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
    motion_changed = QtCore.Signal()  # motion fields arrived (or are known to be missing)
    gate_changed = QtCore.Signal()  # the document's gate decisions changed
    residual_changed = QtCore.Signal()  # the document's per-frame residual energy changed
    flags_changed = QtCore.Signal()  # frames flagged for review changed
    scene_cuts_changed = QtCore.Signal()  # a scene cut marked or taken away
    # people added or removed, another one made active, or another one's labels changed
    people_changed = QtCore.Signal()
    fill_slow = QtCore.Signal(float)  # a video fill's update took this long (s): see SLOW_FILL_S

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
        # The project file as this session last read or wrote it (``file_stamp``): a save
        # over a file changed since (another window or program) asks first.
        self.disk_stamp = file_stamp(path) if path is not None else None
        self.instance = 0  # the active person's index: every edit and the timeline are theirs
        self._active_track = document.instances[0].track_id if document.instances else 0
        # The fills of the other people (drawn dimmed), by track id, built when first drawn.
        self._other_engines: dict[int, Engine] = {}
        self._snapshot_track: int | None = None  # whose labels ``fill_snapshot`` copied
        # per fill: the predicted joints it takes as labels (``FillInputs.anchors``)
        self._anchors_of: weakref.WeakKeyDictionary[Engine, NDArray[np.bool_] | None] = (
            weakref.WeakKeyDictionary()
        )
        # per person: their predicted joints as weighted observations (None: none), and the
        # active person's fill inputs with the label codes they were split on (``_inputs``)
        self._predictions: dict[int, Observations | None] = {}
        self._inputs_cache: tuple[int, str, FillInputs, NDArray[np.float32]] | None = None
        self.frame = 0
        self.joint = 0
        self._drag_id = 0
        self._resume_joint: int | None = None  # the joint to place once a drag ends
        self._slow_updates = 0  # video fill updates over SLOW_FILL_S in a row
        self.journal: RecoveryJournal | None = None  # autosave, started by the window
        self.loader = FrameLoader(reader, self)
        self.fields: MotionFields | MotionStore | None = None
        self.motion_note = ""  # why there are no (or only estimated) fields; empty when fine
        # the optical flow the video fills walk once it is ready (``set_fill_fields``)
        self.fill_fields: MotionStore | None = None
        # the video's per-frame descriptors for the N ranking (gui/video_ranking.py), once ready
        self.video_descriptors: NDArray[np.float32] | None = None
        # the joints walked along the video for the N ranking (gui/ranking_walks.py)
        self.ranking_walks = RankingWalks(self)
        saved = document.settings.get(METHOD_SETTING)
        wanted = method or (saved if isinstance(saved, str) else None)
        # A method the user chose (argument or project setting) is kept when fields arrive.
        self._chosen = wanted in available_methods()
        self.method = wanted if wanted is not None and self._chosen else self.default_method()
        self._combined_of: fill_mod.FillResult | None = None  # the engine result combined
        self.engine: Engine = self._make_engine(self.method)
        self._combined = self._combine()
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

    def manual(self, instance: int | None = None) -> NDArray[np.float32]:
        """The manual labels of ``instance`` (default: the active person)."""
        return np.asarray(self.doc.manual(self.instance if instance is None else instance))

    @property
    def active_track(self) -> int:
        """The active person's track id."""
        return self._active_track

    @property
    def result(self) -> fill_mod.FillResult:
        """The active person's fill with their predicted joints laid over it: what the views
        show, what is accepted and ranked (``estimation.prefill.combine``). Read it again
        after edits."""
        return self._combined

    def result_for(self, instance: int) -> fill_mod.FillResult:
        """What person ``instance``'s frames show: ``result`` for the active person, the
        other people's fill with their own predicted joints laid over it."""
        if instance == self.instance:
            return self.result
        pred, conf = self.doc.predicted(instance), self.doc.confidence(instance)
        return combine(self.engine_for(instance).result, self.manual(instance), pred, conf)

    def engine_for(self, instance: int) -> Engine:
        """The live fill of person ``instance`` (the active one's is ``engine``)."""
        if instance == self.instance:
            return self.engine
        track = self.doc.instances[instance].track_id
        engine = self._other_engines.get(track)
        if engine is None:
            engine = self._make_engine(self.method, instance)
            self._other_engines[track] = engine
        return engine

    def _combine(self, span: tuple[int, int] | None = None) -> fill_mod.FillResult:
        """Lay the predicted layer over the engine's result: over ``span`` in place when the
        engine's result is the one combined last, else in full."""
        source = self.engine.result
        pred, conf = self.doc.predicted(self.instance), self.doc.confidence(self.instance)
        previous = self._combined_of
        self._combined_of = source
        if span is None or previous is not source:
            return combine(source, self.manual(), pred, conf)
        return combine(source, self.manual(), pred, conf, span, into=self._combined)

    def fill_inputs(self, instance: int | None = None) -> FillInputs:
        """A person's (default: the active one's) labels with the anchoring predicted joints,
        and the predicted joints the fill weighs (``estimation.prefill.fill_inputs``)."""
        k = self.instance if instance is None else instance
        if k not in self._predictions:  # until the predicted layer or the people change
            pred = self.doc.predicted(k)
            self._predictions[k] = predicted_observations(pred, self.doc.confidence(k))
        obs = self._predictions[k]
        if obs is None:  # most projects: nothing to split, not even a pass over the frames
            return FillInputs(self.manual(k), None, None)
        return fill_inputs(
            self.manual(k), self.doc.predicted(k), obs, self.doc.scene_cuts, self.method
        )

    def _inputs(self, instance: int | None, span: tuple[int, int] | None) -> FillInputs:
        """``fill_inputs`` after labels changed on ``span`` (None: anywhere). For the active
        person a drag, which moves labels without adding or removing any, cannot change
        which predictions anchor: the last inputs are brought up to date over the span alone
        (a drag step on a long prefilled video must not split every frame again)."""
        if instance not in (None, self.instance):
            return self.fill_inputs(instance)
        manual = self.manual()
        cached = self._inputs_cache
        if (
            cached is not None
            and span is not None
            and cached[:2] == (self._active_track, self.method)
        ):
            _track, _method, inputs, codes = cached
            lo, hi = span[0], span[1] + 1
            if np.array_equal(manual[lo:hi, :, 2], codes[lo:hi]):
                if inputs.anchors is None:  # the labels are the manual ones, as they are now
                    return FillInputs(manual, inputs.observations, None)
                rows = inputs.labels[lo:hi]  # fill_inputs' own copy with the anchors laid in
                rows[...] = manual[lo:hi]
                at = inputs.anchors[lo:hi]
                rows[at] = np.asarray(self.doc.predicted(self.instance))[lo:hi][at]
                return inputs
        inputs = self.fill_inputs()
        self._inputs_cache = (self._active_track, self.method, inputs, manual[:, :, 2].copy())
        return inputs

    def _feed_predictions(self, engine: Engine, inputs: FillInputs) -> None:
        """Hand ``inputs``' weighted predicted joints to a fill that weighs observations
        (hpim, hpim+mv), and remember which predicted joints it takes as labels."""
        obs = inputs.observations
        if isinstance(engine, LiveFill):
            engine.set_predicted(obs)
        elif engine.method == "hpim":
            engine.set_observations(obs)
        self._anchors_of[engine] = inputs.anchors

    def _refill(self, engine: Engine, instance: int | None = None) -> None:
        """Rebuild ``engine`` from a person's (default: the active one's) current inputs."""
        inputs = self._inputs(instance, None)
        self._feed_predictions(engine, inputs)
        engine.reset(inputs.labels)

    def _fill_labels_changed(
        self,
        engine: Engine,
        span: tuple[int, int],
        joints: Sequence[int] | None = None,
        instance: int | None = None,
    ) -> tuple[int, int]:
        """Labels changed on ``span`` (inclusive): update ``engine`` over it, widened to the
        frames where a predicted joint started or stopped anchoring the fill (adding a label
        beyond the last one turns the predictions between them into weighted observations);
        returns the span recomputed."""
        inputs = self._inputs(instance, span)
        before = self._anchors_of.get(engine)
        moved = None if before is inputs.anchors else changed_rows(before, inputs.anchors)
        if moved is not None:
            span = (min(span[0], moved[0]), max(span[1], moved[1]))
            joints = None
            self._feed_predictions(engine, inputs)
        if joints is not None and (
            isinstance(engine, LiveFill) or engine.method in PER_JOINT_FILLS
        ):
            # One joint dragged: only its gaps are refilled (the others cannot change;
            # LiveFill narrows it for hpim+mv, whose HPIM is per joint too).
            return engine.update(inputs.labels, span, joints)
        return engine.update(inputs.labels, span)

    def pose_view(self, frame: int | None = None, instance: int | None = None) -> PoseView:
        """What the frame shows of a person (default: the active one): manual labels, else
        the fill's values (predicted joints laid over it)."""
        f = self.frame if frame is None else frame
        k = self.instance if instance is None else instance
        result = self.result if k == self.instance else self.result_for(k)
        manual = self.manual(k)[f]
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
        return np.flatnonzero(self.status >= FrameStatus.PARTIAL)

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

    def gated_frames(self) -> NDArray[np.int64]:
        """Frames the gate accepted (decision 1), sorted."""
        return np.flatnonzero(np.asarray(self.doc.gate) == 1)

    def frame_uncertainty(self) -> NDArray[np.float64] | None:
        """(F,) the fill's largest standard deviation (px) per frame, NaN where nothing is
        filled; None when the fill estimates no variance."""
        return frame_uncertainty(self.result.variance, self.manual())

    def held_frames(self) -> NDArray[np.bool_]:
        """(F,) frames with some value only held (before the first / after the last label)."""
        return np.asarray(self.result.held.any(axis=1) & (self.status < FrameStatus.PARTIAL))

    def jump_gated(self, forward: bool) -> bool:
        target = next_marked(self.gated_frames(), self.frame, forward)
        if target is not None:
            self.go_to(target)
        return target is not None

    def jump_uncertain(self, forward: bool) -> bool:
        """Go to the most uncertain frame of the next (previous) unlabelled stretch."""
        peaks = uncertain_frames(self.frame_uncertainty(), self.status)
        target = next_marked(peaks, self.frame, forward)
        if target is not None:
            self.go_to(target)
        return target is not None

    def ranking_problem(self) -> str | None:
        """Why ``rank_to_label`` cannot rank now (one sentence), or None when it can."""
        labelled = len(self.labelled_frames())
        if labelled >= self.frame_count:  # a one-frame video too: nothing is left to label
            return "every frame is labelled"
        if labelled < 2:
            return "label two frames first: the next frame to label comes from the fill between"
        return None  # a fill with no variance of its own is ranked by HPIM's (ranking.py)

    def proposed_to_label(self) -> list[int]:
        """The proposed frames not labelled yet, in frame order: what ``N`` visits while the
        fill cannot rank (``ranking_problem``) and no plan was accepted."""
        labelled = set(self.labelled_frames().tolist())
        return [int(f) for f in self.proposed if int(f) not in labelled]

    def rank_to_label(self, top: int | None = 1) -> list[tuple[int, float]]:
        """Unlabelled frames, best first, by the current fill's uncertainty and, once they are
        ready, the video's descriptors and the joints walked along it from the labels
        (``ranking_walks``): the session's own fill result goes to
        ``ranking.rank_next_frames`` (no second fill; for a fill that estimates no variance,
        such as ``linear``, the ranking takes HPIM's), the function protocol B calls. Empty
        when ``ranking_problem()`` says why not, or when no filled frame is left to label."""
        if self.ranking_problem() is not None:
            return []
        video = self.video_descriptors
        if video is not None and len(video) != self.frame_count:
            video = None  # descriptors of another reading of the video: rank without them
        observed = self.ranking_walks.observed()
        return ranking.rank_next_frames(
            self.manual(), self.result, top=top, video=video, observed=observed
        )

    def held_on(self, frame: int) -> bool:
        """True when some unlabelled joint of ``frame`` is only held (before the first or after
        the last label, ``ranking.held_ends``), so its ranking score is a distance, not an
        expected error."""
        return bool(ranking.held_ends(self.manual(), self.result)[frame])

    def set_joint(self, joint: int) -> None:
        joint = int(joint) % self.skeleton.num_joints
        if joint != self.joint:
            self.joint = joint
            self.joint_changed.emit(joint)

    # -- people ----------------------------------------------------------------------------
    def set_instance(self, instance: int) -> None:
        """Make person ``instance`` the active one (edits, timeline, fill dock follow)."""
        instance = int(instance) % len(self.doc.instances)
        if instance != self.instance:
            self._activate(instance)

    def add_person(self) -> int:
        """Add a person with a new track id (one undo step) and make them active."""
        command = cmd.AddInstance()
        self.history.seal()
        self.push(command)
        assert command.index is not None
        self.set_instance(command.index)
        return command.index

    def remove_person(self, instance: int | None = None) -> None:
        """Remove a person and their labels (one undo step; undo brings both back)."""
        self.history.seal()
        self.push(cmd.RemoveInstance(self.instance if instance is None else instance))

    def _activate(self, instance: int) -> None:
        """Switch the active person: their fill becomes ``engine``, the old one is kept."""
        old = self._active_track
        if any(i.track_id == old for i in self.doc.instances):
            self._other_engines[old] = self.engine
        self.instance = instance
        self._active_track = self.doc.instances[instance].track_id
        engine = self._other_engines.pop(self._active_track, None)
        self.engine = engine if engine is not None else self._make_engine(self.method)
        self._refresh_all()

    def _refresh_all(self) -> None:
        self._combined = self._combine()
        self.status = self._status(0, self.frame_count)
        self.people_changed.emit()
        self.status_changed.emit()
        self.poses_changed.emit(0, self.frame_count)

    def _on_people(self, op: tuple[str, int] | None) -> None:
        """People were added or removed (``op``: what happened where, None if unknown): keep
        the active person by track id (or, when they went, the one now at their place) and
        drop the fills of those gone."""
        tracks = [i.track_id for i in self.doc.instances]
        self._other_engines = {t: e for t, e in self._other_engines.items() if t in tracks}
        if not tracks:
            return  # replacing everyone (a restore): the next insert brings someone
        if self._active_track in tracks:
            self.instance = tracks.index(self._active_track)
            if op is None or op == ("insert", self.instance):
                # The active person came (back) with labels of their own (a restore): refill.
                self.engine = self._make_engine(self.method)
                self._refresh_all()
            else:
                self.people_changed.emit()
            return
        self.instance = min(self.instance, len(tracks) - 1)
        self._active_track = tracks[self.instance]
        engine = self._other_engines.pop(self._active_track, None)
        self.engine = engine if engine is not None else self._make_engine(self.method)
        self._refresh_all()

    # -- edits (each one a history command) ------------------------------------------------
    def push(self, command: cmd.Command) -> None:
        self.history.push(command)

    def _push_some(self, command: cmd.Command | None) -> bool:
        """Push ``command`` unless the action had nothing to change (None); True if pushed."""
        if command is None:
            return False
        self.push(command)
        return True

    def place(self, x: float, y: float) -> None:
        """Place the current joint at (x, y) on the current frame, then advance the joint."""
        self.history.seal()
        self.push(cmd.PlaceJoint(self.frame, self.joint, x, y, instance=self.instance))
        self.history.seal()
        self.set_joint(self.joint + 1)

    def begin_drag(self, joint: int) -> None:
        """A drag makes its joint the current one; when the current joint was waiting to be
        placed on this frame, the drag's end makes it current again, so a correction in the
        middle of placing does not change where the next click goes."""
        self.history.seal()
        self._drag_id += 1
        waiting = self.manual()[self.frame, self.joint, 2] == Visibility.UNLABELLED
        self._resume_joint = self.joint if waiting and joint != self.joint else None
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
        if self._resume_joint is not None:
            self.set_joint(self._resume_joint)
            self._resume_joint = None

    def toggle_occluded(self, joint: int | None = None) -> bool:
        """Visible <-> occluded; a filled joint becomes a manual label at its filled place.
        False when the joint has no position to toggle (absent, or nothing shown)."""
        j = self.joint if joint is None else joint
        pose = self.pose_view()
        x, y = (float(v) for v in pose.xy[j])
        shown = Visibility(int(pose.visibility[j]))
        return self._push_some(edits.toggle_occluded(self.frame, j, shown, (x, y), self.instance))

    def mark_absent(self, joint: int | None = None) -> bool:
        """Mark the joint absent on this frame; False when it is already."""
        j = self.joint if joint is None else joint
        if self.manual()[self.frame, j, 2] == Visibility.ABSENT:
            return False
        self.push(cmd.SetVisibility(self.frame, j, Visibility.ABSENT, self.instance))
        return True

    def delete(self, joint: int | None = None) -> bool:
        """Delete the joint's label on this frame; False when it has none."""
        j = self.joint if joint is None else joint
        return self._push_some(edits.delete_label(self.manual(), self.frame, j, self.instance))

    def clear_frame(self) -> None:
        self._push_some(edits.clear_frame(self.manual(), self.frame, self.instance))

    def copy_from_nearest(self) -> int | None:
        """Copy the pose of the nearest labelled frame onto this one; its frame, or None."""
        command = edits.copy_from_nearest(self.doc, self.frame, self.instance)
        if command is None:
            return None
        self.push(command)
        return command.source_frame

    def accept_fill(self) -> bool:
        """Filled and predicted joints of this frame become manual labels (one command);
        False if none."""
        frame = self.frame
        command = edits.accept_fill(
            self.manual()[frame], self.result.poses[frame], frame, self.instance
        )
        return self._push_some(command)

    def flip(self) -> bool:
        """Swap left and right on this frame; False when it has no label to swap (an edit
        that changed nothing still asked to be saved)."""
        if not (self.manual()[self.frame, :, 2] != Visibility.UNLABELLED).any():
            return False
        self.push(cmd.FlipLeftRight(self.frame, self.instance))
        return True

    def accept_proposals(
        self,
        frames: NDArray[np.int64],
        scores: Any,
        method: str,
        gate: Any = None,
        keep_plan: bool = False,
    ) -> None:
        """Take a proposer's result in (one undo step); ``scores``: one per video frame;
        ``gate``: the proposals contract's per-frame 0/1 decisions (the ``gate`` method's), or
        None. Decisions go into the document's gate state with the proposals, so one undo
        takes both back. New proposals are not the accepted plan (``core.proposal_plan``)
        unless ``keep_plan`` (Extend adds to an accepted plan)."""
        self.push(
            edits.accept_proposals(
                self.doc, frames, scores, method, self.instance, gate=gate, keep_plan=keep_plan
            )
        )

    def plan_to_label(self, rank: bool = True) -> list[int]:
        """The accepted proposals still to label, in the order N visits them: best first by
        the fill's ranking (``rank`` and it can rank), else by frame. Empty without an
        accepted plan (``core.proposal_plan``)."""
        proposals = self.doc.proposals
        if proposals is None or not self.doc.settings.get(ACCEPTED):
            return []
        ranked = self.rank_to_label(top=None) if rank else []
        return plan_order(proposals.frames, self.status == FrameStatus.LABELLED, ranked)

    @property
    def proposal_scores(self) -> NDArray[np.float64] | None:
        """The proposer's score of every frame (the score curve), or None."""
        proposals = self.doc.proposals
        if proposals is None or proposals.scores is None:
            return None
        return np.asarray(proposals.scores, dtype=np.float64)

    def undo(self) -> None:
        top = self.history.next_undo
        self.history.undo()
        if isinstance(top, cmd.RemoveInstance):
            # The person removed comes back active: the user sees who returned, and the next
            # edits are theirs, as they were before the removal.
            self.set_instance(top.instance)
        elif isinstance(top, cmd.SetLabels):
            self._show_edit(top, top.joint if isinstance(top, cmd.PlaceJoint) else None)

    def redo(self) -> None:
        top = self.history.next_redo
        self.history.redo()
        if isinstance(top, cmd.AddInstance) and top.index is not None:
            self.set_instance(top.index)  # as when the person was first added
        elif isinstance(top, cmd.SetLabels):
            after = top.joint + 1 if isinstance(top, cmd.PlaceJoint) else None
            self._show_edit(top, after)

    def _show_edit(self, command: cmd.SetLabels, joint: int | None) -> None:
        """After an undo or redo of a label edit: show it, with its person and, when the
        current frame is not one it changed, its first frame. ``joint``: the joint to place
        next (an undone placement is placed again; a redone one moves on)."""
        if command.instance != self.instance and command.instance < len(self.doc.instances):
            self.set_instance(command.instance)
        span = command.span
        if span is not None and not span[0] <= self.frame < span[1]:
            self.go_to(span[0])
        if joint is not None:
            self.set_joint(joint)

    # -- fill ------------------------------------------------------------------------------
    def default_method(self) -> str:
        """``hpim+mv`` once motion fields exist, else the labels-only default."""
        return VIDEO_DEFAULT if self.fields is not None else default_method()

    @property
    def fill_fallback(self) -> bool:
        """True while a video fill is chosen but runs as ``hpim`` (no motion fields)."""
        return self.method in VIDEO_METHODS and self.fields is None

    def set_motion(
        self,
        fields: MotionFields | MotionStore | None,
        note: str = "",
        prepared: PreparedFill | None = None,
    ) -> None:
        """The video's motion fields arrived (``None``: it has none, ``note`` says why).
        Derives the per-frame residual energy into the document and rebuilds the fill: a video
        fill now uses the fields, and the default becomes ``hpim+mv``. ``prepared``: that fill
        already built off the GUI thread (``prepare_fill``), brought up to date here."""
        if fields is not None and len(fields) != self.frame_count:
            note = (
                f"the motion fields cover {len(fields)} frames but the video has {self.frame_count}"
            )
            fields = None
        self.fields = fields
        self.motion_note = note or (fields.note if fields is not None else "")
        self.doc.set_residual_energy(None if fields is None else residual_energy(fields))
        target = self.method if self._chosen else self.default_method()
        engine = None if prepared is None or fields is None else self._catch_up(prepared, target)
        if self.fill_fields is not None:  # ``prepared`` walks these fields, the fill the flow
            engine = None
        self._apply_method(target, force=True, engine=engine)
        self.motion_changed.emit()

    def set_fill_fields(
        self, fields: MotionStore | None, prepared: PreparedFill | None = None
    ) -> None:
        """The optical flow the video fills walk arrived (``None``: back to the codec
        fields). Rebuilds a video fill on it (``prepared``: built off the GUI thread,
        brought up to date here); the residual energy and ``fields`` stay the codec's."""
        if fields is not None and len(fields) != self.frame_count:
            raise VideoError(
                f"the optical flow covers {len(fields)} frames but the video has {self.frame_count}"
            )
        self.fill_fields = fields
        if self.method in VIDEO_METHODS and self.fields is not None:
            engine = None if prepared is None else self._catch_up(prepared, self.method)
            self._apply_method(self.method, force=True, engine=engine)
        self.motion_changed.emit()

    @property
    def walk_fields(self) -> MotionFields | MotionStore | None:
        """The fields a video fill walks: the optical flow once ready, else the codec's."""
        return self.fill_fields if self.fill_fields is not None else self.fields

    def fill_snapshot(self) -> FillSnapshot:
        """What a fill prepared off the GUI thread starts from: the method the session will
        use once fields exist, a copy of the labels, the scene cuts and a copy of the
        predicted layer (joints, confidence) the fill weighs."""
        target = self.method if self._chosen else VIDEO_DEFAULT
        self._snapshot_track = self._active_track
        predicted = (
            np.array(self.doc.predicted(self.instance)),
            np.array(self.doc.confidence(self.instance)),
        )
        return target, self.manual().copy(), self.doc.scene_cuts, predicted

    def _catch_up(self, prepared: PreparedFill, method: str) -> Engine | None:
        """``prepared``'s fill updated with the edits made since its snapshot; None when it no
        longer fits (another method, other scene cuts or another person)."""
        if (
            prepared.method != method
            or self._snapshot_track != self._active_track
            or prepared.cuts != self.doc.scene_cuts
            or prepared.manual.shape != self.manual().shape
            or not np.array_equal(
                prepared.predicted[0], self.doc.predicted(self.instance), equal_nan=True
            )
            or not np.array_equal(
                prepared.predicted[1], self.doc.confidence(self.instance), equal_nan=True
            )
        ):
            return None
        now = self.manual()
        same = (prepared.manual == now) | (np.isnan(prepared.manual) & np.isnan(now))
        changed = np.flatnonzero(~same.all(axis=(1, 2)))
        self._anchors_of[prepared.engine] = prepared.anchors
        if len(changed):
            self._fill_labels_changed(prepared.engine, (int(changed[0]), int(changed[-1])))
        return prepared.engine

    def _make_engine(self, method: str, instance: int | None = None) -> Engine:
        """A fill of ``method`` reset to the labels of ``instance`` (default: the active one)."""
        engine: Engine
        if method in VIDEO_METHODS and self.fields is None:
            # No fields (yet): both video fills are hpim exactly, as ``fill_with`` defines.
            engine = fill_mod.FillEngine("hpim", fps=self.fps, scene_cuts=self.doc.scene_cuts)
        elif method in VIDEO_METHODS:
            source = VideoSource(Path(self.doc.video.path), self.walk_fields, self.doc.scene_cuts)
            engine = LiveFill(method, source, fps=self.fps)
        else:
            engine = fill_mod.FillEngine(method, fps=self.fps, scene_cuts=self.doc.scene_cuts)
        self._refill(engine, instance)
        return engine

    def _status(self, start: int, stop: int) -> NDArray[np.int8]:
        result = self.result
        return frame_status(
            self.manual()[start:stop], result.source[start:stop], result.held[start:stop]
        )

    def set_method(self, method: str) -> None:
        """Choose the fill method: a project setting, so saved with it and undoable."""
        if method != self.method:
            self.push(cmd.SetSetting(METHOD_SETTING, method, f"Fill with {method}"))

    def _apply_method(self, method: str, force: bool = False, engine: Engine | None = None) -> None:
        """Rebuild the fill with ``method`` (or take ``engine``, already built for it);
        ``force``: also when it is the current method (its inputs changed, e.g. motion fields
        arrived)."""
        if (method == self.method and not force) or method not in available_methods():
            return
        self.engine = engine if engine is not None else self._make_engine(method)
        self.method = method
        self._other_engines.clear()  # the other people's fills follow when next drawn
        self._combined = self._combine()
        self.status = self._status(0, self.frame_count)
        self.method_changed.emit(method)
        self.status_changed.emit()
        self.poses_changed.emit(0, self.frame_count)

    def _on_change(self, change: Change) -> None:
        """Document event: refill the touched span, refresh its status, tell the views."""
        if change.kind == "proposals":
            self.proposals_changed.emit()
            return
        if change.kind == "gate":
            self.gate_changed.emit()
            return
        if change.kind == "residual":
            self.residual_changed.emit()
            return
        if change.kind == "flags":
            self.flags_changed.emit()
            return
        if change.kind == "settings":
            saved = self.doc.settings.get(METHOD_SETTING)
            self._chosen = isinstance(saved, str)
            self._apply_method(saved if isinstance(saved, str) else self.default_method())
            return
        if change.kind in ("instances", "predicted", "scene_cuts"):
            self._predictions.clear()  # what ``fill_inputs`` starts from changed
            self._inputs_cache = None
        if change.kind == "scene_cuts":
            self.scene_cuts_changed.emit()
            self._other_engines.clear()
            self.engine = self._make_engine(self.method)
            change = Change("labels", self.instance, None)
        if change.kind == "instances":
            self._on_people(change.op)
            return
        # Prefill (or its undo) over frames already filled changes no frame's status, but the
        # counts beside the fill (the Fill dock's predicted frames) still change.
        announce = change.kind == "predicted"
        if change.kind == "predicted":
            if change.instance not in (None, self.instance):
                self._on_other_predicted(change.instance)
                return
            change = Change("labels", self.instance, None)  # the fill weighs them: a refill
        if change.kind != "labels":
            return
        if change.instance not in (None, self.instance):
            self._on_other_labels(change)
            return
        n = self.frame_count
        start, stop = change.frames if change.frames is not None else (0, n)
        if change.frames is None:
            self._refill(self.engine)
            lo, hi = 0, n
        else:
            span = (start, max(start, stop - 1))
            t0 = time.perf_counter()
            a, b = self._fill_labels_changed(self.engine, span, change.joints)
            self._note_update_time(time.perf_counter() - t0)
            lo, hi = min(start, a), max(stop, b + 1)
        self._combined = self._combine((lo, hi))
        new = self._status(lo, hi)
        changed = not np.array_equal(new, self.status[lo:hi])
        self.status[lo:hi] = new
        self.poses_changed.emit(lo, hi)
        if changed or announce:  # most drag steps change positions only: no repaint
            self.status_changed.emit()

    def _note_update_time(self, seconds: float) -> None:
        """Say a video fill lags (``fill_slow``) after ``SLOW_UPDATES`` slow updates in a row:
        one slow update alone is often a fill's first (caches being built), not the gaps."""
        if seconds <= SLOW_FILL_S or self.method not in VIDEO_METHODS:
            self._slow_updates = 0
            return
        self._slow_updates += 1
        if self._slow_updates >= SLOW_UPDATES:
            self.fill_slow.emit(seconds)

    def _on_other_predicted(self, instance: int) -> None:
        """Another person's predicted joints changed (an undo, a restore): their fill, if one
        was built, weighs the new ones, and the views redraw."""
        engine = self._other_engines.get(self.doc.instances[instance].track_id)
        if engine is not None:
            self._refill(engine, instance)
        self.poses_changed.emit(0, self.frame_count)

    def _on_other_labels(self, change: Change) -> None:
        """Labels of a person other than the active one changed (an undo, a restore): their
        fill, if one was built, follows, and the views redraw the span."""
        assert change.instance is not None
        track = self.doc.instances[change.instance].track_id
        engine = self._other_engines.get(track)
        start, stop = change.frames if change.frames is not None else (0, self.frame_count)
        if engine is not None:
            if change.frames is None:
                self._refill(engine, change.instance)
            else:
                span = (start, max(start, stop - 1))
                a, b = self._fill_labels_changed(engine, span, instance=change.instance)
                start, stop = min(start, a), max(stop, b + 1)
        self.poses_changed.emit(start, stop)
        self.people_changed.emit()  # their labelled frame count

    def _on_history(self) -> None:
        if self.journal is not None and not self.dirty:
            # Undone back to the saved state: nothing is left to recover (a crash now offered
            # to restore "unsaved" work); the next edit starts a fresh journal.
            self.journal.mark_saved()
        self.history_changed.emit()
        self.dirty_changed.emit(self.dirty)

    # -- saving ----------------------------------------------------------------------------
    def mark_saved(self, path: Path) -> None:
        self.path = path
        self.disk_stamp = file_stamp(path)
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
        if "hpim" in _AVAILABLE:  # both video fills build on HPIM (and fall back to it)
            _AVAILABLE.extend(VIDEO_METHODS)
        if not _AVAILABLE:
            _AVAILABLE.append("linear")
    return list(_AVAILABLE)


def default_method() -> str:
    """The default fill without motion fields (``Session.default_method`` knows the video)."""
    methods = available_methods()
    return fill_mod.DEFAULT_METHOD if fill_mod.DEFAULT_METHOD in methods else methods[0]


@dataclass(frozen=True)
class PreparedFill:
    """A video fill built and reset off the GUI thread from a snapshot of the labels: the
    first full fill with long gaps can take seconds, which must not freeze the window."""

    method: str
    manual: NDArray[np.float32]
    cuts: tuple[int, ...]
    engine: Engine
    predicted: tuple[NDArray[np.float32], NDArray[np.float32]]
    anchors: NDArray[np.bool_] | None = None  # the predicted joints it takes as labels


def prepare_fill(
    snapshot: FillSnapshot,
    video: Path,
    fields: MotionFields | MotionStore,
    fps: float,
) -> PreparedFill | None:
    """``Session.fill_snapshot``'s fill with ``fields`` (thread-safe: touches no session);
    None when the snapshot's method is not a video fill."""
    method, manual, cuts, predicted = snapshot
    if method not in VIDEO_METHODS:
        return None
    engine = LiveFill(method, VideoSource(video, fields, cuts), fps=fps)
    inputs = fill_inputs(manual, predicted[0], predicted_observations(*predicted), cuts, method)
    engine.set_predicted(inputs.observations)
    engine.reset(inputs.labels)
    return PreparedFill(method, manual, cuts, engine, predicted, inputs.anchors)


def residual_energy(fields: MotionFields | MotionStore) -> NDArray[np.float32]:
    """Mean motion-compensated residual of every frame (luma 0..255); NaN where no cell has
    one (frame 0, a frame the extractor could not compare). A store wrote it while extracting."""
    from annotator.video.motion_store import MotionStore

    if isinstance(fields, MotionStore):
        stored: NDArray[np.float32] = np.array(fields.energy, dtype=np.float32)
        return stored
    residual = np.asarray(fields.residual, dtype=np.float32)
    flat = residual.reshape(residual.shape[0], -1)
    finite = np.isfinite(flat)
    count = finite.sum(axis=1)
    total = np.where(finite, flat, 0.0).sum(axis=1, dtype=np.float64)
    out = np.full(residual.shape[0], np.nan, dtype=np.float32)
    out[count > 0] = (total[count > 0] / count[count > 0]).astype(np.float32)
    return out
