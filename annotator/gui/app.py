"""Composition root of the desktop app: the ``QApplication``, its look, and the window.

Kept apart from ``launch`` so tests and the benchmark build the same window the program does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from annotator.gui import theme
from annotator.gui.dialogs import RecordingReporter, Reporter
from annotator.gui.main_window import MainWindow


def create_app(argv: Sequence[str] = ("annotator",)) -> QtWidgets.QApplication:
    """The application object (reused when one exists), styled."""
    existing = QtWidgets.QApplication.instance()
    if isinstance(existing, QtWidgets.QApplication):
        return existing
    QtGui.QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        QtCore.Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QtWidgets.QApplication(list(argv))
    app.setApplicationName("annotator")
    app.setOrganizationName("annotator")
    # The installed menu entry's name (resources/desktop): lets Wayland shells match the window.
    app.setDesktopFileName("annotator")
    app.setWindowIcon(theme.app_icon())
    style(app)
    return app


def style(app: QtWidgets.QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(theme.palette())
    app.setStyleSheet(theme.style_sheet())


def make_window(headless: bool = False) -> MainWindow:
    """The main window; ``headless`` records messages instead of showing dialogs."""
    reporter: Reporter = RecordingReporter() if headless else Reporter()
    window = MainWindow(reporter, remember_layout=not headless)
    if not headless:
        reporter.parent = window
    return window


def process_events() -> None:
    """Deliver pending events (for scripts and the benchmark, which import no Qt)."""
    QtWidgets.QApplication.processEvents()


def wait_idle(window: MainWindow, timeout_s: float = 120.0) -> bool:
    """Process events until the window's background tasks are done and painted."""
    ok = window.tasks.wait_idle(timeout_s)
    app = QtWidgets.QApplication.instance()
    deadline = time.monotonic() + timeout_s
    while window.session is not None and not window.session.loader.idle:
        if time.monotonic() > deadline:
            return False
        if app is not None:
            app.processEvents()
        time.sleep(0.005)
    deadline = time.monotonic() + 0.2
    while app is not None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    return ok
