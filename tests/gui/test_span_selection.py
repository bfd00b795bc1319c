"""Timeline span selection (Shift+drag / Shift+click; Esc or a click clears), Prefill on the
selected span, reviewed frames on the timeline, and Flag This Frame… (issue 19)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from annotator.core import commands as cmd
from annotator.gui.timeline import Timeline
from tests.gui.conftest import open_and_wait
from tests.gui.test_prefill import _run, fake  # noqa: F401  (the fake estimator fixture)

LEFT = QtCore.Qt.MouseButton.LeftButton
NONE = QtCore.Qt.MouseButton.NoButton
SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier
PLAIN = QtCore.Qt.KeyboardModifier.NoModifier


def _pos(timeline: Timeline, frame: float) -> QtCore.QPoint:
    box = timeline.getPlotItem().getViewBox()
    return timeline.mapFromScene(box.mapViewToScene(QtCore.QPointF(frame + 0.5, 0.5)))


def _send(timeline: Timeline, kind, frame: float, button, buttons, mods) -> None:
    vp = timeline.viewport()
    pos = _pos(timeline, frame)
    event = QtGui.QMouseEvent(
        kind, QtCore.QPointF(pos), QtCore.QPointF(vp.mapToGlobal(pos)), button, buttons, mods
    )
    QtWidgets.QApplication.sendEvent(vp, event)


def click(timeline: Timeline, frame: float, mods=PLAIN) -> None:
    _send(timeline, QtCore.QEvent.Type.MouseMove, frame, NONE, NONE, mods)
    _send(timeline, QtCore.QEvent.Type.MouseButtonPress, frame, LEFT, LEFT, mods)
    _send(timeline, QtCore.QEvent.Type.MouseButtonRelease, frame, LEFT, NONE, mods)
    QtWidgets.QApplication.processEvents()


def drag(timeline: Timeline, start: float, end: float, mods=SHIFT, steps: int = 5) -> None:
    _send(timeline, QtCore.QEvent.Type.MouseMove, start, NONE, NONE, mods)
    _send(timeline, QtCore.QEvent.Type.MouseButtonPress, start, LEFT, LEFT, mods)
    for k in range(1, steps + 1):
        time.sleep(0.012)  # pyqtgraph drops mouse moves closer than 10 ms apart
        frame = start + k / steps * (end - start)
        _send(timeline, QtCore.QEvent.Type.MouseMove, frame, NONE, LEFT, mods)
    _send(timeline, QtCore.QEvent.Type.MouseButtonRelease, end, LEFT, NONE, mods)
    QtWidgets.QApplication.processEvents()


def _timeline(qtbot) -> Timeline:
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.resize(600, 90)
    timeline.show()
    qtbot.waitExposed(timeline)
    timeline.set_frame_count(100)
    timeline.set_status(np.zeros(100, dtype=np.int8))
    qtbot.wait(20)
    return timeline


def test_shift_drag_selects_a_drawn_span_and_a_click_clears_it(qtbot) -> None:
    timeline = _timeline(qtbot)
    spans: list[object] = []
    timeline.span_changed.connect(spans.append)
    seeks: list[int] = []
    timeline.seek.connect(seeks.append)
    drag(timeline, 60, 20)  # right to left
    assert timeline.span == (20, 61) and spans[-1] == (20, 61)
    assert timeline.span_band.isVisible()
    assert tuple(round(v) for v in timeline.span_band.getRegion()) == (20, 61)
    assert seeks == []  # selecting does not move the current frame
    click(timeline, 40)  # a plain click seeks and clears
    assert timeline.span is None and spans[-1] is None and not timeline.span_band.isVisible()
    assert seeks == [40]


def test_shift_click_selects_from_the_current_frame_then_extends(qtbot) -> None:
    timeline = _timeline(qtbot)
    timeline.set_playhead(10)
    click(timeline, 30, SHIFT)
    assert timeline.span == (10, 31)
    click(timeline, 5, SHIFT)  # from the same anchor, the other way
    assert timeline.span == (5, 11)
    # Model -> widget: a span set in code is drawn; cleared, it is gone.
    timeline.select_span(70, 200)  # clamped to the video
    assert timeline.span == (70, 100) and timeline.span_band.isVisible()
    timeline.clear_span()
    assert timeline.span is None and not timeline.span_band.isVisible()


@pytest.mark.usefixtures("fake")
def test_prefill_runs_on_the_selected_span_and_esc_clears_it(qtbot, window, figure_video) -> None:
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.accept_proposals(np.array([2, 30]), None, "uniform")
    drag(window.timeline, 8, 11)
    assert window.timeline.span == (8, 12)
    _run(qtbot, window)
    assert session.doc.predicted_frames(0).tolist() == [8, 9, 10, 11]
    assert "frames 8–11" in window.statusBar().currentMessage()

    # Esc (Cancel Background Work) first drops the selection, and only that: the
    # background work goes on; the proposals apply again.
    def wait(progress, should_stop):  # type: ignore[no-untyped-def]
        while not should_stop():
            time.sleep(0.01)

    task = window.tasks.start("Waiting", wait, background=True)
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Escape)
    assert window.timeline.span is None and not window.timeline.span_band.isVisible()
    assert not task.cancelled
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Escape)  # the next Esc cancels it
    assert task.cancelled
    window.tasks.wait_idle()
    session.undo()
    _run(qtbot, window)
    assert session.doc.predicted_frames(0).tolist() == [2, 30]


def test_flag_this_frame_asks_why_joins_the_queue_and_undoes(qtbot, window, figure_video) -> None:
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.go_to(12)
    action = window.actions_by_id["flag_frame"]
    assert action.isEnabled() and action in window.menuBar().actions()[5].menu().actions()
    window.reporter.text = None  # the user cancels: nothing changes
    action.trigger()
    assert session.doc.flags == {} and not session.history.can_undo
    window.reporter.text = "  the hand is blurred "
    action.trigger()
    assert window.reporter.questions[-1] == "Why should frame 12 be reviewed?"
    assert dict(session.doc.flags) == {12: "the hand is blurred"}
    # document -> widgets: the review queue lists it with the reason, the timeline ticks it.
    item = next(i for i in window.review.items if i.frame == 12)
    assert "the hand is blurred" in item.text
    assert window.timeline.marks.state.flagged.tolist() == [12]
    session.undo()  # one undo step
    assert session.doc.flags == {}
    assert not any(i.frame == 12 for i in window.review.items)
    assert window.timeline.marks.state.flagged.tolist() == []
    # A frame marked reviewed, then flagged, is to be reviewed again: it joins the queue
    # (the old mark stayed and kept it out); one undo step brings the mark back.
    session.push(cmd.MarkReviewed(12, 13, "me"))
    action.trigger()
    assert 12 not in session.doc.reviews
    assert any(i.frame == 12 for i in window.review.items)
    session.undo()
    assert 12 in session.doc.reviews and session.doc.flags == {}


def test_reviewed_frames_show_on_the_timeline(qtbot, window, figure_video) -> None:
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    assert "spans" not in window.timeline.rows
    session.go_to(7)
    window.actions_by_id["mark_reviewed"].trigger()
    assert 7 in session.doc.reviews
    assert window.timeline.marks.state.reviewed.tolist() == [7]
    assert "spans" in window.timeline.rows  # the held / flagged row, with its green tick
    session.undo()
    assert window.timeline.marks.state.reviewed.tolist() == []
    assert "spans" not in window.timeline.rows
