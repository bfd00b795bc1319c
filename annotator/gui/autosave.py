"""Autosave and crash recovery for the open project, on top of the core recovery journal.

Every document change is journaled at once by ``annotator.core.journal.RecoveryJournal``
(per-user folder, never next to the user's files). Saving drops the journal; closing without
saving discards it after asking. If the app died, opening the same video or project again
finds the journal and offers to restore it, before the new session starts (its own journal
takes the file over). Restoring is one undoable command; declining discards the journal.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.core import commands as cmd
from annotator.core.document import Document
from annotator.core.journal import Recovery, RecoveryJournal, find_recovery
from annotator.errors import AnnotatorError
from annotator.gui.session import Session

if TYPE_CHECKING:
    from annotator.gui.services import WindowServices

log = logging.getLogger(__name__)


def find(path: Path) -> Recovery | None:
    """Unsaved work left for this video or project by a session that did not end cleanly."""
    try:
        return find_recovery(path)
    except (OSError, AnnotatorError) as err:
        log.warning("cannot look for unsaved work: %s", err)
        return None


def start_journal(session: Session, interval: float = 0.5) -> RecoveryJournal:
    """Journal ``session``'s edits; ``interval``: the autosave interval (fsync), seconds."""
    journal = RecoveryJournal(session.doc, session.path, fsync_interval=interval)
    session.journal = journal
    return journal


def ask_restore(window: WindowServices, recovery: Recovery) -> Document | None:
    """Ask whether to restore ``recovery``: the work it holds, or None when the user declines
    (the journal is discarded) or it cannot be read (said)."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(recovery.modified))
    question = (
        f"Unsaved work on this {'project' if recovery.project_path else 'video'} from {when} "
        f"was found ({recovery.edits} edits after the last save). Restore it?"
    )
    if not window.reporter.ask(question, "Restore unsaved work"):
        recovery.discard()
        return None
    try:
        return recovery.restore()
    except AnnotatorError as err:
        window.reporter.error(f"The unsaved work cannot be restored: {err}")
        return None


def restore_into(window: WindowServices, session: Session, saved: Document) -> bool:
    """Put the restored work ``saved`` into ``session`` as one undo step; True when done."""
    if saved.frame_count != session.frame_count or any(
        inst.skeleton != session.skeleton for inst in saved.instances
    ):
        window.reporter.error("The unsaved work does not match this video's frames and joints.")
        return False
    # Everything the user made, every person included (one undo step).
    session.push(cmd.ReplaceContent(saved, text="Restore unsaved work"))
    return True
