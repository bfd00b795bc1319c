"""``annotator VIDEO --screenshot PNG``: opens offscreen, waits, writes the window, exits 0;
a bad video exits 2 with one line on stderr. Run through ``annotator.cli.main`` in-process
(CI also runs the real program under Xvfb)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtGui, QtWidgets

from annotator.cli import main


def _no_windows_left() -> bool:
    return not [w for w in QtWidgets.QApplication.topLevelWidgets() if w.isVisible()]


def test_screenshot(qapp, figure_video, tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    assert main([str(figure_video[0]), "--screenshot", str(out)]) == 0
    image = QtGui.QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    # Not a blank window: the frame and the panels give many distinct colours.
    colours = {image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 800, 16)}
    assert len(colours) > 20
    assert _no_windows_left()


def test_screenshot_of_a_bad_video(
    qapp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 4096)
    assert main([str(bad), "--screenshot", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("annotator:")]
    assert len(lines) == 1 and "bad.mp4" in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "x.png").exists()
    assert _no_windows_left()
