"""The offer of a fast-seek proxy for a video whose key frames are far apart.

When the open video's worst seek would be slow (the reader's ``suggest_proxy``), a bar above
the frame offers a short-GOP copy (``annotator.video.proxy``). It is no dialog, so nothing
waits on it (tests, ``--screenshot``). The copy is made by a worker with progress and cancel;
then the session reads its frames from the copy (``Session.use_frames_from``) while the
project keeps the original video's path and fingerprint. A copy made earlier (the cache is
keyed by the file) is offered for use at once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtWidgets

from annotator.core.progress import Cancelled, Progress, ShouldStop, part
from annotator.errors import VideoError
from annotator.gui import theme
from annotator.gui.session import Session
from annotator.gui.workers import Task

if TYPE_CHECKING:
    from annotator.gui.services import WindowServices
    from annotator.video.base import VideoReader

log = logging.getLogger(__name__)


class ProxyBar(QtWidgets.QFrame):
    """The offer (text, an action button, a close button) and, while the copy is being
    made, its progress with a cancel button. Hidden when there is nothing to offer."""

    act = QtCore.Signal()  # the action button: make / use the copy, or cancel making it

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("proxy_bar")
        self.setStyleSheet(
            f"#proxy_bar {{ background: {theme.PANEL_BG.name()};"
            f" border-bottom: 1px solid {theme.PROPOSED_COLOR.name()}; }}"
        )
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        self.label = QtWidgets.QLabel("")
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(140)
        self.progress.setTextVisible(False)
        layout.addWidget(self.progress)
        self.button = QtWidgets.QPushButton("")
        self.button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.button.clicked.connect(self.act)
        layout.addWidget(self.button)
        self.close_button = QtWidgets.QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("not now (keep seeking in the original video)")
        self.close_button.setAutoRaise(True)
        self.close_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.close_button)
        self.hide()

    def offer(self, text: str, button: str) -> None:
        self.label.setText(text)
        self.button.setText(button)
        self.progress.hide()
        self.close_button.show()
        self.show()

    def working(self, text: str) -> None:
        self.label.setText(text)
        self.button.setText("Cancel")
        self.progress.setValue(0)
        self.progress.show()
        self.close_button.hide()
        self.show()

    def set_progress(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))


def offer(window: WindowServices, session: Session) -> None:
    """Show the offer when ``session``'s video seeks slowly; hide the bar otherwise."""
    bar = window.proxy_bar
    window.proxy_task = None
    if session.proxy is not None or not getattr(session.reader, "suggest_proxy", False):
        bar.hide()
        return
    from annotator.video.proxy import existing_proxy

    name = Path(session.reader.path).name
    if existing_proxy(session.reader.path) is not None:
        bar.offer(
            f"A fast-seek copy of {name} was made earlier: use it for frames? "
            "The project keeps the original video.",
            "Use Fast-Seek Copy",
        )
        return
    gop = getattr(session.reader, "max_gop", None)
    slow = f" (up to {gop} frames from one key frame to the next)" if gop else ""
    bar.offer(
        f"{name} seeks slowly{slow}. Make a fast-seek copy for viewing? "
        "The project keeps the original video.",
        "Make Fast-Seek Copy",
    )


def on_bar_action(window: WindowServices) -> None:
    """The bar's button: cancel the running copy, or start making / using one."""
    task = window.proxy_task
    if task is not None:
        task.cancel()
        return
    session = window.need_session()
    window.proxy_task = make(window, session)


def make(window: WindowServices, session: Session) -> Task:
    """Make (or reuse) the proxy in a worker, then read ``session``'s frames from it."""
    from annotator.gui.opening import open_reader
    from annotator.video.proxy import make_proxy

    source = Path(session.reader.path)
    bar = window.proxy_bar

    def job(progress: Progress, should_stop: ShouldStop) -> Any:
        path = make_proxy(source, progress=part(progress, 0.0, 0.9), should_stop=should_stop)
        reader = open_reader(path)
        if not reader.wait_for_index() or should_stop():
            reader.close()
            if should_stop():
                raise Cancelled("opening the fast-seek copy")
            raise VideoError(f"the fast-seek copy cannot be read: {reader.index_error}")
        progress(1.0)
        return reader

    def forget() -> None:
        if window.proxy_task is task:
            window.proxy_task = None

    def done(reader: VideoReader) -> None:
        forget()
        if window.session is not session:  # another project was opened meanwhile
            reader.close()
            return
        try:
            session.use_frames_from(reader)
        except VideoError as err:
            reader.close()
            failed(str(err))
            return
        bar.hide()
        window.show_status(
            f"frames now come from the fast-seek copy {Path(reader.path).name}; "
            f"the project still refers to {source.name}",
            8000,
        )

    def failed(message: str) -> None:
        forget()
        if window.session is session:
            offer(window, session)
        window.reporter.error(f"No fast-seek copy: {message}")

    def cancelled() -> None:
        forget()
        if window.session is session:
            offer(window, session)
        window.show_status("making the fast-seek copy was cancelled", 4000)

    bar.working(f"Making a fast-seek copy of {source.name}…")
    task = window.tasks.start(
        f"Making a fast-seek copy of {source.name}",
        job,
        done,
        failed,
        bar.set_progress,
        on_cancelled=cancelled,
    )
    return task
