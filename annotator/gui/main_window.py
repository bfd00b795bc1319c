"""The main window: frame view and timeline in the centre, joint list, fill and legend docks.

The window owns no annotation data. It builds its actions from ``keymap.ACTIONS`` (handlers
from the table ``window_actions.HANDLERS``), opens videos and projects (``opening.py`` does the work), and wires a
``Session``'s signals to the views. Anything that can fail reaches the user through the
``Reporter`` as one readable sentence.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from annotator.errors import AnnotatorError
from annotator.gui import (
    auto_propose,
    motion,
    next_label,
    opening,
    people,
    proxy_offer,
    ranking_walks,
    text_keys,
    theme,
    video_ranking,
    window_actions,
)
from annotator.gui.dialogs import Reporter
from annotator.gui.frame_view import FrameView
from annotator.gui.keymap import ACTIONS, CHECKABLE, MENUS, ROW_ACTIONS, TOOLBAR, by_id
from annotator.gui.panels import FillPanel, JointList, Legend
from annotator.gui.proposal_panel import ProposalController
from annotator.gui.proxy_offer import ProxyBar
from annotator.gui.review import ReviewController
from annotator.gui.session import Session, available_methods, default_method
from annotator.gui.settings import WindowSettings
from annotator.gui.task_status import TaskStatus
from annotator.gui.timeline import Timeline
from annotator.gui.timeline_state import FrameStatus
from annotator.gui.wording import plural
from annotator.gui.workers import Task, TaskRunner, handler_failure, one_line

log = logging.getLogger(__name__)

# The next frame to label is re-ranked on the GUI thread whenever edits pause. On long, densely
# labelled projects (frames x labelled frames beyond this product) a ranking takes a noticeable
# fraction of a second, so there it runs only when N asks.
AUTO_RANK_PAIRS = 2_000_000

# A hint in the status bar (not an error): long enough to read, then it clears itself.
HINT_MS = 8000


class FrameSpinBox(QtWidgets.QSpinBox):
    """The frame number box: a number past the last frame goes to the last frame (a plain
    spin box refuses the keystroke, so typing 999 on a 240-frame video gave frame 99).

    ``stepped`` follows a click on its arrows, after which the keys belong to the frame again
    (the box kept the focus, so D, Space or Ctrl+Z did nothing until the picture was
    clicked); the wheel steps frames without taking the focus. A number typed and left by a
    click elsewhere is dropped, not gone to: the click was aimed at the frame on screen (on
    the picture it placed a joint on the typed frame, unseen); Enter or Tab goes there."""

    stepped = QtCore.Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)  # not WheelFocus

    def focusOutEvent(self, event: QtGui.QFocusEvent) -> None:
        if event.reason() == QtCore.Qt.FocusReason.MouseFocusReason:
            self.lineEdit().setText(self.textFromValue(self.value()))  # typed, never entered
        super().focusOutEvent(event)

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        option = QtWidgets.QStyleOptionSpinBox()
        self.initStyleOption(option)
        control = self.style().hitTestComplexControl(
            QtWidgets.QStyle.ComplexControl.CC_SpinBox, option, event.position().toPoint(), self
        )
        arrows = (
            QtWidgets.QStyle.SubControl.SC_SpinBoxUp,
            QtWidgets.QStyle.SubControl.SC_SpinBoxDown,
        )
        if control in arrows:
            self.stepped.emit()

    def _past_end(self, text: str) -> bool:
        digits = text.strip()
        return digits.isdigit() and int(digits) > self.maximum()

    def validate(self, text: str, pos: int) -> tuple[QtGui.QValidator.State, str, int]:
        if self._past_end(text):
            return QtGui.QValidator.State.Intermediate, text, pos
        return super().validate(text, pos)

    def fixup(self, text: str) -> str:
        return str(self.maximum()) if self._past_end(text) else str(super().fixup(text))


class MainWindow(QtWidgets.QMainWindow):
    """The application window; ``session`` is the open project or None."""

    session_changed = QtCore.Signal(object)
    # K-FPN proposes on open, before the reading for N (gui/auto_propose.py); the stored
    # preference turns it off, and so does this switch (the GUI tests, benchmarks).
    propose_on_open = True

    def __init__(self, reporter: Reporter | None = None, remember_layout: bool = False) -> None:
        super().__init__()
        self._remember_layout = remember_layout
        self.setWindowTitle("annotator")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.reporter = reporter or Reporter(self)
        self.tasks = TaskRunner(self, report=lambda message: self.reporter.error(message))
        self.session: Session | None = None
        self.actions_by_id: dict[str, QtGui.QAction] = {}
        self.context_menu: QtWidgets.QMenu | None = None  # the open joint menu (kept alive)
        self._play_timer = QtCore.QTimer(self)
        self._play_timer.timeout.connect(self._play_tick)
        self._frame_error_shown = False
        self._autosave_error_shown = False
        # (session, undo count, top command) when the user answered "unsaved changes?" for
        # the file being opened (``open_path``; ``set_session`` compares).
        self._answered: tuple[Session, int, Any] | None = None
        self._pending_drag: tuple[int, float, float] | None = None
        self.proxy_task: Task | None = None  # making the fast-seek copy, while it runs
        # Motion fields are extracted in the background whenever a video opens (gui/motion.py).
        self.extract_motion_on_open = True
        self.motion_task: Task | None = None  # extracting them, until it delivers
        # The video's descriptors for N are prepared on open too (gui/video_ranking.py).
        self.rank_with_video_on_open = True
        self._slow_fill_shown = False  # the slow video fill's hint, once per project
        self.next_offers = next_label.NextOffers()  # what N offered in a row (N again: next)
        # The next frame to label is re-ranked once edits pause, not on every drag step.
        self._suggest_timer = QtCore.QTimer(self)
        self._suggest_timer.setSingleShot(True)
        self._suggest_timer.setInterval(250)
        self._suggest_timer.timeout.connect(self.update_suggestion)
        # The uncertainty and held rows follow the fill once a drag pauses: computing them
        # reads every frame, more than one drag step should pay.
        self._rows_timer = QtCore.QTimer(self)
        self._rows_timer.setSingleShot(True)
        self._rows_timer.setInterval(150)
        self._rows_timer.timeout.connect(self._show_fill_rows)
        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_status_bar()
        self.review = ReviewController(self)  # review mode, joint trail and plot, exports
        self.settings = WindowSettings(self)  # stored preferences and shortcuts, applied
        self.refresh_key_hints()
        self._restore_rows()
        # The status bar's task name, progress bar and cancel follow the running tasks.
        self.task_status = TaskStatus(
            self.tasks, self.task_label, self.progress, self.cancel_button
        )
        self._update_enabled()
        if remember_layout:
            self._restore_layout()

    # ------------------------------------------------------------------ layout
    def _build_central(self) -> None:
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.proxy_bar = ProxyBar()
        self.proxy_bar.act.connect(
            lambda: self.guarded(functools.partial(proxy_offer.on_bar_action, self))
        )
        layout.addWidget(self.proxy_bar)
        self.frame_view = FrameView()
        self._text_keys = text_keys.install(self, self.frame_view)  # Esc, Tab, Enter in fields
        layout.addWidget(self.frame_view, 1)
        transport = QtWidgets.QHBoxLayout()
        transport.setContentsMargins(8, 4, 8, 4)
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setText("▶")
        self.play_button.setCheckable(True)
        self.play_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.play_button.toggled.connect(self.set_playing)
        transport.addWidget(self.play_button)
        self.frame_spin = FrameSpinBox()
        self.frame_spin.setKeyboardTracking(False)
        self.frame_spin.setMinimumWidth(90)
        self.frame_spin.setToolTip("current frame (0-based)")
        self.frame_spin.valueChanged.connect(self._seek)
        # After typing a frame number, keys belong to the frame again (arrows step frames).
        self.frame_spin.editingFinished.connect(lambda: self.frame_view.setFocus())
        self.frame_spin.stepped.connect(lambda: self.frame_view.setFocus())
        transport.addWidget(self.frame_spin)
        self.frame_total = QtWidgets.QLabel("/ 0")
        transport.addWidget(self.frame_total)
        self.time_label = QtWidgets.QLabel("")
        self.time_label.setStyleSheet(f"color: {theme.TEXT_DIM.name()}; padding-left: 12px")
        transport.addWidget(self.time_label)
        transport.addStretch(1)
        self.people_bar = people.PeopleBar()  # the person being labelled, add, remove
        people.connect(self)
        transport.addWidget(self.people_bar)
        self.joint_label = QtWidgets.QLabel("")
        transport.addWidget(self.joint_label)
        layout.addLayout(transport)
        self.timeline = Timeline()
        self.timeline.seek.connect(self._seek)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)
        self.frame_view.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)

    def _dock(self, title: str, widget: QtWidgets.QWidget, name: str) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_docks(self) -> None:
        self.joint_list = JointList()
        self.joint_list.joint_selected.connect(self._select_joint)
        self.joint_dock = self._dock("Joints", self.joint_list, "joints")
        self.fill_panel = FillPanel(available_methods(), default_method())
        self.fill_panel.method_chosen.connect(self._choose_method)
        self.fill_panel.combo.setEnabled(False)  # a method is a project's: none to fill yet
        self.fill_dock = self._dock("Fill", self.fill_panel, "fill")
        self.legend = Legend(available_methods())
        # scrolled, so its two columns never set the narrowest the window can be
        legend_area = QtWidgets.QScrollArea()
        legend_area.setWidget(self.legend)
        legend_area.setWidgetResizable(True)
        legend_area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        # it scrolls sideways only (in a narrow window): its rows keep the height they need
        legend_area.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        legend_area.setMinimumHeight(self.legend.minimumSizeHint().height())
        self.legend_dock = self._dock("Legend", legend_area, "legend")
        self.proposals = ProposalController(self)
        self.proposal_dock = self._dock("Proposals", self.proposals.panel, "proposals")
        self.tabifyDockWidget(self.legend_dock, self.proposal_dock)
        self.legend_dock.raise_()  # the Proposals tab is one click (or F3) away
        # their tabs on the side: the joint list keeps its height at 800 pixels
        self.setTabPosition(
            QtCore.Qt.DockWidgetArea.RightDockWidgetArea, QtWidgets.QTabWidget.TabPosition.East
        )
        # wide enough for the legend's two columns whole (it scrolls only in a narrower window)
        width = max(300, self.legend.sizeHint().width() + 40)  # + the dock's frame
        self.resizeDocks([self.joint_dock], [width], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks(
            [self.joint_dock, self.fill_dock, self.legend_dock],
            [400, 110, 250],
            QtCore.Qt.Orientation.Vertical,
        )

    def _build_actions(self) -> None:
        menus = {name: self.menuBar().addMenu(f"&{name}") for name in MENUS}
        for spec in ACTIONS:
            action = QtGui.QAction(spec.text, self)
            if spec.keys:
                action.setShortcuts([QtGui.QKeySequence(k) for k in spec.keys])
                action.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            if spec.tip:
                action.setStatusTip(spec.tip)
            action.setCheckable(spec.id in CHECKABLE)
            act = window_actions.HANDLERS[spec.id]
            handler: Callable[[], Any] = functools.partial(act, self)
            action.triggered.connect(lambda _checked=False, h=handler: self.guarded(h))
            self.addAction(action)  # shortcuts work even with the menu bar hidden
            menus[spec.menu].addAction(action)
            self.actions_by_id[spec.id] = action
            if spec.id == "close_window":
                self.recent_menu = menus["File"].addMenu("Open &Recent")
                self.recent_menu.aboutToShow.connect(
                    functools.partial(window_actions.fill_recent_menu, self)
                )
                self.export_menu = menus["File"].addMenu("E&xport As")
                self.export_menu.aboutToShow.connect(
                    functools.partial(window_actions.fill_export_menu, self)
                )
                menus["File"].insertMenu(action, self.recent_menu)
                menus["File"].insertMenu(action, self.export_menu)
                menus["File"].insertSeparator(action)
        self._build_toolbar()
        view = menus["View"]
        view.addSeparator()
        view.addAction(self.toolbar.toggleViewAction())
        for dock in (self.joint_dock, self.fill_dock, self.legend_dock):
            view.addAction(dock.toggleViewAction())

    def _build_toolbar(self) -> None:
        self.toolbar = self.addToolBar("Tools")
        self.toolbar.setObjectName("toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setIconSize(QtCore.QSize(20, 20))
        for action_id in TOOLBAR:
            if action_id == "|":
                self.toolbar.addSeparator()
                continue
            spec = by_id(action_id)
            action = self.actions_by_id[action_id]
            action.setIcon(theme.icon(spec.icon))
            keys = f" ({spec.keys[0]})" if spec.keys else ""
            action.setToolTip(spec.text.replace("&", "").replace("…", "") + keys)
            self.toolbar.addAction(action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.cursor_label = QtWidgets.QLabel("")
        self.suggest_button = QtWidgets.QToolButton()
        self.suggest_button.setAutoRaise(True)
        self.suggest_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.suggest_button.setToolTip(
            "the unlabelled frame whose label would most reduce the fill's uncertainty: "
            "click or press N to go there"
        )
        self.suggest_button.setStyleSheet(f"color: {theme.SUGGESTED_COLOR.name()}")
        self.suggest_button.clicked.connect(
            lambda: self.guarded(functools.partial(next_label.act_next_to_label, self))
        )
        self.suggest_button.hide()
        bar.addPermanentWidget(self.suggest_button)
        self.device_label = QtWidgets.QLabel("")
        self.task_label = QtWidgets.QLabel("")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.cancel_button = QtWidgets.QToolButton()
        self.cancel_button.setText("✕")
        self.cancel_button.clicked.connect(self.tasks.cancel_all)
        for w in (self.cursor_label, self.device_label, self.task_label):
            bar.addPermanentWidget(w)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self.progress.hide()
        self.cancel_button.hide()
        self.frame_view.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # ------------------------------------------------------------------ errors
    def refresh_key_hints(self) -> None:
        """Tips and hints that name a key name the one the user bound (Settings >
        Shortcuts); called again when the keys change."""
        hint = self.settings.key_hint
        self.play_button.setToolTip(f"play / pause{hint('play')}")
        self.cancel_button.setToolTip(f"cancel background work{hint('cancel_tasks')}")
        self.people_bar.add_button.setToolTip(f"add a person{hint('add_person')}")
        self.frame_view.hint.setText(
            f"Open a video or project{hint('open_video')} or drop a file here"
        )

    def _edit_here(self, fn: Callable[[], Any]) -> None:
        """A click or drag on the picture: it stops playback first (the edit belongs to the
        frame on screen, not to every frame the video plays on to)."""
        self.set_playing(False)
        self.guarded(fn)

    def guarded(self, fn: Callable[[], Any]) -> None:
        """Run a user action; user errors become a dialog, bugs a dialog plus a log entry."""
        try:
            fn()
        except AnnotatorError as err:
            self.reporter.error(one_line(str(err)))
        except Exception as err:
            log.exception("action failed")
            self.reporter.error(one_line(f"Unexpected error: {type(err).__name__}: {err}"))

    # ------------------------------------------------------------------ opening
    def open_path(self, path: str | Path) -> None:
        """Open a video or a project (by its extension). The session arrives when the video's
        index is ready (background task); errors go to the reporter."""
        refusal = opening.open_refusal(Path(path), self.session is not None)
        if refusal is not None:  # before asking to save: nothing is closed for it
            self.reporter.error(refusal)
            return
        if not opening.confirm_discard(self, self.session):
            return
        old = self.session  # as answered: edits made while the file opens are not its answer
        self._answered = (
            None if old is None else (old, old.history.undo_count, old.history.next_undo)
        )
        self.guarded(lambda: opening.open_any(Path(path), self))

    def show_preview(self, image: np.ndarray) -> None:
        """Show a frame before a session exists (the first frame while indexing)."""
        self.frame_view.set_frame(np.asarray(image))

    def set_session(self, session: Session) -> None:
        old = self.session
        if old is not None:
            self.set_playing(False)
            self.tasks.cancel_all()
            # The user chose in open_path; edits made after that answer, while this file was
            # opening, are kept for recovery (they were dropped without a word).
            answered = self._answered
            late = old.dirty and (
                answered is None
                or answered[0] is not old
                or answered[1:] != (old.history.undo_count, old.history.next_undo)
            )
            old.close(discard_unsaved=not late)
            old.deleteLater()
            if late:
                name = old.path.name if old.path else Path(old.doc.video.path).name
                self.reporter.error(
                    f"The edits made on {name} while this file opened were not saved; they "
                    f"are kept for recovery: open {name} again to restore them.",
                    "Unsaved changes kept",
                )
        self._answered = None
        self.session = session
        self._autosave_error_shown = False  # the new project's journal: said when it fails
        session.setParent(self)
        skeleton = session.skeleton
        overlay = self.frame_view.set_skeleton(skeleton)
        overlay.spread_all = self.actions_by_id["uncertainty"].isChecked()
        overlay.place_requested.connect(lambda x, y: self._edit_here(lambda: session.place(x, y)))
        overlay.drag_started.connect(lambda j: self._edit_here(lambda: session.begin_drag(j)))
        overlay.drag_moved.connect(self._queue_drag)
        overlay.drag_finished.connect(self._finish_drag)
        overlay.menu_requested.connect(functools.partial(window_actions.joint_menu, self))
        self.joint_list.set_skeleton(skeleton)
        self.frame_spin.blockSignals(True)
        self.frame_spin.setRange(0, session.frame_count - 1)
        self.frame_spin.setValue(session.frame)
        self.frame_spin.blockSignals(False)
        self.frame_total.setText(f"/ {session.frame_count - 1}")
        self.timeline.set_frame_count(session.frame_count)
        self.timeline.set_status(session.status)
        self._show_proposals()
        self.fill_panel.set_method(session.method)
        self.fill_panel.combo.setEnabled(True)
        self._connect_loader(session)
        session.reader_changed.connect(self._on_reader_changed)
        session.frame_changed.connect(self._show_frame)
        session.joint_changed.connect(self._show_joint)
        session.poses_changed.connect(self._on_poses_changed)
        session.status_changed.connect(self._on_status_changed)
        session.history_changed.connect(self._update_history_actions)
        session.proposals_changed.connect(self._show_proposals)
        session.method_changed.connect(self.fill_panel.set_method)
        session.dirty_changed.connect(lambda _d: self._update_title())
        session.poses_changed.connect(lambda _a, _b: self._suggest_timer.start())
        session.history_changed.connect(self._suggest_timer.start)  # e.g. proposals accepted
        session.method_changed.connect(lambda _m: self.update_suggestion())
        session.poses_changed.connect(lambda _a, _b: self._rows_timer.start())
        session.method_changed.connect(lambda _m: self._show_fill_rows())
        session.gate_changed.connect(self._show_gate)
        session.residual_changed.connect(self._show_residual)
        session.flags_changed.connect(self._show_flags)
        session.scene_cuts_changed.connect(
            lambda: self.timeline.set_scene_cuts(session.doc.scene_cuts)
        )
        self.timeline.set_scene_cuts(session.doc.scene_cuts)
        session.people_changed.connect(lambda: people.show_people(self))
        session.status_changed.connect(lambda: people.show_people(self))
        people.show_people(self)
        self._frame_error_shown = False
        self._show_frame(session.frame)
        self._show_joint(session.joint)
        self._update_history_actions()
        self._update_title()
        self._update_enabled()
        self.update_fill_info()
        # N's walks along the video, walked in the background when first asked for
        session.ranking_walks.request = lambda: ranking_walks.start(self, session)
        self.update_suggestion()
        self._show_gate()
        self._show_residual()
        self._show_flags()
        self._show_fill_rows()
        session.motion_changed.connect(self.update_fill_info)
        session.fill_slow.connect(self._on_fill_slow)
        self._slow_fill_shown = False
        proxy_offer.offer(self, session)
        if self.extract_motion_on_open:
            motion.start(self, session, background=True)
        if auto_propose.start(self, session) is None and self.rank_with_video_on_open:
            video_ranking.start(self, session)  # else it follows the proposals on open
        self.session_changed.emit(session)

    def _connect_loader(self, session: Session) -> None:
        session.loader.ready.connect(self._on_frame_loaded)
        session.loader.failed.connect(self._on_frame_failed)

    def _on_reader_changed(self) -> None:
        """Frames come from another reader (the fast-seek copy): show this frame from it."""
        session = self.session
        if session is not None:
            self._connect_loader(session)
            self._frame_error_shown = False
            self._show_frame(session.frame)

    # ------------------------------------------------------------------ dragging
    def _queue_drag(self, joint: int, x: float, y: float) -> None:
        """Coalesce mouse moves: a slow fill method must not build a backlog behind the
        cursor. The move is applied once the events already queued are handled, and only the
        latest position counts."""
        first = self._pending_drag is None
        self._pending_drag = (joint, x, y)
        if first:
            QtCore.QTimer.singleShot(0, self._apply_drag)

    def _apply_drag(self) -> None:
        pending, self._pending_drag = self._pending_drag, None
        if pending is not None and self.session is not None:
            session = self.session
            self.guarded(lambda: session.drag(*pending))

    def _finish_drag(self, joint: int) -> None:
        self._apply_drag()
        if self.session is not None:
            session = self.session
            self.guarded(lambda: session.end_drag(joint))

    # ------------------------------------------------------------------ view updates
    def _show_frame(self, frame: int) -> None:
        session = self.session
        if session is None:
            return
        cached = getattr(session.reader, "cached", None)
        if cached is None or cached(frame):
            try:
                self.frame_view.set_frame(np.asarray(session.reader.frame(frame)))
                self._say_if_substituted(frame)
            except AnnotatorError as err:
                self._on_frame_failed(frame, str(err))
        else:
            session.loader.request(frame)  # the picture follows; labels show at once
        self._refresh_pose()
        self.frame_spin.blockSignals(True)
        self.frame_spin.setValue(frame)
        self.frame_spin.blockSignals(False)
        self.timeline.set_playhead(frame)
        self.time_label.setText(f"{session.doc.time(frame):8.3f} s")

    def _show_proposals(self) -> None:
        session = self.session
        if session is not None:
            self.timeline.set_proposed(session.proposed)
            proposals = session.doc.proposals
            method = "" if proposals is None else proposals.method
            self.timeline.set_scores(session.proposal_scores, method)

    def _on_fill_slow(self, seconds: float) -> None:
        """Once per project: a video fill lags behind edits (long gaps between labels)."""
        session = self.session
        if session is None or self._slow_fill_shown:
            return
        self._slow_fill_shown = True
        self.statusBar().showMessage(
            f"The {session.method} fill took {seconds:.1f} s to follow that edit: long gaps "
            "between labels slow it; label more frames (N) or pick hpim in the Fill dock",
            HINT_MS,
        )

    def _show_gate(self) -> None:
        session = self.session
        if session is not None:
            gate = np.asarray(session.doc.gate)
            self.timeline.set_rows(gate=gate if (gate >= 0).any() else None)

    def _show_residual(self) -> None:
        session = self.session
        if session is not None:
            types = None if session.fields is None else session.fields.picture_types
            self.timeline.set_residual(np.asarray(session.doc.residual_energy), types)

    def _show_flags(self) -> None:
        session = self.session
        if session is not None:
            self.timeline.set_rows(flagged=np.array(sorted(session.doc.flags), dtype=np.int64))

    def _show_fill_rows(self) -> None:
        """The fill's uncertainty heat strip and held spans (after edits pause)."""
        self._rows_timer.stop()
        session = self.session
        if session is not None:
            self.timeline.set_rows(
                uncertainty=session.frame_uncertainty(), held=session.held_frames()
            )

    def apply_row_toggles(self) -> None:
        """Show the timeline rows checked in the View menu; remembered like the layout."""
        hidden = frozenset(
            row for row, action in ROW_ACTIONS.items() if not self.actions_by_id[action].isChecked()
        )
        self.timeline.set_hidden(hidden)
        if self._remember_layout:
            settings = self._layout_settings()
            settings.setValue("timeline/hidden", ",".join(sorted(hidden)))

    def _restore_rows(self) -> None:
        hidden: set[str] = set()
        if self._remember_layout:
            saved = self._layout_settings().value("timeline/hidden", "")
            hidden = set(str(saved).split(",")) if saved else set()
        for row, action in ROW_ACTIONS.items():
            self.actions_by_id[action].setChecked(row not in hidden)
        self.timeline.set_hidden(frozenset(hidden & set(ROW_ACTIONS)))

    def _on_frame_loaded(self, frame: int, image: object) -> None:
        """The frame loader's completion handler: a failure here is reported like a frame
        that cannot be decoded (once per video), never only on stderr."""
        if self.session is None or frame != self.session.frame:
            return
        try:
            self.frame_view.set_frame(np.asarray(image))
            self._say_if_substituted(frame)
        except Exception as err:
            log.exception("showing frame %d failed", frame)
            self._on_frame_failed(frame, handler_failure(f"Showing frame {frame}", err))

    def _say_if_substituted(self, frame: int) -> None:
        """A frame the file cannot decode is shown as its nearest neighbour (the reader's
        ``frame_problems``): say so, or its labels would be placed on another picture."""
        session = self.session
        problems = getattr(session.reader, "frame_problems", None) if session else None
        shown = problems.get(frame) if problems else None
        if shown is not None and shown != frame:
            self.show_status(
                f"frame {frame} cannot be decoded (the file is damaged there): the picture "
                f"shown is frame {shown}'s",
                8000,
            )

    def _on_frame_failed(self, frame: int, message: str) -> None:
        if not self._frame_error_shown:  # once per video: stepping must not pile up dialogs
            self._frame_error_shown = True
            self.reporter.error(message)

    def _refresh_pose(self) -> None:
        session = self.session
        if session is None or self.frame_view.overlay is None:
            return
        pose = session.pose_view()
        self.frame_view.overlay.set_pose(pose)
        people.draw_people(self, session)
        self.joint_list.show_pose(pose)

    def _show_joint(self, joint: int) -> None:
        session = self.session
        if session is None or self.frame_view.overlay is None:
            return
        self.frame_view.overlay.set_current_joint(joint)
        self.joint_list.set_current(joint)
        self.joint_label.setText(f"joint: <b>{session.skeleton.joints[joint]}</b>")

    def _on_poses_changed(self, start: int, stop: int) -> None:
        session = self.session
        if session is None:
            return
        if start <= session.frame < stop:
            self._refresh_pose()

    def _on_status_changed(self) -> None:
        if self.session is not None:
            self.timeline.set_status(self.session.status)  # may be a new array
            self.update_fill_info()

    def update_fill_info(self) -> None:
        session = self.session
        if session is None:
            return
        # frames with predicted joints and no label show the estimator's joints, not the
        # fill's (a labelled frame is counted as labelled, whatever else it has)
        counts = np.bincount(session.status, minlength=len(FrameStatus))
        full, partial = int(counts[FrameStatus.LABELLED]), int(counts[FrameStatus.PARTIAL])
        predicted, filled = int(counts[FrameStatus.PREDICTED]), int(counts[FrameStatus.FILLED])
        text = f"{full} labelled {plural(full, 'frame')}"
        if partial:
            text += f", {partial} partly labelled"
        if predicted:  # Prefill's frames anchor the fill where no label is on one side
            text += f", {predicted} predicted"
        if full + partial + predicted >= session.frame_count:
            text += ": nothing to fill"  # every frame has its own (a one-frame video too)
        elif full + partial + predicted < 2:
            text += ": label two frames to start the fill"
        else:
            text += f"; {filled} filled live ({session.method})"
            if session.fill_fallback:
                text += (
                    " as hpim until the motion fields are ready"
                    if motion.running(self)
                    else " as hpim: no motion fields (Tools > Extract Motion Fields)"
                )
            held = session.result.held.any(axis=1) & (session.status < FrameStatus.PARTIAL)
            if held.any():
                n = int(held.sum())
                last = "label or prediction" if predicted else "label"
                text += f"; {n} held (no {last} on one side)"
        self.fill_panel.set_info(text)

    def update_suggestion(self) -> None:
        """Re-rank the current fill's frames to label; mark the first on the timeline and the
        status bar (or, on a long project, offer N, which ranks on request)."""
        self._suggest_timer.stop()
        session = self.session
        if session is None:
            self.show_suggestion(None)
            return
        # A fill without its own variance is ranked with a whole HPIM fill: on request only.
        costly = (
            session.frame_count * len(session.labelled_frames()) > AUTO_RANK_PAIRS
            or session.engine.result.variance is None
        )
        try:  # accepted proposals come first (core.proposal_plan)
            plan = session.plan_to_label(rank=not costly)
        except Exception:  # a passive hint must not raise from a timer; N reports errors
            log.exception("ranking the frames to label failed")
            plan = session.plan_to_label(rank=False)
        if plan:
            self.show_suggestion(plan[0])
            return
        if session.ranking_problem() is not None:  # N goes to the proposals meanwhile
            waiting = session.proposed_to_label()
            self.show_suggestion(waiting[0] if waiting else None)
            return
        if costly:
            self.show_suggestion(None, on_request=True)
            return
        try:
            ranked = session.rank_to_label(top=1)
        except Exception:  # a passive hint must not raise from a timer; N reports errors
            log.exception("ranking the frames to label failed")
            ranked = []
        self.show_suggestion(ranked[0][0] if ranked else None)

    def show_suggestion(self, frame: int | None, on_request: bool = False) -> None:
        """Mark ``frame`` as the next to label; ``on_request``: no mark, the button says N."""
        self.timeline.set_suggested(frame)
        self.suggest_button.setVisible(frame is not None or on_request)
        self.suggest_button.setText(
            f"next to label: {frame}" if frame is not None else "next frame to label: press N"
        )

    def _update_history_actions(self) -> None:
        session = self.session
        undo, redo = self.actions_by_id["undo"], self.actions_by_id["redo"]
        if session is None:
            undo.setText("&Undo")
            redo.setText("&Redo")
            undo.setEnabled(False)
            redo.setEnabled(False)
            return
        history = session.history
        undo.setEnabled(history.can_undo)
        redo.setEnabled(history.can_redo)
        undo.setText(f"&Undo {history.undo_text}" if history.can_undo else "&Undo")
        redo.setText(f"&Redo {history.redo_text}" if history.can_redo else "&Redo")

    def _update_title(self) -> None:
        session = self.session
        if session is None:
            self.setWindowTitle("annotator")
            return
        name = session.path.name if session.path else Path(session.doc.video.path).name
        star = "*" if session.dirty else ""
        self.setWindowTitle(f"{name}{star} — annotator")
        journal = session.journal
        if journal is not None and journal.error and not self._autosave_error_shown:
            self._autosave_error_shown = True  # once while it fails: every edit would repeat it
            self.reporter.error(f"Autosave is not working, save your work: {journal.error}")
        elif journal is not None and not journal.error and self._autosave_error_shown:
            self._autosave_error_shown = False  # said again if it fails again
            self.show_status("autosave works again: your edits are kept for recovery", 8000)

    def _update_enabled(self) -> None:
        has = self.session is not None
        for spec in ACTIONS:
            if spec.menu in ("Edit", "Navigate", "Joint") or spec.id in (
                "save", "save_as", "import_labels", "export", "propose", "prefill", "extract_motion", "fit", "zoom_in", "zoom_out", "timeline_all",
            ):  # fmt: skip
                self.actions_by_id[spec.id].setEnabled(has)
        self.export_menu.setEnabled(has)
        people.update_enabled(self)
        self.proposals.update_enabled(has)
        if has:
            self._update_history_actions()

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        if self.session is None:
            return
        p = self.frame_view.box.mapSceneToView(scene_pos)
        self.cursor_label.setText(f"x {p.x():7.1f}  y {p.y():7.1f}")

    # ------------------------------------------------------------------ helpers' interface
    # What the helper modules (opening, motion, prefill, proxy_offer, autosave, the action
    # handlers) use of the window: gui/services.py names it as ``WindowServices``.
    def need_session(self) -> Session:
        """The open project; a user error (reported as one sentence) when there is none."""
        if self.session is None:
            raise AnnotatorError("open a video or project first")
        return self.session

    def show_status(self, message: str, timeout_ms: int = 0) -> None:
        """A passing message in the status bar (``timeout_ms`` 0: until the next one)."""
        self.statusBar().showMessage(message, timeout_ms)

    @property
    def dialog_parent(self) -> QtWidgets.QWidget:
        return self

    @property
    def playing(self) -> bool:
        return self._play_timer.isActive()

    def _seek(self, frame: int) -> None:
        if self.session is not None:
            self.session.go_to(int(frame))

    def _select_joint(self, joint: int) -> None:
        if self.session is not None:
            self.session.set_joint(joint)

    def _choose_method(self, method: str) -> None:
        if self.session is not None:
            self.guarded(lambda: self.need_session().set_method(method))

    def set_playing(self, playing: bool) -> None:
        if playing and self.session is not None:
            if self.session.frame >= self.session.frame_count - 1:
                self.session.go_to(0)  # play from the start, as players do at the end
            self._play_timer.start(max(1, round(1000 / self.session.fps)))
        else:
            self._play_timer.stop()
        self.play_button.blockSignals(True)
        self.play_button.setChecked(self._play_timer.isActive())
        self.play_button.setText("⏸" if self._play_timer.isActive() else "▶")
        self.play_button.blockSignals(False)

    def _play_tick(self) -> None:
        session = self.session
        if session is None or session.frame >= session.frame_count - 1:
            self.set_playing(False)
            return
        session.step(1)

    # ------------------------------------------------------------------ Qt events
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0].toLocalFile())

    def _layout_settings(self) -> QtCore.QSettings:
        from annotator.core.paths import data_dir

        return QtCore.QSettings(str(data_dir() / "window.ini"), QtCore.QSettings.Format.IniFormat)

    def _restore_layout(self) -> None:
        """The user's last window size and dock arrangement (never in tests or screenshots)."""
        settings = self._layout_settings()
        geometry, state = settings.value("geometry"), settings.value("state")
        if isinstance(geometry, QtCore.QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QtCore.QByteArray):
            self.restoreState(state)

    def _save_layout(self) -> None:
        settings = self._layout_settings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("state", self.saveState())
        settings.sync()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        session = self.session
        if not opening.confirm_discard(self, session):
            event.ignore()
            return
        self._play_timer.stop()
        if self._remember_layout:
            self._save_layout()
        self.tasks.shutdown()
        if session is not None:
            session.close(discard_unsaved=True)
        event.accept()
