"""Background work off the GUI thread: progress, cancel, errors, results on the GUI thread.

A task is a plain function ``fn(progress, should_stop) -> result`` in ``core.progress``'s
vocabulary: ``progress(fraction)`` may be called from any thread, ``should_stop()`` says
whether the user cancelled, and a task that stops raises ``Cancelled``. The
runner starts it on a ``QThreadPool`` and delivers ``done(result)`` or ``failed(message)`` on
the GUI thread through queued signals, so callbacks may touch widgets and push commands.

A completion handler that raises runs inside a Qt signal, where an exception would only reach
stderr; the runner catches it and hands one readable line to ``report`` (the window's
reporter), so failed background work always reaches the user.

Work the app starts on its own (``background=True``: motion fields, the reading for ``N``)
runs in its own two threads; what the user asks for (Propose, an export) runs in two others,
so a user's task never waits in a queue behind the automatic ones. The app's own threads run
at a lower CPU priority (``BACKGROUND_NICE``), so that on a busy machine the frames the user
asks for (the GUI thread, the frame loader) get the cores first; when the user is idle the
background work runs at full speed all the same.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore

from annotator.core.memory import release_free_memory
from annotator.core.progress import Cancelled, Progress, ShouldStop
from annotator.errors import AnnotatorError

log = logging.getLogger(__name__)

TaskFn = Callable[[Progress, ShouldStop], Any]

BACKGROUND_NICE = 10
"""How much nicer than the app the threads of its own background work run (Linux ``nice``;
the threads such a task starts, FFmpeg's and the decode-ahead thread, inherit it). Measured
with ``annotator bench seek-while-busy``: seeks while the app works, 0 against 10."""


def lower_thread_priority(nice: int) -> None:
    """Run the calling thread ``nice`` steps nicer than the process (Linux only; at most 19).

    Linux schedules threads one by one, so this leaves the GUI thread and the frame loader
    at the process's priority. Raising a niceness needs no privilege; it is never lowered
    back, which is why only the threads of the background pool call this. Elsewhere the
    pool's Qt thread priority does the same job (``TaskRunner``)."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        wanted = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + nice)
        if os.getpriority(os.PRIO_PROCESS, tid) < wanted:
            os.setpriority(os.PRIO_PROCESS, tid, wanted)
    except OSError:  # a sandbox that forbids it: run at the normal priority
        log.debug("could not lower the priority of thread %s", tid)


class _Signals(QtCore.QObject):
    progress = QtCore.Signal(float)
    done = QtCore.Signal(object)
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()
    ended = QtCore.Signal()


class Task(QtCore.QRunnable):
    """One running job. Connect to ``signals`` before it starts (the runner does)."""

    def __init__(
        self, name: str, fn: TaskFn, background: bool = False, nice: int = BACKGROUND_NICE
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps it until ``ended``
        self.name = name
        self.fn = fn
        self.background = background  # started by the app, not asked for by the user
        self.nice = nice if background else 0  # how much nicer its thread runs
        self.signals = _Signals()
        self._stop = threading.Event()
        self._returned = threading.Event()  # set when ``run`` has returned
        self._last_progress = 0.0

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    @property
    def returned(self) -> bool:
        """Whether ``run`` has returned (its thread is done with this task)."""
        return self._returned.is_set()

    def _progress(self, fraction: float) -> None:
        # Throttle: a fast loop must not flood the GUI thread's event queue.
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last_progress > 0.05:
            self._last_progress = now
            self.signals.progress.emit(float(fraction))

    def run(self) -> None:
        lower_thread_priority(self.nice)
        try:
            result = self.fn(self._progress, self._stop.is_set)
        except Cancelled:
            self.signals.cancelled.emit()
        except AnnotatorError as err:
            self.signals.failed.emit(str(err))
        except Exception as err:  # a bug in a worker must reach the user, not vanish
            log.exception("task %s failed", self.name)
            self.signals.failed.emit(f"{self.name} failed: {type(err).__name__}: {err}")
        else:
            if self._stop.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.done.emit(result)
        finally:
            # What the task freed (a long video's arrays) goes back to the OS, not kept in
            # the C heap's arenas while the app sits idle (``core.memory``).
            release_free_memory()
            self.signals.ended.emit()
            self._returned.set()


def one_line(text: str) -> str:
    """``text`` as one line: a dialog shows one sentence, never a multi-line dump."""
    return " ".join(text.split())


def handler_failure(name: str, err: BaseException) -> str:
    """One line for the user about a completion handler of ``name`` that raised ``err``: a
    user error's own sentence, else the exception named after what failed."""
    if isinstance(err, AnnotatorError):
        return one_line(str(err)) or f"{name} failed"
    return one_line(f"{name} failed: {type(err).__name__}: {err}")


# Tasks that were still running when their runner shut down: silenced, and kept referenced
# here until their thread returns (the pool holds only the C++ side of a task).
_OUTLIVED: list[Task] = []


class TaskRunner(QtCore.QObject):
    """Starts tasks and tracks the running ones (``busy`` / ``wait_idle``); the user's tasks
    and the app's own (``background``) run in separate thread pools (see the module).

    ``report(message)`` receives the failures of completion handlers (see the module
    docstring); without one they are only logged.
    """

    started = QtCore.Signal(object)  # Task
    ended = QtCore.Signal(object)  # Task

    def __init__(
        self,
        parent: QtCore.QObject | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = QtCore.QThreadPool()  # the user's tasks
        self._pool.setMaxThreadCount(2)
        self._background_pool = QtCore.QThreadPool()  # the app's own
        self._background_pool.setMaxThreadCount(2)
        # Qt's thread priority works on Windows and macOS; on Linux it is ignored for normal
        # threads, and ``Task.run`` sets the thread's nice value instead.
        self._background_pool.setThreadPriority(QtCore.QThread.Priority.LowPriority)
        self.background_nice = BACKGROUND_NICE
        self._running: list[Task] = []
        self._closed = False  # set by ``shutdown``: nothing new starts after it
        self._shut = False  # set when ``shutdown`` returns: nothing is announced after it
        self.report = report

    def guarded(self, name: str, handler: Callable[..., Any]) -> Callable[..., None]:
        """``handler`` wrapped so that an exception reaches ``report`` as one line."""

        def run(*args: Any) -> None:
            try:
                handler(*args)
            except Exception as err:
                log.exception("completion handler of %s failed", name)
                if self.report is not None:
                    self.report(handler_failure(name, err))

        return run

    def start(
        self,
        name: str,
        fn: TaskFn,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_progress: Progress | None = None,
        on_cancelled: Callable[[], None] | None = None,
        background: bool = False,
    ) -> Task:
        """Run ``fn`` in a worker thread. ``background``: work the app starts on its own,
        queued apart from (never ahead of) the tasks the user asks for."""
        task = Task(name, fn, background, self.background_nice)
        if self._closed:
            # A handler that runs while the window closes (a task delivering during
            # ``shutdown``) may chain another task; it must not outlive the window's widgets.
            task.cancel()
            return task
        if on_done is not None:
            task.signals.done.connect(self.guarded(name, on_done))
        if on_error is not None:
            task.signals.failed.connect(self.guarded(name, on_error))
        if on_progress is not None:
            task.signals.progress.connect(self.guarded(name, on_progress))
        if on_cancelled is not None:
            task.signals.cancelled.connect(self.guarded(name, on_cancelled))
        task.signals.ended.connect(lambda: self._finish(task))
        self._running.append(task)
        self.started.emit(task)
        (self._background_pool if background else self._pool).start(task)
        return task

    def _finish(self, task: Task) -> None:
        if task in self._running:
            self._running.remove(task)
        if not self._shut:
            self.ended.emit(task)

    @property
    def running(self) -> list[Task]:
        return list(self._running)

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def cancel_all(self) -> None:
        for task in self._running:
            task.cancel()

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        """Process events until every task has ended and delivered its result."""
        app = QtCore.QCoreApplication.instance()
        deadline = time.monotonic() + timeout_s
        while self._running and time.monotonic() < deadline:
            if app is not None:
                app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.005)
        if app is not None:
            app.processEvents()
        return not self._running

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Cancel everything and wait for the threads (window close, tests); no task starts
        afterwards (``start`` returns it cancelled and never runs it)."""
        self._closed = True
        self.cancel_all()
        deadline = time.monotonic() + timeout_s
        for pool in (self._pool, self._background_pool):
            pool.waitForDone(max(0, int((deadline - time.monotonic()) * 1000)))
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.processEvents()
        # A task that ignored the cancel beyond the wait must deliver nothing later: its
        # handlers, the status bar and this runner belong to a window that is going away.
        late = [task for task in self._running if not task.returned]
        for task in late:
            task.signals.blockSignals(True)
        _OUTLIVED[:] = [task for task in _OUTLIVED if not task.returned] + late
        self._shut = True
