"""Tools > Prefill carries a far key frame's region along the video's codec motion store, as
``annotator estimate`` does: one detector call for the first proposed frame, the others
carried; without the store, the detector on each. The estimator's own counters
(``Estimates.detector_calls``, ``carried``) say which ran."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from annotator.core import commands as cmd
from annotator.core.codes import Source, Visibility
from annotator.estimation import registry
from annotator.estimation.blazepose import BlazePose, Estimates
from annotator.gui import prefill
from annotator.video.motion_cache import open_motion
from tests.gui.conftest import open_and_wait
from tests.gui.test_prefill import FakeEstimator


class CountingBlazePose(BlazePose):
    """BlazePose that keeps each run's ``Estimates`` (its call counters) for the test."""

    runs: ClassVar[list[Estimates]] = []

    def run(self, video, frames, progress=None, should_stop=None) -> Estimates:
        est = super().run(video, frames, progress, should_stop)
        CountingBlazePose.runs.append(est)
        return est


def _prefill(window) -> None:
    window.actions_by_id["prefill"].trigger()
    assert window.tasks.wait_idle(180)
    assert not window.reporter.errors, window.reporter.errors


def test_prefill_carries_the_regions_along_the_motion_store_of_a_real_clip(
    qtbot, window, monkeypatch, data_dir: Path
) -> None:
    """Five proposed frames of a real clip: without the motion store, five detector calls;
    with it, one, and four regions carried, landing where the detector's run put the joints
    (within a few % of the body's size); each run one undo step."""
    pytest.importorskip("ai_edge_litert")
    video = data_dir / "videos" / "mmhuman3d_single_person_demo.mp4"
    monkeypatch.setattr(CountingBlazePose, "runs", [])
    monkeypatch.setitem(registry.ESTIMATORS, prefill.ESTIMATOR, CountingBlazePose)
    open_and_wait(qtbot, window, video)
    session = window.session
    frames = [0, 8, 16, 24, 32]
    session.accept_proposals(np.array(frames), None, "uniform")
    assert session.fields is None

    _prefill(window)  # no motion store yet: the detector on every frame
    (detected,) = CountingBlazePose.runs
    assert detected.detector_calls == 5 and not detected.carried.any()
    assert "carried" not in window.statusBar().currentMessage()
    by_detector = session.doc.predicted(0)[frames].copy()
    assert session.history.undo_text == "Prefill 5 frames"
    window.actions_by_id["undo"].trigger()
    assert session.doc.predicted_frames(0).size == 0

    # the codec motion store arrives, as the extraction on open hands it over
    session.set_motion(open_motion(video))
    assert session.fields is not None and session.fields.kind == "mv"
    _prefill(window)
    carried = CountingBlazePose.runs[1]
    assert carried.detector_calls == 1
    assert carried.carried.tolist() == [False, True, True, True, True]
    assert carried.landmark_calls < detected.landmark_calls
    message = window.statusBar().currentMessage()
    assert "the 5 proposed frames" in message and "4 regions carried along the motion" in message
    # document -> widgets: the predicted joints are drawn
    doc = session.doc
    assert doc.predicted_frames(0).tolist() == frames
    session.go_to(16)
    assert (window.frame_view.overlay.pose.source == Source.PREDICTED).all()

    # the carried joints land near the detector's: within a few % of the body's size
    now = doc.predicted(0)[frames]
    both = (now[..., 2] == Visibility.VISIBLE) & (by_detector[..., 2] == Visibility.VISIBLE)
    assert both.sum() >= 0.8 * both.size
    xy = by_detector[..., :2]
    body = np.nanmax(xy, axis=1) - np.nanmin(xy, axis=1)
    size = np.hypot(body[:, 0], body[:, 1])  # the diagonal of each frame's joint box
    miss = np.linalg.norm(now[..., :2] - xy, axis=-1) / size[:, None]
    assert np.median(miss[both]) < 0.02 and np.percentile(miss[both], 90) < 0.05

    # the whole run is one undo step
    assert session.history.undo_text == "Prefill 5 frames"
    window.actions_by_id["undo"].trigger()
    assert doc.predicted_frames(0).size == 0 and doc.proposals is not None
    window.actions_by_id["redo"].trigger()
    np.testing.assert_array_equal(doc.predicted(0)[frames], now)


class RecordingEstimator(FakeEstimator):
    """The fake estimator of ``test_prefill``, keeping the options it was made with."""

    options: ClassVar[list[dict[str, object]]] = []

    def __init__(self, **options: object) -> None:
        RecordingEstimator.options.append(options)


def test_prefill_hands_the_estimator_a_walk_only_with_the_codec_store(
    qtbot, window, monkeypatch, figure_video
) -> None:
    """No store: no walk (the detector). The codec store: a walk that moves points along it
    and refuses to cross the document's scene cuts."""
    path, truth = figure_video
    monkeypatch.setattr(FakeEstimator, "truth", truth)
    monkeypatch.setattr(RecordingEstimator, "options", [])
    monkeypatch.setitem(registry.ESTIMATORS, "recording", RecordingEstimator)
    monkeypatch.setattr(prefill, "ESTIMATOR", "recording")
    open_and_wait(qtbot, window, path)
    session = window.session
    session.accept_proposals(np.array([5, 20, 35]), None, "uniform")

    _prefill(window)
    assert RecordingEstimator.options == [{}]

    session.set_motion(open_motion(path))
    points = np.asarray(truth[5], dtype=np.float64)
    before_cut = prefill.motion_carry(session)
    assert before_cut is not None and before_cut(20, 35, points) is not None
    session.push(cmd.SetSceneCut(30))
    _prefill(window)
    walk = RecordingEstimator.options[1]["carry"]
    assert callable(walk)
    moved = walk(5, 20, points)
    assert moved is not None and moved.shape == points.shape
    # the figure walks: the carried points follow it better than standing still
    assert np.nanmedian(np.linalg.norm(moved - truth[20], axis=1)) < np.median(
        np.linalg.norm(points - truth[20], axis=1)
    )
    assert walk(20, 35, points) is None  # across the scene cut at 30
    assert prefill.motion_carry(session) is not None
