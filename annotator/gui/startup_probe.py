"""Start-up timing: when the first video frame has been painted, write the time and quit.

``annotator bench startup`` sets ``ANNOTATOR_STARTUP_PROBE=FILE`` on the program it starts;
:func:`install` then watches the frame view and, on the first paint that shows a frame, writes
``time.monotonic()`` (the system-wide monotonic clock, comparable across processes on Linux)
to ``FILE`` and quits the app with exit code 0. The benchmark subtracts the time it started
the process, so the figure covers everything a user waits for: interpreter or bundle start,
imports, the window, opening the video, decoding and painting the first frame.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from annotator.gui.main_window import MainWindow

ENV = "ANNOTATOR_STARTUP_PROBE"


class FirstFramePainted(QtCore.QObject):
    """Event filter on the frame view's viewport: stamps the first paint that shows a frame."""

    def __init__(self, window: MainWindow, out: Path) -> None:
        super().__init__(window)
        self.window = window
        self.out = out
        self.done = False
        self.in_app_loop = False

    def app_loop_starting(self) -> None:
        """Called just before ``app.exec()``: its first event says the app's loop runs."""

        def started() -> None:
            self.in_app_loop = True

        QtCore.QTimer.singleShot(0, started)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if (
            not self.done
            and event.type() == QtCore.QEvent.Type.Paint
            and self.window.frame_view.image.image is not None
        ):
            self.done = True
            # Let this paint finish, then stamp the time and leave.
            QtCore.QTimer.singleShot(0, self._finish)
        return False

    def _finish(self) -> None:
        self.out.write_text(f"{time.monotonic():.6f}\n")
        self._quit()

    def _quit(self) -> None:
        # The first frame is painted while the video opens, before the app's event loop runs,
        # sometimes under a modal question (which skeleton?) that runs a loop of its own, which
        # exit() would end instead: dismiss the question and wait for the app's loop.
        modal = QtWidgets.QApplication.activeModalWidget()
        if isinstance(modal, QtWidgets.QDialog):
            modal.reject()
        if modal is not None or not self.in_app_loop:
            QtCore.QTimer.singleShot(5, self._quit)
            return
        if self.window.session is not None:
            self.window.session.history.set_clean()  # never ask to save
        self.window.close()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.exit(0)


def install(window: MainWindow) -> FirstFramePainted | None:
    """Watch ``window`` for its first painted frame when ``ANNOTATOR_STARTUP_PROBE`` is set;
    call the probe's ``app_loop_starting()`` just before ``app.exec()``."""
    target = os.environ.get(ENV)
    if not target:
        return None
    probe = FirstFramePainted(window, Path(target))
    window.frame_view.viewport().installEventFilter(probe)
    return probe
