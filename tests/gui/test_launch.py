"""``annotator VIDEO --screenshot PNG``: opens offscreen, waits, writes the window, exits 0;
a bad video exits non-zero with one line on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6 import QtGui


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["ANNOTATOR_DATA_HOME"] = str(tmp_path / "data")
    env["ANNOTATOR_CACHE_DIR"] = str(tmp_path / "cache")
    return subprocess.run(
        [sys.executable, "-m", "annotator", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_screenshot(figure_video, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "shot.png"
    result = _run(str(figure_video[0]), "--screenshot", str(out), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    image = QtGui.QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    # Not a blank window: the frame and the panels give many distinct colours.
    colours = {image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 800, 16)}
    assert len(colours) > 20


def test_screenshot_of_a_bad_video(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 4096)
    result = _run(str(bad), "--screenshot", str(tmp_path / "x.png"), tmp_path=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("annotator:")]
    assert len(lines) == 1 and "bad.mp4" in lines[0]
    assert "Traceback" not in result.stderr
