"""Undo/redo history of document commands, with merging (one drag = one undo step).

A ``Command`` knows how to ``do`` and ``undo`` itself on a ``Document``; ``History.push`` runs it
and records it. A command pushed right after another with the same non-``None`` ``merge_key``
is merged into it (``Command.merge``), so the many moves of one drag undo in one step; call
``History.seal()`` when a gesture ends to stop further merging. Pure Python: the GUI binds its
actions to this and listens to ``subscribe`` to update menus and the "unsaved" mark.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from annotator.core.document import Document

DEFAULT_LIMIT = 1000
DEFAULT_MEMORY_LIMIT = 2 << 30  # bytes of undo data; only whole-video bulk edits come near it


class Command(ABC):
    """One undoable edit. ``do`` must raise before changing anything if it cannot apply."""

    text: str = "Edit"
    merge_key: Hashable | None = None

    @abstractmethod
    def do(self, doc: Document) -> None: ...

    @abstractmethod
    def undo(self, doc: Document) -> None: ...

    def merge(self, other: Command) -> bool:
        """Absorb ``other`` (already done on the document); True if merged."""
        return False

    @property
    def nbytes(self) -> int:
        """Memory held for undo/redo (arrays only; small Python objects count as 0)."""
        return 0


class History:
    """A bounded undo/redo stack over one document."""

    def __init__(
        self, doc: Document, limit: int = DEFAULT_LIMIT, memory_limit: int = DEFAULT_MEMORY_LIMIT
    ) -> None:
        if limit < 1:
            raise ValueError("history limit must be at least 1")
        self._doc = doc
        self._limit = limit
        self._memory_limit = memory_limit
        self._undo: deque[Command] = deque()
        self._redo: list[Command] = []
        self._dropped = 0  # commands pushed out of the bottom by the limit
        self._held = 0  # bytes of undo data in the undo stack (kept up to date, not summed)
        self._clean: int | None = 0  # position of the saved state; None when unreachable
        self._sealed = True
        self._subscribers: list[Callable[[], None]] = []

    # ----------------------------------------------------------------- state
    @property
    def document(self) -> Document:
        return self._doc

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def _position(self) -> int:
        return self._dropped + len(self._undo)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        return self._undo[-1].text if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1].text if self._redo else ""

    @property
    def next_undo(self) -> Command | None:
        """The command ``undo`` would take back (None: nothing to undo)."""
        return self._undo[-1] if self._undo else None

    @property
    def next_redo(self) -> Command | None:
        """The command ``redo`` would do again (None: nothing to redo)."""
        return self._redo[-1] if self._redo else None

    @property
    def undo_count(self) -> int:
        return len(self._undo)

    @property
    def is_clean(self) -> bool:
        """True when the document matches the last ``set_clean`` (e.g. the saved file)."""
        return self._clean == self._position

    def set_clean(self) -> None:
        self._clean = self._position
        self._sealed = True
        self._notify()

    def set_unsaved(self) -> None:
        """The document differs from its file by a change no command recorded (the project's
        moved video, located when it was opened): no state in the history is the saved one,
        so closing asks to save."""
        self._clean = None
        self._notify()

    # ----------------------------------------------------------------- editing
    def push(self, command: Command) -> None:
        """Run ``command`` on the document and record it (or merge it into the last one)."""
        command.do(self._doc)
        top = self._undo[-1] if self._undo else None
        self._redo.clear()
        if self._clean is not None and self._clean > self._position:
            self._clean = None  # the saved state was in the redo branch we just dropped
        mergeable = (
            not self._sealed
            and top is not None
            and command.merge_key is not None
            and top.merge_key == command.merge_key
            and self._clean != self._position  # merging into the saved state would hide edits
        )
        before = top.nbytes if mergeable and top is not None else 0
        if mergeable and top is not None and top.merge(command):
            self._held += top.nbytes - before
        else:
            self._undo.append(command)
            self._held += command.nbytes
            self._trim()
        self._sealed = False
        self._notify()

    def _trim(self) -> None:
        """Drop the oldest steps beyond the step limit, or while the undo data is over the
        memory limit (a few whole-video bulk edits on a long video); the newest step stays."""
        while len(self._undo) > self._limit or (
            self._held > self._memory_limit and len(self._undo) > 1
        ):
            self._held -= self._undo.popleft().nbytes
            self._dropped += 1
            if self._clean is not None and self._clean < self._dropped:
                self._clean = None

    @property
    def nbytes(self) -> int:
        """Memory held by the undo and redo steps."""
        return sum(c.nbytes for c in self._undo) + sum(c.nbytes for c in self._redo)

    def seal(self) -> None:
        """End of a gesture: the next command starts a new undo step."""
        self._sealed = True

    def undo(self) -> None:
        if not self._undo:
            return
        command = self._undo.pop()
        command.undo(self._doc)
        self._held -= command.nbytes
        self._redo.append(command)
        self._sealed = True
        self._notify()

    def redo(self) -> None:
        if not self._redo:
            return
        command = self._redo.pop()
        command.do(self._doc)
        self._undo.append(command)
        self._held += command.nbytes
        self._sealed = True
        self._notify()

    def clear(self) -> None:
        """Forget every step (e.g. after loading another project); the state becomes clean."""
        self._undo.clear()
        self._redo.clear()
        self._held = 0
        self._dropped = 0
        self._clean = 0
        self._sealed = True
        self._notify()

    # ----------------------------------------------------------------- events
    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after every push/undo/redo/clean change; returns unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _notify(self) -> None:
        for callback in list(self._subscribers):
            callback()
