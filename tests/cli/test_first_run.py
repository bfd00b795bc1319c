"""A new user's first run, as a separate program on a machine without a display: the README's
sample opens and saves a screenshot with no output at all, and the plain GUI command says in
one line why it cannot open a window instead of Qt's page about platform plugins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "resources" / "samples" / "taiji.mp4"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    return subprocess.run(
        [sys.executable, "-m", "annotator", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=300,
    )


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
