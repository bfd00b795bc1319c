"""The window's helpers use its public interface only (gui/services.py, issue 19).

Read on the source, like tests/test_architecture.py: no module under ``annotator/gui`` but
``main_window.py`` reaches into the window's private names (``window._x``), and the helpers
typed against ``WindowServices`` do not name ``MainWindow`` at all.
"""

from __future__ import annotations

import re
from pathlib import Path

GUI = Path(__file__).resolve().parent.parent / "annotator" / "gui"
PRIVATE = re.compile(r"\bwindow\._[A-Za-z]")
SERVICES_USERS = ("opening", "autosave", "motion", "prefill", "proxy_offer")


def private_uses(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if PRIVATE.search(line)]


def test_the_pattern_finds_private_access() -> None:
    assert private_uses("x = self.window._need()\nwindow._guarded(f)\nwindow.guarded(f)") == [
        "x = self.window._need()",
        "window._guarded(f)",
    ]


def test_no_helper_touches_the_window_privately() -> None:
    found = {
        path.name: private_uses(path.read_text(encoding="utf-8"))
        for path in sorted(GUI.glob("*.py"))
        if path.name != "main_window.py"
    }
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_service_users_do_not_name_the_main_window() -> None:
    for name in SERVICES_USERS:
        text = (GUI / f"{name}.py").read_text(encoding="utf-8")
        assert "MainWindow" not in text, name
        assert "WindowServices" in text, name
