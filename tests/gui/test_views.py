"""Each view in both directions: a document change shows in the widget; a widget action
reaches the session or the document."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from annotator.core import commands as cmd
from annotator.core.codes import Source, Visibility
from annotator.gui.keymap import by_id
from annotator.gui.timeline_state import FrameStatus
from tests.gui.conftest import click_image, open_and_wait


def _label_frames(session, poses, frames) -> None:  # type: ignore[no-untyped-def]
    """Label every joint of ``frames`` at ``poses[frame]`` (F, 13, 2), one command each."""
    labels = np.full((1, 13, 3), np.nan, dtype=np.float32)
    labels[0, :, 2] = Visibility.VISIBLE
    for f in frames:
        labels[0, :, :2] = poses[f]
        session.push(cmd.SetLabels(f, labels))


def test_document_commands_update_overlay_list_and_timeline(qtbot, window, figure_video) -> None:
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.go_to(6)
    # A command pushed straight to the history (as a script or import would) shows everywhere.
    session.push(cmd.PlaceJoint(6, 2, 40.0, 30.0, Visibility.OCCLUDED))
    pose = window.frame_view.overlay.pose
    assert tuple(pose.xy[2]) == (40.0, 30.0) and pose.source[2] == Source.MANUAL
    assert window.joint_list.state_text(2) == ("occluded", "manual")
    assert window.timeline.marks.status[6] == FrameStatus.PARTIAL
    session.push(cmd.ClearFrame(6))
    assert window.joint_list.state_text(2) == ("—", "")
    assert window.timeline.marks.status[6] == FrameStatus.EMPTY


def test_joint_list_click_sets_the_joint_the_next_click_places(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    item = window.joint_list.topLevelItem(7)
    rect = window.joint_list.visualItemRect(item)
    qtbot.mouseClick(
        window.joint_list.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center()
    )
    assert window.session.joint == 7
    assert "L-hip" in window.joint_label.text()
    click_image(window, *truth[0, 7])
    assert window.session.doc.label(0, 0, 7)[2] == Visibility.VISIBLE
    assert window.session.joint == 8  # advanced


def test_timeline_click_seeks_and_follows_the_frame(qtbot, window, figure_video) -> None:
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    timeline = window.timeline
    qtbot.wait(20)
    box = timeline.getPlotItem().getViewBox()
    pos = timeline.mapFromScene(box.mapViewToScene(QtCore.QPointF(25.5, 0.5)))
    qtbot.mouseClick(timeline.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert window.session.frame == 25
    assert window.frame_spin.value() == 25
    window.session.go_to(31)
    assert timeline.playhead.value() == 31.5
    assert window.frame_spin.value() == 31
    window.frame_spin.setValue(3)  # the spin box seeks too
    assert window.session.frame == 3


def test_fill_method_list_waits_for_a_video(qtbot, window, figure_video) -> None:
    assert not window.fill_panel.combo.isEnabled()  # a choice here was thrown away on open
    open_and_wait(qtbot, window, figure_video[0])
    assert window.fill_panel.combo.isEnabled()


def test_fill_panel_and_session_method_agree(qtbot, window, figure_video) -> None:
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("linear")
    assert window.fill_panel.combo.currentText() == "linear"
    window.fill_panel.combo.setCurrentText("pchip")
    assert session.method == "pchip"


def test_fill_status_on_timeline(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    _label_frames(session, truth, (10, 20))
    status = window.timeline.marks.status
    assert status[10] == status[20] == FrameStatus.LABELLED
    assert (status[11:20] == FrameStatus.FILLED).all()
    assert "2 labelled frames" in window.fill_panel.info.text()


def test_uncached_frames_decode_off_the_gui_thread(qtbot, window, figure_video) -> None:
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    reader = session.reader
    target = next(f for f in range(session.frame_count - 1, 0, -1) if not reader.cached(f))
    session.go_to(target)
    assert window.frame_spin.value() == target  # the labels and controls move at once
    qtbot.waitUntil(
        lambda: np.array_equal(window.frame_view.image.image, reader.frame(target)), timeout=5000
    )
    assert session.loader.idle


def test_accept_fill_key(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("linear")  # any method: this is about the action
    _label_frames(session, truth, (2, 12))
    session.go_to(7)
    filled = window.frame_view.overlay.pose.xy.copy()
    window.frame_view.setFocus()
    qtbot.keyClick(
        window.frame_view, QtCore.Qt.Key.Key_Return, QtCore.Qt.KeyboardModifier.ControlModifier
    )
    manual = np.asarray(session.doc.manual(0))[7]
    np.testing.assert_allclose(manual[:, :2], filled, atol=1e-4)
    assert (window.frame_view.overlay.pose.source == Source.MANUAL).all()
    assert window.actions_by_id["undo"].text().startswith("&Undo Accept fill")


def test_layout_is_remembered(qtbot) -> None:
    from annotator.gui.main_window import MainWindow

    first = MainWindow(remember_layout=True)
    qtbot.addWidget(first)
    first.show()
    first.legend_dock.hide()
    first.close()
    second = MainWindow(remember_layout=True)
    qtbot.addWidget(second)
    second.show()
    assert second.legend_dock.isHidden() and not second.joint_dock.isHidden()
    second.close()


def test_play_recent_and_drop(qtbot, window, figure_video) -> None:
    from PySide6 import QtGui

    from annotator.gui import opening

    video, _truth = figure_video
    # Drag and drop a file onto the window opens it.
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(video))])
    pos = QtCore.QPointF(400, 300)
    drop = QtGui.QDropEvent(
        pos, QtCore.Qt.DropAction.CopyAction, mime,
        QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.session is not None, timeout=10000)
    # It is now a recent file, listed in File > Open Recent.
    assert video.resolve() in opening.recent_paths()
    from annotator.gui.window_actions import fill_recent_menu

    fill_recent_menu(window)
    assert str(video.resolve()) in [a.text() for a in window.recent_menu.actions()]
    # Space plays at the video's rate and pauses again.
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.session.frame >= 3, timeout=5000)
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Space)
    stopped = window.session.frame
    qtbot.wait(150)
    assert window.session.frame == stopped
    # Space on the last frame plays again from the first
    window.session.go_to(window.session.frame_count - 1)
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Space)
    assert window.session.frame == 0 and window.play_button.isChecked()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Space)


def test_right_click_menu_on_a_joint(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("linear")
    click_image(window, *truth[0, 0])  # head placed; current joint moves on
    click_image(window, *truth[0, 0], button=QtCore.Qt.MouseButton.RightButton)
    menu = window.context_menu
    assert menu is not None and session.joint == 0  # the menu's joint became current
    texts = [a.text() for a in menu.actions()]
    # Each entry's text and shortcut are the keymap's, as the menus and Help > Shortcuts say.
    assert "Delete Label\tDelete" in texts and not any(t.endswith("\tDel") for t in texts)
    for action_id in ("toggle_occluded", "mark_absent", "copy_pose", "fit"):
        spec = by_id(action_id)
        assert f"{spec.text.replace('&', '')}\t{spec.keys[0]}" in texts
    absent = next(a for a in menu.actions() if a.text().startswith("Mark Absent\tX"))
    absent.trigger()
    menu.close()
    assert session.doc.label(0, 0, 0)[2] == Visibility.ABSENT


def test_timeline_follows_a_method_change(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    _label_frames(session, truth, (5, 15))
    session.set_method("linear")
    # the timeline paints its own immutable copy of the new status
    np.testing.assert_array_equal(window.timeline.marks.status, session.status)
    assert not window.timeline.marks.status.flags.writeable
    session.push(cmd.ClearFrame(15))
    assert window.timeline.marks.status[15] == FrameStatus.EMPTY  # only held from frame 5


def test_method_is_saved_with_the_project_and_undoable(
    qtbot, window, figure_video, tmp_path
) -> None:
    from annotator.gui import opening
    from annotator.gui.app import make_window

    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("pchip")
    assert window.actions_by_id["undo"].text() == "&Undo Fill with pchip"
    session.undo()
    assert session.method != "pchip"
    assert window.fill_panel.combo.currentText() == session.method
    session.redo()
    assert session.method == "pchip"
    project = tmp_path / "m.annot.json"
    opening.save(window, session, ask_path=False, path=project)
    other = make_window(headless=True)
    qtbot.addWidget(other)
    other.show()
    open_and_wait(qtbot, other, project)
    assert other.session.method == "pchip"
    assert other.fill_panel.combo.currentText() == "pchip"
    other.close()


def test_typing_a_frame_number(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    _label_frames(session, truth, (2, 30))
    undo_count = session.history.undo_count
    spin = window.frame_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "12")
    qtbot.keyClick(spin, QtCore.Qt.Key.Key_Return)
    assert session.frame == 12
    assert session.history.undo_count == undo_count  # Return did not accept the fill
    assert window.frame_view.hasFocus()  # keys go back to the frame


def test_fill_uncertainty_is_shown_where_the_method_has_one(qtbot, window, figure_video) -> None:
    from annotator.gui.session import available_methods

    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    _label_frames(session, truth, (2, 30))
    session.set_method("linear")
    session.go_to(16)
    assert window.frame_view.overlay.pose.sigma is None  # linear has no variance
    assert "hpim" in available_methods()  # its model ships with the app
    session.set_method("hpim")
    variance = session.engine.result.variance
    assert variance is not None
    sigma = window.frame_view.overlay.pose.sigma
    np.testing.assert_allclose(sigma, np.sqrt(variance[16]), rtol=1e-5)
    session.go_to(2)  # a labelled frame: manual joints carry no spread
    assert np.isnan(window.frame_view.overlay.pose.sigma).all()


def test_fill_info_counts_read_right(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    from annotator.gui.wording import plural

    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    labels = np.full((1, 13, 3), np.nan, dtype=np.float32)
    labels[0, :, 2] = Visibility.VISIBLE
    labels[0, :, :2] = truth[5]
    session.push(cmd.SetLabels(5, labels))
    assert window.fill_panel.info.text() == ("1 labelled frame: label two frames to start the fill")
    labels[0, :, :2] = truth[15]
    session.push(cmd.SetLabels(15, labels))
    assert window.fill_panel.info.text().startswith("2 labelled frames; 9 filled live")
    assert (plural(0, "frame"), plural(1, "frame"), plural(2, "entry", "entries")) == (
        "frames",
        "frame",
        "entries",
    )


def test_a_frame_number_past_the_end_goes_to_the_last_frame(qtbot, window, figure_video) -> None:
    """Typing 999 in the frame box of a 40-frame video goes to frame 39 (a plain spin box
    refused the last keystroke and went to frame 99's prefix, 9)."""
    open_and_wait(qtbot, window, figure_video[0])
    spin = window.frame_spin
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "999")
    qtbot.keyClick(spin, QtCore.Qt.Key.Key_Return)
    assert window.session.frame == 39
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "12")
    qtbot.keyClick(spin, QtCore.Qt.Key.Key_Return)
    assert window.session.frame == 12


def test_keys_belong_to_the_frame_after_a_click_on_the_frame_box_arrows(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    """A click on the frame box's up arrow steps a frame; D then steps again (the box kept
    the focus and swallowed the keys until the picture was clicked)."""
    open_and_wait(qtbot, window, figure_video[0])
    spin = window.frame_spin
    option = QtWidgets.QStyleOptionSpinBox()
    spin.initStyleOption(option)
    up = spin.style().subControlRect(
        QtWidgets.QStyle.ComplexControl.CC_SpinBox,
        option,
        QtWidgets.QStyle.SubControl.SC_SpinBoxUp,
        spin,
    )
    qtbot.mouseClick(spin, QtCore.Qt.MouseButton.LeftButton, pos=up.center())
    assert window.session.frame == 1
    assert window.frame_view.hasFocus()
    qtbot.keyClick(QtWidgets.QApplication.focusWidget(), QtCore.Qt.Key.Key_D)
    assert window.session.frame == 2
    assert spin.focusPolicy() == QtCore.Qt.FocusPolicy.StrongFocus  # the wheel leaves it


def test_m_steps_through_the_fill_panels_methods(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    """The fill method from the keyboard: M takes the Fill panel's next method (undoable),
    wrapping round at the end of the list; Shift+F flags the frame."""
    open_and_wait(qtbot, window, figure_video[0])
    session, combo = window.session, window.fill_panel.combo
    methods = [combo.itemText(k) for k in range(combo.count())]
    first = session.method
    window.frame_view.setFocus()
    seen = []
    for _ in methods:
        qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_M)
        seen.append(session.method)
        assert combo.currentText() == session.method
    assert seen[-1] == first and sorted(seen) == sorted(methods)  # each once, then round
    session.undo()
    assert session.method == seen[-2]
    window.reporter.text = "blurred"
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_F, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert session.doc.flags == {session.frame: "blurred"}


def test_a_frame_shown_in_place_of_one_that_cannot_be_decoded_is_said(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    """The reader shows a damaged frame's nearest neighbour and records it; the window says
    so (the neighbour's picture was shown without a word, and labelled as that frame)."""
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.reader.frame_problems[7] = 6  # what the reader records for a damaged frame
    session.go_to(6)
    window.statusBar().clearMessage()
    session.go_to(7)
    qtbot.waitUntil(lambda: "frame 7 cannot be decoded" in window.statusBar().currentMessage())
    assert "frame 6's" in window.statusBar().currentMessage()
    window.statusBar().clearMessage()
    session.go_to(8)
    assert "cannot be decoded" not in window.statusBar().currentMessage()


def test_a_one_frame_video_labelled_has_nothing_left_to_fill_or_label(
    qtbot, window, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A single picture, labelled: the Fill panel and N say it is done (they asked to label
    two frames, which the video does not have)."""
    from tests.video.videomaker import make_video

    open_and_wait(qtbot, window, make_video(tmp_path / "one.mp4", n=1, size=(96, 64)))
    session = window.session
    _label_frames(session, 10.0 + np.arange(13)[None, :, None].repeat(2, axis=2), (0,))
    assert window.fill_panel.info.text() == "1 labelled frame: nothing to fill"
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_N)
    assert window.statusBar().currentMessage() == "every frame is labelled"


def test_ctrl_k_marks_a_scene_cut_the_fill_does_not_cross(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    """A hard cut in the video, marked from the keyboard: drawn on the timeline, the fill
    stops at it (it glided across: there was no way to mark one in the app); again, no cut;
    undoable."""
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    _label_frames(session, truth, (10, 30))
    assert (session.result.source[20] != Source.MANUAL).all() and not session.result.held[20].any()
    session.go_to(20)
    window.frame_view.setFocus()
    ctrl = QtCore.Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_K, ctrl)
    assert session.doc.scene_cuts == (20,)
    assert [line.value() for line in window.timeline._cut_lines] == [20.0]
    assert session.result.held[15:25].all()  # each shot holds its own label up to the cut
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_K, ctrl)  # again: no cut
    assert session.doc.scene_cuts == () and window.timeline._cut_lines == []
    session.undo()
    assert session.doc.scene_cuts == (20,) and len(window.timeline._cut_lines) == 1
