"""A far key frame's ROI carried along the motion field instead of found by the detector."""

from __future__ import annotations

import cmath
from pathlib import Path

import numpy as np
import pytest

from annotator.estimation import landmarks as lm
from annotator.estimation.blazepose import BlazePose
from annotator.estimation.carry import (
    CARRIED_POINTS,
    carried_points,
    carried_roi,
    fit_similarity,
    roi_agrees,
)
from annotator.estimation.roi import Roi, roi_from_points
from annotator.propagation.carry import motion_carry
from annotator.video import open_video
from annotator.video.motion import MotionFields
from annotator.video.motion_cache import open_motion
from annotator.video.motion_store import MotionStore, write_store

CLIP = "hybrik_taiji"


def _reference(data_dir: Path, clip: str) -> tuple[Path, np.ndarray, np.ndarray]:
    ref = np.load(data_dir / "realgt" / f"{clip}.npz")
    xy = np.concatenate([ref["xy"], ref["aux_xy"]], axis=1)  # landmarks 0..34
    return data_dir / "videos" / f"{clip}.mp4", xy, np.asarray(ref["roi"], dtype=np.float64)


def test_the_similarity_fit_recovers_a_turn_scale_and_shift_despite_a_stray_point() -> None:
    rng = np.random.default_rng(0)
    before = rng.uniform(100, 400, size=(8, 2))
    a, b = 1.1 * cmath.exp(0.2j), complex(30, -12)
    z = a * (before[:, 0] + 1j * before[:, 1]) + b
    after = np.stack([z.real, z.imag], axis=1)
    after[3] += 80.0  # a point the walk lost
    fit = fit_similarity(before, after)
    assert fit is not None
    assert abs(fit[0] - a) < 1e-9 and abs(fit[1] - b) < 1e-6
    assert fit_similarity(before[:2], after[:2]) is None  # too few points
    assert fit_similarity(before, np.full_like(after, np.nan)) is None


def test_a_shifted_body_carries_its_roi_by_the_same_shift() -> None:
    xy = np.zeros((39, 2))
    xy[list(CARRIED_POINTS)] = [(200, 100), (190, 95), (210, 95), (180, 140), (220, 140),
                                (190, 230), (210, 230), (200, 230)]  # fmt: skip
    xy[lm.AUX[0]] = (200, 230)
    xy[lm.AUX[1]] = (200, 60)
    moved = carried_points(xy) + np.array([15.0, -7.0])
    roi = carried_roi(xy, moved)
    before = roi_from_points(xy[lm.AUX[0]], xy[lm.AUX[1]])
    assert roi is not None
    np.testing.assert_allclose(
        roi.as_array(), before.as_array() + np.array([15, -7, 0, 0]), atol=1e-9
    )
    assert carried_roi(xy, None) is None
    assert roi_agrees(before, before)
    assert not roi_agrees(before, Roi(before.cx + 0.3 * before.side, before.cy, before.side, 0))
    assert not roi_agrees(before, Roi(before.cx, before.cy, 1.3 * before.side, 0))


def test_the_carried_roi_on_a_real_clip_is_close_to_the_tracked_one(data_dir: Path) -> None:
    """The reference's landmarks on a frame carried 5 frames on give nearly the ROI that the
    reference's own landmarks there give (what tracking would build): on taiji (ROI side
    about 850 px) within 2 % of the side at the median (the landmarks themselves jitter by
    pixels), nearer than the last frame's ROI, and the side within 10 %."""
    video, xy, _ = _reference(data_dir, CLIP)
    carry = motion_carry(open_motion(video))
    shift, stay, side = [], [], []
    for a in range(0, len(xy) - 5, 10):
        b = a + 5
        roi = carried_roi(xy[a], carry(a, b, carried_points(xy[a])))
        tracked = roi_from_points(xy[b, lm.AUX[0]], xy[b, lm.AUX[1]])
        assert roi is not None
        shift.append(np.hypot(roi.cx - tracked.cx, roi.cy - tracked.cy) / tracked.side)
        stay.append(np.hypot(*(xy[a, lm.AUX[0]] - (tracked.cx, tracked.cy))) / tracked.side)
        side.append(roi.side / tracked.side)
    assert np.median(shift) < 0.02 and np.median(shift) < 0.8 * np.median(stay)
    assert np.percentile(np.abs(np.log(side)), 90) < np.log(1.1)


def test_key_frames_with_the_carried_region_call_the_detector_only_once(data_dir: Path) -> None:
    video, xy, _ = _reference(data_dir, CLIP)
    carry = motion_carry(open_motion(video))
    frames = list(range(0, 60, 6))
    reader = open_video(video, build_index=False, decode_ahead=0)
    try:
        carried = BlazePose(carry=carry).run(reader, frames)
        detected = BlazePose().run(reader, frames)
    finally:
        reader.close()
    assert carried.detector_calls == 1 and carried.detected.tolist() == [True] + [False] * 9
    assert carried.carried.tolist() == [False] + [True] * 9
    # one landmark call per key frame (two on the first, in the detector's ROI and its own),
    # and a second one only where the carried ROI was off
    assert len(frames) + 1 <= carried.landmark_calls < len(frames) + 4
    # the detector path: a detector call and two landmark calls on every key frame
    assert detected.detector_calls == len(frames) and detected.landmark_calls == 2 * len(frames)
    assert not detected.carried.any()
    # both on the body, and as close to the every-frame reference as each other
    for est in (carried, detected):
        d = np.linalg.norm(est.xy - xy[frames, :33], axis=-1)
        assert np.median(d) < 6.0


def test_the_detector_runs_where_the_region_cannot_be_carried(data_dir: Path) -> None:
    video, _, _ = _reference(data_dir, CLIP)
    asked: list[tuple[int, int]] = []

    def lost(first: int, last: int, points: np.ndarray) -> None:
        asked.append((first, last))  # no fields, or a scene cut: the motion says nothing

    frames = [0, 10, 11, 30]
    reader = open_video(video, build_index=False, decode_ahead=0)
    try:
        est = BlazePose(carry=lost).run(reader, frames)
    finally:
        reader.close()
    assert asked == [(0, 10), (11, 30)]  # frame 11 is tracked, frame 0 has nothing before it
    assert est.detector_calls == 3 and est.detected.tolist() == [True, True, False, True]
    assert not est.carried.any() and np.isfinite(est.xy).all()


def _still_store(tmp_path: Path, valid: bool) -> MotionStore:
    """A 12-frame store whose content moves 2 px right per frame, or has no vectors at all."""
    shape = (12, 4, 4)
    fields = MotionFields(
        dx=np.full(shape, 2.0, dtype=np.float32),
        dy=np.zeros(shape, dtype=np.float32),
        valid=np.full(shape, valid),
        residual=np.zeros(shape, dtype=np.float32),
        picture_types=tuple("I" + "P" * 11),
        times=np.arange(12) / 30.0,
        derived=np.zeros(12, dtype=bool),
        kind="mv",
        cell=8,
        width=32,
        height=32,
        codec="h264",
    )
    return MotionStore(write_store(fields, tmp_path / f"store-{valid}.mvs"))


def test_motion_carry_moves_points_and_refuses_cuts_and_missing_fields(tmp_path: Path) -> None:
    points = np.array([[10.0, 10.0], [20.0, 16.0], [np.nan, np.nan]])
    moving = motion_carry(_still_store(tmp_path, True))
    out = moving(2, 6, points)
    assert out is not None
    np.testing.assert_allclose(out[:2], points[:2] + np.array([8.0, 0.0]), atol=1e-4)
    assert np.isnan(out[2]).all()
    assert motion_carry(_still_store(tmp_path, True), cuts=[4])(2, 6, points) is None
    assert motion_carry(_still_store(tmp_path, True), cuts=[2])(2, 6, points) is not None
    assert motion_carry(_still_store(tmp_path, False))(2, 6, points) is None  # no vectors
    assert moving(2, 40, points) is None  # past the video's end


@pytest.mark.parametrize("roi", ["carried", "detector"])
def test_estimate_says_how_many_regions_it_carried(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], roi: str
) -> None:
    from annotator.cli import main

    video = data_dir / "videos" / "mmhuman3d_single_person_demo.mp4"
    out = tmp_path / "poses.npz"
    args = [str(video), "--out", str(out), "--keyframes", "uniform", "--budget", "5"]
    assert main(["estimate", *args, "--keyframe-roi", roi, "--no-progress"]) == 0
    printed = capsys.readouterr().out
    if roi == "carried":
        assert "(1 detector and 6 landmark calls, 4 regions carried" in printed
    else:
        assert "(5 detector and 10 landmark calls, 0 regions carried" in printed


def test_estimate_with_the_gate_by_default_carries_regions_on_a_quarter_of_the_frames(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from annotator.cli import main

    video = data_dir / "videos" / "mmhuman3d_single_person_demo.mp4"
    out = tmp_path / "poses.npz"
    assert main(["estimate", str(video), "--out", str(out), "--keyframes", "gate"]) == 0
    printed = capsys.readouterr().out
    # GATE_BUDGET of 40 frames; the first key frame detected, the others carried
    assert "estimated 10 of 40 frames (1 detector and 11 landmark calls, 9 regions carried" in (
        printed
    )
