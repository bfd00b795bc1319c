"""The optical flow in the app (``gui/motion_flow.py``): after the codec fields, a second
background task opens the flow store and the video fill walks it; the residual row stays the
codec's; a cancelled or failed flow task keeps the codec-vector fill with a status line."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import annotator.video.motion_cache as motion_mod
from annotator.core import commands as cmd
from annotator.core.codes import Source
from annotator.core.progress import Cancelled
from annotator.errors import VideoError
from annotator.gui import motion, motion_flow
from annotator.propagation import LiveFill, fill_with
from annotator.propagation.registry import VideoSource
from tests.gui.conftest import open_and_wait

WAIT_MS = 120_000  # extraction shares two loaded CPU cores with other test runs


def _open(qtbot: Any, window: Any, path: Path) -> list[str]:
    window.extract_motion_on_open = True
    started: list[str] = []
    window.tasks.started.connect(lambda task: started.append(task.name))
    open_and_wait(qtbot, window, path)
    return started


def _label(session: Any, truth: np.ndarray, frames: tuple[int, ...]) -> None:
    for f in frames:
        values = np.concatenate([truth[f], np.ones((truth.shape[1], 1))], axis=1)
        session.push(cmd.SetLabels(f, values[None].astype(np.float32)))


def _walked(session: Any) -> Any:
    assert isinstance(session.engine, LiveFill)
    return session.engine.source.fields


@pytest.fixture
def held_flow(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The flow store's opening waits for the event (the codec's does not)."""
    real = motion_mod.open_motion
    release = threading.Event()

    def held(path: Any, **kw: Any) -> Any:
        if kw.get("field", "mv") != "mv":
            should_stop = kw.get("should_stop")
            while not release.wait(0.01):
                if should_stop is not None and should_stop():
                    raise Cancelled("optical flow")
        return real(path, **kw)

    monkeypatch.setattr(motion_mod, "open_motion", held)
    yield release
    release.set()


def test_after_the_codec_fields_the_fill_walks_the_flow(
    qtbot: Any, window: Any, figure_video: Any, held_flow: threading.Event
) -> None:
    video, truth = figure_video
    started = _open(qtbot, window, video)
    session = window.session
    _label(session, truth, (5, 30))
    qtbot.waitUntil(lambda: session.fields is not None, timeout=WAIT_MS)
    # the codec fields came first: the fill walks them while the flow is computed
    motion_tasks = [name for name in started if name != f"Indexing {video.name}"]
    assert motion_tasks == [motion.TASK_NAME, motion_flow.TASK_NAME]
    assert motion.running(window) and window.motion_task.name == motion_flow.TASK_NAME
    assert window.cancel_button.isVisible()
    assert session.fields.field == "mv" and _walked(session) is session.fields
    assert (session.result.source[6:30] == Source.HPIM_MV).all()
    _label(session, truth, (17,))  # an edit while the flow is computed
    held_flow.set()
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)

    flow = session.fill_fields
    assert flow is not None and flow.field == "dis" and flow.kind == "flow"
    assert _walked(session) is flow and session.method == "hpim+mv"
    assert "Optical flow ready" in window.statusBar().currentMessage()
    assert not window.reporter.errors
    # the prepared fill caught up with the edit: it equals the one-shot fill on the flow
    expected = fill_with(session.manual(), VideoSource(video, flow), "hpim+mv", fps=session.fps)
    np.testing.assert_allclose(session.result.poses, expected.poses, atol=1e-3, equal_nan=True)
    assert (session.result.source[18:30] == Source.HPIM_MV).all()
    # the residual row is still the codec store's
    energy = np.asarray(session.doc.residual_energy)
    np.testing.assert_array_equal(energy, np.asarray(session.fields.energy, dtype=np.float32))
    assert not np.array_equal(energy[1:], np.asarray(flow.energy)[1:])
    # an edit afterwards refills along the flow too
    _label(session, truth, (10,))
    expected = fill_with(session.manual(), VideoSource(video, flow), "hpim+mv", fps=session.fps)
    np.testing.assert_allclose(session.result.poses, expected.poses, atol=1e-3, equal_nan=True)


def test_cancelling_the_flow_keeps_the_codec_fill(
    qtbot: Any, window: Any, figure_video: Any, held_flow: threading.Event
) -> None:
    video, truth = figure_video
    _open(qtbot, window, video)
    session = window.session
    qtbot.waitUntil(lambda: session.fields is not None, timeout=WAIT_MS)
    _label(session, truth, (5, 30))
    before = session.result.poses.copy()
    assert window.motion_task.name == motion_flow.TASK_NAME
    window.cancel_button.click()
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    assert session.fill_fields is None and _walked(session) is session.fields
    assert session.method == "hpim+mv"
    np.testing.assert_array_equal(session.result.poses, before)
    message = window.statusBar().currentMessage()
    assert message.startswith("Optical flow cancelled; the fill keeps the codec's motion vectors")
    assert not window.reporter.errors
    # Tools > Extract Motion Fields starts it again (the codec store from the cache)
    held_flow.set()
    window.actions_by_id["extract_motion"].trigger()
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    assert session.fill_fields is not None and _walked(session) is session.fill_fields


def test_a_failed_flow_is_one_status_line_and_keeps_the_codec_fill(
    qtbot: Any, window: Any, figure_video: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = motion_mod.open_motion

    def no_flow(path: Any, **kw: Any) -> Any:
        if kw.get("field", "mv") != "mv":
            time.sleep(0.05)
            raise VideoError("cannot decode packet 7 of figure.mp4")
        return real(path, **kw)

    monkeypatch.setattr(motion_mod, "open_motion", no_flow)
    video, truth = figure_video
    _open(qtbot, window, video)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    session = window.session
    message = window.statusBar().currentMessage()
    assert message == (
        "No optical flow: cannot decode packet 7 of figure.mp4; "
        "the fill keeps the codec's motion vectors"
    )
    assert not window.reporter.errors
    assert session.fill_fields is None and session.fields is not None
    _label(session, truth, (5, 30))
    assert _walked(session) is session.fields
    assert (session.result.source[6:30] == Source.HPIM_MV).all()


def test_the_codec_vectors_preference_skips_the_flow(
    qtbot: Any, window: Any, figure_video: Any
) -> None:
    from PySide6 import QtCore, QtWidgets

    from annotator.gui.settings_dialog import SettingsDialog, open_settings

    window.actions_by_id["settings"].trigger()  # Tools > Settings, as the user opens it
    dialog = window.findChild(SettingsDialog)
    assert dialog.fill_motion.currentText() == "optical flow"  # the default, shown
    dialog.fill_motion.setCurrentText("codec vectors")
    ok = dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, QtCore.Qt.MouseButton.LeftButton)
    assert window.settings.prefs.fill_motion == "codec vectors"

    video, truth = figure_video
    started = _open(qtbot, window, video)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    session = window.session
    assert motion.TASK_NAME in started and motion_flow.TASK_NAME not in started
    _label(session, truth, (5, 30))
    assert session.fill_fields is None and _walked(session) is session.fields
    assert (session.result.source[6:30] == Source.HPIM_MV).all()
    # and the stored preference shows in the dialog again
    again = open_settings(window)  # what the Settings action runs: a new dialog
    assert again is not dialog and again.fill_motion.currentText() == "codec vectors"
    again.reject()
