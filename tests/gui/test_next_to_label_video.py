"""N with the video: the app's N and protocol B call the one ranking function, and the
video's descriptors reach it once prepared in the background."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from annotator.dynamics import ranking
from annotator.gui import video_ranking
from annotator.proposal.backbones import DEFAULT_BACKBONE
from annotator.proposal.features import cache_path, reading, save_cached
from tests.gui.conftest import open_and_wait


def _label(session, truth, frame: int) -> None:
    session.go_to(frame)
    session.set_joint(0)
    for j in range(truth.shape[1]):
        session.place(*truth[frame, j])


def test_n_ranks_with_the_video_through_the_one_ranking_function(
    qtbot, window, figure_video, monkeypatch: pytest.MonkeyPatch
) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("hpim")
    for frame in (0, 30, session.frame_count - 1):  # no held ends: every frame is in a gap
        _label(session, truth, frame)
    calls: list[object] = []
    real = ranking.rank_next_frames

    def spy(*args, **kwargs):
        calls.append(kwargs.get("video"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ranking, "rank_next_frames", spy)
    manual = np.asarray(session.doc.manual(0))
    plain = real(manual, session.engine.result)[0][0]

    # The picture changes over a few frames far from the fill's least sure frame.
    count = session.frame_count
    bump = 8 if abs(plain - 8) > 4 else 24
    desc = np.zeros((count, 3), np.float32)
    desc[bump - 1 : bump + 2, 0] = 5.0
    session.video_descriptors = desc
    expected = real(manual, session.engine.result, video=desc)[0][0]
    assert abs(expected - bump) <= 1 and expected != plain

    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_N)
    assert session.frame == expected
    assert calls and calls[-1] is desc
    assert "video" in window.statusBar().currentMessage()


def test_descriptors_arrive_from_the_feature_cache_in_the_background(
    qtbot, window, figure_video
) -> None:
    video, _ = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    # No cache and no backbone run: nothing arrives, N ranks by the fill alone.
    video_ranking.start(window, session, compute=False)
    assert window.tasks.wait_idle(60)
    assert session.video_descriptors is None
    # Features cached (as K-FPN proposals leave them): the descriptors arrive.
    with reading(video) as source:
        fingerprint, count = source.fingerprint, source.frame_count
    rng = np.random.default_rng(0)
    save_cached(cache_path(fingerprint, DEFAULT_BACKBONE), rng.normal(size=(count, 4, 7, 7)))
    video_ranking.start(window, session, compute=False)
    assert window.tasks.wait_idle(60)
    assert session.video_descriptors is not None
    assert session.video_descriptors.shape == (count, 36)
    assert "video" in window.statusBar().currentMessage()


def test_a_second_request_while_the_backbone_runs_starts_no_second_reading(
    qtbot, window, figure_video, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Propose Frames finishing while the run started on open still reads the video used to
    start a second reading of the same video (twice the CPU, the message twice)."""
    import threading

    from annotator.proposal import ranking_video

    video, _ = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    release = threading.Event()
    calls: list[bool] = []
    desc = np.ones((session.frame_count, 36), np.float32)

    def slow(path, compute, progress, should_stop):  # type: ignore[no-untyped-def]
        calls.append(compute)
        release.wait(30)
        return desc

    monkeypatch.setattr(ranking_video, "ranking_descriptors", slow)
    first = video_ranking.start(window, session)  # on open: a short video runs the backbone
    assert first is not None
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=10000)
    # What Propose Frames (kfpn) asks when it finishes.
    assert video_ranking.start(window, session, compute=False) is None
    assert [t.name for t in window.tasks.running] == [video_ranking.TASK_NAME]
    release.set()
    assert window.tasks.wait_idle(30)
    assert calls == [True]
    assert session.video_descriptors is desc
    # Once it is done, a later request reads again (here: nothing to do, they are ready).
    assert video_ranking.start(window, session, compute=False) is None
    session.video_descriptors = None
    assert video_ranking.start(window, session, compute=False) is not None
    assert window.tasks.wait_idle(30)
    assert calls == [True, False]
