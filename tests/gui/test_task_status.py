"""The status bar with several background tasks at once: the progress bar measures the task
its label names (the newest), the label counts the others, the tooltip lists them all."""

from __future__ import annotations

import queue
from typing import Any

from PySide6 import QtCore

from annotator.core.progress import Progress, ShouldStop


def _job(commands: queue.Queue[float | None]) -> Any:
    """A job that reports each fraction it is sent and ends on None (or when cancelled)."""

    def run(progress: Progress, should_stop: ShouldStop) -> str:
        while not should_stop():
            try:
                fraction = commands.get(timeout=0.02)
            except queue.Empty:
                continue
            if fraction is None:
                return "done"
            progress(fraction)
        return "stopped"

    return run


def _send(qtbot, commands: queue.Queue[float | None], fraction: float) -> None:  # type: ignore[no-untyped-def]
    qtbot.wait(80)  # a task reports at most every 50 ms
    commands.put(fraction)
    qtbot.wait(120)


def test_the_bar_measures_the_task_it_names(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    first: queue.Queue[float | None] = queue.Queue()
    second: queue.Queue[float | None] = queue.Queue()
    window.tasks.start("Computing optical flow", _job(first))
    _send(qtbot, first, 0.9)
    assert window.task_label.text() == "Computing optical flow"
    assert window.progress.value() == 900

    window.tasks.start("Proposing frames (kfpn)", _job(second))
    _send(qtbot, second, 0.2)
    _send(qtbot, first, 0.95)  # the older task's progress no longer moves the bar
    assert window.task_label.text() == "Proposing frames (kfpn)  (+1 more)"
    assert window.progress.value() == 200
    tip = window.task_label.toolTip().splitlines()
    assert tip == ["Proposing frames (kfpn): 20%", "Computing optical flow: 95%"]

    second.put(None)  # the newest ends: back to the other one, at its own progress
    qtbot.waitUntil(lambda: len(window.tasks.running) == 1, timeout=5000)
    assert window.task_label.text() == "Computing optical flow"
    assert window.progress.value() == 950
    assert window.progress.isVisible() and window.cancel_button.isVisible()

    # The user's side: the status bar's cancel stops what runs, and the bar goes away.
    window.tasks.start("Reading the video for N", _job(second))
    assert window.task_label.text() == "Reading the video for N  (+1 more)"
    assert window.progress.value() == 0
    qtbot.mouseClick(window.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=5000)
    assert window.task_label.text() == "" and window.task_label.toolTip() == ""
    assert window.progress.isHidden() and window.cancel_button.isHidden()
