"""The status bar's view of the background tasks: which one the progress bar measures.

Several tasks often run at once (on open: motion fields, optical flow and the reading for
``N``; a user's *Propose Frames* on top). The bar shows the newest running task's own
progress, its name says which one it is and how many others run, and the tooltip lists
every running task with its progress. When the newest ends, the bar goes back to the one
started before it, at that task's last progress.
"""

from __future__ import annotations

from PySide6 import QtWidgets

from annotator.gui.workers import Task, TaskRunner


class TaskStatus:
    """Keeps ``label``, ``bar`` and ``cancel`` in step with ``runner``'s running tasks."""

    def __init__(
        self,
        runner: TaskRunner,
        label: QtWidgets.QLabel,
        bar: QtWidgets.QProgressBar,
        cancel: QtWidgets.QAbstractButton,
    ) -> None:
        self.runner = runner
        self.label = label
        self.bar = bar
        self.cancel = cancel
        self._fractions: dict[Task, float] = {}
        runner.started.connect(self._started)
        runner.ended.connect(self._ended)

    def _started(self, task: Task) -> None:
        self._fractions[task] = 0.0
        task.signals.progress.connect(lambda fraction: self._progress(task, fraction))
        self._show()

    def _progress(self, task: Task, fraction: float) -> None:
        if task in self._fractions:
            self._fractions[task] = fraction
            self._show()

    def _ended(self, task: Task) -> None:
        self._fractions.pop(task, None)
        self._show()

    def _show(self) -> None:
        running = [t for t in self.runner.running if t in self._fractions]
        if not running:
            self.label.setText("")
            self.label.setToolTip("")
            self.bar.hide()
            self.cancel.hide()
            return
        shown = running[-1]
        more = f"  (+{len(running) - 1} more)" if len(running) > 1 else ""
        self.label.setText(shown.name + more)
        self.label.setToolTip(
            "\n".join(f"{t.name}: {self._fractions[t]:.0%}" for t in reversed(running))
        )
        self.bar.setValue(int(self._fractions[shown] * 1000))
        self.bar.show()
        self.cancel.show()
