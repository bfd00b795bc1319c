"""Several people: add, switch, label, remove and undo through the window, both directions;
the others drawn dimmed with their own fill; exports keep every person's track id."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from annotator.core import commands as cmd
from annotator.core.codes import Source, Visibility
from annotator.formats import registry
from annotator.gui import opening
from annotator.gui.dialogs import ExportRequest
from annotator.gui.people import person_color
from annotator.gui.timeline_state import FrameStatus
from tests.gui.conftest import click_image, crash_and_reopen, open_and_wait

Left = QtCore.Qt.MouseButton.LeftButton
# Formats that read filled values back (CVAT keeps key frames only, DeepLabCut's table no
# sources): the others are checked on the labelled frames.
FILLED_BACK = ("coco", "csv", "npz")


def _pose(truth, frame: int, shift: float = 0.0) -> np.ndarray:  # type: ignore[no-untyped-def]
    labels = np.full((1, truth.shape[1], 3), np.nan, dtype=np.float32)
    labels[0, :, :2] = truth[frame] + shift
    labels[0, :, 2] = Visibility.VISIBLE
    return labels


def test_add_person_in_the_bar_then_clicks_label_them_and_undo_takes_it_back(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session, bar = window.session, window.people_bar
    remove = window.actions_by_id["remove_person"]
    assert bar.tracks() == [0] and not bar.remove_button.isEnabled() and not remove.isEnabled()
    qtbot.mouseClick(bar.add_button, Left)
    doc = session.doc
    assert [i.track_id for i in doc.instances] == [0, 1]
    assert session.instance == 1 and bar.combo.currentIndex() == 1
    assert bar.tracks() == [0, 1] and bar.remove_button.isEnabled() and remove.isEnabled()
    click_image(window, *truth[0, 0])  # the new person is the one labelled
    assert doc.label(1, 0, 0)[2] == Visibility.VISIBLE
    assert doc.label(0, 0, 0)[2] == Visibility.UNLABELLED
    assert window.timeline.marks.status[0] == FrameStatus.PARTIAL
    assert "1 labelled frame" in bar.combo.itemText(1)
    assert [p.track_id for p in window.frame_view.overlay.people] == [0, 1]
    window.actions_by_id["undo"].trigger()  # the label
    assert doc.label(1, 0, 0)[2] == Visibility.UNLABELLED
    assert window.actions_by_id["undo"].text() == "&Undo Add person 1"
    window.actions_by_id["undo"].trigger()  # the person: one undo step
    assert [i.track_id for i in doc.instances] == [0]
    assert session.instance == 0 and bar.tracks() == [0]
    assert window.frame_view.overlay.people == (window.frame_view.overlay.people[0],)
    assert not remove.isEnabled()
    window.actions_by_id["redo"].trigger()
    assert bar.tracks() == [0, 1] and remove.isEnabled()
    assert session.instance == 1 and bar.combo.currentIndex() == 1  # active, as when added


def test_person_added_to_the_document_shows_and_tab_switches(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session, bar = window.session, window.people_bar
    session.push(cmd.AddInstance(track_id=7))  # as a script or the journal would
    session.push(cmd.SetLabels(3, _pose(truth, 3, 20.0), instance=1))
    assert bar.tracks() == [0, 7] and session.instance == 0  # the active one stays
    assert "1 labelled frame" in bar.combo.itemText(1)
    assert window.timeline.marks.status[3] == FrameStatus.EMPTY  # person 0's timeline
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_Tab)
    assert session.instance == 1 and session.active_track == 7
    assert bar.combo.currentIndex() == 1
    assert window.timeline.marks.status[3] == FrameStatus.LABELLED  # now person 7's
    session.go_to(3)
    assert window.joint_list.state_text(0) == ("visible", "manual")
    qtbot.keyClick(
        window.frame_view, QtCore.Qt.Key.Key_Backtab, QtCore.Qt.KeyboardModifier.ShiftModifier
    )
    assert session.instance == 0 and bar.combo.currentIndex() == 0
    assert window.joint_list.state_text(0) == ("—", "")
    bar.combo.activated.emit(1)  # choosing in the combo
    assert session.instance == 1
    # Copy acts on the active person only.
    session.go_to(5)
    window.actions_by_id["copy_pose"].trigger()
    np.testing.assert_allclose(session.doc.manual(1)[5, :, :2], truth[3] + 20.0, atol=1e-3)
    assert (session.doc.manual(0)[5, :, 2] == Visibility.UNLABELLED).all()


def test_remove_person_with_labels_asks_first_and_undo_restores(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    qtbot.mouseClick(window.people_bar.add_button, Left)
    session.push(cmd.SetLabels(4, _pose(truth, 4), instance=1))
    window.reporter.answer = False
    qtbot.mouseClick(window.people_bar.remove_button, Left)
    assert len(session.doc.instances) == 2
    assert "labels on 1 frame" in window.reporter.questions[-1]
    window.reporter.answer = True
    window.actions_by_id["remove_person"].trigger()
    assert [i.track_id for i in session.doc.instances] == [0] and session.instance == 0
    # the last person stays: the action is off (the bar's button too)
    assert not window.actions_by_id["remove_person"].isEnabled()
    assert not window.people_bar.remove_button.isEnabled()
    window.actions_by_id["undo"].trigger()
    assert [i.track_id for i in session.doc.instances] == [0, 1]
    assert session.instance == 1 and window.people_bar.combo.currentIndex() == 1  # active again
    np.testing.assert_allclose(session.doc.manual(1)[4, :, :2], truth[4], atol=1e-3)
    # An unlabelled person goes without a question.
    asked = len(window.reporter.questions)
    qtbot.mouseClick(window.people_bar.add_button, Left)
    window.actions_by_id["remove_person"].trigger()
    assert len(window.reporter.questions) == asked and len(session.doc.instances) == 2


def test_other_people_are_drawn_dimmed_with_their_own_fill(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    for f in (2, 12):
        session.push(cmd.SetLabels(f, _pose(truth, f)))
    qtbot.mouseClick(window.people_bar.add_button, Left)
    for f in (2, 12):
        session.push(cmd.SetLabels(f, _pose(truth, f, 30.0), instance=1))
    session.set_instance(0)
    session.go_to(7)
    people = {p.track_id: p for p in window.frame_view.overlay.people}
    assert people[0].active and not people[1].active
    other = people[1].pose
    assert (other.source != Source.NONE).all() and (other.source != Source.MANUAL).all()
    np.testing.assert_allclose(other.xy, window.frame_view.overlay.pose.xy + 30.0, atol=1.0)
    # An edit of the other person (an undo here) redraws them.
    window.actions_by_id["undo"].trigger()  # person 1's frame-12 labels
    other = {p.track_id: p for p in window.frame_view.overlay.people}[1].pose
    assert bool(other.held_mask().all())  # one label left: only held
    window.frame_view.grab().save(str(tmp_path / "two_people.png"))
    overlay = window.frame_view.overlay
    with_other = window.frame_view.grab().toImage()
    overlay.set_people([p for p in overlay.people if p.active])
    without = window.frame_view.grab().toImage()
    colour = person_color(1)
    changed = [
        QtGui.QColor(with_other.pixel(x, y))
        for x in range(with_other.width())
        for y in range(with_other.height())
        if with_other.pixel(x, y) != without.pixel(x, y)
    ]
    found = sum(abs(c.hue() - colour.hue()) < 12 and c.saturation() > 60 for c in changed)
    assert found > 50, "the other person is not drawn in their colour"


@pytest.mark.parametrize("name", ["coco", "cvat-video", "dlc", "dlc-csv", "csv", "npz"])
def test_export_of_two_people_keeps_track_ids_and_each_fill(
    qtbot, window, figure_video, tmp_path: Path, name: str
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("linear")
    qtbot.mouseClick(window.people_bar.add_button, Left)
    for f in (10, 30):
        session.push(cmd.SetLabels(f, _pose(truth, f), instance=0))
        session.push(cmd.SetLabels(f, _pose(truth, f, 25.0), instance=1))
    adaptor = registry.get(name)
    out = tmp_path / ("out" if adaptor.is_folder else f"out{adaptor.extensions[0]}")
    images = "png" if name == "dlc" else None  # a DeepLabCut folder holds its frames
    window.reporter.export = ExportRequest(name, str(out), "all", images)
    window.actions_by_id["export"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    assert not window.reporter.errors
    back = adaptor.read(out)
    assert [i.track_id for i in back.instances] == [0, 1]
    for k, shift in ((0, 0.0), (1, 25.0)):
        poses = back.instances[k].poses
        np.testing.assert_allclose(poses[10, :, :2], truth[10] + shift, atol=0.01)
        if name not in FILLED_BACK:
            continue
        # Frame 20 is filled from this person's own labels (linear: the midpoint).
        want = (truth[10] + truth[30]) / 2 + shift
        np.testing.assert_allclose(poses[20, :, :2], want, atol=0.01)


def test_two_people_save_and_open_again(qtbot, window, figure_video, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    qtbot.mouseClick(window.people_bar.add_button, Left)
    session.push(cmd.SetLabels(5, _pose(truth, 5, 12.0), instance=1))
    project = tmp_path / "two.annot.json"
    opening.save(window, session, ask_path=False, path=project)
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not session, timeout=15000)
    assert window.people_bar.tracks() == [0, 1]
    np.testing.assert_allclose(window.session.doc.manual(1)[5, :, :2], truth[5] + 12.0, atol=1e-3)


def test_accept_fill_and_flip_act_on_the_active_person(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    for f in (2, 12):
        session.push(cmd.SetLabels(f, _pose(truth, f)))
    qtbot.mouseClick(window.people_bar.add_button, Left)
    for f in (2, 12):
        session.push(cmd.SetLabels(f, _pose(truth, f, 30.0), instance=1))
    session.go_to(7)
    window.actions_by_id["accept_fill"].trigger()
    assert (session.doc.manual(1)[7, :, 2] == Visibility.VISIBLE).all()
    assert (session.doc.manual(0)[7, :, 2] == Visibility.UNLABELLED).all()
    before = np.array(session.doc.manual(0)[2])
    session.go_to(2)
    window.actions_by_id["flip"].trigger()
    np.testing.assert_array_equal(session.doc.manual(0)[2], before)
    np.testing.assert_allclose(session.doc.manual(1)[2, 1, :2], truth[2, 2] + 30.0, atol=1e-3)


def test_two_people_restored_after_a_crash(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    for f in (2, 12):
        session.push(cmd.SetLabels(f, _pose(truth, f)))  # person 0's
    qtbot.mouseClick(window.people_bar.add_button, Left)
    session.go_to(8)
    click_image(window, *truth[8, 0])  # person 1's label
    labels = np.array(session.doc.manual(1))
    second = crash_and_reopen(qtbot, window, video)
    restored = second.session
    assert second.people_bar.tracks() == [0, 1]
    # Person 0's fill and timeline follow the restored labels.
    assert second.timeline.marks.status[7] == FrameStatus.FILLED
    restored.go_to(7)
    np.testing.assert_allclose(
        second.frame_view.overlay.pose.xy, (truth[2] + truth[12]) / 2, atol=8.0
    )
    np.testing.assert_array_equal(np.asarray(restored.doc.manual(1)), labels)
    restored.set_instance(1)
    restored.go_to(8)
    assert second.joint_list.state_text(0) == ("visible", "manual")
    restored.undo()  # the restore, one step: back to one unlabelled person
    assert second.people_bar.tracks() == [0] and restored.instance == 0
    assert second.timeline.marks.status[7] == FrameStatus.EMPTY
    restored.history.set_clean()
    second.close()
    second.tasks.shutdown()
