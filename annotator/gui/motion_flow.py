"""The optical flow the video fills walk, computed in the background after the codec fields.

The codec's motion vectors arrive first (``gui/motion.py``): cheap to extract, they give the
residual-energy row and a first ``hpim+mv`` fill. ``start(window, session)`` then opens the
video's optical flow store (``propagation.FILL_FIELD``, DIS flow at twice the codec store's
cell, cached by fingerprint like the codec's) as a second task of the window's ``TaskRunner``
(status-bar progress, Esc cancels), with the video fill rebuilt on it off the GUI thread
(``prepare_fill``). On arrival the session's video fill walks the flow
(``Session.set_fill_fields``); the residual row and the gate keep reading the codec store they
were trained on. The flow costs about 13 ms of CPU per 720p frame against about 5 ms for the
vectors (``bench propagation --sections cost``) and is the more accurate walk
(``docs/propagation.md``).

The task is the window's ``motion_task`` while it runs, so the Tools menu's extraction and
``motion.running`` see one piece of motion work. A cancelled or failed flow leaves the
codec-vector fill in place and says so in one status-bar line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.core.progress import Cancelled, Progress, ShouldStop
from annotator.errors import VideoError
from annotator.gui.session import PreparedFill, prepare_fill
from annotator.gui.workers import Task, one_line
from annotator.propagation import FILL_FIELD

if TYPE_CHECKING:
    from annotator.gui.services import WindowServices
    from annotator.gui.session import Session
    from annotator.video.motion_store import MotionStore

TASK_NAME = "Computing optical flow"
MESSAGE_MS = 10_000
KEPT = "the fill keeps the codec's motion vectors"


def start(window: WindowServices, session: Session, background: bool = False) -> Task:
    """Open ``session``'s optical flow store in the background; it reaches
    ``Session.set_fill_fields``. ``background``: started by the app, not by the user."""
    path = Path(session.doc.video.path)  # the original video, never the fast-seek copy
    snapshot, fps = session.fill_snapshot(), session.fps

    def job(progress: Progress, should_stop: ShouldStop) -> tuple[MotionStore, Any]:
        from annotator.video.motion_cache import open_motion

        flow = open_motion(path, progress=progress, should_stop=should_stop, field=FILL_FIELD)
        if should_stop():
            raise Cancelled("optical flow")
        return flow, prepare_fill(snapshot, path, flow, fps)

    def finished() -> bool:
        """Forget the task; False when its session is no longer the window's."""
        if window.motion_task is task:
            window.motion_task = None
        return window.session is session

    def done(result: tuple[MotionStore, PreparedFill | None]) -> None:
        if not finished():
            return
        flow, prepared = result
        try:
            session.set_fill_fields(flow, prepared)
        except VideoError as exc:
            window.show_status(f"No optical flow: {exc}; {KEPT}", MESSAGE_MS)
            return
        text = f"Optical flow ready; fill: {session.method} walks it"
        if session.motion_note:  # what the codec fields (the residual row) are made of
            text += f" (motion fields: {session.motion_note})"
        window.show_status(one_line(text), MESSAGE_MS)
        window.update_fill_info()

    def failed(message: str) -> None:
        if not finished():
            return
        window.show_status(one_line(f"No optical flow: {message}; {KEPT}"), MESSAGE_MS)
        window.update_fill_info()

    def cancelled() -> None:
        if not finished():
            return
        window.show_status(
            f"Optical flow cancelled; {KEPT} (Tools > Extract Motion Fields starts it again)",
            MESSAGE_MS,
        )
        window.update_fill_info()

    task = window.tasks.start(
        TASK_NAME, job, done, failed, on_cancelled=cancelled, background=background
    )
    window.motion_task = task
    return task
