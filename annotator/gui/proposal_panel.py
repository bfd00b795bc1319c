"""The Proposals dock: a method and a budget, Run, then Accept, Clear or Extend the frames.

The method list is the proposal registry's (``annotator.proposal.registry.METHODS``, with the
methods ``annotator.cli.methods.install`` adds, such as ``gate``), read again whenever the
panel is shown or a project opens, so a newly registered method appears without GUI edits.
Proposing runs in the window's ``TaskRunner`` (progress, cancel) with the same call as
``annotator propose``; its frames enter the document as one undoable command. What Accept,
Clear and Extend mean is ``core.proposal_plan``'s: labels are never touched.

``ProposalPanel`` only shows state and emits requests; ``ProposalController`` turns them into
work and commands for the window's session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from annotator.core import commands as cmd
from annotator.core.progress import Progress, ShouldStop
from annotator.core.proposal_plan import ACCEPTED, extend_frames, extend_target
from annotator.errors import AnnotatorError
from annotator.gui import next_label, theme, video_ranking
from annotator.gui.timeline_state import FrameStatus
from annotator.gui.wording import plural
from annotator.gui.workers import Task, one_line

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow
    from annotator.gui.session import Session
    from annotator.proposal.registry import ProposalRun

# Names and tips for the methods this project ships; a method registered elsewhere shows its
# registry name.
METHOD_LABELS: dict[str, tuple[str, str]] = {
    "kfpn": ("K-FPN", "the learned key-frame proposer; by default its natural count"),
    "gate": ("Gate", "the residual-driven gate: frames the codec's motion does not explain"),
    "online": ("K-FPN online", "decides frame by frame as the video streams"),
    "uniform": ("Uniform", "evenly spaced frames"),
    "kmeans": ("k-means", "one frame per cluster of similar-looking frames"),
}
BUDGET_KINDS = ("auto", "percent", "frames")
DEFAULT_PERCENT = 10.0


def method_label(name: str) -> str:
    label = METHOD_LABELS.get(name, (name, ""))[0]
    return label if label == name else f"{label} ({name})"


def registered_methods() -> list[str]:
    from annotator.proposal import registry

    return list(registry.METHODS)


class ProposalPanel(QtWidgets.QWidget):
    """Method, budget and the buttons; below, the proposed frames (click one to go there)."""

    run_requested = QtCore.Signal()
    extend_requested = QtCore.Signal()
    accept_requested = QtCore.Signal()
    clear_requested = QtCore.Signal()
    cancel_requested = QtCore.Signal()
    frame_chosen = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._available = False  # a project is open
        self._running = False  # proposing, in the background
        self._shown: tuple[Any, ...] | None = None  # what the list shows
        form = QtWidgets.QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.method = QtWidgets.QComboBox()
        self.method.setToolTip("proposal methods of the registry (annotator propose --method)")
        form.addRow("Method", self.method)
        budget = QtWidgets.QHBoxLayout()
        self.budget_kind = QtWidgets.QComboBox()
        self.budget_kind.addItem("method's own", "auto")
        self.budget_kind.addItem("% of frames", "percent")
        self.budget_kind.addItem("frames", "frames")
        self.budget_kind.setToolTip(
            "the method's own count (K-FPN's natural count; uniform and k-means: 10 %), "
            "a share of the frames, or a number of frames"
        )
        self.percent = QtWidgets.QDoubleSpinBox()
        self.percent.setRange(0.1, 100.0)
        self.percent.setDecimals(1)
        self.percent.setSuffix(" %")
        self.percent.setValue(DEFAULT_PERCENT)
        self.count = QtWidgets.QSpinBox()
        self.count.setRange(1, 1_000_000)
        self.count.setValue(10)
        budget.addWidget(self.budget_kind, 1)
        budget.addWidget(self.percent)
        budget.addWidget(self.count)
        form.addRow("Budget", budget)
        self.run_button = self._button("Run", "propose frames with this method and budget")
        self.extend_button = self._button(
            "Extend",
            "add frames up to the budget (half as many again when the budget is not larger), "
            "keeping the proposed frames and every label",
        )
        self.accept_button = self._button(
            "Accept",
            "make the proposed frames the frames to label: N visits the unlabelled ones first",
        )
        self.clear_button = self._button("Clear", "remove the proposals; labels stay")
        self.cancel_button = self._button(
            "Cancel", "stop proposing; the proposals stay as they were"
        )
        row1, row2 = QtWidgets.QHBoxLayout(), QtWidgets.QHBoxLayout()
        for w in (self.run_button, self.extend_button, self.cancel_button):
            row1.addWidget(w)
        for w in (self.accept_button, self.clear_button):
            row2.addWidget(w)
        self.info = QtWidgets.QLabel("no proposals")
        self.info.setWordWrap(True)
        self.info.setStyleSheet(f"color: {theme.TEXT_DIM.name()}")
        self.frames = QtWidgets.QListWidget()
        self.frames.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # keys belong to the frame
        self.frames.setToolTip("the proposed frames (✓ labelled); click one to go there")
        self.frames.setMinimumHeight(40)  # tabbed with the legend: no taller than it needs
        self.frames.itemClicked.connect(
            lambda item: self.frame_chosen.emit(int(item.data(QtCore.Qt.ItemDataRole.UserRole)))
        )
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row1)
        layout.addLayout(row2)
        layout.addWidget(self.info)
        layout.addWidget(self.frames, 1)
        self.run_button.clicked.connect(self.run_requested)
        self.extend_button.clicked.connect(self.extend_requested)
        self.accept_button.clicked.connect(self.accept_requested)
        self.clear_button.clicked.connect(self.clear_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.budget_kind.currentIndexChanged.connect(lambda _i: self._show_budget())
        self._show_budget()
        self.set_running(False)
        self.set_available(False)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        self.set_methods(registered_methods())  # a method registered since shows up
        super().showEvent(event)

    def _button(self, text: str, tip: str) -> QtWidgets.QPushButton:
        button = QtWidgets.QPushButton(text)
        button.setToolTip(tip)
        button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        return button

    def _show_budget(self) -> None:
        kind = self.budget_kind.currentData()
        self.percent.setVisible(kind == "percent")
        self.count.setVisible(kind == "frames")

    # -- what the user chose ---------------------------------------------------------------
    def set_methods(self, names: Sequence[str]) -> None:
        """The registry's methods; the chosen one stays chosen while it is still there."""
        current = self.chosen_method()
        self.method.blockSignals(True)
        self.method.clear()
        for name in names:
            self.method.addItem(method_label(name), name)
            tip = METHOD_LABELS.get(name, ("", ""))[1]
            if tip:
                self.method.setItemData(
                    self.method.count() - 1, tip, QtCore.Qt.ItemDataRole.ToolTipRole
                )
        index = self.method.findData(current) if current else -1
        self.method.setCurrentIndex(index if index >= 0 else 0)
        self.method.blockSignals(False)

    def chosen_method(self) -> str | None:
        data = self.method.currentData()
        return str(data) if data is not None else None

    def set_method(self, name: str) -> None:
        index = self.method.findData(name)
        if index >= 0:
            self.method.setCurrentIndex(index)

    def set_budget(self, kind: str, value: float = 0.0) -> None:
        """``kind``: ``auto``, ``percent`` (``value`` %) or ``frames`` (``value`` frames)."""
        self.budget_kind.setCurrentIndex(BUDGET_KINDS.index(kind))
        if kind == "percent":
            self.percent.setValue(value)
        elif kind == "frames":
            self.count.setValue(int(value))

    def budget_frames(self, frame_count: int) -> int | None:
        """The budget as a number of frames (None: the method's own), as ``--budget`` means
        it: a share rounded up, never more frames than the video has."""
        from annotator.proposal.registry import resolve_budget

        kind = self.budget_kind.currentData()
        if kind == "percent":
            share = self.percent.value() / 100.0
            return frame_count if share >= 1.0 else resolve_budget(share, frame_count)
        if kind == "frames":
            return resolve_budget(self.count.value(), frame_count)
        return None

    # -- what the panel shows --------------------------------------------------------------
    def set_available(self, available: bool) -> None:
        """Without a project nothing can be proposed."""
        self._available = available
        self._update_buttons()

    def set_running(self, running: bool) -> None:
        self._running = running
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = self._available and not self._running
        has = self._available and self.frames.count() > 0
        self.run_button.setEnabled(idle)
        self.extend_button.setEnabled(idle)
        self.accept_button.setEnabled(has and not self._running)
        self.clear_button.setEnabled(has and not self._running)
        self.cancel_button.setEnabled(self._available and self._running)

    def show_proposals(
        self,
        frames: Sequence[int],
        method: str | None,
        labelled: Any,
        accepted: bool,
    ) -> None:
        """The document's proposals: ``labelled`` (F,) true where a frame is fully labelled;
        ``accepted``: they are the frames to label."""
        done = np.asarray(labelled, dtype=bool)
        index = np.asarray(frames, dtype=np.int64)
        # every edit asks (one drag step included): rebuild the list only when it changes
        shown = (tuple(frames), method, accepted, done[index].tobytes())
        if shown == self._shown:
            return
        self._shown = shown
        self.frames.clear()
        for f in frames:
            item = QtWidgets.QListWidgetItem(f"{'✓' if done[f] else '·'}  frame {f}")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, int(f))
            if done[f]:
                item.setForeground(QtGui.QBrush(theme.TEXT_DIM))
            self.frames.addItem(item)
        n = len(frames)
        if not n:
            self.info.setText("no proposals: choose a method and a budget, then Run")
        else:
            left = sum(1 for f in frames if not done[f])
            text = f"{n} {plural(n, 'frame')} proposed by {method}, {n - left} labelled"
            text += f"; accepted: N visits the {left} left first" if accepted else "; not accepted"
            self.info.setText(text)
        self._update_buttons()


class ProposalController(QtCore.QObject):
    """Runs the panel's requests for the window's open project."""

    run_started = QtCore.Signal()  # the user asked for proposals (the panel, the dialog)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.panel = ProposalPanel()
        self.panel.set_methods(registered_methods())
        self.task: Task | None = None  # the proposing job, while it runs
        self.panel.run_requested.connect(lambda: self._guarded(self.run_panel))
        self.panel.extend_requested.connect(lambda: self._guarded(self.extend))
        self.panel.accept_requested.connect(lambda: self._guarded(self.accept))
        self.panel.clear_requested.connect(lambda: self._guarded(self.clear))
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.frame_chosen.connect(self._go_to)
        window.session_changed.connect(self._on_session)

    def _guarded(self, fn: Any) -> None:
        try:
            fn()
        except AnnotatorError as err:
            self.window.reporter.error(one_line(str(err)))

    def _need(self) -> Session:
        session = self.window.session
        if session is None:
            raise AnnotatorError("open a video or project first")
        return session

    def _message(self, text: str, ms: int = 6000) -> None:
        self.window.show_status(text, ms)

    def _go_to(self, frame: int) -> None:
        if self.window.session is not None:
            self.window.session.go_to(frame)

    def _on_session(self, session: Session) -> None:
        self.panel.set_methods(registered_methods())
        self.panel.set_available(True)
        session.proposals_changed.connect(self.refresh)
        session.status_changed.connect(self.refresh)
        session.history_changed.connect(self.refresh)  # Accept is a project setting
        self.refresh()

    def refresh(self) -> None:
        """Show the open project's proposals in the panel."""
        session = self.window.session
        if session is None:
            self.panel.show_proposals((), None, (), False)
            return
        proposals = session.doc.proposals
        frames = proposals.frames if proposals is not None else ()
        self.panel.show_proposals(
            frames,
            proposals.method if proposals is not None else None,
            session.status == FrameStatus.LABELLED,
            bool(session.doc.settings.get(ACCEPTED)) and bool(frames),
        )

    # -- running ---------------------------------------------------------------------------
    def run_panel(self) -> None:
        session = self._need()
        method = self.panel.chosen_method()
        if method is None:
            raise AnnotatorError("no proposal method is available")
        self.run(session, method, self.panel.budget_frames(session.frame_count))

    def run(
        self, session: Session, method: str, budget: int | None, extend_to: int | None = None
    ) -> Task | None:
        """Propose with ``method`` in a worker; the frames replace the proposals, or with
        ``extend_to`` are added to them up to that many. None when a run is under way."""
        from annotator.proposal import registry

        if self.task is not None:
            self._message("frames are being proposed already: wait, or cancel it", 4000)
            return None
        # The proposer opens its own reader: it must not thrash the view's frame cache. It
        # reads the original video (one pass, no seeks), never the fast-seek copy.
        path = str(session.doc.video.path)
        device = self.window.settings.device()  # Settings > Device (None: cuda when present)

        def job(progress: Progress, should_stop: ShouldStop) -> ProposalRun:
            # The same call ``annotator propose VIDEO [--budget N] --method M`` makes.
            return registry.propose(path, method, budget, device, progress, should_stop)

        mine: list[Task] = []  # this run's task, once started

        def done(result: ProposalRun) -> None:
            self._ended(mine[0])  # a Propose pressed now starts a new run
            if self.window.session is not session:
                return  # another project was opened meanwhile
            if extend_to is None:
                self._replace(session, result)
            else:
                self._extend(session, result, extend_to)
            if result.method == "kfpn":  # its features are cached now: N can weigh the video
                video_ranking.start(self.window, session, compute=False)

        def cancelled() -> None:
            self._ended(mine[0])
            self._message("proposing cancelled: the proposals are as they were", 4000)

        def failed(message: str) -> None:
            self._ended(mine[0])
            self.window.reporter.error(message)

        task = self.window.tasks.start(
            f"Proposing frames ({method})", job, done, failed, on_cancelled=cancelled
        )
        mine.append(task)
        self.task = task
        # The run is over when its result is handled: the task's own end comes later (after
        # the worker hands freed memory back), and a Propose pressed in between was refused
        # as "being proposed already".
        task.signals.ended.connect(lambda: self._ended(task))
        self.panel.set_running(True)
        self.run_started.emit()
        return task

    def _ended(self, task: Task) -> None:
        if self.task is task:  # not a later run's
            self.task = None
            self.panel.set_running(False)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _replace(self, session: Session, result: ProposalRun) -> None:
        # ``gate``: per-frame 0/1 decisions from methods that decide per frame (the
        # residual-driven gate), None from the others.
        gate = result.gate
        session.accept_proposals(np.asarray(result.frames), result.scores, result.method, gate)
        self.window.device_label.setText(f"proposals: {result.method} on {result.device}")
        self.panel.set_method(result.method)
        n = len(result.frames)
        keys = "[ and ] jump between them" + ("" if gate is None else "; G and Shift+G, the gated")
        self._message(f"{n} {plural(n, 'frame')} proposed in {result.seconds:.1f} s ({keys})")

    def _extend(self, session: Session, result: ProposalRun, target: int) -> None:
        current = session.doc.proposals
        if current is None:
            self._replace(session, result)
            return
        frames = extend_frames(current.frames, result.frames, target, result.scores)
        added = len(frames) - len(current.frames)
        if added == 0:
            self._message(f"{result.method} proposed no frame that is not proposed already", 5000)
            return
        # the methods that chose the frames, each named once ("kfpn+uniform")
        named = current.method.split("+")
        method = "+".join(named if result.method in named else [*named, result.method])
        scores = result.scores if result.scores is not None else current.scores
        session.accept_proposals(np.asarray(frames), scores, method, result.gate, keep_plan=True)
        short = "" if len(frames) >= target else f" ({result.method} had no more new frames)"
        self._message(f"added {added} proposed {plural(added, 'frame')}: {len(frames)} now{short}")

    # -- the buttons -----------------------------------------------------------------------
    def extend(self) -> None:
        """Add frames to the proposals up to the panel's budget (see ``extend_target``);
        without proposals, the same as Run (it proposed one frame)."""
        session = self._need()
        method = self.panel.chosen_method()
        if method is None:
            raise AnnotatorError("no proposal method is available")
        current = session.doc.proposals
        if current is None or not current.frames:
            self.run_panel()
            return
        n = len(current.frames)
        target = extend_target(
            n, self.panel.budget_frames(session.frame_count), session.frame_count
        )
        if n >= session.frame_count:
            raise AnnotatorError("every frame is proposed already")
        self.run(session, method, target, extend_to=target)

    def accept(self) -> None:
        """The proposals become the frames to label (undoable); go to the first of them."""
        session = self._need()
        proposals = session.doc.proposals
        if proposals is None or not proposals.frames:
            raise AnnotatorError("no proposed frames to accept: Run a method first")
        if not session.doc.settings.get(ACCEPTED):
            n = len(proposals.frames)
            session.push(
                cmd.Batch(
                    f"Accept {n} proposed {plural(n, 'frame')} to label",
                    [cmd.SetSetting(ACCEPTED, True)],
                )
            )
        next_label.act_next_to_label(self.window)

    def clear(self) -> None:
        """Remove the proposals (and the plan); labels stay. One undo step."""
        session = self._need()
        if session.doc.proposals is None:
            return
        steps: list[cmd.Command] = [cmd.ClearProposals()]
        if session.doc.settings.get(ACCEPTED):
            steps.append(cmd.SetSetting(ACCEPTED, None))
        session.push(cmd.Batch("Clear proposed frames", steps))
        self._message("proposals cleared; the labels are unchanged", 4000)

    def show(self) -> None:
        """Show and raise the dock, with the registry's current methods."""
        self.panel.set_methods(registered_methods())
        dock = self.panel.parentWidget()
        if isinstance(dock, QtWidgets.QDockWidget):
            dock.show()
            dock.raise_()
        self.panel.method.setFocus()

    def update_enabled(self, has_session: bool) -> None:
        self.panel.set_available(has_session)
        for action_id in (
            "run_proposals",
            "accept_proposals",
            "clear_proposals",
            "extend_proposals",
        ):
            action = self.window.actions_by_id.get(action_id)
            if action is not None:
                action.setEnabled(has_session)


def propose(window: MainWindow, session: Session, method: str | None = None) -> None:
    """Tools > Propose Frames: ask for a method and a budget (the dialog), then run it."""
    from annotator.proposal import registry

    budget: int | None = None
    if method is None:
        request = window.reporter.choose_proposal(
            list(registry.METHODS),
            session.frame_count,
            window.settings.prefs.budget_frames(session.frame_count),  # Settings > budget
        )
        if request is None:
            return
        method, budget = request.method, request.budget
    window.proposals.run(session, method, budget)
