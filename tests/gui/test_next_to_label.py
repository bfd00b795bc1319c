"""Navigate > Next Frame to Label (N): the top of ``rank_next_frames`` on the session's own
fill, shown on the timeline and status bar; a status message, no jump, when it cannot rank."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from annotator.core.codes import Visibility
from annotator.dynamics.fill import fill_track
from annotator.dynamics.ranking import rank_next_frames
from tests.gui.conftest import open_and_wait


def _label(session, truth, frame: int) -> None:
    session.go_to(frame)
    session.set_joint(0)
    for j in range(truth.shape[1]):
        session.place(*truth[frame, j])


def _press_n(qtbot, window) -> None:
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_N)


def test_n_goes_to_the_top_ranked_frame(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("hpim")
    assert session.method == "hpim"

    # One labelled frame: no ranking, no jump, a message says why.
    _label(session, truth, 5)
    session.go_to(12)
    _press_n(qtbot, window)
    assert session.frame == 12
    assert "two frames" in window.statusBar().currentMessage()
    window.update_suggestion()
    assert window.timeline.marks.suggested is None and not window.suggest_button.isVisible()

    # Two labelled frames: N goes where rank_next_frames, called directly, puts first.
    _label(session, truth, 30)
    session.go_to(12)
    manual = np.asarray(session.doc.manual(0))
    labelled = np.flatnonzero((manual[:, :, 2] != Visibility.UNLABELLED).all(axis=1))
    assert labelled.tolist() == [5, 30]
    expected = rank_next_frames(manual, session.engine.result)[0][0]
    # the session's live fill is the fill of these labels: the same top frame from scratch
    fresh = fill_track(manual, session.method, fps=session.fps)
    assert rank_next_frames(manual, fresh)[0][0] == expected
    _press_n(qtbot, window)
    assert session.frame == expected
    assert f"frame {expected}" in window.statusBar().currentMessage()
    assert window.timeline.marks.suggested == expected
    assert window.suggest_button.text() == f"next to label: {expected}"

    # Label it (and both ends): the next N ranks the gaps by uncertainty, never a labelled
    # frame, and the timeline's mark follows the edits once they pause.
    for frame in sorted({expected, 0, 39}):
        _label(session, truth, frame)
    qtbot.waitUntil(lambda: window.timeline.marks.suggested not in (None, expected), timeout=3000)
    manual = np.asarray(session.doc.manual(0))
    ranked = rank_next_frames(manual, session.engine.result)
    _press_n(qtbot, window)
    assert session.frame == ranked[0][0] == window.timeline.marks.suggested
    assert not session.held_on(session.frame)
    assert (manual[session.frame, :, 2] == Visibility.UNLABELLED).any()
    assert "px²" in window.statusBar().currentMessage()


def test_n_with_a_fill_without_uncertainty_ranks_by_hpims(qtbot, window, figure_video) -> None:
    """``linear`` estimates no variance: N still ranks, with the variance ``rank_next_frames``
    takes from HPIM for such a fill (the best ranking available), never refusing."""
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("linear")
    assert session.engine.result.variance is None
    _label(session, truth, 5)
    _label(session, truth, 30)
    session.go_to(17)
    expected = rank_next_frames(np.asarray(session.doc.manual(0)), session.engine.result)[0][0]
    window.update_suggestion()  # a whole HPIM fill per ranking: not after every edit
    assert window.timeline.marks.suggested is None and "press N" in window.suggest_button.text()
    _press_n(qtbot, window)
    assert session.frame == expected != 17
    assert window.timeline.marks.suggested == expected
    assert f"frame {expected} is next to label" in window.statusBar().currentMessage()
    assert not window.reporter.errors


def test_long_projects_rank_on_request_only(qtbot, window, figure_video, monkeypatch) -> None:
    from annotator.gui import main_window

    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("hpim")
    monkeypatch.setattr(main_window, "AUTO_RANK_PAIRS", 40 * 2 - 1)  # 40 frames x 2 labels
    _label(session, truth, 5)
    _label(session, truth, 30)
    window.update_suggestion()
    assert window.timeline.marks.suggested is None
    assert window.suggest_button.isVisible()
    assert "press N" in window.suggest_button.text()
    expected = rank_next_frames(np.asarray(session.doc.manual(0)), session.engine.result)[0][0]
    window.suggest_button.click()  # the button does what N does
    assert session.frame == expected == window.timeline.marks.suggested


def test_before_the_fill_can_rank_n_goes_to_the_proposed_frames(
    qtbot, window, figure_video
) -> None:
    """Proposals on the timeline (not accepted) and under two labelled frames: N visits the
    proposed frames not yet labelled, in frame order, instead of only saying it cannot rank."""
    from annotator.core import commands as cmd
    from annotator.core.document import Proposals

    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.push(cmd.AcceptProposals(Proposals((3, 20, 31), None, "uniform")))
    assert session.plan_to_label() == []  # on the timeline, not the user's plan
    window.update_suggestion()  # the marker shows where N goes
    assert window.timeline.marks.suggested == 3
    assert window.suggest_button.text() == "next to label: 3"
    _press_n(qtbot, window)
    assert session.frame == 3 and "a proposed frame" in window.statusBar().currentMessage()
    _label(session, truth, 3)
    _press_n(qtbot, window)
    assert session.frame == 20  # the labelled one is passed over
    _press_n(qtbot, window)
    assert session.frame == 31 and "2nd suggestion" in window.statusBar().currentMessage()
    # two labelled frames: the fill ranks as before
    _label(session, truth, 31)
    _press_n(qtbot, window)
    assert session.frame == session.rank_to_label()[0][0]
    assert "a proposed frame" not in window.statusBar().currentMessage()
