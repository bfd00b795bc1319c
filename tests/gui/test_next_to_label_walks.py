"""N with the video's walks: once the motion store is ready, the joints walked along the video
from the labels reach the one ranking function (``observed``), walked in the background for a
labels-only fill and kept current under edits, the fill's own walks for ``hpim+mv``."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from annotator.dynamics import ranking
from annotator.gui import ranking_walks
from annotator.propagation import VideoSource
from annotator.propagation.live_walks import LiveWalks
from annotator.video.motion_cache import open_motion
from tests.gui.conftest import open_and_wait


def _label(session, truth, frame: int) -> None:
    session.go_to(frame)
    session.set_joint(0)
    for j in range(truth.shape[1]):
        session.place(*truth[frame, j])


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    calls: list[object] = []
    real = ranking.rank_next_frames

    def spy(*args, **kwargs):
        calls.append(kwargs.get("observed"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ranking, "rank_next_frames", spy)
    return calls


def _press_n(qtbot, window) -> None:
    """N from a labelled frame (never offered): the ranking's first frame, not the next one."""
    window.session.go_to(0)
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_N)


def test_a_labels_only_fill_gets_the_walks_in_the_background_then_kept_current(
    qtbot, window, figure_video, monkeypatch: pytest.MonkeyPatch
) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    assert session.method == "hpim"  # no motion store yet
    for frame in (0, 20, session.frame_count - 1):
        _label(session, truth, frame)
    real = ranking.rank_next_frames
    calls = _spy(monkeypatch)
    _press_n(qtbot, window)  # no motion store yet: today's ranking, nothing walked
    assert calls and calls[-1] is None
    assert not window.tasks.running

    session.set_motion(open_motion(video))
    session.set_method("hpim")  # the user picks the labels-only fill
    _press_n(qtbot, window)  # the walks are asked for: walked in the background
    assert window.tasks.wait_idle(60)
    assert session.ranking_walks.walks is not None and session.ranking_walks.walks.ready
    calls.clear()
    _press_n(qtbot, window)
    walks = calls[-1]
    fresh = LiveWalks(VideoSource(fields=session.walk_fields)).compute(session.manual())
    assert walks is not None
    assert np.array_equal(walks.xy, fresh.xy, equal_nan=True)  # type: ignore[attr-defined]
    manual = session.manual()
    expected = real(manual, session.result, observed=fresh)[0][0]
    assert session.frame == expected

    # an edit: the walks follow it gap by gap (no second background walk)
    _label(session, truth, 10)
    calls.clear()
    _press_n(qtbot, window)
    assert not window.tasks.running
    now = LiveWalks(VideoSource(fields=session.walk_fields)).compute(session.manual())
    got = calls[-1]
    assert got is not None
    assert np.array_equal(got.xy, now.xy, equal_nan=True)  # type: ignore[attr-defined]
    assert np.array_equal(got.variance, now.variance, equal_nan=True)  # type: ignore[attr-defined]
    assert session.frame == real(session.manual(), session.result, observed=now)[0][0]


def test_the_video_fill_hands_its_own_walks(
    qtbot, window, figure_video, monkeypatch: pytest.MonkeyPatch
) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_motion(open_motion(video))
    assert session.method == "hpim+mv"
    for frame in (0, 20, session.frame_count - 1):
        _label(session, truth, frame)
    calls = _spy(monkeypatch)
    _press_n(qtbot, window)
    assert calls and calls[-1] is not None
    assert calls[-1] is session.engine.observations
    assert not any(t.name == ranking_walks.TASK_NAME for t in window.tasks.running)


def test_a_failed_walk_says_so_once_and_n_ranks_without_it(
    qtbot, window, figure_video, monkeypatch: pytest.MonkeyPatch
) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    for frame in (0, 20, session.frame_count - 1):
        _label(session, truth, frame)
    session.set_motion(open_motion(video))
    tries: list[int] = []

    def broken(self, manual):  # type: ignore[no-untyped-def]
        tries.append(1)
        raise OSError("the motion store went away")

    monkeypatch.setattr(LiveWalks, "compute", broken)
    session.set_method("hpim")
    assert window.tasks.wait_idle(60)
    assert "walking the joints failed" in window.statusBar().currentMessage()
    calls = _spy(monkeypatch)
    _press_n(qtbot, window)
    assert window.tasks.wait_idle(60)
    assert calls and calls[-1] is None  # today's ranking
    assert tries == [1]  # not retried for the same labels' track and motion store
    assert not window.reporter.errors
