"""The real window, headless, for the benchmarks that time or measure the app itself.

``annotator bench gui``, ``seek-while-busy``, ``propose-on-open`` and ``open-long`` all drive
the same ``MainWindow`` the user sees (``make_window(headless=True)``: messages are recorded
instead of shown), on an empty cache so that every background task really runs. The helpers
they share live here, once.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow


@contextlib.contextmanager
def empty_cache(prefix: str, cache: Path | None = None) -> Iterator[Path]:
    """A fresh cache folder (no motion fields, no features) and data folder (no recovery
    journals of the user) inside, the environment as it was after. ``cache``: this cache
    folder instead (kept: what one run computed, the next reads back)."""
    names = ("ANNOTATOR_CACHE_DIR", "ANNOTATOR_DATA_HOME")
    before = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        os.environ["ANNOTATOR_CACHE_DIR"] = str(cache or Path(tmp, "cache"))
        os.environ["ANNOTATOR_DATA_HOME"] = str(Path(tmp, "data"))
        try:
            yield Path(tmp)
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def start_no_background_work(window: MainWindow) -> None:
    """Open the next video without motion extraction, proposals or the reading for N."""
    window.extract_motion_on_open = False
    window.propose_on_open = False
    window.rank_with_video_on_open = False


def headless_window() -> MainWindow:
    """The real main window, shown offscreen at 1280 x 800, with no video yet."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from annotator.gui.app import create_app, make_window

    create_app()
    window = make_window(headless=True)
    window.resize(1280, 800)
    window.show()
    return window


def window_errors(window: MainWindow) -> list[str]:
    """The messages the headless window recorded instead of showing them."""
    return list(getattr(window.reporter, "errors", []))


def close_window(window: MainWindow) -> None:
    """Close the window without asking to save, and wait for its background threads."""
    if window.session is not None:
        window.session.history.set_clean()
    window.close()
    window.tasks.shutdown()


def open_window(video: Path, timeout_s: float = 120.0, quiet: bool = False) -> MainWindow:
    """The real window on ``video`` once its background work has ended (``quiet``: none is
    started: no motion fields, proposals or reading for N)."""
    from annotator.gui.app import wait_idle

    window = headless_window()
    if quiet:
        start_no_background_work(window)
    window.open_path(video)
    wait_idle(window, timeout_s)
    if window.session is None:
        errors = window_errors(window)
        raise RuntimeError(errors[0] if errors else f"{video} did not open")
    return window
