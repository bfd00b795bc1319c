"""An in-memory video with the reader's interface, for tests and rendered benchmarks.

``SyntheticVideo(frames, fps)`` holds an (N, H, W, 3) uint8 array and answers everything a
``VideoReader`` does, instantly: every frame is "cached", the index is always ready, every
frame is a key frame.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from annotator.core.progress import Progress
from annotator.errors import VideoError
from annotator.video.reader import FrameIndexError


class SyntheticVideo:
    """Frames from memory; ``timestamps`` default to ``i / fps`` (pass them for VFR)."""

    codec = "rawvideo"
    rotation = 0
    has_motion_vectors = False
    index_error: str | None = None

    def __init__(
        self,
        frames: npt.NDArray[np.uint8],
        fps: float = 30.0,
        timestamps: npt.NDArray[np.float64] | None = None,
        name: str = "synthetic",
    ) -> None:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise VideoError("synthetic frames must be an (N, H, W, 3) uint8 array")
        if frames.shape[0] == 0:
            raise VideoError("a synthetic video needs at least one frame")
        if fps <= 0:
            raise VideoError("fps must be positive")
        self._frames = np.ascontiguousarray(frames)
        self._frames.flags.writeable = False
        n = frames.shape[0]
        stamps = np.arange(n) / fps if timestamps is None else np.asarray(timestamps, float)
        if stamps.shape != (n,) or np.any(np.diff(stamps) <= 0):
            raise VideoError("timestamps must be one increasing value per frame")
        self._stamps = stamps.astype(np.float64)
        self._fps = float(fps)
        self.path = Path(f"<{name}>")
        digest = hashlib.sha256(self._frames[0].tobytes()).hexdigest()[:16]
        self.fingerprint = f"{self._frames.nbytes}-{digest}"

    @property
    def frame_count(self) -> int:
        return int(self._frames.shape[0])

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def variable_frame_rate(self) -> bool:
        steps = np.diff(self._stamps)
        return bool(steps.size > 1 and steps.max() - steps.min() > 1e-6 + 0.01 * steps.mean())

    @property
    def width(self) -> int:
        return int(self._frames.shape[2])

    @property
    def height(self) -> int:
        return int(self._frames.shape[1])

    @property
    def duration(self) -> float:
        return float(self._stamps[-1]) + 1.0 / self._fps

    @property
    def index_ready(self) -> bool:
        return True

    @property
    def key_frames(self) -> npt.NDArray[np.int64]:
        return np.arange(self.frame_count, dtype=np.int64)

    @property
    def timestamps(self) -> npt.NDArray[np.float64]:
        return self._stamps

    def _check(self, i: int) -> int:
        i = int(i)
        if not 0 <= i < self.frame_count:
            raise FrameIndexError(
                f"frame {i} is out of range: the video has {self.frame_count} frames"
            )
        return i

    def frame(self, i: int) -> npt.NDArray[np.uint8]:
        frame: npt.NDArray[np.uint8] = self._frames[self._check(i)]
        return frame

    def cached(self, i: int) -> bool:
        return 0 <= i < self.frame_count

    def timestamp(self, i: int) -> float:
        return float(self._stamps[self._check(i)])

    def picture_type(self, i: int) -> str | None:
        self._check(i)
        return "I"

    def wait_for_index(self, timeout: float | None = None) -> bool:
        return True

    def add_index_listener(self, callback: Progress) -> None:
        callback(1.0)

    def iter_frames(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, npt.NDArray[np.uint8]]]:
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        for i in range(max(0, start), stop):
            yield i, self.frame(i)

    def info(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "frame_count": self.frame_count,
            "frame_count_exact": True,
            "fps": self.fps,
            "variable_frame_rate": self.variable_frame_rate,
            "width": self.width,
            "height": self.height,
            "rotation": 0,
            "codec": self.codec,
            "duration": self.duration,
            "key_frames": list(range(self.frame_count)),
            "has_motion_vectors": False,
            "fingerprint": self.fingerprint,
        }

    def close(self) -> None:
        pass

    def __enter__(self) -> SyntheticVideo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
