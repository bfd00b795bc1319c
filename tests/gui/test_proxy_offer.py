"""The fast-seek copy: offered (a bar, no dialog) for a video with far-apart key frames, made
by a worker with progress and cancel, then the frames come from it while the project keeps
the original video's path and fingerprint."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from PySide6 import QtCore

from annotator.core.fingerprint import video_fingerprint
from annotator.errors import VideoError
from tests.gui.conftest import open_and_wait

FRAMES, WIDTH, HEIGHT = 120, 160, 120


@pytest.fixture(scope="module")
def long_gop_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 frames of a moving box, H.264 with a single key frame (frame 0)."""
    path = tmp_path_factory.mktemp("long_gop") / "long.mp4"
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"g": "1000", "keyint_min": "1000", "sc_threshold": "0"}
        for f in range(FRAMES):
            image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
            image[..., 0] = (xx * 1.5).astype(np.uint8)
            image[..., 1] = (yy * 2).astype(np.uint8)
            x0 = (f * 3) % (WIDTH - 20)
            image[40:70, x0 : x0 + 20, 2] = 255
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(autouse=True)
def _slow_seeks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny test videos decode fast: lower the worst-seek time that calls for a proxy so
    that a 120-frame GOP at 160x120 (about 5 ms) needs one and the proxy's 12 frames
    (about 0.5 ms) do not."""
    monkeypatch.setattr("annotator.video.reader._PROXY_SEEK_S", 0.002)


def _wait_for_frame(qtbot, window, frame: int) -> np.ndarray:
    session = window.session
    session.go_to(frame)
    qtbot.waitUntil(lambda: session.loader.idle, timeout=5000)
    qtbot.wait(20)  # the loaded frame's queued signal
    return np.asarray(window.frame_view.image.image)


def test_offer_make_and_switch_keeps_the_original_video(
    qtbot, window, long_gop_video, tmp_path: Path
) -> None:
    from annotator.gui import opening
    from annotator.video import open_video
    from annotator.video.proxy import proxy_path

    original = long_gop_video.resolve()
    with open_video(original) as reference:
        assert reference.wait_for_index()
        truth = reference.frame(100).copy()
    open_and_wait(qtbot, window, long_gop_video)
    session = window.session
    bar = window.proxy_bar
    assert bar.isVisible() and bar.button.text() == "Make Fast-Seek Copy"
    assert "120 frames" in bar.label.text()

    qtbot.mouseClick(bar.button, QtCore.Qt.MouseButton.LeftButton)
    assert window.proxy_task is not None and bar.button.text() == "Cancel"
    assert window.progress.isVisible()  # the status bar's progress and cancel, too
    qtbot.waitUntil(lambda: session.proxy is not None, timeout=15000)
    assert not window.reporter.errors
    assert not bar.isVisible() and window.proxy_task is None
    assert session.proxy == proxy_path(original) == Path(session.reader.path)
    assert session.reader.max_gop <= 12 and not session.reader.suggest_proxy
    assert session.frame_count == FRAMES
    # the project still names the original video
    assert session.doc.video.path == str(original)
    assert session.doc.video.fingerprint == video_fingerprint(original)

    shown = _wait_for_frame(qtbot, window, 100)
    assert shown.shape[:2] == (HEIGHT, WIDTH)
    assert np.abs(shown.astype(int) - truth.astype(int)).mean() < 3.0

    project = tmp_path / "long.annot.json"
    opening.save(window, session, ask_path=False, path=project)
    saved = json.loads(project.read_text(encoding="utf-8"))
    assert str(original) in json.dumps(saved)
    assert str(session.proxy) not in json.dumps(saved)


def test_cancel_keeps_the_original_and_offers_again(qtbot, window, long_gop_video) -> None:
    open_and_wait(qtbot, window, long_gop_video)
    session = window.session
    reader = session.reader
    qtbot.mouseClick(window.proxy_bar.button, QtCore.Qt.MouseButton.LeftButton)
    window.actions_by_id["cancel_tasks"].trigger()  # Esc
    assert window.tasks.wait_idle(15)
    assert session.proxy is None and session.reader is reader
    assert window.proxy_bar.isVisible()
    assert window.proxy_bar.button.text() == "Make Fast-Seek Copy"
    assert "cancelled" in window.statusBar().currentMessage()
    assert not window.reporter.errors


def test_a_copy_made_earlier_is_offered_for_use(qtbot, window, long_gop_video) -> None:
    from annotator.video.proxy import make_proxy

    made = make_proxy(long_gop_video)
    open_and_wait(qtbot, window, long_gop_video)
    bar = window.proxy_bar
    assert bar.button.text() == "Use Fast-Seek Copy"
    qtbot.mouseClick(bar.button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.proxy is not None, timeout=15000)
    assert window.session.proxy == made


def test_no_offer_for_short_gop_video(qtbot, window, figure_video) -> None:
    open_and_wait(qtbot, window, figure_video[0])
    assert not window.session.reader.suggest_proxy
    assert not window.proxy_bar.isVisible()


def test_a_copy_with_other_frames_is_refused(qtbot, window, long_gop_video) -> None:
    from annotator.video.synthetic import SyntheticVideo

    open_and_wait(qtbot, window, long_gop_video)
    session = window.session
    reader = session.reader
    other = SyntheticVideo(np.zeros((FRAMES - 1, HEIGHT, WIDTH, 3), np.uint8), fps=25.0)
    with pytest.raises(VideoError, match="119 frames"):
        session.use_frames_from(other)
    shifted = SyntheticVideo(np.zeros((FRAMES, HEIGHT, WIDTH, 3), np.uint8), fps=24.0)
    with pytest.raises(VideoError, match="frame times"):
        session.use_frames_from(shifted)
    assert session.reader is reader and session.proxy is None
