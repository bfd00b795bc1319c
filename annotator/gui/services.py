"""What the window's helper modules may use of the window: the ``WindowServices`` protocol.

``opening``, ``autosave``, ``motion``, ``prefill`` and ``proxy_offer`` do their work for the
main window but type against this protocol, not ``MainWindow``: they see the open session, the
reporter, the task runner, the stored settings and a status line, and nothing private. The
main window satisfies it; a test can hand them any object that does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    from PySide6 import QtWidgets

    from annotator.gui.dialogs import Reporter
    from annotator.gui.proxy_offer import ProxyBar
    from annotator.gui.session import Session
    from annotator.gui.settings import WindowSettings
    from annotator.gui.workers import Task, TaskRunner


class WindowServices(Protocol):
    """The window as its helpers see it."""

    # Background jobs the helpers track while they run (None when idle).
    motion_task: Task | None
    proxy_task: Task | None

    @property
    def session(self) -> Session | None:
        """The open project, or None."""

    @property
    def reporter(self) -> Reporter:
        """Where errors and questions reach the user."""

    @property
    def tasks(self) -> TaskRunner:
        """The window's background jobs (progress and cancel in the status bar)."""

    @property
    def settings(self) -> WindowSettings:
        """The stored preferences."""

    @property
    def dialog_parent(self) -> QtWidgets.QWidget:
        """The widget dialogs open over (the window)."""

    @property
    def proxy_bar(self) -> ProxyBar:
        """The bar offering the fast-seek copy."""

    def need_session(self) -> Session:
        """The open project; raises a user error when there is none."""

    def guarded(self, fn: Callable[[], Any]) -> None:
        """Run a user action; failures reach the reporter as one sentence."""

    def show_status(self, message: str, timeout_ms: int = 0) -> None:
        """A passing message in the status bar."""

    def update_fill_info(self) -> None:
        """Refresh the Fill dock's summary (e.g. once motion fields arrive)."""

    def set_session(self, session: Session) -> None:
        """Make ``session`` the window's open project."""

    def show_preview(self, image: np.ndarray) -> None:
        """Show a frame before a session exists."""
