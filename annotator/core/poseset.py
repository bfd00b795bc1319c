"""``PoseSet``: poses of every person on every frame as plain arrays.

The interchange type between the document, the fill engine, the format adaptors and the
benchmarks. Arrays follow the contract's fill output: ``poses`` float32 (frames, joints, 3) with
x, y and the visibility code (0 unlabelled, 1 visible, 2 occluded, 3 absent), x and y NaN
where there is no position; ``source`` int8 (frames, joints) indices into ``SOURCE_NAMES``; ``held`` bool (frames, joints),
when known, marks values held from the nearest label (before the first or after the last
label) rather than filled between labels; ``confidence`` float32 (frames, joints), when an
estimator gave values, its score in 0..1 where ``source`` is ``predicted``, NaN elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.core.skeleton import Skeleton


@dataclass
class PoseInstance:
    """One person (track) across all frames of a video."""

    track_id: int
    poses: NDArray[np.float32]  # (F, J, 3): x, y, visibility code
    source: NDArray[np.int8]  # (F, J): Source values
    boxes: NDArray[np.float32] | None = None  # (F, 4) x1, y1, x2, y2 ground-truth box, NaN if none
    held: NDArray[np.bool_] | None = None  # (F, J) value held, not filled; None: not known
    confidence: NDArray[np.float32] | None = None  # (F, J) estimator score 0..1, NaN: none

    def __post_init__(self) -> None:
        self.poses = np.asarray(self.poses, dtype=np.float32)
        self.source = np.asarray(self.source, dtype=np.int8)
        if self.poses.ndim != 3 or self.poses.shape[2] != 3:
            raise ValueError(f"poses must be (frames, joints, 3), not {self.poses.shape}")
        if self.source.shape != self.poses.shape[:2]:
            raise ValueError(f"source {self.source.shape} does not match poses {self.poses.shape}")
        if self.held is not None:
            self.held = np.asarray(self.held, dtype=np.bool_)
            if self.held.shape != self.poses.shape[:2]:
                raise ValueError(f"held {self.held.shape} does not match poses {self.poses.shape}")
        if self.confidence is not None:
            self.confidence = np.asarray(self.confidence, dtype=np.float32)
            if self.confidence.shape != self.poses.shape[:2]:
                raise ValueError(
                    f"confidence {self.confidence.shape} does not match poses {self.poses.shape}"
                )
        if self.boxes is not None:
            self.boxes = np.asarray(self.boxes, dtype=np.float32)
            if self.boxes.shape != (self.poses.shape[0], 4):
                raise ValueError(
                    f"boxes must be ({self.poses.shape[0]}, 4), not {self.boxes.shape}"
                )

    @classmethod
    def empty(cls, track_id: int, frame_count: int, num_joints: int) -> PoseInstance:
        poses = np.full((frame_count, num_joints, 3), np.nan, dtype=np.float32)
        poses[:, :, 2] = Visibility.UNLABELLED
        source = np.full((frame_count, num_joints), Source.NONE, dtype=np.int8)
        return cls(track_id, poses, source)

    @property
    def frame_count(self) -> int:
        return int(self.poses.shape[0])

    @property
    def visibility(self) -> NDArray[np.int64]:
        return self.poses[:, :, 2].astype(np.int64)

    def has_position(self) -> NDArray[np.bool_]:
        """(F, J) True where the joint has a position (visible or occluded, finite x and y)."""
        vis = self.visibility
        ok = (vis == Visibility.VISIBLE) | (vis == Visibility.OCCLUDED)
        finite = np.isfinite(self.poses[:, :, 0]) & np.isfinite(self.poses[:, :, 1])
        return np.asarray(ok & finite, dtype=np.bool_)

    def manual_frames(self) -> NDArray[np.int64]:
        """Frames where any joint has a manual value."""
        return np.flatnonzero((self.source == Source.MANUAL).any(axis=1))


@dataclass
class PoseSet:
    """All instances of one video plus what is known of the video itself."""

    skeleton: Skeleton
    frame_count: int
    instances: list[PoseInstance] = field(default_factory=list)
    fps: float | None = None
    timestamps: NDArray[np.float64] | None = None  # (F,) presentation time in seconds
    width: int | None = None
    height: int | None = None
    video_path: str | None = None

    def __post_init__(self) -> None:
        for inst in self.instances:
            if inst.frame_count != self.frame_count:
                raise ValueError(
                    f"instance {inst.track_id} has {inst.frame_count} frames, not {self.frame_count}"
                )
            if inst.poses.shape[1] != self.skeleton.num_joints:
                raise ValueError(
                    f"instance {inst.track_id} has {inst.poses.shape[1]} joints; "
                    f"skeleton {self.skeleton.name!r} has {self.skeleton.num_joints}"
                )
        if self.timestamps is not None:
            self.timestamps = np.asarray(self.timestamps, dtype=np.float64)
            if self.timestamps.shape != (self.frame_count,):
                raise ValueError("timestamps must hold one value per frame")

    def frame_times(self) -> NDArray[np.float64]:
        """Timestamps, or ``index / fps`` (or the index itself) when the video gave none."""
        if self.timestamps is not None:
            return self.timestamps
        rate = self.fps if self.fps and self.fps > 0 else 1.0
        return np.arange(self.frame_count, dtype=np.float64) / rate


def predicted_confidence(inst: PoseInstance) -> NDArray[np.float32] | None:
    """The instance's confidence where its source is ``predicted`` (NaN elsewhere), or None
    when no value came from an estimator with a score."""
    if inst.confidence is None:
        return None
    conf = np.where(inst.source == Source.PREDICTED, inst.confidence, np.nan).astype(np.float32)
    return conf if np.isfinite(conf).any() else None
