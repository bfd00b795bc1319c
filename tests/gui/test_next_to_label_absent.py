"""N next to an ``absent`` label: a joint held toward it does not take N's first pick (the
labels on both sides bound it), and those frames stay reachable further down the ranking."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from annotator.core.codes import Visibility
from annotator.dynamics.ranking import rank_next_frames
from tests.gui.conftest import open_and_wait


def _label(session, truth, frame: int) -> None:
    session.go_to(frame)
    session.set_joint(0)
    for j in range(truth.shape[1]):
        session.place(*truth[frame, j])


def test_n_skips_ahead_of_joints_held_toward_an_absent_label(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("hpim")
    last = session.frame_count - 1
    for frame in (0, 20, last):
        _label(session, truth, frame)
    session.go_to(30)
    session.mark_absent(0)  # the head leaves the picture somewhere between 20 and 30
    manual = np.asarray(session.doc.manual(0))
    assert manual[30, 0, 2] == Visibility.ABSENT
    held = list(range(21, 30))
    assert session.result.held[held, 0].all()

    session.go_to(5)
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_N)
    ranked = rank_next_frames(manual, session.result)
    assert session.frame == ranked[0][0] != 5
    # the former rule went to frame 25, the held frame farthest from a label
    assert not session.held_on(session.frame)
    message = window.statusBar().currentMessage()
    assert "least sure" in message and "only held" not in message
    # every frame the fill only holds is still on N's list
    assert set(held) <= {f for f, _ in session.rank_to_label(top=None)}
