"""Review mode's queue, the joint trail and plot series and the contact sheet's choice of
frames: pure functions, no window."""

from __future__ import annotations

import getpass

import numpy as np
import pytest

from annotator.core.codes import Source, Visibility
from annotator.gui.review_state import (
    PoseTrack,
    contact_frames,
    grid_shape,
    joint_series,
    review_queue,
    reviewer_name,
    step_queue,
    trail,
    uncertain_reason,
)
from annotator.gui.timeline_state import FrameStatus

NAMES = ("head", "wrist", "ankle")


def _track(frames: int = 9) -> PoseTrack:
    """Labels on frames 0, 4 and 8 (all three joints); the fill elsewhere, its variance
    growing towards the middle of each gap, largest for the wrist."""
    manual = np.full((frames, 3, 3), np.nan, dtype=np.float32)
    manual[:, :, 2] = Visibility.UNLABELLED
    for f in (0, 4, 8):
        manual[f, :, :2] = [[10 * f, 1], [10 * f, 2], [10 * f, 3]]
        manual[f, :, 2] = Visibility.VISIBLE
    poses = np.zeros((frames, 3, 3), dtype=np.float32)
    poses[:, :, 0] = np.arange(frames)[:, None] * 10.0
    poses[:, :, 1] = [1, 2, 3]
    poses[:, :, 2] = Visibility.VISIBLE
    source = np.full((frames, 3), Source.HPIM, dtype=np.int8)
    source[[0, 4, 8]] = Source.MANUAL
    distance = np.array([0, 1, 2, 1, 0, 1, 2, 1, 0], dtype=np.float32)[:frames]
    variance = (distance[:, None] * np.array([1.0, 4.0, 2.0], dtype=np.float32)) ** 2
    held = np.zeros((frames, 3), dtype=bool)
    return PoseTrack.of(manual, poses, source, held, variance)


def _status(track: PoseTrack) -> np.ndarray:
    labelled = track.labelled().all(axis=1)
    return np.where(labelled, FrameStatus.LABELLED, FrameStatus.FILLED).astype(np.int8)


def test_queue_holds_flags_and_uncertain_peaks_with_their_reasons() -> None:
    track = _track()
    flags = {1: "wrist swapped?", 6: "  "}
    items = review_queue(
        flags, {}, track.variance, track.manual, _status(track), NAMES, threshold=3.0
    )
    assert [i.frame for i in items] == [1, 2, 6]
    assert items[0].text == "flagged: wrist swapped?" and items[0].flagged
    assert items[0].sigma is None
    # Frame 2 is the first gap's peak: the wrist (σ 8) and the ankle (σ 4) exceed 3 px.
    assert items[1].text == "uncertain: joints wrist, ankle, σ ≈ 8 px"
    assert items[1].sigma == pytest.approx(8.0) and not items[1].flagged
    # Frame 6: flagged without a reason and the second gap's peak, one item with both.
    assert items[2].reasons == ("flagged", "uncertain: joints wrist, ankle, σ ≈ 8 px")


def test_reviewed_frames_and_low_uncertainty_leave_the_queue() -> None:
    track = _track()
    status = _status(track)
    items = review_queue({1: "x"}, {2: object()}, track.variance, track.manual, status, NAMES, 3.0)
    assert [i.frame for i in items] == [1, 6]
    assert review_queue({}, [], track.variance, track.manual, status, NAMES, 100.0) == []
    only_flags = review_queue({5: "y"}, [], None, track.manual, status, NAMES)  # no variance
    assert [(i.frame, i.text) for i in only_flags] == [(5, "flagged: y")]


def test_uncertain_reason_names_the_worst_joints_first() -> None:
    manual = np.full((5, 3), np.nan)
    manual[:, 2] = 0
    manual[0, 2] = Visibility.VISIBLE  # labelled: no uncertainty, whatever the variance says
    variance = np.array([400.0, 25.0, 100.0, 49.0, 36.0])
    names = ("a", "b", "c", "d", "e")
    found = uncertain_reason(variance, manual, names, threshold=5.5)
    assert found is not None
    assert found[0] == "uncertain: joints c, d, e, σ ≈ 10 px" and found[1] == pytest.approx(10)
    text, _ = uncertain_reason(variance, manual, names, threshold=4.0) or ("", 0)
    assert text == "uncertain: joints c, d, e and 1 more, σ ≈ 10 px"
    assert uncertain_reason(variance, manual, names, threshold=20.0) is None


def test_stepping_the_queue() -> None:
    track = _track()
    items = review_queue({1: "x"}, {}, track.variance, track.manual, _status(track), NAMES, 3.0)
    assert step_queue(items, 0, True) == 1
    assert step_queue(items, 1, True) == 2
    assert step_queue(items, 6, True) is None
    assert step_queue(items, 6, False) == 2
    assert step_queue(items, 1, False) is None


def test_reviewer_name_prefers_the_configured_one() -> None:
    assert reviewer_name("  Ada ") == "Ada"
    assert reviewer_name("") == getpass.getuser()
    assert reviewer_name(None) == getpass.getuser()


def test_joint_series_marks_manual_values_and_the_fill_sigma() -> None:
    track = _track()
    series = joint_series(track, 1)
    assert series.frames.tolist() == list(range(9))
    assert series.manual.tolist() == [f in (0, 4, 8) for f in range(9)]
    assert series.x.tolist() == [10.0 * f for f in range(9)]
    assert np.isnan(series.sigma[[0, 4, 8]]).all()
    assert series.sigma[2] == pytest.approx(8.0)


def test_absent_labels_have_no_position_on_the_trail() -> None:
    track = _track()
    manual = np.array(track.manual)
    manual[3, 0] = [np.nan, np.nan, Visibility.ABSENT]
    absent = PoseTrack.of(manual, track.poses, track.source, track.held, track.variance)
    series = trail(absent, 0, frame=4, radius=2)
    assert series.frames.tolist() == [2, 3, 4, 5, 6]
    assert np.isnan(series.x[1]) and not series.manual[1]
    edge = trail(absent, 0, frame=0, radius=2)  # clipped at the first frame
    assert edge.frames.tolist() == [0, 1, 2]


def test_contact_frames_take_labelled_then_most_uncertain() -> None:
    track = _track()
    assert contact_frames(track, 3) == [0, 4, 8]
    assert contact_frames(track, 5) == [0, 2, 4, 6, 8]  # the peak of each gap
    assert contact_frames(track, 2) == [0, 8]  # too many labelled: spread over them
    assert len(contact_frames(track, 50)) == 9


def test_a_gaps_peak_beside_a_label_still_gets_its_tile() -> None:
    """The most uncertain frame of a gap two frames from a label is its tile (the spacing
    meant for the other tiles pushed it out for a frame further away)."""
    track = _track(41)
    manual = np.full((41, 3, 3), np.nan, dtype=np.float32)
    manual[:, :, 2] = Visibility.UNLABELLED
    manual[[0, 40], :, :2] = 1.0
    manual[[0, 40], :, 2] = Visibility.VISIBLE
    variance = np.zeros((41, 3), dtype=np.float32)
    variance[1:40] = np.linspace(30.0, 1.0, 39)[:, None]
    variance[2] = 50.0  # the gap's peak, beside the label at 0
    track = PoseTrack.of(manual, track.poses, track.source, track.held, variance)
    assert contact_frames(track, 3) == [0, 2, 40]


def test_grid_shape() -> None:
    assert grid_shape(12) == (3, 4)
    assert grid_shape(5, columns=2) == (3, 2)
    assert grid_shape(2, columns=8) == (1, 2)


def test_contact_frames_spread_over_one_long_gap() -> None:
    frames = 100
    manual = np.full((frames, 1, 3), np.nan, dtype=np.float32)
    manual[:, :, 2] = Visibility.UNLABELLED
    manual[[0, 99], 0] = [5.0, 5.0, Visibility.VISIBLE]
    poses = np.zeros((frames, 1, 3), dtype=np.float32)
    poses[:, :, 2] = Visibility.VISIBLE
    source = np.full((frames, 1), Source.HPIM, dtype=np.int8)
    variance = (50.0 - np.abs(np.arange(frames) - 50.0))[:, None] ** 2  # peaks at frame 50
    track = PoseTrack.of(manual, poses, source, np.zeros((frames, 1), bool), variance)
    assert contact_frames(track, 5) == [0, 30, 50, 70, 99]  # not 49, 50, 51
