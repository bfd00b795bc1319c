"""GUI test fixtures: isolated per-user folders, a tiny generated video, the real window,
mouse helpers that go through Qt events, and a check that no window outlives its test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

import annotator.gui  # noqa: F401  (applies the PySide6 guard before any Qt call)
from annotator.synth.figure import render_figure_video


@pytest.fixture(scope="session")
def figure_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, NDArray[np.float64]]:
    """A 40-frame 160x120 H.264 video of a walking stick figure and its exact joints."""
    path = tmp_path_factory.mktemp("video") / "figure.mp4"
    truth = render_figure_video(path, frames=40, width=160, height=120, fps=25)
    return path, truth


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp: QtWidgets.QApplication) -> Iterator[None]:
    yield
    for _ in range(3):
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        qapp.processEvents()
    leaked = [w for w in QtWidgets.QApplication.topLevelWidgets() if w.isVisible()]
    for w in leaked:
        w.close()
    assert not leaked, f"windows left open: {[type(w).__name__ for w in leaked]}"


@pytest.fixture(autouse=True)
def no_proposals_on_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every window of these tests opens without K-FPN proposing on its own (a backbone run
    under each test): tests/gui/test_auto_propose.py turns it on for its windows."""
    from annotator.gui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "propose_on_open", False)


@pytest.fixture
def window(qtbot):
    from annotator.gui.app import make_window, style

    style(QtWidgets.QApplication.instance())
    win = make_window(headless=True)
    # Motion fields arriving mid-test would switch the fill to hpim+mv under a test that
    # checks another fill: the tests of that behaviour (test_motion.py) turn it back on.
    win.extract_motion_on_open = False
    win.rank_with_video_on_open = False
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.session is not None:
        win.session.history.set_clean()
    win.close()
    win.tasks.shutdown()


def open_and_wait(qtbot, window, path: Path) -> None:
    window.open_path(path)
    qtbot.waitUntil(
        lambda: window.session is not None or bool(window.reporter.errors), timeout=15000
    )
    assert not window.reporter.errors, window.reporter.errors
    window.frame_view.fit()
    QtWidgets.QApplication.processEvents()


def widget_pos(window, x: float, y: float) -> QtCore.QPoint:
    """Where image pixel (x, y) is on the frame view's viewport."""
    view = window.frame_view
    scene = view.box.mapViewToScene(QtCore.QPointF(x, y))
    return view.mapFromScene(scene)


def _send(
    widget: QtWidgets.QWidget,
    kind: QtCore.QEvent.Type,
    pos: QtCore.QPoint,
    buttons: QtCore.Qt.MouseButton,
    button: QtCore.Qt.MouseButton = QtCore.Qt.MouseButton.LeftButton,
) -> None:
    if kind == QtCore.QEvent.Type.MouseMove:
        button = QtCore.Qt.MouseButton.NoButton
    event = QtGui.QMouseEvent(
        kind,
        QtCore.QPointF(pos),
        QtCore.QPointF(widget.mapToGlobal(pos)),
        button,
        buttons,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(widget, event)


def click_image(window, x: float, y: float, button=QtCore.Qt.MouseButton.LeftButton) -> None:
    """A click at image pixel (x, y), as the mouse sends it."""
    vp = window.frame_view.viewport()
    pos = widget_pos(window, x, y)
    _send(vp, QtCore.QEvent.Type.MouseMove, pos, QtCore.Qt.MouseButton.NoButton)
    _send(vp, QtCore.QEvent.Type.MouseButtonPress, pos, button, button)
    _send(vp, QtCore.QEvent.Type.MouseButtonRelease, pos, QtCore.Qt.MouseButton.NoButton, button)
    QtWidgets.QApplication.processEvents()


def drag_image(
    window, start: tuple[float, float], end: tuple[float, float], steps: int = 6
) -> None:
    """A left-button drag from image pixel ``start`` to ``end`` in ``steps`` moves."""
    vp = window.frame_view.viewport()
    left = QtCore.Qt.MouseButton.LeftButton
    a = widget_pos(window, *start)
    _send(vp, QtCore.QEvent.Type.MouseMove, a, QtCore.Qt.MouseButton.NoButton)
    _send(vp, QtCore.QEvent.Type.MouseButtonPress, a, left)
    for k in range(1, steps + 1):
        time.sleep(0.012)  # pyqtgraph drops mouse moves closer than 10 ms apart
        t = k / steps
        x = start[0] + t * (end[0] - start[0])
        y = start[1] + t * (end[1] - start[1])
        _send(vp, QtCore.QEvent.Type.MouseMove, widget_pos(window, x, y), left)
    b = widget_pos(window, *end)
    _send(vp, QtCore.QEvent.Type.MouseButtonRelease, b, QtCore.Qt.MouseButton.NoButton)
    QtWidgets.QApplication.processEvents()


def crash_and_reopen(qtbot, window, video, skeleton=None):  # type: ignore[no-untyped-def]
    """End ``window``'s session as a crash does (the journal stays), then open ``video`` in
    a new window (no motion extraction on open) that answers Restore with yes
    (``skeleton``: the skeleton question's answer, if it is asked)."""
    from annotator.gui.app import make_window

    window.session.close(discard_unsaved=False)
    window.session = None
    second = make_window(headless=True)
    second.extract_motion_on_open = False  # as the ``window`` fixture's
    qtbot.addWidget(second)
    second.reporter.answer = True  # "Restore unsaved work?" -> yes
    if skeleton is not None:
        second.reporter.skeleton = skeleton
    second.show()
    open_and_wait(qtbot, second, video)
    return second
