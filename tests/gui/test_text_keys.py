"""Keys typed in the window's text fields stay there: Esc abandons the edit without
cancelling background work, Tab moves the focus without switching person, Enter gives the
keys back to the frame (``gui/text_keys.py``)."""

from __future__ import annotations

import threading

from PySide6 import QtCore

from annotator.core.progress import check_stop
from tests.gui.conftest import open_and_wait

Key = QtCore.Qt.Key


def _type_frame(qtbot, window, text: str) -> None:  # type: ignore[no-untyped-def]
    spin = window.frame_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)


def test_esc_in_the_frame_box_drops_the_number_and_cancels_nothing(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    started = threading.Event()

    def work(progress, should_stop) -> None:  # type: ignore[no-untyped-def]
        started.set()
        while True:
            check_stop(should_stop, "the test's work")
            threading.Event().wait(0.01)

    task = window.tasks.start("Working", work, background=True)
    assert started.wait(10)
    session.go_to(4)
    _type_frame(qtbot, window, "12")
    qtbot.keyClick(window.frame_spin, Key.Key_Escape)
    assert session.frame == 4 and window.frame_spin.text() == "4"
    assert window.frame_view.hasFocus() and not task.cancelled  # still running
    qtbot.keyClick(window.frame_view, Key.Key_Escape)  # the window's Esc, from the frame
    assert task.cancelled
    assert window.tasks.wait_idle(30)


def test_tab_in_the_frame_box_goes_there_and_keeps_the_person(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.add_person()
    session.set_instance(0)
    _type_frame(qtbot, window, "30")
    qtbot.keyClick(window.frame_spin, Key.Key_Tab)
    assert session.frame == 30 and session.instance == 0
    qtbot.keyClick(window.frame_view, Key.Key_Tab)  # from the frame, Tab is Next Person
    assert session.instance == 1


def test_enter_in_a_docks_field_gives_the_keys_back_to_the_frame(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    window.actions_by_id["review_mode"].trigger()
    reviewer = window.review.panel.reviewer
    reviewer.setFocus()
    reviewer.selectAll()
    qtbot.keyClicks(reviewer, "alice")
    qtbot.keyClick(reviewer, Key.Key_Return)
    qtbot.waitUntil(window.frame_view.hasFocus, timeout=2000)
    frame = session.frame
    qtbot.keyClick(window.frame_view, Key.Key_D)
    assert session.frame == frame + 1 and reviewer.text() == "alice"
