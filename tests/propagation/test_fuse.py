"""``hpim+mv``: falls back to hpim exactly without fields, uses the video when it has one, and
the propagation registry takes another method."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from annotator.core.codes import Source
from annotator.dynamics.base import Observations
from annotator.dynamics.fill import fill_track
from annotator.errors import UsageError
from annotator.propagation import LiveFill, VideoSource, fill_with
from annotator.propagation.registry import get, names, register
from annotator.video.motion import extract_motion
from tests.propagation.scenes import FRAMES, encode_rotation, labels_at, rotation_truth

POINTS = np.array([[178.0, 96.0], [128.0, 46.0], [93.0, 131.0]])


def test_without_fields_hpim_mv_is_hpim_exactly_and_mv_refuses() -> None:
    man = labels_at(rotation_truth, POINTS, [0, 10, 20, FRAMES - 1])
    plain = fill_track(man, "hpim", fps=25.0)
    fused = fill_with(man, VideoSource(), "hpim+mv", fps=25.0)
    assert np.array_equal(fused.poses, plain.poses, equal_nan=True)
    assert np.array_equal(fused.source, plain.source)
    assert fused.variance is not None and plain.variance is not None
    assert np.array_equal(fused.variance, plain.variance, equal_nan=True)
    live = LiveFill("hpim+mv", VideoSource(), fps=25.0)
    assert np.array_equal(live.reset(man).poses, plain.poses, equal_nan=True)
    with pytest.raises(UsageError, match="motion fields"):
        fill_with(man, VideoSource(), "mv")


def test_hpim_mv_follows_the_video_where_hpim_cannot(tmp_path: Path) -> None:
    fields = extract_motion(encode_rotation(tmp_path / "disc.mp4", "h264"), use_cache=False)
    man = labels_at(rotation_truth, POINTS, [0, FRAMES - 1])
    truth = np.stack([rotation_truth(POINTS, t) for t in range(FRAMES)])
    hpim = fill_track(man, "hpim", fps=25.0)
    fused = fill_with(man, VideoSource(fields=fields), "hpim+mv", fps=25.0)
    err_h = np.hypot(*(hpim.poses[:, :, :2] - truth).T).max()
    err_f = np.hypot(*(fused.poses[:, :, :2] - truth).T).max()
    assert err_f < 3.0 < err_h
    assert (fused.source[1:-1] == Source.HPIM_MV).all()
    assert fused.variance is not None and hpim.variance is not None
    # the video's evidence shrinks the uncertainty, in the same units
    assert (fused.variance[1:-1] < hpim.variance[1:-1]).all()


class _Oracle:
    """A 'tracker' that knows the truth: a registered method like a user's point tracker."""

    name = "oracle-test"
    needs_fields = False

    def propagate(
        self,
        manual: Any,
        source: VideoSource,
        only: Sequence[tuple[int, int]] | None = None,
        into: Observations | None = None,
    ) -> Observations:
        xy = np.stack([rotation_truth(POINTS, t) for t in range(len(manual))])
        return Observations(xy, np.full(xy.shape[:2], 0.01))


def test_a_registered_propagation_method_fills() -> None:
    register(_Oracle())
    assert "oracle-test" in names() and "mv" in names()
    assert get("oracle-test").needs_fields is False
    man = labels_at(rotation_truth, POINTS, [0, FRAMES - 1])
    res = fill_with(man, VideoSource(), "hpim+mv", propagator="oracle-test", fps=25.0)
    truth = np.stack([rotation_truth(POINTS, t) for t in range(FRAMES)])
    assert np.hypot(*(res.poses[:, :, :2] - truth).T).max() < 0.5
    with pytest.raises(UsageError, match="unknown propagation method"):
        get("no-such-method")


def test_fill_command_on_a_mat_file_with_the_video(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scipy.io import savemat

    from annotator.cli import main

    video = encode_rotation(tmp_path / "disc.mp4", "h264")
    truth = np.stack([rotation_truth(POINTS, t) for t in range(FRAMES)])
    x = np.full((FRAMES, 13), 10.0)
    y = np.full((FRAMES, 13), 10.0)
    x[:, :3], y[:, :3] = truth[:, :, 0], truth[:, :, 1]
    mat = tmp_path / "labels.mat"
    savemat(
        str(mat),
        {
            "x": x,
            "y": y,
            "visibility": np.ones((FRAMES, 13), dtype=np.uint8),
            "bbox": np.tile([0.0, 0.0, 255.0, 191.0], (FRAMES, 1)),
            "dimensions": np.array([192, 256, FRAMES]),
            "nframes": FRAMES,
        },
    )
    out = tmp_path / "fill.npz"
    base = ["fill", str(mat), "--keep-frames", f"0,{FRAMES - 1}", "--out", str(out)]
    assert main([*base, "--method", "hpim+mv", "--video", str(video)]) == 0
    z = np.load(out)
    assert "variance" in z and z["held"].shape == (FRAMES, 13)
    assert (z["source"][1:-1, :3] == Source.HPIM_MV).all()
    err = np.hypot(*(z["poses"][:, :3, :2] - truth).T).max()
    assert err < 3.0
    assert main([*base, "--method", "mv"]) == 2
    assert main([*base, "--method", "hpim+mv"]) == 0
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert err_lines[0].startswith("annotator: error:") and "--video" in err_lines[0]
    assert "filling with hpim" in err_lines[1]
    assert (np.load(out)["source"][1:-1, :3] == Source.HPIM).all()


def test_the_ranking_and_review_flags_read_the_fused_variance(tmp_path: Path) -> None:
    from annotator.dynamics.ranking import flag_for_review, rank_next_frames

    fields = extract_motion(encode_rotation(tmp_path / "disc.mp4", "h264"), use_cache=False)
    man = labels_at(rotation_truth, POINTS, [0, 15, FRAMES - 1])
    fused = fill_with(man, VideoSource(fields=fields), "hpim+mv", fps=25.0)
    plain = fill_track(man, "hpim", fps=25.0)
    ranked = rank_next_frames(man, fused)
    assert ranked and all(np.isfinite(score) and score > 0 for _, score in ranked)
    assert {f for f, _ in ranked} <= set(range(1, 15)) | set(range(16, FRAMES - 1))
    # the video's evidence lowers the expected gain of labelling, and the review flags follow
    assert ranked[0][1] < rank_next_frames(man, plain)[0][1]
    assert flag_for_review(fused, 100.0).sum() <= flag_for_review(plain, 100.0).sum()


def test_live_fill_one_joint_update_equals_the_all_joint_update(tmp_path: Path) -> None:
    """A drag's update names its joint and refills just it: the fill must equal the update
    that refills every joint."""
    fields = extract_motion(encode_rotation(tmp_path / "disc.mp4", "h264"), use_cache=False)
    man = labels_at(rotation_truth, POINTS, [0, 20, FRAMES - 1])
    both = [LiveFill("hpim+mv", VideoSource(fields=fields), fps=25.0) for _ in range(2)]
    for live in both:
        live.reset(man)
    man[9, 1, :2] = rotation_truth(POINTS, 9)[1] + 2.0
    man[9, 1, 2] = 1
    both[0].update(man, (9, 9))
    both[1].update(man, (9, 9), joints=(1,))
    for name in ("poses", "source", "held", "variance"):
        assert np.array_equal(
            getattr(both[0].result, name), getattr(both[1].result, name), equal_nan=True
        ), name


def test_joints_placed_one_at_a_time_fill_as_the_whole_frame_at_once(data_dir: Path) -> None:
    """Each click's update names its joint; the walks from a frame are sized by the body
    labelled there, which each click changes, so the order of the clicks must not show in
    the fill (the joints placed first kept walks sized by the partial body: 123 px apart
    here). A real clip, whose field is not one rigid motion, with its reference's joints."""
    from annotator.video.motion_cache import open_motion

    video = data_dir / "videos" / "hybrik_taiji.mp4"
    fields = open_motion(video)  # the codec's vectors: a few seconds, cached
    penn = [0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]  # of BlazePose's landmarks
    with np.load(data_dir / "realgt" / "hybrik_taiji.npz") as ref:
        truth = np.asarray(ref["xy"], dtype=np.float64)[:, penn]
    man = np.full((len(fields), len(penn), 3), np.nan)
    man[:, :, 2] = 0
    for f in (100, 300):
        man[f, :, :2], man[f, :, 2] = truth[f], 1
    live = LiveFill("hpim+mv", VideoSource(video=video, fields=fields), fps=25.0)
    live.reset(man)
    for j in range(len(penn)):  # clicks on frame 200
        man[200, j, :2], man[200, j, 2] = truth[200, j], 1
        live.update(man, (200, 200), joints=(j,))
    fresh = LiveFill("hpim+mv", VideoSource(video=video, fields=fields), fps=25.0)
    fresh.reset(man)
    for name in ("poses", "source", "held", "variance"):
        assert np.array_equal(
            getattr(live.result, name), getattr(fresh.result, name), equal_nan=True
        ), name


class _Offset:
    """A propagator that reports the truth moved by ``shift`` px in x, all with one variance."""

    needs_fields = False

    def __init__(self, name: str, shift: float) -> None:
        self.name = name
        self.shift = shift

    def propagate(
        self,
        manual: Any,
        source: VideoSource,
        only: Sequence[tuple[int, int]] | None = None,
        into: Observations | None = None,
    ) -> Observations:
        xy = np.stack([rotation_truth(POINTS, t) for t in range(len(manual))])
        xy[..., 0] += self.shift
        return Observations(xy, np.full(xy.shape[:2], 100.0))


def test_fused_variance_grows_where_the_video_and_hpim_disagree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from annotator.propagation import fuse

    register(_Offset("right-test", 0.0))
    register(_Offset("wrong-test", 40.0))
    man = labels_at(rotation_truth, POINTS, [0, 12, FRAMES - 1])
    right = fill_with(man, VideoSource(), "hpim+mv", propagator="right-test", fps=25.0)
    wrong = fill_with(man, VideoSource(), "hpim+mv", propagator="wrong-test", fps=25.0)
    assert right.variance is not None and wrong.variance is not None
    inside = np.r_[1:12, 13 : FRAMES - 1]
    # same reported variance, but the wrong observations pull away from HPIM's prior
    assert (wrong.variance[inside] > right.variance[inside] + 10.0).all()
    for res in (right, wrong):
        assert (res.variance[[0, 12, FRAMES - 1]] == 0).all()  # labels stay certain
        assert np.array_equal(res.poses[[0, 12]], man[[0, 12]].astype(np.float32))
    # the term is only in the variance: without it the positions are the same
    monkeypatch.setattr(fuse, "CONFLICT", 0.0)
    plain = fill_with(man, VideoSource(), "hpim+mv", propagator="wrong-test", fps=25.0)
    assert np.array_equal(plain.poses, wrong.poses, equal_nan=True)
    assert plain.variance is not None
    assert (plain.variance[inside] < wrong.variance[inside]).all()


def test_sure_predicted_joints_between_two_labels_restart_the_walks(data_dir: Path) -> None:
    """Prefill's joints between two labels are observations the fill weighs; the walks must
    still start and end at the sure ones (``waypoints``) rather than cross the whole gap
    between the labels: once the user confirmed the first and the last frame, the walks'
    drift outweighed the estimates (taiji median 7 px became 16 px in the app)."""
    from annotator.estimation.prefill import predicted_observations
    from annotator.video.motion_cache import open_motion

    video = data_dir / "videos" / "hybrik_taiji.mp4"
    fields = open_motion(video)
    penn = [0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
    with np.load(data_dir / "realgt" / "hybrik_taiji.npz") as ref:
        truth = np.asarray(ref["xy"], dtype=np.float64)[:, penn]
    f, j = truth.shape[:2]
    man = np.full((f, j, 3), np.nan)
    man[:, :, 2] = 0
    ends = [0, f - 1]
    man[ends, :, :2], man[ends, :, 2] = truth[ends], 1
    keys = list(range(25, f - 1, 25))
    pred = np.full((f, j, 3), np.nan)
    pred[:, :, 2] = 0
    pred[keys, :, :2], pred[keys, :, 2] = truth[keys], 1
    obs = predicted_observations(pred, np.where(pred[:, :, 2] > 0, 0.9, np.nan))
    source = VideoSource(video=video, fields=fields)
    fused = fill_with(man, source, "hpim+mv", fps=25.0, predicted=obs)
    anchored = man.copy()
    anchored[keys] = pred[keys]  # the same estimates taken as labels
    reference = fill_with(anchored, source, "hpim+mv", fps=25.0)
    rest = np.setdiff1d(np.arange(f), ends + keys)

    def median_error(result: Any) -> float:
        return float(np.median(np.linalg.norm(result.poses[rest, :, :2] - truth[rest], axis=2)))

    assert median_error(fused) <= 1.2 * median_error(reference)
    live = LiveFill("hpim+mv", source, fps=25.0)
    live.set_predicted(obs)
    live.reset(man)
    assert np.allclose(live.result.poses, fused.poses, equal_nan=True)
    man[200, 3, :2] += 4.0  # a drag on a frame between: the walks stay restarted
    man[200, 3, 2] = 1
    live.update(man, (200, 200), joints=(3,))
    fresh = LiveFill("hpim+mv", source, fps=25.0)
    fresh.set_predicted(obs)
    fresh.reset(man)
    assert np.allclose(live.result.poses, fresh.result.poses, equal_nan=True)
