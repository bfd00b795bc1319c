"""``annotator [VIDEO|PROJECT] [--screenshot PNG]``: start the desktop app.

With ``--screenshot`` the window opens offscreen when there is no display (under Xvfb, as in
CI, it uses the real X11 plugin; ``QT_QPA_PLATFORM`` overrides), loads the path, waits for
background work, saves a picture of the whole window and exits 0: the app's smoke test. (``annotator bench gui --screenshot`` makes the README's
picture: the same window with two frames labelled and the fill showing.)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.errors import AnnotatorError, UsageError

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow


# What Qt's offscreen plugin says about window-manager features it does not have: harmless
# in a screenshot run, and the only output such a run would otherwise print.
_OFFSCREEN_NOISE = frozenset({"This plugin does not support propagateSizeHints()"})


def run(args: argparse.Namespace) -> int:
    screenshot = getattr(args, "screenshot", None)
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if not has_display and "QT_QPA_PLATFORM" not in os.environ and sys.platform == "linux":
        if not screenshot:
            # Qt would abort with a page about platform plugins; one line says what to do.
            raise UsageError(
                "no display to open the window on (DISPLAY is not set); run it in a desktop "
                "session, or use --screenshot PNG to render the window offscreen"
            )
        # No display at all: render offscreen. With one (e.g. Xvfb in CI) the real platform
        # plugin is exercised; an explicit QT_QPA_PLATFORM always wins.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6 import QtWidgets

    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        _drop_qt_messages(_OFFSCREEN_NOISE)

    from annotator.gui.app import create_app, make_window

    app = create_app(sys.argv[:1])
    window = make_window(headless=bool(screenshot))
    if screenshot:
        return screenshot_run(window, args.path, Path(screenshot))
    probe = None
    if args.path and os.environ.get("ANNOTATOR_STARTUP_PROBE"):
        from annotator.gui import startup_probe

        probe = startup_probe.install(window)  # ``annotator bench startup``: first frame time
    window.show()
    if args.path:
        window.open_path(args.path)
    if probe is not None:
        probe.app_loop_starting()
    status = app.exec()
    assert isinstance(app, QtWidgets.QApplication)
    return int(status)


def _drop_qt_messages(noise: frozenset[str]) -> None:
    """Route Qt's messages to stderr as before, except the ones in ``noise``."""
    from PySide6 import QtCore

    def handler(_mode: QtCore.QtMsgType, _context: QtCore.QMessageLogContext, text: str) -> None:
        if text not in noise:
            print(text, file=sys.stderr)

    QtCore.qInstallMessageHandler(handler)


def screenshot_run(
    window: MainWindow,
    path: str | None,
    out: Path,
    before: Callable[[MainWindow], None] | None = None,
) -> int:
    """Open ``path``, wait for background work, run ``before``, save the window to ``out``."""
    from annotator.gui.app import wait_idle

    window.show()
    if path:
        window.open_path(path)
    wait_idle(window)
    errors = list(getattr(window.reporter, "errors", []))
    if errors:
        window.close()
        raise AnnotatorError(errors[0])
    if path and window.session is None:
        window.close()
        raise UsageError(f"{path} did not open")
    if before is not None and window.session is not None:
        before(window)
    wait_idle(window)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        window.close()
        raise AnnotatorError(f"cannot write the screenshot to {out}")
    if window.session is not None:
        window.session.history.set_clean()  # a screenshot run never asks to save
    window.close()
    return 0
