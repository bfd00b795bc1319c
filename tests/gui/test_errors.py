"""Bad input reaches the user as a one-line message in a dialog, never a crash or traceback."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets

from annotator.gui.dialogs import Reporter
from tests.gui.conftest import open_and_wait


def _open_expecting_error(qtbot, window, path: Path) -> str:
    window.open_path(path)
    qtbot.waitUntil(lambda: bool(window.reporter.errors), timeout=10000)
    assert window.session is None
    message = window.reporter.errors[-1]
    assert "\n" not in message and "Traceback" not in message
    return message


def test_not_a_video(qtbot, window, tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 50)
    assert "notes.mp4" in _open_expecting_error(qtbot, window, bad)


def test_missing_file(qtbot, window, tmp_path: Path) -> None:
    assert "not found" in _open_expecting_error(qtbot, window, tmp_path / "gone.mp4")


def test_bad_project(qtbot, window, tmp_path: Path) -> None:
    bad = tmp_path / "broken.annot.json"
    bad.write_text('{"schema": "something else", "version": 99}')
    assert "broken.annot.json" in _open_expecting_error(qtbot, window, bad)


def test_project_whose_video_is_gone(qtbot, window, figure_video, tmp_path: Path) -> None:
    import shutil

    from annotator.gui import opening

    video = tmp_path / "copy.mp4"
    shutil.copy(figure_video[0], video)
    open_and_wait(qtbot, window, video)
    project = tmp_path / "copy.annot.json"
    opening.save(window, window.session, ask_path=False, path=project)
    window.session.history.set_clean()
    video.unlink()
    message = _open_expecting_error_after_session(qtbot, window, project)
    assert "video" in message


def _open_expecting_error_after_session(qtbot, window, path: Path) -> str:
    before = len(window.reporter.errors)
    window.open_path(path)
    qtbot.waitUntil(lambda: len(window.reporter.errors) > before, timeout=10000)
    return window.reporter.errors[-1]


def test_default_reporter_shows_a_dialog(qtbot) -> None:
    parent = QtWidgets.QWidget()
    qtbot.addWidget(parent)
    parent.show()
    Reporter(parent).error("clip.mp4 is not a video file that can be read")
    qtbot.waitUntil(lambda: _message_boxes() != [], timeout=2000)
    box = _message_boxes()[0]
    assert box.text() == "clip.mp4 is not a video file that can be read"
    box.close()


def _message_boxes() -> list[QtWidgets.QMessageBox]:
    return [
        w
        for w in QtWidgets.QApplication.topLevelWidgets()
        if isinstance(w, QtWidgets.QMessageBox) and w.isVisible()
    ]


def test_locate_a_moved_video(qtbot, window, figure_video, tmp_path: Path) -> None:
    import shutil

    from annotator.gui import opening

    video = tmp_path / "first.mp4"
    shutil.copy(figure_video[0], video)
    open_and_wait(qtbot, window, video)
    project = tmp_path / "first.annot.json"
    opening.save(window, window.session, ask_path=False, path=project)
    moved = tmp_path / "elsewhere" / "renamed.mp4"
    moved.parent.mkdir()
    video.rename(moved)
    window.reporter.answer = True  # "Locate it?" -> yes
    window.reporter.located = str(moved)
    first = window.session
    first.history.set_clean()
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not first, timeout=10000)
    assert window.session.doc.video.path == str(moved)
    assert not window.reporter.errors
    # The file must learn the new place: the project is unsaved (closing asks), and once
    # saved it opens without asking again (the question came back on every open).
    assert window.session.dirty and window.windowTitle().startswith("first.annot.json*")
    opening.save(window, window.session, ask_path=False)
    asked = len(window.reporter.questions)
    second = window.session
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not second, timeout=10000)
    assert len(window.reporter.questions) == asked and not window.session.dirty


def test_a_located_video_that_differs_opens_when_the_user_accepts_it(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """ "Use it anyway?" - Yes opens the project on the other file (it said the same mismatch
    again as an error and opened nothing)."""
    import shutil

    from annotator.gui import opening

    video = tmp_path / "first.mp4"
    shutil.copy(figure_video[0], video)
    open_and_wait(qtbot, window, video)
    project = tmp_path / "first.annot.json"
    opening.save(window, window.session, ask_path=False, path=project)
    copy = tmp_path / "copy.mp4"  # the same frames, other bytes
    copy.write_bytes(video.read_bytes() + bytes(64))
    video.unlink()
    window.reporter.answer = True  # "Locate it?" and "Use it anyway?" -> yes
    window.reporter.located = str(copy)
    first = window.session
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not first, timeout=10000)
    assert window.reporter.questions[-1].endswith("Use it anyway?")
    assert not window.reporter.errors
    assert window.session.doc.video.path == str(copy) and window.session.dirty


def test_failed_worker_reaches_the_user(qtbot, window, figure_video, monkeypatch) -> None:
    from annotator.errors import UsageError
    from annotator.proposal import registry

    def broken(*args, **kwargs):
        raise UsageError("no K-FPN model file was found")

    monkeypatch.setattr(registry, "propose", broken)
    open_and_wait(qtbot, window, figure_video[0])
    window.reporter.item = "kfpn"
    window.actions_by_id["propose"].trigger()
    qtbot.waitUntil(lambda: bool(window.reporter.errors), timeout=10000)
    assert window.reporter.errors == ["no K-FPN model file was found"]
    assert window.session is not None and window.session.doc.proposals is None
    qtbot.waitUntil(lambda: not window.tasks.busy and window.progress.isHidden(), timeout=5000)
