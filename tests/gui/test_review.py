"""Review mode, the joint trail, the joint plot and the review exports, in the real window:
act on the widgets and read the document, change the document and read the widgets."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import av
import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from annotator.core import commands as cmd
from annotator.core.progress import Cancelled
from annotator.core.store import load_project
from annotator.gui import opening
from annotator.gui.review import frozen_track, saved_reviewer
from annotator.gui.review_export import export_contact_sheet, export_overlay_video
from annotator.gui.review_render import render_frame, sheet_size, tile_height
from tests.gui.conftest import open_and_wait

LABELLED = (0, 20, 39)


def _label(session, truth, frames=LABELLED) -> None:
    for f in frames:
        values = np.concatenate([truth[f], np.ones((truth.shape[1], 1))], axis=1)
        session.push(cmd.SetLabels(f, values[None].astype(np.float32)))


def _open_labelled(qtbot, window, figure_video):
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    _label(session, truth)
    window.review._refresh_derived()  # what the controller does once edits pause
    return session, truth


def _send(widget: QtWidgets.QWidget, kind, pos: QtCore.QPoint, buttons) -> None:
    left = QtCore.Qt.MouseButton.LeftButton
    button = QtCore.Qt.MouseButton.NoButton if kind == QtCore.QEvent.Type.MouseMove else left
    event = QtGui.QMouseEvent(
        kind,
        QtCore.QPointF(pos),
        QtCore.QPointF(widget.mapToGlobal(pos)),
        button,
        buttons,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(widget, event)


def test_mark_reviewed_records_who_and_when_and_saves(
    qtbot, window, figure_video, tmp_path: Path
) -> None:
    session, _truth = _open_labelled(qtbot, window, figure_video)
    panel = window.review.panel
    panel.reviewer.setText("Ada")
    panel.reviewer.editingFinished.emit()  # remembered for the next session
    assert saved_reviewer() == "Ada"
    session.go_to(7)
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_R)
    review = session.doc.reviews[7]
    assert review.by == "Ada"
    at = dt.datetime.fromisoformat(review.at)
    assert before <= at <= dt.datetime.now(dt.timezone.utc)
    assert "reviewed by Ada" in panel.reason.text() or session.frame != 7
    project = tmp_path / "walk.annot.json"
    opening.save(window, session, ask_path=False, path=project)
    assert load_project(project).reviews[7].by == "Ada"
    session.undo()  # one undo step takes the mark back
    assert 7 not in session.doc.reviews


def test_mark_button_uses_the_os_user_by_default_and_clears_the_queue(
    qtbot, window, figure_video
) -> None:
    import getpass

    session, _truth = _open_labelled(qtbot, window, figure_video)
    panel = window.review.panel
    assert saved_reviewer() is None and panel.reviewer.text() == getpass.getuser()
    session.push(cmd.SetFlag(12, "wrist swapped?"))
    assert "frame 12 — flagged: wrist swapped?" in panel.rows()
    session.go_to(12)
    qtbot.mouseClick(panel.mark_button, QtCore.Qt.MouseButton.LeftButton)
    assert session.doc.reviews[12].by == getpass.getuser()
    assert not any(row.startswith("frame 12 ") for row in panel.rows())


def test_flag_in_the_document_shows_in_the_queue_with_its_reason(
    qtbot, window, figure_video
) -> None:
    session, _truth = _open_labelled(qtbot, window, figure_video)
    panel = window.review.panel
    rows = panel.rows()
    # The fill between labels is uncertain: each gap's peak is in the queue with its joints.
    assert rows and all("uncertain: joints " in row and "σ ≈" in row for row in rows)
    session.push(cmd.SetFlag(5, "knee hidden by the table"))
    assert "frame 5 — flagged: knee hidden by the table" in panel.rows()
    session.go_to(0)
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_K)  # next item
    assert session.frame == 5
    assert panel.reason.text() == "frame 5: flagged: knee hidden by the table"
    assert "knee hidden by the table" in window.statusBar().currentMessage()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_K)
    assert session.frame == window.review.items[1].frame
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_K, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert session.frame == 5
    session.undo()  # the flag goes, and so does its row
    assert not any("flagged" in row for row in panel.rows())


def test_review_mode_opens_and_closes_the_dock(qtbot, window, figure_video) -> None:
    _open_labelled(qtbot, window, figure_video)
    dock, action = window.review.review_dock, window.actions_by_id["review_mode"]
    assert dock.isHidden() and not action.isChecked()  # the default layout is unchanged
    qtbot.keyClick(
        window.frame_view, QtCore.Qt.Key.Key_R, QtCore.Qt.KeyboardModifier.ControlModifier
    )
    assert dock.isVisible() and action.isChecked()
    dock.close()  # the dock's own close button: the menu follows
    assert not action.isChecked()


def test_threshold_decides_which_frames_are_uncertain(qtbot, window, figure_video) -> None:
    _open_labelled(qtbot, window, figure_video)
    panel = window.review.panel
    assert panel.rows()
    panel.threshold.setValue(1000.0)
    assert panel.rows() == []
    assert panel.summary.text() == "nothing to review"


def test_trail_follows_the_selected_joint_seeks_and_edits(qtbot, window, figure_video) -> None:
    session, truth = _open_labelled(qtbot, window, figure_video)
    trail = window.review.trail
    session.go_to(10)
    session.set_joint(5)
    marks = trail.marks()
    frames = [m[0] for m in marks]
    assert frames == [f for f in range(0, 26) if f != 10]  # ±15 frames, clipped at 0
    manual = {f: (x, y) for f, x, y, is_manual in marks if is_manual}
    assert sorted(manual) == [0, 20]
    assert manual[20] == pytest.approx(tuple(truth[20, 5]), abs=1e-3)
    session.set_joint(11)  # another joint: its positions
    marks = {m[0]: m for m in trail.marks()}
    assert marks[20][1:3] == pytest.approx(tuple(truth[20, 11]), abs=1e-3)
    session.go_to(30)  # a seek moves the window of frames
    assert min(m[0] for m in trail.marks()) == 15
    session.push(cmd.MoveJoint(20, 11, 50.0, 60.0))  # an edit moves the mark
    marks = {m[0]: m for m in trail.marks()}
    assert marks[20][1:3] == (50.0, 60.0)
    window.actions_by_id["joint_trail"].trigger()  # T hides it
    assert not trail.isVisible() and trail.marks() == []


def test_click_on_the_plot_seeks(qtbot, window, figure_video) -> None:
    session, _truth = _open_labelled(qtbot, window, figure_video)
    plot = window.review.plot
    window.actions_by_id["joint_plot"].trigger()
    qtbot.waitUntil(lambda: plot.view.isVisible())
    QtWidgets.QApplication.processEvents()
    y = float(np.nanmean(plot.series.y))
    pos = plot.scene_point("y", 27, y)
    vp = plot.view.viewport()
    _send(vp, QtCore.QEvent.Type.MouseMove, pos, QtCore.Qt.MouseButton.NoButton)
    _send(vp, QtCore.QEvent.Type.MouseButtonPress, pos, QtCore.Qt.MouseButton.LeftButton)
    _send(vp, QtCore.QEvent.Type.MouseButtonRelease, pos, QtCore.Qt.MouseButton.NoButton)
    QtWidgets.QApplication.processEvents()
    assert session.frame == 27
    assert plot.playheads["x"].value() == 27  # the document's frame, back on the plot


def test_drag_a_manual_point_in_the_plot_moves_the_label_in_one_undo_step(
    qtbot, window, figure_video
) -> None:
    session, truth = _open_labelled(qtbot, window, figure_video)
    session.set_joint(5)
    plot = window.review.plot
    window.actions_by_id["joint_plot"].trigger()
    qtbot.waitUntil(lambda: plot.view.isVisible())
    QtWidgets.QApplication.processEvents()
    x0, y0 = (float(v) for v in truth[20, 5])
    box = plot.boxes["x"]
    top = box.viewRange()[1][1]
    target = x0 + 0.5 * (top - x0)  # half way to the top of the plot
    vp = plot.view.viewport()
    left = QtCore.Qt.MouseButton.LeftButton
    start = plot.scene_point("x", 20, x0)
    _send(vp, QtCore.QEvent.Type.MouseMove, start, QtCore.Qt.MouseButton.NoButton)
    _send(vp, QtCore.QEvent.Type.MouseButtonPress, start, left)
    steps = 5
    for k in range(1, steps + 1):
        time.sleep(0.012)  # pyqtgraph drops mouse moves closer than 10 ms apart
        value = x0 + k / steps * (target - x0)
        _send(vp, QtCore.QEvent.Type.MouseMove, plot.scene_point("x", 20, value), left)
    end = plot.scene_point("x", 20, target)
    _send(vp, QtCore.QEvent.Type.MouseButtonRelease, end, QtCore.Qt.MouseButton.NoButton)
    QtWidgets.QApplication.processEvents()
    label = session.manual()[20, 5]
    assert session.frame == 20  # the drag shows the frame it edits
    assert label[0] == pytest.approx(target, abs=0.02 * (top - x0) + 1.0)
    assert label[0] > x0 + 1.0
    assert label[1] == pytest.approx(y0, abs=1e-3)  # x plot: y stays
    session.undo()
    assert session.manual()[20, 5, :2] == pytest.approx((x0, y0), abs=1e-3)
    # The plot follows the document: the dot is back where it was.
    window.review._refresh_derived()
    assert plot.series.x[20] == pytest.approx(x0, abs=1e-3)


def test_plot_shows_the_band_where_the_fill_has_a_variance(qtbot, window, figure_video) -> None:
    session, _truth = _open_labelled(qtbot, window, figure_video)
    plot = window.review.plot
    assert plot.series is None  # closed: not kept current
    window.actions_by_id["joint_plot"].trigger()
    qtbot.waitUntil(lambda: plot.series is not None)
    assert not plot.bands["x"].empty and plot.series is not None
    assert plot.series.manual.sum() == len(LABELLED)
    session.set_method("linear")  # no variance: no band
    qtbot.waitUntil(lambda: session.method == "linear")
    window.review._refresh_derived()
    assert plot.bands["x"].empty


def _decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_overlay_export_from_the_menu_writes_a_decodable_video(
    qtbot, window, figure_video, tmp_path: Path
) -> None:
    _open_labelled(qtbot, window, figure_video)
    out = tmp_path / "review.mp4"
    window.reporter.save_path = str(out)
    window.actions_by_id["export_overlay"].trigger()
    assert window.tasks.wait_idle(120)
    assert not window.reporter.errors, window.reporter.errors
    assert _decoded_frames(out) == 40
    assert "exported 40 frames" in window.statusBar().currentMessage()


def test_contact_sheet_from_the_menu_writes_a_png_of_the_expected_size(
    qtbot, window, figure_video, tmp_path: Path
) -> None:
    _open_labelled(qtbot, window, figure_video)
    out = tmp_path / "sheet.png"
    window.reporter.save_path = str(out)
    window.actions_by_id["export_contact_sheet"].trigger()
    assert window.tasks.wait_idle(120)
    assert not window.reporter.errors, window.reporter.errors
    image = QtGui.QImage(str(out))
    th = tile_height(160, 120, 320)
    assert (image.width(), image.height()) == sheet_size(12, 4, 320, th)
    # Tiles hold the frames, not the sheet's background.
    assert QtGui.QColor(image.pixel(4 + 160, 4 + th // 2)).name() != "#15171b"


def test_review_exports_show_every_person(qtbot, window, figure_video, tmp_path: Path) -> None:
    session, truth = _open_labelled(qtbot, window, figure_video)
    video, _ = figure_video
    first = frozen_track(session)
    session.add_person()  # the second person is active now, labelled beside the first
    beside = truth.copy()
    beside[..., 0] = np.clip(beside[..., 0] + 45.0, 0.0, 159.0)
    for f in LABELLED:
        values = np.concatenate([beside[f], np.ones((truth.shape[1], 1))], axis=1)
        session.push(cmd.SetLabels(f, values[None].astype(np.float32), instance=1))
    second = frozen_track(session)
    out = tmp_path / "sheet.png"
    window.reporter.save_path = str(out)
    window.actions_by_id["export_contact_sheet"].trigger()
    assert window.tasks.wait_idle(120)
    assert not window.reporter.errors, window.reporter.errors
    both, alone = tmp_path / "both.png", tmp_path / "alone.png"
    export_contact_sheet(video, session.skeleton, second, both, others=[first])
    export_contact_sheet(video, session.skeleton, second, alone)
    shown = QtGui.QImage(str(out))
    assert shown == QtGui.QImage(str(both))
    assert shown != QtGui.QImage(str(alone))  # the first person is drawn too
    # The overlay video paints every person the same way: the first person's joints.
    blank = np.zeros((120, 160, 3), np.uint8)
    one = render_frame(blank, session.skeleton, [second], 0, None)
    two = render_frame(blank, session.skeleton, [second, first], 0, None)
    x, y = np.round(truth[0][np.abs(truth[0, :, 0] - beside[0, :, 0]) > 30][0]).astype(int)
    assert not one[y, x].any() and two[y, x].any()


def test_export_errors_reach_the_user(qtbot, window, figure_video, tmp_path: Path) -> None:
    _open_labelled(qtbot, window, figure_video)
    window.reporter.save_path = str(tmp_path / "missing" / "review.mp4")
    window.actions_by_id["export_overlay"].trigger()
    assert window.tasks.wait_idle(120)
    assert len(window.reporter.errors) == 1 and "folder does not exist" in window.reporter.errors[0]


def test_cancel_leaves_no_partial_file(qtbot, window, figure_video, tmp_path: Path) -> None:
    session, _truth = _open_labelled(qtbot, window, figure_video)
    video, _ = figure_video
    track, skeleton = frozen_track(session), session.skeleton
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "review.mp4"
    out.write_bytes(b"an earlier export")
    calls = {"n": 0}

    def stop_after_ten() -> bool:
        calls["n"] += 1
        return calls["n"] > 10

    with pytest.raises(Cancelled):
        export_overlay_video(video, skeleton, track, out, should_stop=stop_after_ten)
    assert out.read_bytes() == b"an earlier export"  # replaced only by a whole file
    sheet = folder / "sheet.png"
    with pytest.raises(Cancelled):
        export_contact_sheet(video, skeleton, track, sheet, should_stop=lambda: True)
    assert sorted(p.name for p in folder.iterdir()) == ["review.mp4"]  # no temporary file


def test_headless_exports_take_a_span_and_chosen_frames(
    qtbot, window, figure_video, tmp_path: Path
) -> None:
    session, _truth = _open_labelled(qtbot, window, figure_video)
    video, _ = figure_video
    track, skeleton = frozen_track(session), session.skeleton
    progress: list[float] = []
    n = export_overlay_video(
        video, skeleton, track, tmp_path / "part.mp4", 5, 17, progress=progress.append
    )
    assert n == 12 == _decoded_frames(tmp_path / "part.mp4")
    assert progress[-1] == 1.0 and progress == sorted(progress)
    size = export_contact_sheet(
        video, skeleton, track, tmp_path / "s.png", frames=[3, 9], columns=1, tile_width=80
    )
    assert size == sheet_size(2, 1, 80, tile_height(160, 120, 80))
    assert QtGui.QImage(str(tmp_path / "s.png")).size().toTuple() == size


def test_esc_cancels_an_export_under_way_and_leaves_no_file(
    qtbot, window, figure_video, tmp_path: Path
) -> None:
    _open_labelled(qtbot, window, figure_video)
    folder = tmp_path / "exports"
    folder.mkdir()
    window.reporter.save_path = str(folder / "review.mp4")
    window.actions_by_id["export_overlay"].trigger()
    assert window.tasks.busy
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Escape)
    assert window.tasks.wait_idle(120)
    assert not window.reporter.errors, window.reporter.errors
    assert list(folder.iterdir()) == []
    assert "nothing written" in window.statusBar().currentMessage()
