"""The one interface every frame source offers, and the factory that opens a file.

``VideoReader`` is a protocol: the PyAV file reader (``reader.PyAVVideo``) and the in-memory
``synthetic.SyntheticVideo`` both satisfy it, so the GUI and the algorithms never care which
one they hold. Frames are row-major RGB ``uint8`` arrays of shape (H, W, 3), read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from annotator.core.progress import Progress

if TYPE_CHECKING:
    from annotator.video.reader import PyAVVideo


@runtime_checkable
class VideoReader(Protocol):
    """What a frame source provides (see ``PyAVVideo`` for the semantics of each member)."""

    path: Path
    fingerprint: str
    codec: str
    rotation: int
    has_motion_vectors: bool
    index_error: str | None  # why the packet index could not be built; None while fine

    @property
    def frame_count(self) -> int: ...
    @property
    def fps(self) -> float: ...
    @property
    def variable_frame_rate(self) -> bool: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def duration(self) -> float: ...
    @property
    def index_ready(self) -> bool: ...
    @property
    def key_frames(self) -> npt.NDArray[np.int64] | None: ...
    @property
    def timestamps(self) -> npt.NDArray[np.float64] | None: ...

    def frame(self, i: int) -> npt.NDArray[np.uint8]: ...
    def cached(self, i: int) -> bool: ...
    def timestamp(self, i: int) -> float: ...
    def picture_type(self, i: int) -> str | None: ...
    def wait_for_index(self, timeout: float | None = None) -> bool: ...
    def add_index_listener(self, callback: Progress) -> None: ...
    def iter_frames(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, npt.NDArray[np.uint8]]]: ...
    def info(self) -> dict[str, Any]: ...
    def close(self) -> None: ...
    def __enter__(self) -> VideoReader: ...
    def __exit__(self, *exc: object) -> None: ...


def open_video(
    path: str | Path, cache_frames: int = 64, decode_ahead: int = 8, build_index: bool = True
) -> PyAVVideo:
    """Open a video file for frame-accurate random access; bad input raises ``VideoError``.

    Frame 0 is decoded before this returns; the packet index is built in the background (or
    loaded from the per-user cache). ``cache_frames`` bounds how many decoded frames are kept.
    """
    from annotator.video.reader import PyAVVideo

    return PyAVVideo(
        path, cache_frames=cache_frames, decode_ahead=decode_ahead, build_index=build_index
    )
