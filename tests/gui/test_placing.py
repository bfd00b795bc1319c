"""Placing and correcting joints as a labeller does: the next joint to place, undo, drags,
playback and the frame box never send a click to the wrong joint or the wrong frame."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from annotator.core.codes import Visibility
from tests.gui.conftest import click_image, drag_image, open_and_wait


def _labelled(session, frame: int) -> list[int]:  # type: ignore[no-untyped-def]
    return np.flatnonzero(session.manual()[frame, :, 2] != Visibility.UNLABELLED).tolist()


def test_undoing_a_misplaced_click_places_that_joint_again(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.go_to(10)
    click_image(window, *truth[10, 0])
    click_image(window, 5.0, 5.0)  # joint 1 misplaced
    assert session.joint == 2
    session.go_to(20)  # looking elsewhere when undoing
    qtbot.keyClick(
        window.frame_view, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier
    )
    assert (session.frame, session.joint) == (10, 1)  # shown where it was undone, to place again
    click_image(window, *truth[10, 1])
    assert _labelled(session, 10) == [0, 1]
    assert np.allclose(session.manual()[10, 1, :2], truth[10, 1], atol=0.6)
    qtbot.keyClick(
        window.frame_view, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier
    )
    qtbot.keyClick(
        window.frame_view, QtCore.Qt.Key.Key_Z,
        QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier,
    )  # fmt: skip
    assert session.joint == 2  # a placement redone moves on, as the click did


def test_a_correction_while_placing_keeps_the_next_joint(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.go_to(10)
    for j in range(3):
        click_image(window, *truth[10, j])
    assert session.joint == 3
    start = tuple(session.manual()[10, 1, :2])
    drag_image(window, start, (start[0] + 6.0, start[1] + 4.0))
    assert np.allclose(session.manual()[10, 1, :2], (start[0] + 6.0, start[1] + 4.0), atol=0.6)
    assert session.joint == 3  # the next click still places joint 3
    click_image(window, *truth[10, 3])
    assert _labelled(session, 10) == [0, 1, 2, 3]


def test_a_drag_while_playing_stops_playback_and_edits_one_frame(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    for j in range(truth.shape[1]):
        click_image(window, *truth[0, j])
    steps = session.history.undo_count
    window.set_playing(True)
    qtbot.wait(120)  # a few frames on
    start = tuple(session.manual()[0, 2, :2])
    qtbot.waitUntil(lambda: session.frame > 0)
    session.go_to(0)
    drag_image(window, start, (start[0] + 8.0, start[1]))
    qtbot.wait(150)
    assert not window.playing
    assert session.frame == 0 and _labelled(session, 0) == list(range(truth.shape[1]))
    assert [f for f in range(session.frame_count) if _labelled(session, f)] == [0]
    assert session.history.undo_count == steps + 1  # one drag, one step


def test_a_frame_number_left_by_a_click_on_the_picture_is_dropped(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.go_to(5)
    spin = window.frame_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "30")  # typed, never entered
    window.frame_view.setFocus(QtCore.Qt.FocusReason.MouseFocusReason)  # what a click does
    click_image(window, *truth[5, 0])
    assert session.frame == 5 and spin.value() == 5
    assert _labelled(session, 5) == [0] and not _labelled(session, 30)


def test_copy_pose_fills_only_the_joints_not_yet_placed(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    for j in range(3):
        click_image(window, *truth[10, j])
    session.go_to(12)
    session.set_joint(4)
    click_image(window, *truth[12, 4])
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_C)
    assert _labelled(session, 12) == [0, 1, 2, 4]
    assert np.allclose(session.manual()[12, 4, :2], truth[12, 4], atol=0.6)  # kept
    for j in range(truth.shape[1]):
        if j not in (0, 1, 2, 4):
            session.set_joint(j)
            click_image(window, *truth[12, j])
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_C)
    assert "nothing to copy into" in window.statusBar().currentMessage()


def test_a_joint_key_that_changes_nothing_says_so(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.go_to(3)
    name = session.skeleton.joints[session.joint]
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Delete)
    assert f"{name} has no label to delete on frame 3" in window.statusBar().currentMessage()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_X)
    steps = session.history.undo_count
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_X)
    assert session.history.undo_count == steps  # no empty undo step
    assert "is absent already" in window.statusBar().currentMessage()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_V)
    assert "no position to show as occluded" in window.statusBar().currentMessage()


def test_go_to_frame_takes_a_number_past_the_end_as_the_last_frame(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    for typed, expected in (("12", 12), ("999", session.frame_count - 1), ("-3", 0)):
        window.reporter.text = typed
        window.actions_by_id["goto"].trigger()
        assert session.frame == expected
    window.reporter.text = "twelve"
    window.actions_by_id["goto"].trigger()
    assert session.frame == 0 and "not a frame number" in window.statusBar().currentMessage()


def test_flip_on_a_frame_without_labels_changes_nothing(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_H)
    assert not session.history.can_undo and session.history.is_clean  # nothing to save
    assert "no labels to swap" in window.statusBar().currentMessage()
