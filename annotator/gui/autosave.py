"""Autosave and crash recovery for the open project.

A few seconds after an edit (and at most every ``INTERVAL_MS`` while editing continues) the
project is written to a per-user recovery file keyed by the video, never next to the user's
files. A clean close removes it; if the app died, opening the same video or project again
finds it and offers to restore it. Restoring is one undoable command, so nothing is lost
either way.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore

from annotator.core import commands as cmd
from annotator.core.paths import data_dir
from annotator.errors import AnnotatorError
from annotator.gui.session import Session

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow

log = logging.getLogger(__name__)

DELAY_MS = 3_000  # after the last edit
INTERVAL_MS = 30_000  # at most this long between saves during continuous editing


def autosave_path(session: Session) -> Path:
    video = session.doc.video
    key = video.fingerprint or hashlib.sha256(video.path.encode("utf-8")).hexdigest()[:16]
    return data_dir("autosave") / f"{key}.annot"


class Autosaver(QtCore.QObject):
    """Writes the recovery file when the project has unsaved edits."""

    saved = QtCore.Signal(str)

    def __init__(self, session: Session, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.path = autosave_path(session)
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.save_now)
        self._first_unsaved: float | None = None
        session.history_changed.connect(self._on_edit)

    def _on_edit(self) -> None:
        if not self.session.dirty:
            self._timer.stop()
            self._first_unsaved = None
            remove_autosave(self.session)
            return
        now = time.monotonic()
        if self._first_unsaved is None:
            self._first_unsaved = now
        overdue = (now - self._first_unsaved) * 1000 >= INTERVAL_MS
        self._timer.start(0 if overdue else DELAY_MS)

    def save_now(self) -> None:
        from annotator.core import store

        try:
            store.save_project(self.session.doc, self.path)
        except (AnnotatorError, OSError) as err:
            log.warning("autosave failed: %s", err)
            return
        self._first_unsaved = None
        self.saved.emit(str(self.path))


def remove_autosave(session: Session) -> None:
    try:
        autosave_path(session).unlink(missing_ok=True)
    except OSError as err:
        log.warning("cannot remove the recovery file: %s", err)


def offer_recovery(window: MainWindow, session: Session) -> bool:
    """If a recovery file newer than the project exists, offer to restore it; True if done."""
    from annotator.core import store

    path = autosave_path(session)
    if not path.exists():
        return False
    project = session.path
    if project is not None and project.exists() and path.stat().st_mtime <= project.stat().st_mtime:
        return False
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
    if not window.reporter.ask(
        f"Unsaved work on this video from {when} was found (the app did not close cleanly). "
        "Restore it?",
        "Restore unsaved work",
    ):
        return False
    try:
        saved = store.load_project(path)
    except AnnotatorError as err:
        window.reporter.error(f"the recovery file cannot be read: {err}")
        return False
    labels = np.asarray(saved.manual(session.instance))
    if labels.shape != session.manual().shape:
        window.reporter.error("the recovery file does not match this video's frames and joints")
        return False
    session.push(cmd.SetLabels(0, labels, None, session.instance, text="Restore unsaved work"))
    return True
