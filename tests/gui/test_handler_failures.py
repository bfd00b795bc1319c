"""A completion handler that raises (a bug, or a result the document refuses) reaches the user
as a one-line dialog, for every kind of background work: indexing a video, proposing frames,
making the fast-seek copy. Before, such errors only reached stderr."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.gui.session import Session
from tests.gui.conftest import open_and_wait


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("injected failure\nwith a second line")


def _one_line_error(window) -> str:  # type: ignore[no-untyped-def]
    assert len(window.reporter.errors) == 1, window.reporter.errors
    message = window.reporter.errors[0]
    assert "injected failure" in message
    assert "\n" not in message and "Traceback" not in message
    return message


def test_index_handler_failure_reaches_the_user(qtbot, window, figure_video, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(window, "set_session", _boom)
    window.open_path(figure_video[0])
    qtbot.waitUntil(lambda: bool(window.reporter.errors), timeout=15000)
    _one_line_error(window)
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=5000)


@pytest.mark.parametrize("method", ["uniform", "kfpn"])
def test_propose_handler_failure_reaches_the_user(
    qtbot, window, figure_video, monkeypatch, method: str
) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, figure_video[0])
    monkeypatch.setattr(Session, "accept_proposals", _boom)
    window.reporter.item = method
    window.actions_by_id["propose"].trigger()
    qtbot.waitUntil(lambda: bool(window.reporter.errors), timeout=300000)
    assert "Proposing frames" in _one_line_error(window)
    assert window.session.doc.proposals is None


def test_proxy_handler_failure_reaches_the_user(
    qtbot, window, figure_video, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from annotator.gui import proxy_offer

    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    monkeypatch.setattr(session, "use_frames_from", _boom)
    proxy_offer.make(window, session)
    qtbot.waitUntil(lambda: bool(window.reporter.errors), timeout=30000)
    assert "fast-seek copy" in _one_line_error(window)
    assert session.proxy is None


def test_runner_reports_a_raising_handler(qtbot) -> None:  # type: ignore[no-untyped-def]
    from annotator.gui.workers import TaskRunner

    reported: list[str] = []
    runner = TaskRunner(report=reported.append)
    runner.start("Counting", lambda progress, should_stop: 42, on_done=_boom)
    assert runner.wait_idle(10)
    qtbot.waitUntil(lambda: bool(reported), timeout=2000)
    assert reported == ["Counting failed: RuntimeError: injected failure with a second line"]
    runner.shutdown()


def test_frame_loader_handler_failure_reaches_the_user_once(
    qtbot, window, figure_video, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    monkeypatch.setattr(session.reader, "cached", lambda _frame: False)  # via the loader
    monkeypatch.setattr(window.frame_view, "set_frame", _boom)
    for frame in (10, 20):
        session.go_to(frame)
        qtbot.waitUntil(lambda: session.loader.idle, timeout=5000)
        qtbot.wait(30)  # the loaded frame's queued signal
    assert "Showing frame 10" in _one_line_error(window)  # once, not once per frame


def test_export_handler_failure_reaches_the_user(
    qtbot, window, figure_video, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from annotator.core.commands import PlaceJoint
    from annotator.gui.dialogs import ExportRequest

    open_and_wait(qtbot, window, figure_video[0])
    window.session.push(PlaceJoint(3, 0, 20.0, 30.0))  # something to export
    window.reporter.export = ExportRequest("npz", str(tmp_path / "out.npz"), "all", None)
    monkeypatch.setattr(window, "statusBar", _boom)  # the completion handler reports there
    window.actions_by_id["export"].trigger()
    qtbot.waitUntil(lambda: bool(window.reporter.errors), timeout=10000)
    assert "Exporting npz" in _one_line_error(window)
    assert (tmp_path / "out.npz").is_file()
