"""Helpers for the format tests: sample paths, small PoseSets, a fake video, comparisons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.skeleton import PENN_ACTION

SAMPLES = Path(__file__).parent / "samples"
FRAMES = 12


class FakeVideo:
    """A frame source whose frame ``i`` is a flat colour that encodes ``i``."""

    def __init__(self, frame_count: int = FRAMES, width: int = 64, height: int = 48) -> None:
        self.frame_count, self.width, self.height = frame_count, width, height
        self.reads: list[int] = []

    def frame(self, i: int) -> NDArray[np.uint8]:
        if not 0 <= i < self.frame_count:
            raise IndexError(i)
        self.reads.append(i)
        img = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        img[:, :, 0] = 10 * i  # red channel carries the index (checks RGB order too)
        img[:, :, 2] = 200
        return img


def person(track_id: int, shift: float) -> PoseInstance:
    """Manual labels on frames 0, 5 and 11 (visible, occluded, absent), hpim fill between."""
    inst = PoseInstance.empty(track_id, FRAMES, PENN_ACTION.num_joints)
    rng = np.random.default_rng(track_id)
    for f in range(FRAMES):
        xy = rng.uniform(5, 60, size=(PENN_ACTION.num_joints, 2)).round(2) + shift
        inst.poses[f, :, :2] = xy
        inst.poses[f, :, 2] = Visibility.VISIBLE
        inst.source[f] = Source.HPIM
    for f in (0, 5, 11):
        inst.source[f] = Source.MANUAL
    inst.poses[5, 3, 2] = Visibility.OCCLUDED
    inst.poses[11, 4] = (np.nan, np.nan, Visibility.ABSENT)
    # frame 7: one joint unlabelled, nothing else filled there
    inst.poses[7, 2] = (np.nan, np.nan, Visibility.UNLABELLED)
    inst.source[7, 2] = Source.NONE
    return inst


def manual_only(ps: PoseSet) -> list[PoseInstance]:
    """What a manual-frames export should carry: manual values, everything else unlabelled."""
    out = []
    for inst in ps.instances:
        keep = inst.source == Source.MANUAL
        poses = inst.poses.copy()
        poses[~keep] = (np.nan, np.nan, Visibility.UNLABELLED)
        out.append(PoseInstance(inst.track_id, poses, np.where(keep, 0, 9).astype(np.int8)))
    return out


def assert_same_poses(a: NDArray[np.float32], b: NDArray[np.float32], tol: float = 0.01) -> None:
    assert a.shape == b.shape
    np.testing.assert_array_equal(a[:, :, 2], b[:, :, 2])
    np.testing.assert_array_equal(np.isnan(a[:, :, :2]), np.isnan(b[:, :, :2]))
    np.testing.assert_allclose(a[:, :, :2], b[:, :, :2], atol=tol, equal_nan=True)
