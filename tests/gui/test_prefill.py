"""Tools > Prefill: the estimator's joints arrive as predicted joints with their confidence, in
one undo step, drawn apart, flagged when unsure, made manual by a drag or by accepting the
frame, fed to the fill and to the N ranking; failures and cancel reach the user. A fake
estimator registered by name stands in for BlazePose (one test runs the real one)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore

from annotator.core import commands as cmd
from annotator.core.codes import Source, Visibility
from annotator.core.progress import check_stop, report
from annotator.dynamics.fill import FillEngine
from annotator.errors import UsageError
from annotator.estimation import registry
from annotator.estimation.blazepose import Estimates
from annotator.gui import prefill
from tests.gui.conftest import drag_image, open_and_wait

# BlazePose landmarks of the Penn Action joints (``estimation.mapping``)
PENN = [0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
OFFSET = np.array([1.5, -1.0])  # the fake estimator's error, px
L_WRIST = 5  # the joint the fake estimator is unsure of


class FakeEstimator:
    """The figure's true joints plus ``OFFSET``; visibility 0.9, L-wrist 0.2."""

    truth: np.ndarray = np.zeros((0, 13, 2))

    def __init__(self, **options: object) -> None:
        pass

    def run(self, video, frames, progress=None, should_stop=None) -> Estimates:
        todo = np.unique(np.asarray(list(frames), dtype=np.int64))
        k = len(todo)
        xy = np.full((k, 33, 2), np.nan)
        vis = np.zeros((k, 33))
        height = width = 0
        for row, f in enumerate(todo):
            check_stop(should_stop, "pose estimation")
            height, width = video.frame(int(f)).shape[:2]
            xy[row, PENN] = self.truth[f] + OFFSET
            vis[row, PENN] = 0.9
            vis[row, PENN[L_WRIST]] = 0.2
            report(progress, row + 1, k)
        return Estimates(
            frames=todo,
            xy=xy,
            z=np.zeros((k, 33)),
            visibility=vis,
            presence=np.ones((k, 33)),
            pose_flag=np.ones(k),
            roi=np.full((k, 4), np.nan),
            detected=np.ones(k, dtype=bool),
            width=width,
            height=height,
        )


@pytest.fixture
def fake(monkeypatch, figure_video):
    _video, truth = figure_video
    FakeEstimator.truth = truth
    monkeypatch.setitem(registry.ESTIMATORS, "fake", FakeEstimator)
    monkeypatch.setattr(prefill, "ESTIMATOR", "fake")
    return truth


def _run(qtbot, window, keys: bool = False) -> None:
    if keys:
        window.frame_view.setFocus()
        mods = QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier
        qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_P, mods)
    else:
        window.actions_by_id["prefill"].trigger()
    assert window.tasks.wait_idle(30)
    assert not window.reporter.errors, window.reporter.errors


def _label(session, truth, frame: int) -> None:
    session.go_to(frame)
    session.set_joint(0)
    for j in range(truth.shape[1]):
        session.place(*truth[frame, j])


def test_prefill_of_the_proposed_frames_is_one_undo_step(qtbot, window, fake, figure_video) -> None:
    truth = fake
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.accept_proposals(np.array([5, 10, 15]), None, "uniform")
    session.push(cmd.MarkReviewed(10, 11, "me"))  # reviewed before: to review again
    _run(qtbot, window)
    doc = session.doc
    assert "the 3 proposed frames" in window.statusBar().currentMessage()
    assert 10 not in doc.reviews
    assert doc.predicted_frames(0).tolist() == [5, 10, 15]
    assert np.allclose(doc.predicted(0)[10, :, :2], truth[10] + OFFSET, atol=1e-3)
    assert (doc.predicted(0)[10, :, 2] != Visibility.UNLABELLED).all()
    assert doc.predicted(0)[10, L_WRIST, 2] == Visibility.OCCLUDED  # BlazePose's < 0.5
    assert np.isclose(doc.confidence(0)[10, 0], 0.9) and np.isclose(doc.confidence(0)[10, 5], 0.2)
    assert (doc.manual(0)[:, :, 2] == Visibility.UNLABELLED).all()  # no label was written
    # low confidence flagged, naming the joint
    assert set(doc.flags) == {5, 10, 15} and "L-wrist" in doc.flags[10]
    # document -> widgets: the frame shows the predicted joints, drawn as predicted
    session.go_to(10)
    pose = window.frame_view.overlay.pose
    assert (pose.source == Source.PREDICTED).all()
    assert np.allclose(pose.xy, truth[10] + OFFSET, atol=1e-3)
    assert window.joint_list.state_text(0)[1] == "predicted"
    # the whole run is one undo step, flags included
    assert session.history.undo_text == "Prefill 3 frames"
    window.actions_by_id["undo"].trigger()
    assert doc.predicted_frames(0).size == 0 and doc.flags == {}
    assert 10 in doc.reviews  # the step before is still there
    assert (window.frame_view.overlay.pose.source != Source.PREDICTED).all()
    window.actions_by_id["redo"].trigger()
    assert doc.predicted_frames(0).tolist() == [5, 10, 15]


def test_the_fill_dock_counts_predictions_after_prefill_and_its_undo(
    qtbot, window, fake, figure_video
) -> None:
    """Prefill over frames the fill already covers changes no frame's status, yet the Fill
    dock's counts follow it, and its undo; a labelled frame with predictions is counted once."""
    truth = fake
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    n = session.frame_count
    _label(session, truth, 0)
    _label(session, truth, n - 1)
    info = window.fill_panel.info
    assert info.text().startswith(f"2 labelled frames; {n - 2} filled live")
    session.accept_proposals(np.array([0, 5, 10, 15]), None, "uniform")
    _run(qtbot, window)
    # frame 0 is labelled: its prediction does not make it a predicted frame in the counts
    assert info.text().startswith(f"2 labelled frames, 3 predicted; {n - 5} filled live")
    window.actions_by_id["undo"].trigger()
    assert info.text().startswith(f"2 labelled frames; {n - 2} filled live")


def test_prefill_without_proposals_runs_on_the_current_frame_by_shortcut(
    qtbot, window, fake, figure_video
) -> None:
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.go_to(7)
    _run(qtbot, window, keys=True)
    assert session.doc.predicted_frames(0).tolist() == [7]
    message = window.statusBar().currentMessage()
    assert message.startswith("Prefilled frame 7") and "flagged for review" in message


def test_dragging_a_predicted_joint_makes_it_manual_and_accept_takes_the_rest(
    qtbot, window, fake, figure_video
) -> None:
    truth = fake
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.go_to(12)
    _run(qtbot, window)
    start = tuple(truth[12, 0] + OFFSET)
    drag_image(window, start, (start[0] + 6, start[1] + 4))
    x, y, vis = session.doc.label(0, 12, 0)
    assert vis == Visibility.VISIBLE and abs(x - start[0] - 6) < 1.0 and abs(y - start[1] - 4) < 1.0
    pose = window.frame_view.overlay.pose
    assert pose.source[0] == Source.MANUAL and (pose.source[1:] == Source.PREDICTED).all()
    assert session.history.undo_text == "Move head"  # one step for the drag
    window.actions_by_id["undo"].trigger()
    assert window.frame_view.overlay.pose.source[0] == Source.PREDICTED
    window.actions_by_id["redo"].trigger()
    # accepting the frame turns the other predicted joints into manual labels, one step
    window.actions_by_id["accept_fill"].trigger()
    manual = session.doc.manual(0)[12]
    assert (manual[:, 2] != Visibility.UNLABELLED).all()
    assert np.allclose(manual[1:, :2], truth[12, 1:] + OFFSET, atol=1e-3)
    assert manual[L_WRIST, 2] == Visibility.OCCLUDED
    assert (window.frame_view.overlay.pose.source == Source.MANUAL).all()
    window.actions_by_id["undo"].trigger()
    assert (session.doc.manual(0)[12, 1:, 2] == Visibility.UNLABELLED).all()


def test_predicted_joints_feed_the_fill_and_the_ranking(qtbot, window, fake, figure_video) -> None:
    truth = fake
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.set_method("hpim")
    _label(session, truth, 0)
    _label(session, truth, 39)
    before = np.array(session.result.poses)
    # a command on the document (not the action): the views and the fill follow
    far = np.array(session.result.poses[20:21])
    far[0, :, 1] += 25.0  # 25 px below the fill
    conf = np.full((1, 13), 0.95, dtype=np.float32)
    session.push(cmd.SetPredicted([20], far, conf))
    result = session.result
    assert (result.source[20] == Source.PREDICTED).all()
    assert np.allclose(result.poses[20, :, 1], far[0, :, 1], atol=1e-3)  # to 1/1000 px
    assert result.confidence is not None and np.allclose(result.confidence[20], 0.95)
    assert np.isnan(result.confidence[19]).all()
    # the neighbours are pulled toward the prediction (hpim weighs it), the labels exact
    assert (result.poses[19, :, 1] - before[19, :, 1] > 10.0).all()
    assert np.array_equal(result.poses[[0, 39]], before[[0, 39]])
    session.go_to(20)
    assert (window.frame_view.overlay.pose.source == Source.PREDICTED).all()
    # N prefers the unsure prediction: frame 10 sure, frame 30 unsure
    both = np.array(session.result.poses[[10, 30]])
    session.push(cmd.SetPredicted([10, 30], both, np.array([[0.95] * 13, [0.1] * 13])))
    order = [f for f, _gain in session.rank_to_label(top=None)]
    assert order.index(30) < order.index(10)
    # undo: the fill is the labels' alone again
    session.undo()
    session.undo()
    assert np.allclose(session.result.poses, before, equal_nan=True)
    assert session.result.confidence is None


def test_a_failing_estimator_reaches_the_user_and_changes_nothing(
    qtbot, window, monkeypatch, figure_video
) -> None:
    class Missing:
        def __init__(self, **options: object) -> None:
            raise UsageError(
                "the pose estimator needs the ai-edge-litert package: pip install ai-edge-litert"
            )

    monkeypatch.setitem(registry.ESTIMATORS, "missing", Missing)
    monkeypatch.setattr(prefill, "ESTIMATOR", "missing")
    open_and_wait(qtbot, window, figure_video[0])
    window.actions_by_id["prefill"].trigger()
    assert window.tasks.wait_idle(30)
    assert window.reporter.errors == [
        "the pose estimator needs the ai-edge-litert package: pip install ai-edge-litert"
    ]
    window.reporter.errors.clear()
    assert window.session.doc.predicted_frames(0).size == 0
    assert not window.session.history.can_undo


def test_cancel_leaves_the_document_as_it_was(qtbot, window, monkeypatch, figure_video) -> None:
    started = threading.Event()

    class Slow(FakeEstimator):
        def run(self, video, frames, progress=None, should_stop=None):
            started.set()
            for _ in range(3000):
                check_stop(should_stop, "pose estimation")
                threading.Event().wait(0.01)
            raise AssertionError("never cancelled")

    monkeypatch.setitem(registry.ESTIMATORS, "slow", Slow)
    monkeypatch.setattr(prefill, "ESTIMATOR", "slow")
    open_and_wait(qtbot, window, figure_video[0])
    window.actions_by_id["prefill"].trigger()
    assert started.wait(10)
    assert window.cancel_button.isVisible()
    running = len(window.tasks.running)
    window.actions_by_id["prefill"].trigger()  # pressed again: the same frames, not twice
    assert "Prefill is running already" in window.statusBar().currentMessage()
    assert len(window.tasks.running) == running
    window.actions_by_id["cancel_tasks"].trigger()
    assert window.tasks.wait_idle(30)
    assert window.statusBar().currentMessage() == "Prefill cancelled: nothing changed"
    assert not window.reporter.errors and not window.session.history.can_undo
    assert window.session not in prefill._RUNNING  # the next press runs


def test_real_blazepose_prefills_a_real_frame(qtbot, window, data_dir: Path) -> None:
    """The shipped estimator, end to end, on frame 0 of a real clip: every joint on the body
    (inside the reference's landmark box, padded by 10 %), with confidence in 0..1."""
    pytest.importorskip("ai_edge_litert")
    video = data_dir / "videos" / "hybrik_taiji.mp4"
    ref = np.load(data_dir / "realgt" / "hybrik_taiji.npz")["xy"][0]
    open_and_wait(qtbot, window, video)
    session = window.session
    assert session.skeleton.name == "penn_action"
    window.actions_by_id["prefill"].trigger()
    assert window.tasks.wait_idle(120)
    assert not window.reporter.errors, window.reporter.errors
    pred = session.doc.predicted(0)[0]
    conf = session.doc.confidence(0)[0]
    assert (pred[:, 2] != Visibility.UNLABELLED).all()
    lo, hi = ref.min(axis=0), ref.max(axis=0)
    pad = 0.1 * (hi - lo)
    xy = pred[:, :2]
    assert ((xy >= lo - pad) & (xy <= hi + pad)).all()
    assert ((conf >= 0) & (conf <= 1)).all()
    assert (window.frame_view.overlay.pose.source == Source.PREDICTED).all()


def test_hpim_mv_weighs_predicted_with_the_motion(qtbot, window, figure_video) -> None:
    """With motion fields the live hpim+mv fill fuses the predicted joints with the
    propagated ones, equal to the one-shot fill given the same predictions, also after an
    edit updates it in place."""
    from annotator.estimation.prefill import predicted_observations
    from annotator.gui import motion
    from annotator.propagation import fill_with
    from annotator.propagation.registry import VideoSource

    video, truth = figure_video
    window.extract_motion_on_open = True
    open_and_wait(qtbot, window, video)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=120_000)
    session = window.session
    assert session.method == "hpim+mv" and session.fields is not None
    assert session.fill_fields is not None  # the optical flow the fill walks

    def label(frame: int) -> None:
        values = np.concatenate([truth[frame], np.ones((13, 1))], axis=1)
        session.push(cmd.SetLabels(frame, values[None].astype(np.float32)))

    label(5)
    label(30)
    before = np.array(session.engine.result.poses)
    guess = np.array(session.result.poses[17:18])
    guess[0, :, 0] += 12.0
    session.push(cmd.SetPredicted([17], guess, np.full((1, 13), 0.9, dtype=np.float32)))
    live = session.engine.result
    assert (live.source[16] == Source.HPIM_MV).all()
    pull = live.poses[16, :, 0] - before[16, :, 0]  # toward the guess, against sure motion
    assert (pull > 0.5).all() and pull.mean() > 3.0
    assert (session.result.source[17] == Source.PREDICTED).all()

    def one_shot() -> np.ndarray:
        obs = predicted_observations(session.doc.predicted(0), session.doc.confidence(0))
        source = VideoSource(video, session.fill_fields)
        return fill_with(session.manual(), source, "hpim+mv", fps=session.fps, predicted=obs).poses

    np.testing.assert_allclose(live.poses[6:30], one_shot()[6:30], atol=1e-3, equal_nan=True)
    label(11)  # an edit: the live fill updates its span, predictions still weighed
    np.testing.assert_allclose(
        session.engine.result.poses[6:30], one_shot()[6:30], atol=1e-3, equal_nan=True
    )


def test_the_frames_to_prefill_are_a_span_else_the_proposals_else_this_frame(
    qtbot, window, figure_video
) -> None:
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.go_to(3)
    assert prefill.target_frames(session) == ([3], "frame 3")
    assert prefill.target_frames(session, (8, 11)) == ([8, 9, 10], "frames 8–10")
    session.accept_proposals(np.array([2, 30]), None, "uniform")
    assert prefill.target_frames(session) == ([2, 30], "the 2 proposed frames")
    # A selection is the user's latest, explicit choice: it comes before the proposals.
    assert prefill.target_frames(session, (8, 11)) == ([8, 9, 10], "frames 8–10")


@pytest.mark.usefixtures("fake")
def test_prefill_leaves_labelled_frames_and_the_users_joints_alone(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    """Frames labelled whole are not estimated again (the estimate lay hidden under the
    labels and flagged them for review), and a joint the user placed is never flagged."""
    truth = figure_video[1]
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.accept_proposals(np.array([5, 10, 15]), None, "uniform")
    _label(session, truth, 5)
    session.go_to(10)
    session.set_joint(L_WRIST)  # the joint the fake estimator is unsure of, placed by hand
    session.place(*truth[10, L_WRIST])
    frames, what = prefill.target_frames(session)
    assert frames == [10, 15] and what == "the 3 proposed frames (1 labelled left out)"
    _run(qtbot, window)
    doc = session.doc
    assert doc.predicted_frames(0).tolist() == [10, 15]
    assert set(doc.flags) == {15}  # frame 10's only unsure joint is the user's
    _label(session, truth, 10)
    _label(session, truth, 15)
    undo_count = session.history.undo_count
    assert prefill.start(window, session) is None
    assert session.history.undo_count == undo_count
    assert "Nothing to prefill: the 3 proposed frames (all labelled)" in (
        window.statusBar().currentMessage()
    )


def test_a_project_with_predictions_opens_into_hpim_mv_that_weighs_them(
    qtbot, window, figure_video, tmp_path: Path
) -> None:
    """The fill prepared off the GUI thread when the motion fields arrive starts from the
    saved predictions too: it equals the one-shot hpim+mv fill given them."""
    from annotator.core.store import save_project
    from annotator.estimation.prefill import predicted_observations
    from annotator.gui import motion
    from annotator.propagation import fill_with
    from annotator.propagation.registry import VideoSource

    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    for frame in (5, 30):
        values = np.concatenate([truth[frame], np.ones((13, 1))], axis=1)
        session.push(cmd.SetLabels(frame, values[None].astype(np.float32)))
    guess = np.concatenate([truth[17] + (10.0, 0.0), np.ones((13, 1))], axis=1)[None]
    session.push(cmd.SetPredicted([17], guess, np.full((1, 13), 0.9, dtype=np.float32)))
    project = tmp_path / "p.annot.json"
    save_project(session.doc, project)
    session.mark_saved(project)

    window.extract_motion_on_open = True
    open_and_wait(qtbot, window, project)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=120_000)
    session = window.session
    assert session.method == "hpim+mv" and session.doc.predicted_frames(0).tolist() == [17]
    obs = predicted_observations(session.doc.predicted(0), session.doc.confidence(0))
    expected = fill_with(
        session.manual(),
        VideoSource(video, session.fill_fields),
        "hpim+mv",
        fps=session.fps,
        predicted=obs,
    )
    np.testing.assert_allclose(
        session.engine.result.poses[6:30], expected.poses[6:30], atol=1e-3, equal_nan=True
    )
    assert (session.result.source[17] == Source.PREDICTED).all()


def test_the_export_carries_the_predicted_joints_confidence(
    qtbot, window, fake, figure_video, tmp_path: Path
) -> None:
    from annotator.formats import registry as formats
    from annotator.gui import opening

    truth = fake
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    _label(session, truth, 0)
    _label(session, truth, 39)
    guess = np.array(session.result.poses[20:21])
    conf = np.linspace(0.2, 0.9, 13, dtype=np.float32)[None]
    session.push(cmd.SetPredicted([20], guess, conf))
    for name, file in (("csv", "all.csv"), ("dlc-csv", "dlc.csv"), ("npz", "all.npz")):
        opening.export_to(session, name, tmp_path / file)
        back = formats.get(name).read(tmp_path / file).instances[0]
        assert (back.source[20] == Source.PREDICTED).all(), name
        assert back.confidence is not None, name
        np.testing.assert_allclose(back.confidence[20], conf[0], atol=1e-4)
        assert np.isnan(back.confidence[[0, 19, 21, 39]]).all()
        assert (back.source[0] == Source.MANUAL).all()
    # the document changes, the export follows: undo the prediction, no score is written
    session.undo()
    opening.export_to(session, "csv", tmp_path / "after.csv")
    assert "confidence" not in (tmp_path / "after.csv").read_text().splitlines()[0]


# After Prefill the frames between predicted frames are filled, before the user has labelled
# anything: a predicted joint with no label of its joint on one side anchors the fill like a
# label; between two labels it stays a weighted observation (``prefill.fill_inputs``). Each
# edit that moves that line refills exactly what a fresh fill would give.


def _fresh(session):  # type: ignore[no-untyped-def]
    """What a fill built from nothing gives for the session's current labels and layer."""
    inputs = session.fill_inputs()
    engine = FillEngine(session.method, fps=session.fps, scene_cuts=session.doc.scene_cuts)
    if session.method == "hpim":  # the one labels-only fill that weighs observations
        engine.set_observations(inputs.observations)
    return engine.reset(inputs.labels).poses


def _predict_exactly(session, truth, frames: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Lay the true poses of ``frames`` as predictions (confidence 0.9), one command."""
    pose = np.array(truth[frames], dtype=np.float32)
    layer = np.concatenate([pose, np.ones((*pose.shape[:2], 1), np.float32)], axis=2)
    session.push(cmd.SetPredicted(frames, layer, np.full(pose.shape[:2], 0.9, np.float32)))


def test_prefilled_frames_fill_the_frames_between_them(qtbot, window, fake, figure_video) -> None:
    truth = fake
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.set_method("hpim")
    session.accept_proposals(np.array([5, 15, 25, 35]), None, "uniform")
    _run(qtbot, window)  # Prefill the proposed frames; no label anywhere
    assert (session.manual()[:, :, 2] == Visibility.UNLABELLED).all()
    result = session.result
    # document -> views: frame 20 (no label, no prediction) shows a filled pose, not a held
    # one: the fill the same frames labelled by hand would give, moved by the estimator's
    # error (the fill is linear and follows a shift of its labels)
    assert (result.source[20] == Source.HPIM).all() and not result.held[20].any()
    by_hand = np.full(session.manual().shape, np.nan)
    by_hand[:, :, 2] = Visibility.UNLABELLED
    by_hand[[5, 15, 25, 35], :, :2] = truth[[5, 15, 25, 35]]
    by_hand[[5, 15, 25, 35], :, 2] = Visibility.VISIBLE
    hand = FillEngine("hpim", fps=session.fps).reset(by_hand).poses[:, :, :2]
    np.testing.assert_allclose(result.poses[6:35, :, :2], hand[6:35] + OFFSET, atol=1e-3)
    session.go_to(20)
    assert (window.frame_view.overlay.pose.source == Source.HPIM).all()
    # the predicted frames show the estimator's values; outside them the pose is held
    assert (result.source[[5, 35]] == Source.PREDICTED).all()
    assert result.held[:5].all() and result.held[36:].all()
    # predictions are no labels, and the panel says what the fill runs from
    info = window.fill_panel.info.text()
    assert info.startswith("0 labelled frames, 4 predicted; 27 filled live (hpim)"), info
    assert "held (no label or prediction on one side)" in info

    # Labels at 10 and 30: the predictions at 15 and 25 are now observations between two
    # labels (the labels exact, the fill pulled toward the predictions), 5 and 35 anchors.
    _label(session, truth, 10)
    _label(session, truth, 30)
    inputs = session.fill_inputs()
    assert inputs.anchors is not None
    assert inputs.anchors[[5, 35]].all() and not inputs.anchors[[15, 25]].any()
    assert np.isfinite(inputs.observations.variance[[15, 25]]).all()
    result = session.result
    assert np.allclose(result.poses[[10, 30], :, :2], session.manual()[[10, 30], :, :2])
    np.testing.assert_allclose(
        session.engine.result.poses[:, :, :2], _fresh(session)[:, :, :2], atol=1e-6
    )
    assert (result.source[20] == Source.HPIM).all() and not result.held[7].any()

    # Undo both labels (a step per joint placed): back to the fill through the predictions
    # alone, as before them.
    for _ in range(2 * 13):
        session.undo()
    assert (session.manual()[:, :, 2] == Visibility.UNLABELLED).all()
    np.testing.assert_allclose(
        session.engine.result.poses[:, :, :2], _fresh(session)[:, :, :2], atol=1e-6
    )
    assert (session.fill_inputs().anchors[[5, 15, 25, 35]]).all()


def test_an_edit_far_from_the_predictions_refills_what_a_fresh_fill_gives(
    qtbot,
    window,
    fake,
    figure_video,
) -> None:
    truth = fake
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.set_method("hpim")
    _predict_exactly(session, truth, [3, 12, 36])
    # One label after every prediction, then one before them all: each moves which
    # predictions anchor far from the edited frame.
    for frame in (39, 0, 20):
        _label(session, truth, frame)
        np.testing.assert_allclose(
            session.engine.result.poses[:, :, :2], _fresh(session)[:, :, :2], atol=1e-6
        )
    anchors = session.fill_inputs().anchors
    assert anchors is None  # every prediction now lies between two labels


@pytest.mark.parametrize("method", ["hpim", "eq17"])  # per joint; the whole pose at once
def test_a_drag_beside_anchoring_predictions_refills_what_a_fresh_fill_gives(
    qtbot,
    window,
    fake,
    figure_video,
    method,
) -> None:
    # A drag's steps bring the last inputs up to date over the edited frames only; the
    # anchors laid into them must stay, and a joint that becomes a label must be seen.
    truth = fake
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.set_method(method)
    _predict_exactly(session, truth, [3, 12, 36])
    _label(session, truth, 20)
    assert session.fill_inputs().anchors[[3, 12, 36]].all()
    # a label moved; a filled joint made a label; a predicted joint made a label, then moved
    # again beside the other joints of its frame, which still anchor
    for frame, joint in ((20, 4), (28, 7), (12, 2), (12, 2)):
        session.go_to(frame)
        session.begin_drag(joint)
        x, y = session.result.poses[frame, joint, :2]
        for step in range(1, 5):
            session.drag(joint, float(x) + 2.0 * step, float(y) - step)
            np.testing.assert_allclose(
                session.engine.result.poses[:, :, :2], _fresh(session)[:, :, :2], atol=1e-6
            )
        session.end_drag(joint)
        assert session.manual()[frame, joint, 2] == Visibility.VISIBLE
    assert session.fill_inputs().anchors[12].sum() == 12
    for _ in range(3):  # each drag is one step: joint 7 at 28 unlabelled again
        session.undo()
        np.testing.assert_allclose(
            session.engine.result.poses[:, :, :2], _fresh(session)[:, :, :2], atol=1e-6
        )
    assert session.manual()[28, 7, 2] == Visibility.UNLABELLED


def test_labels_among_predictions_keep_a_labels_only_fill_on_the_estimates(
    qtbot, window, figure_video
) -> None:  # type: ignore[no-untyped-def]
    """linear weighs no observations: with labels at 10 and 30 among predictions on every
    other frame, frame 13 lies between the estimates of 12 and 14 (it was the line from 10 to
    30, off the estimates shown on the frames around it: a zigzag on playback)."""
    _video, truth = figure_video
    open_and_wait(qtbot, window, figure_video[0])
    session = window.session
    session.set_method("linear")
    _predict_exactly(session, truth, list(range(0, 40, 2)))
    _label(session, truth, 10)
    _label(session, truth, 30)
    poses = session.engine.result.poses
    np.testing.assert_allclose(poses[13, :, :2], (truth[12] + truth[14]) / 2, atol=1e-3)
    np.testing.assert_allclose(session.result.poses[13, :, :2], poses[13, :, :2])
