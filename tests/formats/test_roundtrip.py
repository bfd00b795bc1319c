"""Export, import, compare: every format that reads what it writes, with its known losses."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseSet
from annotator.formats import registry
from tests.formats.helpers import FakeVideo, assert_same_poses, manual_only


def _roundtrip(ps: PoseSet, tmp_path: Path, name: str, **options: object) -> PoseSet:
    adaptor = registry.get(name)
    out = tmp_path / ("out" if adaptor.is_folder else f"out{adaptor.extensions[0]}")
    adaptor.write(ps, out, **options)
    assert registry.guess(out).name == name
    return adaptor.read(out)


@pytest.mark.parametrize("name", ["coco", "cvat-video", "csv", "npz"])
def test_manual_values_survive(pose_set: PoseSet, tmp_path: Path, name: str) -> None:
    back = _roundtrip(pose_set, tmp_path, name)
    assert back.skeleton == pose_set.skeleton
    assert back.frame_count == pose_set.frame_count
    (inst,) = back.instances
    expected = manual_only(pose_set)[0]
    assert_same_poses(inst.poses, expected.poses)
    np.testing.assert_array_equal(inst.source, expected.source)


@pytest.mark.parametrize("name", ["coco", "csv", "npz"])
def test_filled_values_keep_their_source(pose_set: PoseSet, tmp_path: Path, name: str) -> None:
    back = _roundtrip(pose_set, tmp_path, name, frames="all")
    inst = back.instances[0]
    assert_same_poses(inst.poses, pose_set.instances[0].poses)
    np.testing.assert_array_equal(inst.source, pose_set.instances[0].source)
    assert (inst.source == Source.HPIM).sum() > 100


def test_cvat_all_frames_keeps_key_frames_only(pose_set: PoseSet, tmp_path: Path) -> None:
    back = _roundtrip(pose_set, tmp_path, "cvat-video", frames="all")
    assert_same_poses(back.instances[0].poses, manual_only(pose_set)[0].poses)


@pytest.mark.parametrize("name", ["dlc-csv", "dlc"])
def test_deeplabcut_keeps_positions_only(
    pose_set: PoseSet, tmp_path: Path, name: str, fake_video: FakeVideo
) -> None:
    back = _roundtrip(pose_set, tmp_path, name, video=fake_video)
    expected = manual_only(pose_set)[0].poses.copy()
    vis = expected[:, :, 2]
    vis[vis == Visibility.OCCLUDED] = Visibility.VISIBLE  # DeepLabCut has no occlusion flag
    vis[vis == Visibility.ABSENT] = Visibility.UNLABELLED  # nor an absent one
    assert back.skeleton.joints == pose_set.skeleton.joints
    assert_same_poses(back.instances[0].poses, expected)


@pytest.mark.parametrize("name", ["coco", "cvat-video", "dlc-csv", "csv", "npz"])
def test_two_people_keep_track_ids(two_people: PoseSet, tmp_path: Path, name: str) -> None:
    back = _roundtrip(two_people, tmp_path, name)
    assert [i.track_id for i in back.instances] == [0, 4]
    for got, want in zip(back.instances, two_people.instances, strict=True):
        np.testing.assert_allclose(
            got.poses[0, :, :2], want.poses[0, :, :2], atol=0.01, equal_nan=True
        )


def test_exports_get_ordinary_permissions(
    pose_set: PoseSet, tmp_path: Path, fake_video: FakeVideo
) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    registry.get("csv").write(pose_set, tmp_path / "a.csv")
    registry.get("dlc").write(pose_set, tmp_path / "dlc", video=fake_video)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "dlc").stat().st_mode & 0o777 == 0o777 & ~umask


def test_npz_keeps_video_facts(pose_set: PoseSet, tmp_path: Path) -> None:
    back = _roundtrip(pose_set, tmp_path, "npz")
    assert (back.fps, back.width, back.height) == (30.0, 64, 48)
    assert back.video_path == "/videos/walk.mp4"
    assert back.timestamps is not None
    np.testing.assert_allclose(back.timestamps, pose_set.frame_times())


def test_coco_keeps_timestamps_and_size_of_exported_frames(
    pose_set: PoseSet, tmp_path: Path
) -> None:
    back = _roundtrip(pose_set, tmp_path, "coco", frames="all")
    assert (back.fps, back.width, back.height) == (30.0, 64, 48)
    assert back.timestamps is not None
    np.testing.assert_allclose(back.timestamps, pose_set.frame_times(), atol=1e-6)
