"""The video's walks from the labels for ``N``, walked off the GUI thread.

``N`` (``Session.rank_to_label``) hands ``dynamics.ranking.rank_next_frames`` the joints walked
along the video from the neighbouring labels (``observed``), as protocol B does: a frame where
the fill and the walks disagree ranks as uncertain even right next to a label, where the fill's
own variance vanishes. With a video fill (``hpim+mv``, ``mv``) those are the fill's own walks
(``LiveFill.observations``), kept current by the fill. With a labels-only fill (``hpim``, ...)
once the motion store is ready, a ``propagation.LiveWalks`` keeps them beside the fill: the
first walk of every gap runs as one of the window's background tasks on a copy of the labels,
then each edit's gaps are walked again when ``N`` next ranks. Until the walks are ready (no
motion store yet, the first walk still running), ``N`` ranks without them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.core.document import Change
from annotator.core.progress import Progress, ShouldStop
from annotator.dynamics.base import Observations
from annotator.gui.workers import Task, one_line
from annotator.propagation import LiveFill, VideoSource
from annotator.propagation.live_walks import LiveWalks

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow
    from annotator.gui.session import Session

TASK_NAME = "Walking the joints along the video for N"
MESSAGE_MS = 6_000

Key = tuple[int, int, tuple[int, ...], int]


class RankingWalks:
    """A session's walks for ``N``. ``request`` (set by the window): start the first walk in
    the background (``start``); called when ``N`` asks and they are not ready."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.walks: LiveWalks | None = None
        self._key: Key | None = None
        self._given_up: Key | None = None  # a walk that failed or was cancelled: not retried
        self.running = False
        self.request: Callable[[], object] | None = None
        session.doc.subscribe(self._on_change)

    def _key_now(self) -> Key:
        s = self._session
        return (id(s.walk_fields), s.active_track, tuple(s.doc.scene_cuts), s.frame_count)

    def observed(self) -> Observations | None:
        """The walks of the active person's labels; None while there are none (no motion
        store, or the first walk still running: then it is requested)."""
        s = self._session
        if isinstance(s.engine, LiveFill):
            return s.engine.observations
        if s.walk_fields is None:
            return None
        key = self._key_now()
        if self.walks is not None and self._key == key:
            got = self.walks.current(s.manual())
            if got is not None:
                return got
        if not self.running and self._given_up != key and self.request is not None:
            self.request()
        return None

    def snapshot(self) -> tuple[LiveWalks, Any]:
        """A fresh ``LiveWalks`` for the active person and a copy of their labels to walk;
        changes from now on are recorded for it."""
        s = self._session
        assert s.walk_fields is not None
        self._key = self._key_now()
        source = VideoSource(Path(s.doc.video.path), s.walk_fields, tuple(s.doc.scene_cuts))
        self.walks = LiveWalks(source)
        self.walks.begin()
        return self.walks, s.manual().copy()

    def give_up(self) -> None:
        """Do not start the walk again for these labels' track and motion store."""
        self._given_up = self._key

    def _on_change(self, change: Change) -> None:
        if self.walks is None:
            return
        s = self._session
        if change.kind == "scene_cuts":
            self.walks.mark(None)
        if change.kind != "labels" or change.instance not in (None, s.instance):
            return
        if change.instance is None or change.frames is None:
            self.walks.mark(None)
        else:
            start, stop = change.frames
            self.walks.mark((start, max(start, stop - 1)))


def start(window: MainWindow, session: Session) -> Task | None:
    """Walk every gap of the active person's labels in the background, then re-rank;
    None when there is nothing to walk along (no motion store)."""
    holder = session.ranking_walks
    if session.walk_fields is None or holder.running:
        return None
    walks, manual = holder.snapshot()
    holder.running = True

    def job(progress: Progress, should_stop: ShouldStop) -> Any:
        return walks.compute(manual)

    def done(result: Any) -> None:
        holder.running = False
        if window.session is session and holder.walks is walks:
            walks.adopt(result)
            window.update_suggestion()

    def failed(message: str) -> None:
        holder.running = False
        holder.give_up()
        if window.session is session:
            text = f"N ranks without the video's walks: walking the joints failed ({message})"
            window.statusBar().showMessage(one_line(text), MESSAGE_MS)

    def cancelled() -> None:
        holder.running = False
        holder.give_up()

    return window.tasks.start(TASK_NAME, job, done, failed, on_cancelled=cancelled, background=True)
