"""Backbone features of every frame of a video, cached per video so proposals re-run fast.

The cache lives in ``cache_dir("features")`` as ``<fingerprint>-<backbone>.npy`` (float16,
``(frames, C, 7, 7)``), written atomically. The fingerprint identifies the file's content, so
a renamed video keeps its cache and an edited one does not reuse a stale one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from annotator.core.paths import cache_dir
from annotator.core.safeio import atomic_output
from annotator.errors import VideoError

BATCH = 16
Progress = Callable[[str, int, int], None]
ShouldStop = Callable[[], bool]


class Cancelled(Exception):
    """Raised when ``should_stop()`` turned true; the caller asked for it, nothing failed."""


class FrameSource(Protocol):
    """What proposals need from a video reader (``annotator.video.open_video`` gives one)."""

    @property
    def frame_count(self) -> int: ...

    @property
    def fps(self) -> float: ...

    @property
    def fingerprint(self) -> str: ...

    def iter_frames(self) -> Iterator[tuple[int, np.ndarray]]: ...


def open_source(video: str | Path | FrameSource) -> FrameSource:
    """A reader for a path (through ``annotator.video``), or the reader itself."""
    if isinstance(video, (str, Path)):
        path = Path(video)
        if not path.is_file():
            raise VideoError(f"video not found: {path}")
        from annotator.video import open_video

        reader: FrameSource = open_video(path)
        return reader
    return video


def cache_path(fingerprint: str, backbone: str) -> Path:
    return cache_dir("features") / f"{fingerprint}-{backbone}.npy"


def video_features(
    source: FrameSource,
    backbone_name: str,
    *,
    backbone_weights: str | Path | None = None,
    device: str = "cpu",
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    use_cache: bool = True,
) -> np.ndarray:
    """float32 ``(frames, C, 7, 7)`` features of every frame, from the cache when present."""
    path = cache_path(source.fingerprint, backbone_name)
    cached = load_cached(path, 4) if use_cache else None
    if cached is not None:
        return np.asarray(cached, dtype=np.float32)
    from annotator.proposal.backbones import Backbone

    backbone = Backbone(backbone_name, backbone_weights, device)
    total = source.frame_count
    out: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    done = 0
    for _, frame in source.iter_frames():
        if should_stop is not None and should_stop():
            raise Cancelled
        batch.append(frame)
        if len(batch) == BATCH:
            out.append(backbone(np.stack(batch)))
            done += len(batch)
            batch = []
            if progress is not None:
                progress("features", done, total)
    if batch:
        out.append(backbone(np.stack(batch)))
        done += len(batch)
    if not out:
        raise VideoError("the video has no decodable frames")
    feats = np.concatenate(out)
    if progress is not None:
        progress("features", done, total)
    if use_cache:
        save_cached(path, feats)
    return feats


def load_cached(path: Path, ndim: int) -> np.ndarray | None:
    """A cached per-frame array with ``ndim`` dimensions and at least one frame, or None when
    there is none or it is damaged (the caller rebuilds it)."""
    if not path.is_file():
        return None
    try:
        cached = np.load(path)
    except (OSError, ValueError):
        return None
    return cached if cached.ndim == ndim and cached.shape[0] > 0 else None


def save_cached(path: Path, values: np.ndarray) -> None:
    """Store ``values`` as float16, atomically (a temporary file renamed over ``path``)."""
    with atomic_output(path) as tmp, tmp.open("wb") as fh:
        np.save(fh, values.astype(np.float16))
