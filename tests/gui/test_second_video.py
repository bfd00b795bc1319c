"""Opening a second video of another length in the same window: the window switches to it
whole (title, frame range, timeline), with none of the first video's per-frame rows left, and
it can be labelled; then the first opens again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtWidgets

from annotator.core import commands as cmd
from annotator.core.document import Proposals
from annotator.synth.figure import render_figure_video
from tests.gui.conftest import open_and_wait


def _label(session, truth, frame: int) -> None:
    session.go_to(frame)
    session.set_joint(0)
    for j in range(truth.shape[1]):
        session.place(*truth[frame, j])


def _switch(qtbot, window, path: Path) -> None:
    before = window.session
    window.open_path(path)
    qtbot.waitUntil(
        lambda: window.session is not before or bool(window.reporter.errors), timeout=15000
    )
    assert not window.reporter.errors, window.reporter.errors
    QtWidgets.QApplication.processEvents()


def test_a_second_video_of_another_length_opens_whole(
    qtbot, window, figure_video, tmp_path
) -> None:
    first, truth = figure_video
    open_and_wait(qtbot, window, first)
    session = window.session
    n = session.frame_count
    # every per-frame row of the first video in use: held ends, gate, scores, flags
    _label(session, truth, 5)
    _label(session, truth, 30)
    scores = np.linspace(0.0, 1.0, n)
    session.push(cmd.AcceptProposals(Proposals((5, 20, 30), tuple(scores), "kfpn")))
    session.push(cmd.SetGate(0, np.where(np.arange(n) % 7 == 0, 1, 0)))
    session.history.set_clean()
    marks = window.timeline.marks.state
    assert marks.held is not None and marks.gate is not None and marks.scores is not None

    short = tmp_path / "short.mp4"
    short_truth = render_figure_video(short, frames=12, width=160, height=120, fps=25)
    _switch(qtbot, window, short)
    session = window.session
    assert session.frame_count == 12 and window.windowTitle().startswith("short.mp4")
    assert window.frame_spin.maximum() == 11
    state = window.timeline.marks.state
    assert len(state.status) == 12
    for row in ("gate", "scores", "held", "residual", "uncertainty"):
        value = getattr(state, row)
        assert value is None or len(value) == 12, row
    assert (np.asarray(state.proposed) < 12).all()
    # the new video is labelled as any other
    _label(session, short_truth, 2)
    _label(session, short_truth, 9)
    assert session.labelled_frames().tolist() == [2, 9]
    info = window.fill_panel.info.text()
    assert info.startswith("2 labelled frames; 6 filled live") and "4 held" in info
    session.history.set_clean()
    # and back to the first, longer one
    _switch(qtbot, window, first)
    assert window.session.frame_count == n and len(window.timeline.marks.state.status) == n
    assert not window.reporter.errors
