"""Review mode, the joint trail, the joint plot and the review exports, wired to the window.

``ReviewController`` owns the review dock (``ReviewPanel``), the joint plot dock
(``JointPlot``) and the trail drawn on the frame (``TrailItem``). It follows the window's
session: its signals (seek, joint, fill updates, flags) and, for review marks, which the
session does not re-emit, the document's change events. Every edit it makes is a history
command: marking a frame reviewed is ``MarkReviewed`` (who: the panel's reviewer name, kept
per user in ``review.ini`` of the per-user data folder, by default the operating system's
user; when: now, ISO 8601 UTC), dragging a manual dot in the
plot is ``MoveJoint`` merged into one undo step per drag.

The ``act_*`` functions are the keymap's handlers for the Review menu (listed in
``window_actions.HANDLERS``). The exports run in the window's worker with progress and cancel; the
labels are frozen when the user asks, so edits made meanwhile do not change a file under way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6 import QtCore, QtWidgets

from annotator.core import commands as cmd
from annotator.core.document import Change
from annotator.core.paths import data_dir
from annotator.core.progress import Progress, ShouldStop
from annotator.errors import AnnotatorError
from annotator.gui.joint_plot import JointPlot
from annotator.gui.review_panel import ReviewPanel
from annotator.gui.review_state import (
    PoseTrack,
    ReviewItem,
    joint_series,
    review_again,
    review_queue,
    reviewer_name,
    step_queue,
    trail,
)
from annotator.gui.trail import TrailItem
from annotator.gui.workers import handler_failure, one_line

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow
    from annotator.gui.session import Session

log = logging.getLogger(__name__)

PLOT_HEIGHT = 230  # the joint plot dock's height when opened (pixels)

# The Review menu's actions that need an open project.
SESSION_ACTIONS: tuple[str, ...] = (
    "review_next", "review_prev", "mark_reviewed", "flag_frame", "export_overlay",
    "export_contact_sheet",
)  # fmt: skip


def _settings() -> QtCore.QSettings:
    return QtCore.QSettings(str(data_dir() / "review.ini"), QtCore.QSettings.Format.IniFormat)


def saved_reviewer() -> str | None:
    """The reviewer name the user typed last (per user, all projects), or None."""
    value = _settings().value("reviewer", "")
    return str(value).strip() or None


def save_reviewer(name: str) -> None:
    """Remember ``name`` as the reviewer; an empty name goes back to the OS user."""
    settings = _settings()
    if name.strip():
        settings.setValue("reviewer", name.strip())
    else:
        settings.remove("reviewer")
    settings.sync()


def live_track(session: Session) -> PoseTrack:
    """The session's labels and fill as they are now (views, not copies: read at once)."""
    result = session.engine.result
    return PoseTrack(session.manual(), result.poses, result.source, result.held, result.variance)


def frozen_track(session: Session, instance: int | None = None) -> PoseTrack:
    """A copy of a person's (default: the active one's) labels and what their frames show
    (the fill with predicted joints laid over it), safe to read from a worker."""
    k = session.instance if instance is None else instance
    result = session.result_for(k)
    return PoseTrack.of(
        session.manual(k), result.poses, result.source, result.held, result.variance
    )


def frozen_people(session: Session) -> tuple[PoseTrack, list[PoseTrack]]:
    """``frozen_track`` of the active person and of everyone else, for an export that
    shows every person (captions and chosen frames follow the active one)."""
    others = [k for k in range(len(session.doc.instances)) if k != session.instance]
    return frozen_track(session), [frozen_track(session, k) for k in others]


def _dock(
    window: QtWidgets.QMainWindow, title: str, widget: QtWidgets.QWidget, name: str
) -> QtWidgets.QDockWidget:
    dock = QtWidgets.QDockWidget(title, window)
    dock.setObjectName(name)  # the window's saved layout finds it by this name
    dock.setWidget(widget)
    features = QtWidgets.QDockWidget.DockWidgetFeature
    dock.setFeatures(
        features.DockWidgetMovable | features.DockWidgetFloatable | features.DockWidgetClosable
    )
    window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
    return dock


class ReviewController(QtCore.QObject):
    """See the module docstring."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session: Session | None = None
        self.items: list[ReviewItem] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._drag = 0
        self._pending: tuple[int, str, float] | None = None  # a plot drag's latest move
        self._plot_joint: int | None = None
        self.panel = ReviewPanel(reviewer_name(saved_reviewer()))
        self.panel.reviewer.editingFinished.connect(
            lambda: save_reviewer(self.panel.reviewer.text())
        )
        self.panel.go_to.connect(self._go_to)
        self.panel.step.connect(lambda forward: self._guard(lambda: self.step(forward)))
        self.panel.mark.connect(lambda: self._guard(self.mark_reviewed))
        self.panel.threshold_changed.connect(lambda _v: self.refresh_queue())
        self.review_dock = _dock(window, "Review", self.panel, "review")
        self.plot = JointPlot()
        self.plot.seek.connect(self._go_to)
        self.plot.drag_started.connect(self._plot_drag_started)
        self.plot.drag_moved.connect(self._plot_drag_moved)
        self.plot.drag_finished.connect(self._plot_drag_finished)
        self.plot_dock = _dock(window, "Joint Plot", self.plot, "joint_plot")
        # Under the frame and timeline, beside (not under) the right docks, which keep their
        # height; closed until asked for (Review > Joint Plot), since it takes the frame's.
        window.setCorner(
            QtCore.Qt.Corner.BottomRightCorner, QtCore.Qt.DockWidgetArea.RightDockWidgetArea
        )
        window.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, self.plot_dock)
        self.plot_dock.hide()
        self.plot_dock.visibilityChanged.connect(self._on_plot_shown)
        # Tabbed with the legend, closed until review mode is entered: the right docks keep
        # the room the joint list needs.
        window.tabifyDockWidget(window.legend_dock, self.review_dock)
        window.legend_dock.raise_()
        self.review_dock.hide()
        self.trail = TrailItem()
        self.trail.setZValue(5)  # under the skeleton overlay (10)
        window.frame_view.box.addItem(self.trail)
        # Fill updates arrive on every drag step; the queue and plot follow once they pause.
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._refresh_derived)
        # The Review menu's checkable actions open and close the docks, and follow them when
        # a dock's own close button is used.
        for action_id, dock in (("review_mode", self.review_dock), ("joint_plot", self.plot_dock)):
            action = window.actions_by_id[action_id]
            action.setChecked(False)
            dock.toggleViewAction().toggled.connect(action.setChecked)
        trail_action = window.actions_by_id["joint_trail"]
        trail_action.setChecked(True)
        trail_action.toggled.connect(self._show_trail)
        self._enable(False)
        window.session_changed.connect(self.attach)

    # -- following the session ------------------------------------------------------------
    def attach(self, session: Session) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.session = session
        self._plot_joint = None
        self._unsubscribe = session.doc.subscribe(self._on_change)
        session.frame_changed.connect(self._on_frame)
        session.joint_changed.connect(lambda _j: self._refresh_views(fit=True))
        session.poses_changed.connect(self._on_poses)
        session.method_changed.connect(lambda _m: self._refresh_derived())
        session.flags_changed.connect(self.refresh_queue)
        self._enable(True)
        self.refresh_queue()
        self._show_reviewed()
        self._refresh_views(fit=True)

    def _enable(self, on: bool) -> None:
        for action_id in SESSION_ACTIONS:
            self.window.actions_by_id[action_id].setEnabled(on)

    def _on_change(self, change: Change) -> None:
        if change.kind == "review":
            self.refresh_queue()
            self._show_reviewed()

    def _show_reviewed(self) -> None:
        """The reviewed frames as green ticks on the timeline's held / flagged row."""
        if self.session is not None:
            reviewed = np.array(sorted(self.session.doc.reviews), dtype=np.int64)
            self.window.timeline.set_rows(reviewed=reviewed)

    def _on_frame(self, frame: int) -> None:
        self._update_trail()
        self.plot.set_playhead(frame)
        self._show_current()

    def _on_poses(self, _start: int, _stop: int) -> None:
        self._update_trail()  # 31 frames: cheap enough for every drag step
        self._timer.start()

    def _refresh_derived(self) -> None:
        self._timer.stop()
        self.refresh_queue()
        self._update_plot(fit=False)

    def _refresh_views(self, fit: bool) -> None:
        self._update_trail()
        self._update_plot(fit)

    # -- review queue ------------------------------------------------------------------------
    def refresh_queue(self) -> None:
        session = self.session
        if session is None:
            return
        doc = session.doc
        self.items = review_queue(
            doc.flags,
            doc.reviews,
            session.engine.result.variance,
            session.manual(),
            session.status,
            session.skeleton.joints,
            self.panel.threshold.value(),
        )
        self.panel.set_items(self.items, len(doc.reviews))
        self._show_current()

    def _show_current(self) -> None:
        session = self.session
        if session is None:
            return
        frame = session.frame
        item = next((i for i in self.items if i.frame == frame), None)
        review = session.doc.reviews.get(frame)
        self.panel.set_current(frame, item, None if review is None else review.by)

    def step(self, forward: bool) -> None:
        session = self._need()
        target = step_queue(self.items, session.frame, forward)
        if target is None:
            where = "after" if forward else "before"
            self.window.show_status(f"nothing to review {where} this frame", 3000)
            return
        session.go_to(target)
        item = next(i for i in self.items if i.frame == target)
        self.window.show_status(f"frame {target}: {item.text}", 6000)

    def mark_reviewed(self) -> None:
        """Mark the current frame reviewed (one undo step), then go to the next item."""
        session = self._need()
        frame = session.frame
        by = reviewer_name(self.panel.reviewer.text())
        session.history.seal()
        session.push(cmd.MarkReviewed(frame, frame + 1, by))
        session.history.seal()
        self.window.show_status(f"frame {frame} marked reviewed by {by}", 3000)
        following = step_queue(self.items, frame, True)
        if following is not None:
            session.go_to(following)

    def flag_frame(self) -> None:
        """Flag the current frame for review with the reason the user gives (one undo step;
        an earlier reason is replaced); nothing when the user cancels."""
        session = self._need()
        frame = session.frame
        reason = self.window.reporter.ask_text(
            f"Why should frame {frame} be reviewed?", "Flag This Frame"
        )
        if reason is None:
            return
        session.history.seal()
        commands = [cmd.SetFlag(frame, reason), *review_again(session.doc.reviews, [frame])]
        session.push(cmd.Batch(f"Flag frame {frame}", commands))
        session.history.seal()
        self.window.show_status(f"frame {frame} flagged for review: {reason}", 3000)

    def _guard(self, fn: Callable[[], Any]) -> None:
        """Run a user action; its error reaches the user as one line, never only stderr."""
        try:
            fn()
        except AnnotatorError as err:
            self.window.reporter.error(one_line(str(err)))
        except Exception as err:
            log.exception("review action failed")
            self.window.reporter.error(handler_failure("The review action", err))

    def _need(self) -> Session:
        if self.session is None:
            raise AnnotatorError("open a video or project first")
        return self.session

    def _go_to(self, frame: int) -> None:
        if self.session is not None:
            self.session.go_to(frame)

    # -- trail and plot ----------------------------------------------------------------------
    def _show_trail(self, on: bool) -> None:
        self.trail.setVisible(on)
        self._update_trail()

    def _update_trail(self) -> None:
        session = self.session
        if session is None or not self.trail.isVisible():
            self.trail.set_trail(None, 0, "#ffffff")
            return
        joint = session.joint
        series = trail(live_track(session), joint, session.frame)
        self.trail.set_trail(series, session.frame, session.skeleton.colors[joint])

    def _on_plot_shown(self, visible: bool) -> None:
        if visible:
            self._update_plot(fit=True)

    def _update_plot(self, fit: bool) -> None:
        session = self.session
        if session is not None and not self.plot_dock.isVisible():
            self._plot_joint = None  # a closed plot is not kept current: fit it when shown
            return
        if session is None:
            self.plot.set_series(None, "no joint", "#ffffff", fit)
            return
        joint = session.joint
        fit = fit or joint != self._plot_joint
        self._plot_joint = joint
        series = joint_series(live_track(session), joint)
        name = session.skeleton.joints[joint]
        self.plot.set_series(
            series, f"{name}: x and y over time", session.skeleton.colors[joint], fit
        )
        self.plot.set_playhead(session.frame)

    def _plot_drag_started(self, frame: int) -> None:
        session = self.session
        if session is None:
            return
        session.history.seal()
        self._drag += 1
        session.go_to(frame)

    def _plot_drag_moved(self, frame: int, axis: str, value: float) -> None:
        """Coalesce mouse moves, as the frame view does: a slow fill must not build a backlog
        behind the cursor; only the latest value counts, applied once queued events ran."""
        first = self._pending is None
        self._pending = (frame, axis, value)
        if first:
            QtCore.QTimer.singleShot(0, self._apply_plot_drag)

    def _apply_plot_drag(self) -> None:
        pending, self._pending = self._pending, None
        session = self.session
        if pending is None or session is None:
            return
        frame, axis, value = pending
        joint = session.joint
        label = session.manual()[frame, joint]
        if not np.isfinite(label[:2]).all():
            return
        x, y = (value, float(label[1])) if axis == "x" else (float(label[0]), value)
        move = cmd.MoveJoint(
            frame, joint, x, y, instance=session.instance, drag=("plot", self._drag)
        )
        self._guard(lambda: session.push(move))

    def _plot_drag_finished(self, _frame: int) -> None:
        self._apply_plot_drag()
        if self.session is not None:
            self.session.history.seal()
            self._refresh_derived()


# -- exports -------------------------------------------------------------------------------
def _export(window: MainWindow, kind: str) -> None:
    from annotator.gui import review_export
    from annotator.gui.opening import export_base

    session = window.need_session()
    suffix, title, filters = {
        "video": (".review.mp4", "Export Overlay Video", "MP4 video (*.mp4)"),
        "sheet": (".contact.png", "Export Contact Sheet", "PNG image (*.png)"),
    }[kind]
    path = window.reporter.choose_save_path(title, filters, export_base(session) + suffix)
    if not path:
        return
    out = Path(path)
    if not out.suffix:
        out = out.with_suffix(".mp4" if kind == "video" else ".png")
    track, others = frozen_people(session)  # edits made during the export do not change it
    video, skeleton = Path(session.doc.video.path), session.skeleton

    def job(progress: Progress, should_stop: ShouldStop) -> Any:
        export = (
            review_export.export_overlay_video
            if kind == "video"
            else review_export.export_contact_sheet
        )
        return export(
            video, skeleton, track, out, others=others, progress=progress, should_stop=should_stop
        )

    def done(result: Any) -> None:
        what = f"{result} frames" if kind == "video" else f"a {result[0]}x{result[1]} sheet"
        window.show_status(f"exported {what} to {out}", 6000)

    def cancelled() -> None:
        window.show_status(f"{title.lower()} cancelled: nothing written", 4000)

    window.tasks.start(title, job, done, window.reporter.error, on_cancelled=cancelled)


def _show_dock(dock: QtWidgets.QDockWidget, on: bool, height: int | None = None) -> None:
    dock.setVisible(on)
    if on:
        dock.raise_()
        window = dock.parentWidget()
        if height is not None and isinstance(window, QtWidgets.QMainWindow):
            # Opening takes a bounded share of the frame's height, not half the window.
            window.resizeDocks([dock], [height], QtCore.Qt.Orientation.Vertical)


def act_review_mode(window: MainWindow) -> None:
    """Open (or close) the review dock, following the checkable action."""
    _show_dock(window.review.review_dock, window.actions_by_id["review_mode"].isChecked())


def act_review_next(window: MainWindow) -> None:
    window.review.step(True)


def act_review_prev(window: MainWindow) -> None:
    window.review.step(False)


def act_mark_reviewed(window: MainWindow) -> None:
    window.review.mark_reviewed()


def act_flag_frame(window: MainWindow) -> None:
    window.review.flag_frame()


def act_joint_plot(window: MainWindow) -> None:
    """Open (or close) the joint plot dock, following the checkable action."""
    _show_dock(window.review.plot_dock, window.actions_by_id["joint_plot"].isChecked(), PLOT_HEIGHT)


def act_joint_trail(window: MainWindow) -> None:
    """The trail's visibility follows the checkable action (``ReviewController``)."""


def act_export_overlay(window: MainWindow) -> None:
    _export(window, "video")


def act_export_contact_sheet(window: MainWindow) -> None:
    _export(window, "sheet")
