"""The app's own background work runs at a lower CPU priority than what the user asks for, so
that seeking stays quick while motion fields and proposals are computed (``gui.workers``)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from annotator.gui.workers import BACKGROUND_NICE, TaskRunner

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's"
)


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _run(qtbot, runner: TaskRunner, background: bool) -> dict[str, int]:  # type: ignore[no-untyped-def]
    seen: dict[str, int] = {}

    def job(progress, should_stop):  # type: ignore[no-untyped-def]
        seen["task"] = _nice()
        child = threading.Thread(target=lambda: seen.__setitem__("child", _nice()))
        child.start()  # FFmpeg's and the decode-ahead threads are started like this
        child.join()
        return None

    task = runner.start("job", job, background=background)
    qtbot.waitUntil(lambda: task.returned, timeout=10000)
    return seen


def test_background_tasks_run_nicer_than_the_users(qtbot) -> None:  # type: ignore[no-untyped-def]
    base = os.getpriority(os.PRIO_PROCESS, os.getpid())
    if base + BACKGROUND_NICE > 19:
        pytest.skip("the process already runs at the lowest priority")
    runner = TaskRunner()
    try:
        user = _run(qtbot, runner, background=False)
        app_own = _run(qtbot, runner, background=True)
        # The user's task, and the GUI thread, keep the process's priority.
        assert user == {"task": base, "child": base}
        assert _nice() == base
        # The app's own work and the threads it starts run BACKGROUND_NICE steps nicer.
        assert app_own == {"task": base + BACKGROUND_NICE, "child": base + BACKGROUND_NICE}
        # A second background task on a reused pool thread stays there (never lowered).
        assert _run(qtbot, runner, background=True)["task"] == base + BACKGROUND_NICE
    finally:
        runner.shutdown()


def test_background_nice_zero_keeps_the_process_priority(qtbot) -> None:  # type: ignore[no-untyped-def]
    base = os.getpriority(os.PRIO_PROCESS, os.getpid())
    runner = TaskRunner()
    runner.background_nice = 0  # what ``bench seek-while-busy --background-nice 0`` measures
    try:
        assert _run(qtbot, runner, background=True) == {"task": base, "child": base}
    finally:
        runner.shutdown()
