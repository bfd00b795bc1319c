"""Compressed-domain motion signals per frame: the public interface.

``extract_motion(path)`` returns :class:`MotionFields`: for every frame t (presentation order) a
displacement field from frame t-1 to t on a regular cell grid (px), a validity mask, and a
pixel-domain residual approximation pooled per cell. Fields come from the codec's motion
vectors (``kind="mv"``, H.264 and the MPEG-video family) or, for streams without exportable
vectors (HEVC, VP9, AV1, intra-only), from OpenCV dense optical flow (``kind="flow"``, with
``note`` saying why) or, with ``fallback="proxy"``, from a private H.264 re-encode. Invalid cells (I-frames, intra blocks, frame 0) hold NaN, never zero motion.

Results are cached per video fingerprint under ``cache_dir("motion")`` as a compact disk store
(``motion_store``: vectors to 1/64 px, residual to a grey level), so reopening a project does
not decode again; ``motion_cache.open_motion`` hands long videos that store itself. :class:`MotionExtraction` runs the extraction on a
background thread with progress and cancel (``core.progress``); cancelling raises
:class:`~annotator.core.progress.Cancelled` from :meth:`MotionExtraction.result` and caches
nothing. See ``docs/motion-vectors.md``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from annotator.core.progress import Progress, ShouldStop
from annotator.video.motion_extract import (
    MV_CODECS,
    RawFields,
    open_video_stream,
)

__all__ = [
    "CACHE_VERSION",
    "MotionExtraction",
    "MotionField",
    "MotionFields",
    "extract_motion",
    "motion_support",
]

log = logging.getLogger(__name__)

CACHE_VERSION = 2
"""Bumped when cached fields change meaning: 2 = fields in display orientation (rotation tag),
kept in ``motion_store``'s format (its ``STORE_VERSION``, part of the cache's name)."""
DEFAULT_MAX_DISTANCE = 8

Kind = Literal["mv", "flow"]
FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class MotionField:
    """One frame's field: ``dx, dy`` (gh, gw) displacement t-1 -> t in px per cell (NaN where
    invalid), ``valid`` (gh, gw) bool, ``cell`` size in px, ``kind`` and ``picture_type``."""

    frame: int
    dx: FloatArray
    dy: FloatArray
    valid: NDArray[np.bool_]
    cell: int
    kind: Kind
    picture_type: str


@dataclass(frozen=True)
class MotionFields:
    """All frames' fields. Arrays are (F, gh, gw); cell (i, j) covers pixels
    ``[j*cell, (j+1)*cell) x [i*cell, (i+1)*cell)``.

    ``residual``: mean ``|F_t - Warp(F_{t-1}, field_t)|`` per cell on luma (0..255), an
    approximation of the codec residual; NaN for frame 0. ``picture_types``: "I", "P" or "B"
    per frame. ``times``: presentation time (s) per frame. ``derived``: frames whose field was
    rebuilt from the next anchor frame's vectors (MPEG-4 Part 2 B-frames). ``note``: why the
    flow fallback was used, else empty.
    """

    dx: FloatArray
    dy: FloatArray
    valid: NDArray[np.bool_]
    residual: FloatArray
    picture_types: tuple[str, ...]
    times: NDArray[np.float64]
    derived: NDArray[np.bool_]
    kind: Kind
    cell: int
    width: int
    height: int
    codec: str
    note: str = ""

    def __len__(self) -> int:
        return int(self.dx.shape[0])

    def field(self, frame: int) -> MotionField:
        """Frame ``frame``'s field as a :class:`MotionField`."""
        return MotionField(
            frame=frame,
            dx=self.dx[frame],
            dy=self.dy[frame],
            valid=self.valid[frame],
            cell=self.cell,
            kind=self.kind,
            picture_type=self.picture_types[frame],
        )


def motion_support(path: str | Path) -> tuple[bool, str]:
    """Whether FFmpeg can export motion vectors for ``path``'s codec, and a sentence saying so.

    Intra-only streams of a supporting codec are only detected while extracting.
    """
    container, stream = open_video_stream(Path(path))
    try:
        codec = stream.codec_context.name
    finally:
        container.close()
    if codec in MV_CODECS:
        return True, f"{codec} stores motion vectors; fields come from the codec"
    from annotator.video.motion_cache import flow_note

    return False, flow_note(codec)


def _freeze(raw: RawFields, cell: int) -> MotionFields:
    times = np.asarray(raw.times, dtype=np.float64)
    # Frames leave the decoder in presentation order, but some containers (AVI with B-frames)
    # stamp them with decode-order times; the sorted stamps are the presentation times.
    times.sort()
    return MotionFields(
        dx=np.stack(raw.dx).astype(np.float32),
        dy=np.stack(raw.dy).astype(np.float32),
        valid=np.stack(raw.valid),
        residual=np.stack(raw.residual).astype(np.float32),
        picture_types=tuple(raw.pictures),
        times=times,
        derived=np.asarray(raw.derived, dtype=bool),
        kind="flow" if raw.kind == "flow" else "mv",
        cell=cell,
        width=raw.width,
        height=raw.height,
        codec=raw.codec,
        note=raw.note,
    )


def extract_motion(
    path: str | Path,
    *,
    cell: int = 8,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    use_cache: bool = True,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    fallback: Literal["flow", "proxy"] = "flow",
    field: Literal["mv", "dis", "dis-640", "dis-320", "dis-fast", "farneback"] = "mv",
) -> MotionFields:
    """Motion fields and residuals for every frame of ``path``.

    ``cell``: grid cell side in px, a positive multiple of 4. ``progress(fraction)`` is
    called after each frame from the calling thread (not while the frame count is unknown).
    When ``should_stop()`` returns True, raises ``Cancelled`` (nothing is cached).
    ``max_distance``: farthest reference frame considered, in frames. ``fallback``: for
    videos without exportable vectors, dense optical flow (``"flow"``) or codec vectors from a
    private H.264 re-encode (``"proxy"``, see :mod:`annotator.video.motion_proxy`).
    ``field``: ``"mv"`` (the codec's vectors, else the fallback) or dense optical flow on the
    decoded luma for every video (``"dis"`` and its variants, ``"farneback"``; kind
    ``"flow"``, see ``motion_store.FIELDS``). Raises
    :class:`~annotator.errors.VideoError` when the video cannot be read.
    """
    from annotator.video import motion_cache

    path = Path(path)
    motion_cache.check_arguments(path, cell, max_distance, fallback, field)
    if use_cache:
        store = motion_cache.open_motion(
            path,
            cell=cell,
            progress=progress,
            should_stop=should_stop,
            max_distance=max_distance,
            fallback=fallback,
            field=field,
        )
        return store.fields()
    raw = motion_cache.extract_raw(
        path, cell, max_distance, fallback, progress, should_stop, field=field
    )
    return _freeze(raw, cell)


class MotionExtraction:
    """``extract_motion`` on a background thread (Qt-free; the GUI wraps it in its worker).

    ``on_progress(fraction)`` and ``on_done(extraction)`` are called from the worker
    thread: a GUI must hand them to its own thread (e.g. a queued signal).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        cell: int = 8,
        use_cache: bool = True,
        fallback: Literal["flow", "proxy"] = "flow",
        on_progress: Progress | None = None,
        on_done: Callable[[MotionExtraction], None] | None = None,
    ) -> None:
        self.path, self.cell, self.use_cache = Path(path), cell, use_cache
        self.fallback: Literal["flow", "proxy"] = fallback
        self._on_progress, self._on_done = on_progress, on_done
        self._stop = threading.Event()
        self._fields: MotionFields | None = None
        self._error: BaseException | None = None
        self.fraction = 0.0
        self._thread = threading.Thread(target=self._run, name="motion-extraction", daemon=True)

    def start(self) -> MotionExtraction:
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the worker to stop after the current frame."""
        self._stop.set()

    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished (or ``timeout`` s); True when finished."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def result(self) -> MotionFields:
        """The fields; re-raises the worker's error (``Cancelled`` on cancel)."""
        self.wait()
        if self._error is not None:
            raise self._error
        assert self._fields is not None
        return self._fields

    def _progress(self, fraction: float) -> None:
        self.fraction = fraction
        if self._on_progress is not None:
            self._on_progress(fraction)

    def _run(self) -> None:
        try:
            self._fields = extract_motion(
                self.path,
                cell=self.cell,
                progress=self._progress,
                should_stop=self._stop.is_set,
                use_cache=self.use_cache,
                fallback=self.fallback,
            )
        except BaseException as exc:  # handed to the caller through result()
            self._error = exc
        finally:
            if self._on_done is not None:
                self._on_done(self)
