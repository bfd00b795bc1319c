"""Autosave: a session that ends without a clean close leaves a journal; opening the video
again offers it, and restoring is one undoable step."""

from __future__ import annotations

import numpy as np

from annotator.core.codes import Visibility
from annotator.gui.app import make_window
from tests.gui.conftest import click_image, crash_and_reopen, open_and_wait


def test_restore_after_crash(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.go_to(8)
    for j in range(3):
        click_image(window, *truth[8, j])
    labels = np.array(session.doc.manual(0))
    assert session.dirty
    # Simulate a crash: stop observing without discarding the journal, drop the window.
    second = crash_and_reopen(qtbot, window, video)
    assert len(second.reporter.questions) == 1 and "Restore" in second.reporter.questions[0]
    restored = second.session
    np.testing.assert_array_equal(np.asarray(restored.doc.manual(0)), labels)
    assert restored.dirty
    assert second.actions_by_id["undo"].text() == "&Undo Restore unsaved work"
    restored.undo()
    assert (np.asarray(restored.doc.manual(0))[:, :, 2] == Visibility.UNLABELLED).all()
    restored.history.set_clean()
    second.close()


def test_clean_close_leaves_nothing_to_restore(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    click_image(window, *truth[0, 0])
    window.reporter.save_choice = "discard"
    window.close()  # unsaved: the user discards, so the journal is discarded too
    second = make_window(headless=True)
    qtbot.addWidget(second)
    second.show()
    open_and_wait(qtbot, second, video)
    assert second.reporter.questions == []
    second.close()


def test_unsaved_work_keeps_its_own_skeleton(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    """Work left on a video labelled with COCO is offered before the skeleton is asked, and
    restored with COCO (asked first, another skeleton refused the work and the next edit
    overwrote its journal)."""
    from annotator.core.skeleton import BUILTIN

    video, truth = figure_video
    window.reporter.skeleton = BUILTIN["coco"]
    open_and_wait(qtbot, window, video)
    session = window.session
    session.go_to(8)
    for j in range(2):
        click_image(window, *truth[8, j])
    labels = np.array(session.doc.manual(0))
    second = crash_and_reopen(qtbot, window, video, skeleton=BUILTIN["penn_action"])
    assert second.reporter.errors == []
    restored = second.session
    assert restored.skeleton == BUILTIN["coco"]
    np.testing.assert_array_equal(np.asarray(restored.doc.manual(0)), labels)
    restored.history.set_clean()
    second.close()


def test_edits_undone_to_the_saved_state_leave_nothing_to_restore(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    """Edit, undo back to the saved state, crash: nothing is offered (it offered to restore
    '1 edits after the last save' with nothing unsaved); an edit after that is offered."""
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    click_image(window, *truth[0, 0])
    journal = session.journal.path
    assert journal.exists()
    session.undo()
    assert not session.dirty and not journal.exists()
    session.redo()  # dirty again: journaled again, from a fresh snapshot
    assert session.dirty and journal.exists()
    labels = np.array(session.doc.manual(0))
    second = crash_and_reopen(qtbot, window, video)
    np.testing.assert_array_equal(np.asarray(second.session.doc.manual(0)), labels)
    second.session.history.set_clean()
    second.close()


def test_work_is_restored_whatever_arrives_while_the_question_is_open(
    qtbot, window, figure_video, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The motion fields (or proposals) arriving while "Restore unsaved work?" waits for an
    answer changed the new session's document, whose journal then took the recovery file
    over: "Yes" restored nothing."""
    from annotator.gui import opening

    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    project = tmp_path / "walk.annot.json"
    assert opening.save(window, window.session, ask_path=False, path=project)
    session = window.session
    for f in (4, 9, 14):
        session.go_to(f)
        session.set_joint(0)
        click_image(window, *truth[f, 0])
    labels = np.array(session.doc.manual(0))
    session.close(discard_unsaved=False)  # a crash: the journal stays
    window.session = None
    second = make_window(headless=True)
    qtbot.addWidget(second)
    second.show()

    def ask_slowly(question: str, title: str = "Question") -> bool:
        second.reporter.questions.append(question)
        qtbot.wait(1500)  # the user reads; the app's work on open goes on
        second.tasks.wait_idle(60)
        return True

    second.reporter.ask = ask_slowly
    open_and_wait(qtbot, second, project)
    assert second.tasks.wait_idle(60)
    assert any("Restore" in q for q in second.reporter.questions)
    np.testing.assert_array_equal(np.asarray(second.session.doc.manual(0)), labels)
    second.session.history.set_clean()
    second.close()


def test_autosave_failing_is_said_and_so_is_its_return(
    qtbot, window, figure_video, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from annotator.core import journal as journal_module

    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    click_image(window, *truth[0, 0])  # the journal starts
    real_write = journal_module.os.write

    def full(_fd: int, _data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal_module.os, "write", full)
    click_image(window, *truth[0, 1])
    assert (
        len(window.reporter.errors) == 1 and "Autosave is not working" in window.reporter.errors[0]
    )
    click_image(window, *truth[0, 2])
    assert len(window.reporter.errors) == 1  # once while it fails
    monkeypatch.setattr(journal_module.os, "write", real_write)
    click_image(window, *truth[0, 3])
    assert "autosave works again" in window.statusBar().currentMessage()
    window.session.history.set_clean()
