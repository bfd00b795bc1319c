"""Background tasks: results, progress and errors arrive on the GUI thread; cancel works."""

from __future__ import annotations

import threading
import time

from PySide6 import QtCore

from annotator.core.progress import Cancelled
from annotator.errors import VideoError
from annotator.gui.workers import TaskRunner


def test_result_progress_and_thread(qtbot) -> None:
    runner = TaskRunner()
    seen: dict[str, object] = {"progress": []}
    gui_thread = QtCore.QThread.currentThread()

    def job(progress, should_stop):
        seen["worker"] = threading.current_thread().name
        for k in range(5):
            progress((k + 1) / 5)
            time.sleep(0.06)
        return 42

    def done(value: object) -> None:
        seen["value"] = value
        seen["on_gui_thread"] = QtCore.QThread.currentThread() is gui_thread

    runner.start("job", job, done, on_progress=lambda f: seen["progress"].append(f))
    assert runner.busy
    assert runner.wait_idle(5)
    assert seen["value"] == 42 and seen["on_gui_thread"] is True
    assert seen["worker"] != threading.main_thread().name
    assert seen["progress"] and seen["progress"][-1] == 1.0
    runner.shutdown()


def test_user_error_and_bug_become_messages(qtbot) -> None:
    runner = TaskRunner()
    errors: list[str] = []

    def bad_video(progress, should_stop):
        raise VideoError("clip.mp4 is not a video file that can be read")

    def bug(progress, should_stop):
        return 1 / 0

    runner.start("open", bad_video, on_error=errors.append)
    runner.start("compute", bug, on_error=errors.append)
    assert runner.wait_idle(5)
    assert "clip.mp4 is not a video file that can be read" in errors
    assert any(e.startswith("compute failed: ZeroDivisionError") for e in errors)
    runner.shutdown()


def test_cancel(qtbot) -> None:
    runner = TaskRunner()
    outcome: list[str] = []

    def slow(progress, should_stop):
        while not should_stop():
            time.sleep(0.01)
        raise Cancelled()

    task = runner.start("slow", slow, lambda _v: outcome.append("done"), outcome.append)
    task.signals.cancelled.connect(lambda: outcome.append("cancelled"))
    time.sleep(0.05)
    runner.cancel_all()
    assert runner.wait_idle(5)
    assert outcome == ["cancelled"]
    runner.shutdown()


def test_a_task_chained_while_shutting_down_never_runs(qtbot) -> None:
    """A task that delivers while the window closes may start another (motion fields, then the
    optical flow); that one must not run after the window's widgets are gone."""
    runner = TaskRunner()
    ran: list[str] = []

    def second(progress, should_stop):
        ran.append("second")
        return None

    def first_done(_value: object) -> None:
        runner.start("second", second, lambda _v: ran.append("second delivered"))

    def first(progress, should_stop):
        time.sleep(0.2)
        return 1

    runner.start("first", first, first_done)
    runner.shutdown()  # waits for "first", then delivers it: its handler tries to chain
    QtCore.QCoreApplication.processEvents()
    time.sleep(0.2)
    QtCore.QCoreApplication.processEvents()
    assert ran == []
    assert not runner.busy
    late = runner.start("late", second)
    assert late.cancelled and not runner.busy and ran == []


def test_a_task_outliving_shutdown_delivers_nothing_afterwards(qtbot) -> None:
    """A task that ignores the cancel past shutdown's wait must not reach handlers, the
    runner's ``ended`` or the status bar after the window has gone."""
    runner = TaskRunner()
    heard: list[str] = []
    runner.ended.connect(lambda _task: heard.append("ended"))

    def stubborn(progress, should_stop):
        time.sleep(0.4)  # ignores should_stop
        progress(1.0)
        return 1

    task = runner.start(
        "stubborn",
        stubborn,
        on_done=lambda _v: heard.append("done"),
        on_progress=lambda _f: heard.append("progress"),
    )
    runner.shutdown(timeout_s=0.05)
    assert not task.returned
    deadline = time.monotonic() + 3.0
    while not task.returned and time.monotonic() < deadline:
        QtCore.QCoreApplication.processEvents()
        time.sleep(0.01)
    QtCore.QCoreApplication.processEvents()
    assert task.returned
    assert heard == []


def test_a_user_task_is_not_queued_behind_background_tasks(qtbot) -> None:
    """The app's own work (motion, the reading for N) fills its two threads; a task the user
    asks for still starts at once, and shutdown waits for both kinds."""
    runner = TaskRunner()
    release = threading.Event()
    ended: list[str] = []

    def automatic(progress, should_stop):
        try:
            while not release.is_set() and not should_stop():
                time.sleep(0.01)
        finally:
            ended.append("automatic")
        return "automatic"

    runner.start("motion", automatic, background=True)
    runner.start("reading for N", automatic, background=True)
    runner.start("flow", automatic, background=True)  # queued behind the two above
    results: list[object] = []
    user = runner.start("propose", lambda p, s: "proposed", results.append)
    assert not user.background
    qtbot.waitUntil(lambda: results == ["proposed"], timeout=5000)
    assert not release.is_set() and ended == []  # the automatic ones still run
    assert [t.name for t in runner.running] == ["motion", "reading for N", "flow"]
    runner.shutdown()
    assert ended == ["automatic"] * 3 and not runner.busy
    late = runner.start("late", automatic, background=True)
    assert late.cancelled and not runner.busy  # nothing starts after shutdown


def test_freed_memory_is_released_after_every_task_however_it_ends(qtbot, monkeypatch) -> None:
    from annotator.gui import workers

    released: list[str] = []
    running: list[str] = []

    def release() -> bool:
        released.append(running[-1] if running else "?")
        return True

    monkeypatch.setattr(workers, "release_free_memory", release)
    runner = TaskRunner()

    def job(name, outcome):
        def fn(progress, should_stop):
            running.append(name)
            if outcome == "error":
                raise VideoError("damaged")
            if outcome == "cancel":
                raise Cancelled()
            return name

        return fn

    for name, outcome in (("ok", "done"), ("bad", "error"), ("stop", "cancel")):
        runner.start(name, job(name, outcome), background=name == "ok")
        assert runner.wait_idle(5)
    assert released == ["ok", "bad", "stop"]
    runner.shutdown()
