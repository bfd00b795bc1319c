"""The scripted end-to-end run of the issue: open a generated video, label two frames by
mouse, check the live fill shown against the fill engine, drag a filled joint, undo/redo,
save, reopen and export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.core.codes import Source, Visibility
from annotator.dynamics.fill import fill_track
from annotator.gui.dialogs import RecordingReporter
from tests.gui.conftest import click_image, drag_image, open_and_wait


def _label_frame_by_mouse(window, truth, frame: int) -> None:
    session = window.session
    session.go_to(frame)
    session.set_joint(0)
    for j in range(truth.shape[1]):
        click_image(window, *truth[frame, j])


def test_label_fill_drag_undo_save_reopen_export(
    qtbot, window, figure_video, tmp_path: Path
) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    assert session.frame_count == 40

    # Two frames labelled by mouse clicks: each click places the current joint and advances.
    _label_frame_by_mouse(window, truth, 5)
    _label_frame_by_mouse(window, truth, 30)
    manual = np.asarray(session.doc.manual(0))
    labelled = np.flatnonzero((manual[:, :, 2] != Visibility.UNLABELLED).all(axis=1))
    assert labelled.tolist() == [5, 30]
    # Clicks land where the mouse was: within a pixel of the intended image position.
    assert np.abs(manual[5, :, :2] - truth[5]).max() < 1.0

    # Between them the overlay shows exactly what the fill engine computes on its own.
    session.go_to(17)
    expected = fill_track(manual, session.method, fps=session.fps)
    shown = window.frame_view.overlay.pose
    np.testing.assert_allclose(shown.xy, expected.poses[17, :, :2], atol=1e-4)
    assert (shown.source == expected.source[17]).all()
    assert (shown.source != Source.MANUAL).all()
    assert window.joint_list.state_text(3) == ("visible", session.method)

    # Dragging a filled joint by mouse makes it manual on that frame: one undo step.
    joint = 5
    start = tuple(shown.xy[joint])
    end = (start[0] + 12.0, start[1] - 8.0)
    undo_before = session.history.undo_count
    drag_image(window, start, end)
    after = np.asarray(session.doc.manual(0))[17, joint]
    assert after[2] == Visibility.VISIBLE
    np.testing.assert_allclose(after[:2], end, atol=1.0)
    assert window.frame_view.overlay.pose.source[joint] == Source.MANUAL
    assert session.history.undo_count == undo_before + 1
    assert window.actions_by_id["undo"].text() == "&Undo Move L-wrist"

    # Undo brings the filled value back; redo makes it manual again.
    window.actions_by_id["undo"].trigger()
    assert np.asarray(session.doc.manual(0))[17, joint, 2] == Visibility.UNLABELLED
    np.testing.assert_allclose(
        window.frame_view.overlay.pose.xy, expected.poses[17, :, :2], atol=1e-4
    )
    window.actions_by_id["redo"].trigger()
    assert window.frame_view.overlay.pose.source[joint] == Source.MANUAL
    final = np.array(session.doc.manual(0))

    # Save, reopen in a fresh window: the same labels.
    project = tmp_path / "figure.annot.json"
    from annotator.gui import opening

    opening.save(window, session, ask_path=False, path=project)
    assert not session.dirty and project.exists()
    from annotator.gui.app import make_window

    other = make_window(headless=True)
    qtbot.addWidget(other)
    other.show()
    open_and_wait(qtbot, other, project)
    np.testing.assert_array_equal(np.asarray(other.session.doc.manual(0)), final)
    other.close()

    # Export to every writable format that exists: files appear, with fill and labels.
    written = []
    for name, _desc in opening.export_formats():
        out = tmp_path / f"export-{name}"
        opening.export_to(session, name, out)
        assert out.exists(), name
        written.append(name)
    assert "npz" in written or written  # at least one exporter is registered


def test_place_keys_and_navigation(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    from PySide6 import QtCore

    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Right)
    assert session.frame == 1
    qtbot.keyClick(
        window.frame_view, QtCore.Qt.Key.Key_Right, QtCore.Qt.KeyboardModifier.ShiftModifier
    )
    assert session.frame == 11
    click_image(window, *truth[11, 0])
    assert session.joint == 1
    session.set_joint(0)
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_V)  # visible -> occluded
    assert session.doc.label(0, 11, 0)[2] == Visibility.OCCLUDED
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_X)  # absent
    assert session.doc.label(0, 11, 0)[2] == Visibility.ABSENT
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Home)
    assert session.frame == 0
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Period)  # next labelled frame
    assert session.frame == 11
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Right)
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_C)  # copy pose from nearest labelled
    assert session.doc.label(0, 12, 0)[2] == Visibility.ABSENT
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_E)  # next joint
    assert session.joint == 1
    assert window.joint_list.currentItem().text(0) == "L-shoulder"


def test_method_choice_refills(qtbot, window, figure_video) -> None:
    from annotator.gui.session import available_methods

    methods = available_methods()
    if len(methods) < 2:
        pytest.skip("only one fill method is available in this build")
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    for f in (4, 20, 36):
        _label_frame_by_mouse(window, truth, f)
    other = next(m for m in methods if m != session.method)
    window.fill_panel.combo.setCurrentText(other)
    assert session.method == other
    session.go_to(12)
    expected = fill_track(np.asarray(session.doc.manual(0)), other, fps=session.fps)
    np.testing.assert_allclose(
        window.frame_view.overlay.pose.xy, expected.poses[12, :, :2], atol=1e-4
    )


def test_recording_reporter_is_used(window) -> None:
    assert isinstance(window.reporter, RecordingReporter)


def test_propose_frames_worker(qtbot, window, figure_video) -> None:
    from PySide6 import QtCore

    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    window.reporter.item = "uniform"
    window.actions_by_id["propose"].trigger()
    qtbot.waitUntil(lambda: window.session.doc.proposals is not None, timeout=20000)
    assert not window.reporter.errors
    frames = np.asarray(window.session.doc.proposals.frames)
    assert len(frames) >= 2
    np.testing.assert_array_equal(window.timeline.marks.state.proposed, frames)
    assert "uniform" in window.device_label.text()
    window.session.go_to(0)
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_BracketRight)
    assert window.session.frame == int(frames[frames > 0][0])
    assert window.actions_by_id["undo"].text().startswith("&Undo Propose")


def test_propose_with_the_default_method_and_budget(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    """Tools > Propose Frames > OK with the dialog's defaults (kfpn, its natural count): the
    frames reach the timeline and K-FPN's per-frame scores draw the score curve."""
    from annotator.proposal import registry

    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    window.actions_by_id["propose"].trigger()
    qtbot.waitUntil(lambda: window.session.doc.proposals is not None, timeout=300000)
    assert not window.reporter.errors
    proposals = window.session.doc.proposals
    assert proposals.method == "kfpn"
    expected = registry.propose(video)  # what ``annotator propose VIDEO`` computes
    assert list(proposals.frames) == expected.frames
    assert proposals.scores is not None and len(proposals.scores) == window.session.frame_count
    state = window.timeline.marks.state
    np.testing.assert_array_equal(state.proposed, expected.frames)
    assert state.scores is not None and state.scores.min() == 0.0 and state.scores.max() == 1.0
    window.timeline.marks.update()
    qtbot.waitUntil(lambda: window.timeline.marks.last_curve_points > 0, timeout=2000)
    # Undo takes the proposals and their curve away.
    window.actions_by_id["undo"].trigger()
    assert window.timeline.marks.state.scores is None
    assert len(window.timeline.marks.state.proposed) == 0


def test_propose_dialog_offers_the_default_budget(qtbot) -> None:  # type: ignore[no-untyped-def]
    from annotator.gui.dialogs import ProposeDialog, ProposeRequest

    dialog = ProposeDialog(["kfpn", "uniform", "kmeans"], 240)
    qtbot.addWidget(dialog)
    assert dialog.request() == ProposeRequest("kfpn", None)  # natural count, as the CLI
    assert dialog.budget.text() == ProposeDialog.DEFAULT_TEXT
    assert "natural count" in dialog.hint.text()
    dialog.budget.setValue(12)
    dialog.method.setCurrentText("uniform")
    assert dialog.request() == ProposeRequest("uniform", 12)
    assert dialog.hint.text() == "12 of 240 frames"
