"""The video's motion fields for the open session: extracted in the background on open.

``start(window, session)`` runs ``video.motion.extract_motion`` as one of the window's tasks,
so the status bar shows its progress and the cancel button (Esc) stops it. The fields go
frame by frame into a disk store cached by the video's fingerprint (``motion_cache``), which
the session keeps instead of arrays: memory stays bounded on long videos, and a second open
of the same video costs one check of the file.
The app stays usable meanwhile: the video fills run as ``hpim`` until the fields arrive.
Once they have, a second task computes the optical flow the video fills then walk
(``gui/motion_flow.py``) unless the preference "Motion for the fill" says codec vectors; the
codec fields keep feeding the residual row.

The task is the window's ``TaskRunner`` job rather than a ``MotionExtraction`` thread: the
runner already gives a worker thread, progress, cancel and results on the GUI thread, and
keeps every background job in one place (the status bar, ``wait_idle``, shutdown on close).
Both call the same ``extract_motion``.

Every outcome ends in one status-bar line, never a dialog or a traceback: extraction is a
bonus the user did not ask for, and a video without usable motion is still annotated (with
``hpim``, exactly).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.core.preferences import FLOW_MOTION
from annotator.core.progress import Cancelled, Progress, ShouldStop
from annotator.gui.session import PreparedFill, prepare_fill
from annotator.gui.workers import Task, one_line

if TYPE_CHECKING:
    from annotator.gui.services import WindowServices
    from annotator.gui.session import Session
    from annotator.video.motion_store import MotionStore

TASK_NAME = "Extracting motion"
MESSAGE_MS = 10_000


def start(window: WindowServices, session: Session, background: bool = False) -> Task:
    """Extract ``session``'s motion fields in the background; they reach ``set_motion``.
    ``background``: started by the app on open, not by the user (``workers.TaskRunner``)."""
    path = Path(session.doc.video.path)  # the original video, never the fast-seek copy
    # The first video fill is built here too, off the GUI thread, from the labels as they are
    # now; edits made meanwhile are applied on arrival (``Session.set_motion``).
    snapshot, fps = session.fill_snapshot(), session.fps

    def job(progress: Progress, should_stop: ShouldStop) -> tuple[MotionStore, Any]:
        from annotator.video.motion_cache import open_motion

        fields = open_motion(path, progress=progress, should_stop=should_stop)
        if should_stop():
            raise Cancelled("motion extraction")
        return fields, prepare_fill(snapshot, path, fields, fps)

    def finished() -> bool:
        """Forget the task; False when its session is no longer the window's."""
        if window.motion_task is task:
            window.motion_task = None
        return window.session is session  # else another project was opened meanwhile

    def done(result: tuple[MotionStore, PreparedFill | None]) -> None:
        if not finished():
            return
        fields, prepared = result
        session.set_motion(fields, prepared=prepared)
        window.show_status(arrived_text(session), MESSAGE_MS)
        if session.fields is not None and window.settings.prefs.fill_motion == FLOW_MOTION:
            from annotator.gui import motion_flow

            motion_flow.start(window, session, background)

    def failed(message: str) -> None:
        if not finished():
            return
        session.set_motion(None, one_line(message))
        window.show_status(
            f"No motion fields: {session.motion_note}; the fill stays hpim", MESSAGE_MS
        )

    def cancelled() -> None:
        if not finished():
            return
        window.show_status(
            "Motion extraction cancelled; the fill stays hpim (Tools > Extract Motion Fields "
            "starts it again)",
            MESSAGE_MS,
        )
        window.update_fill_info()

    task = window.tasks.start(
        TASK_NAME, job, done, failed, on_cancelled=cancelled, background=background
    )
    window.motion_task = task
    window.update_fill_info()
    return task


def arrived_text(session: Session) -> str:
    """The status line for fields that just arrived."""
    fields = session.fields
    if fields is None:
        return f"No motion fields: {session.motion_note}; the fill stays hpim"
    source = "codec motion vectors" if fields.kind == "mv" else "optical flow"
    text = f"Motion fields ready ({source}); fill: {session.method}"
    if session.motion_note:
        text += f" ({session.motion_note})"
    return one_line(text)


def running(window: WindowServices) -> bool:
    """Whether an extraction task is under way (and has not delivered its outcome)."""
    return window.motion_task is not None
