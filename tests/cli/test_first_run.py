"""A new user's first run, as a separate program on a machine without a display: the README's
sample opens and saves a screenshot with no output at all, and the plain GUI command says in
one line why it cannot open a window instead of Qt's page about platform plugins."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.helpers import run_python

SAMPLE = REPO_ROOT / "resources" / "samples" / "taiji.mp4"
NO_DISPLAY = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "annotator", *args, drop=NO_DISPLAY.__contains__)


def test_screenshot_without_a_display_prints_nothing(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    result = _run(str(SAMPLE), "--screenshot", str(out))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert out.stat().st_size > 10_000


def test_the_window_without_a_display_is_one_line() -> None:
    result = _run(str(SAMPLE))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("annotator: error: no display")
    assert len(result.stderr.splitlines()) == 1
