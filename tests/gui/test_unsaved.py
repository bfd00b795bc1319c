"""Unsaved edits are never lost by a key press: every place that would drop them (quit, open
another video, i.e. a new project, or another project) asks Save / Discard / Cancel, and
Esc is Cancel."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtWidgets

from annotator.core.codes import Visibility
from annotator.core.store import load_project
from annotator.gui import opening
from annotator.gui.dialogs import save_box, save_box_choice
from tests.gui.conftest import click_image, open_and_wait


def test_esc_on_the_unsaved_changes_box_is_cancel(qtbot) -> None:  # type: ignore[no-untyped-def]
    parent = QtWidgets.QWidget()
    qtbot.addWidget(parent)
    parent.show()
    box = save_box(parent, "clip.mp4 has unsaved changes.", "Unsaved changes")
    buttons = QtWidgets.QMessageBox.StandardButton
    assert box.standardButtons() == buttons.Save | buttons.Discard | buttons.Cancel
    box.open()
    qtbot.waitExposed(box)
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=2000)
    assert save_box_choice(box) == "cancel"
    other = save_box(parent, "clip.mp4 has unsaved changes.", "Unsaved changes")
    other.open()
    qtbot.waitExposed(other)
    other.button(buttons.Discard).click()
    assert save_box_choice(other) == "discard"


def _edit(window, truth) -> None:  # type: ignore[no-untyped-def]
    click_image(window, *truth[0, 0])
    assert window.session.dirty


def _labels(window) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(window.session.doc.manual(0))


def test_quit_cancel_keeps_the_window_and_the_edits(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    _edit(window, truth)
    session = window.session
    window.reporter.save_choice = "cancel"  # what Esc answers
    window.actions_by_id["close_window"].trigger()
    assert window.isVisible() and window.session is session and session.dirty
    assert window.reporter.questions[-1].endswith("Save them before closing it?")
    window.reporter.save_choice = "discard"
    window.close()
    assert not window.isVisible()


def test_quit_save_writes_the_project(qtbot, window, figure_video, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from annotator.core.store import load_project

    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    project = tmp_path / "walk.annot.json"
    opening.save(window, window.session, ask_path=False, path=project)
    _edit(window, truth)
    window.reporter.save_choice = "save"
    window.close()
    assert not window.isVisible()
    assert load_project(project).label(0, 0, 0)[2] == Visibility.VISIBLE


def test_opening_another_video_or_project_asks_first(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    other_video = tmp_path / "other.mp4"
    shutil.copy(video, other_video)
    project = tmp_path / "other.annot.json"
    open_and_wait(qtbot, window, other_video)
    first = window.session
    opening.save(window, first, ask_path=False, path=project)
    window.open_path(video)  # nothing unsaved: no question
    qtbot.waitUntil(lambda: window.session is not first, timeout=15000)
    window.frame_view.fit()
    QtWidgets.QApplication.processEvents()
    _edit(window, truth)
    session, before = window.session, _labels(window).copy()
    for target in (other_video, project):  # a new project on another video; a saved project
        window.reporter.save_choice = "cancel"
        window.open_path(target)
        QtWidgets.QApplication.processEvents()
        assert window.session is session and session.dirty
        np.testing.assert_array_equal(_labels(window), before)
    window.reporter.save_choice = "discard"
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not session, timeout=15000)
    assert window.session.path == project and not window.session.dirty
    assert len(window.reporter.questions) == 3


def test_a_project_name_typed_without_its_extension_gets_it(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Save on a new project, 'take1' typed in the dialog: the file is take1.annot.json and
    opens again as a project (it was written as 'take1', then taken for a video)."""
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    _edit(window, truth)
    window.reporter.save_path = str(tmp_path / "take1")
    assert opening.save(window, window.session, ask_path=True)
    project = tmp_path / "take1.annot.json"
    assert project.is_file() and not (tmp_path / "take1").exists()
    assert window.session.path == project and not window.session.dirty
    session = window.session
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not session, timeout=15000)
    assert window.session.path == project and window.reporter.errors == []


def test_a_video_with_its_saved_project_beside_it_offers_the_project(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    video = tmp_path / "walk.mp4"
    shutil.copyfile(figure_video[0], video)
    open_and_wait(qtbot, window, video)
    window.session.place(20.0, 30.0)
    project = tmp_path / "walk.annot.json"
    assert opening.save(window, window.session, ask_path=False, path=project)
    window.reporter.answer = True  # Open it? Yes
    open_and_wait(qtbot, window, video)
    assert any("walk.annot.json beside this video" in q for q in window.reporter.questions)
    assert window.session.path == project and window.session.labelled_frames().size == 1
    window.reporter.answer = False  # No: a new project, the saved one untouched
    before = project.read_bytes()
    open_and_wait(qtbot, window, video)
    assert window.session.path is None and window.session.labelled_frames().size == 0
    assert project.read_bytes() == before


def test_a_damaged_project_points_to_its_backup_which_opens_as_the_project(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    video = tmp_path / "walk.mp4"
    shutil.copyfile(figure_video[0], video)
    open_and_wait(qtbot, window, video)
    window.session.place(20.0, 30.0)
    project = tmp_path / "walk.annot.json"
    assert opening.save(window, window.session, ask_path=False, path=project)
    assert opening.save(window, window.session, ask_path=False, path=project)  # + a backup
    project.write_bytes(project.read_bytes()[:80])  # damaged
    window.open_path(project)
    qtbot.waitUntil(lambda: bool(window.reporter.errors), timeout=10000)
    assert "open that instead" in window.reporter.errors[-1]
    window.reporter.errors.clear()
    open_and_wait(qtbot, window, project.with_name("walk.annot.json.bak"))
    session = window.session
    assert session.labelled_frames().size == 1
    assert session.path == project and session.dirty  # Save mends the project itself
    assert opening.save(window, session, ask_path=False)
    assert len(load_project(project).labelled_frames(0)) == 1


def test_edits_made_while_another_file_opens_are_kept_for_recovery(
    qtbot, window, figure_video, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from annotator.gui import autosave

    first, second = tmp_path / "a.mp4", tmp_path / "b.mp4"
    shutil.copyfile(figure_video[0], first)
    with first.open("ab") as fh:  # another file: another fingerprint
        fh.write(b"\0")
    shutil.copyfile(figure_video[0], second)
    open_and_wait(qtbot, window, first)
    window.session.place(20.0, 30.0)
    window.reporter.save_choice = "discard"  # that edit: discarded on purpose
    a = window.session
    real_open_any = opening.open_any

    def edit_then_open(path, win):  # type: ignore[no-untyped-def]
        a.go_to(5)
        a.place(40.0, 50.0)  # while the other file opens: not part of the answer
        real_open_any(path, win)

    monkeypatch.setattr(opening, "open_any", edit_then_open)
    window.open_path(second)
    qtbot.waitUntil(lambda: window.session is not a and window.session is not None, timeout=15000)
    assert any("kept for recovery" in e for e in window.reporter.errors)
    recovery = autosave.find(first)
    assert recovery is not None
    kept = recovery.restore()
    assert sorted(kept.labelled_frames(0).tolist()) == [0, 5]


def test_saving_over_a_project_changed_on_disk_asks_first(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from annotator.core import commands as cmd
    from annotator.core.store import save_project

    video = tmp_path / "walk.mp4"
    shutil.copyfile(figure_video[0], video)
    open_and_wait(qtbot, window, video)
    session = window.session
    project = tmp_path / "walk.annot.json"
    assert opening.save(window, session, ask_path=False, path=project)
    other = load_project(project)  # another window saves its own work there
    values = np.ones((1, other.skeleton.num_joints, 3), np.float32)
    cmd.SetLabels(100 % other.frame_count, values).do(other)
    save_project(other, project)
    theirs = project.read_bytes()
    session.go_to(7)
    session.place(20.0, 30.0)
    window.reporter.answer = False  # "Save over it?" no
    assert not opening.save(window, session, ask_path=False)
    assert any("changed on disk" in q for q in window.reporter.questions)
    assert project.read_bytes() == theirs and session.dirty
    window.reporter.answer = True
    assert opening.save(window, session, ask_path=False)
    assert load_project(project).labelled_frames(0).tolist() == [7]
    session.place(25.0, 30.0)
    asked = len(window.reporter.questions)
    assert opening.save(window, session, ask_path=False)  # its own file since: no question
    assert len(window.reporter.questions) == asked
