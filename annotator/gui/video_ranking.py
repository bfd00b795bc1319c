"""The video's descriptors for the next-frame ranking (``N``), prepared in the background.

``start(window, session)`` runs ``proposal.ranking_video.ranking_descriptors`` as one of the
window's tasks (progress in the status bar, Esc cancels). Until they arrive ``N`` ranks by the
fill's uncertainty alone; once ``session.video_descriptors`` holds them, ``N`` also weighs
where the video changes in a way the labels do not explain (``dynamics.ranking``).

The descriptors come from K-FPN's backbone features, cached by the video's fingerprint and
shared with "Propose frames". On open they are computed for videos up to ``AUTO_FRAMES``
frames (about a minute of backbone time on a laptop CPU) or when either cache already holds
them; a longer video gets them after its first K-FPN proposals, which compute every other
frame's features. When the app proposes frames on open (``auto_propose``), this reading
follows them, whatever the video's length, and runs the backbone on the frames their cache
left out (``features._complete``): the two together cost one pass of the backbone.
Every outcome is one status-bar line: the descriptors are a bonus the user did not ask for.
After proposals on open (``announce=False``) their arrival says nothing, so that the line
the user needs then ("N frames proposed on open: label them first") stays up.
A second request while a run that computes the backbone is still going (Propose Frames
finishing during the run started on open) starts nothing: that run brings the descriptors.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.core.progress import Progress, ShouldStop
from annotator.gui.workers import Task, one_line

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow
    from annotator.gui.session import Session

TASK_NAME = "Reading the video for N"
AUTO_FRAMES = 3_000
MESSAGE_MS = 6_000

# The run in progress for a session and whether it computes the backbone.
_RUNNING: weakref.WeakKeyDictionary[Session, tuple[Task, bool]] = weakref.WeakKeyDictionary()


def start(
    window: MainWindow, session: Session, compute: bool | None = None, announce: bool = True
) -> Task | None:
    """Prepare ``session``'s ranking descriptors in the background; None when they are ready
    already or a backbone run is bringing them. ``compute`` None: run the backbone only for
    short videos (see the module); ``announce``: say on the status bar when they arrive."""
    if session.video_descriptors is not None:
        return None
    path = Path(session.doc.video.path)  # the original video, never the fast-seek copy
    run_backbone = session.frame_count <= AUTO_FRAMES if compute is None else compute
    running = _RUNNING.get(session)
    if running is not None and running[1] and running[0] in window.tasks.running:
        return None  # that run computes everything this one would read from the cache

    def job(progress: Progress, should_stop: ShouldStop) -> Any:
        from annotator.proposal.ranking_video import ranking_descriptors

        return ranking_descriptors(
            path, compute=run_backbone, progress=progress, should_stop=should_stop
        )

    def done(result: Any) -> None:
        if window.session is not session or result is None:
            return  # another project was opened meanwhile, or nothing cached for a long video
        session.video_descriptors = result
        window.update_suggestion()
        if announce:
            window.statusBar().showMessage("N now also weighs the video's changes", MESSAGE_MS)

    def failed(message: str) -> None:
        if window.session is session:
            text = f"N ranks by the fill alone: the video's features failed ({message})"
            window.statusBar().showMessage(one_line(text), MESSAGE_MS)

    task = window.tasks.start(
        TASK_NAME, job, done, failed, on_cancelled=lambda: None, background=True
    )
    _RUNNING[session] = (task, run_backbone)
    return task
