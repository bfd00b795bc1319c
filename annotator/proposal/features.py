"""Backbone features of every frame of a video, cached per video so proposals re-run fast.

The cache lives in ``cache_dir("features")`` as ``<fingerprint>-<backbone>.npy`` (float16,
``(frames, C, 7, 7)``), written atomically. The fingerprint identifies the file's content, so
a renamed video keeps its cache and an edited one does not reuse a stale one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from annotator.core.paths import cache_dir
from annotator.core.progress import Progress, ShouldStop, check_stop, report
from annotator.core.safeio import atomic_output
from annotator.errors import VideoError
from annotator.video.base import VideoReader, open_video

BATCH = 16


def open_source(video: str | Path | VideoReader) -> VideoReader:
    """A reader for a path (the caller closes it), or the reader itself."""
    if isinstance(video, (str, Path)):
        path = Path(video)
        if not path.is_file():
            raise VideoError(f"video not found: {path}")
        return open_video(path)
    return video


@contextlib.contextmanager
def reading(video: str | Path | VideoReader) -> Iterator[VideoReader]:
    """``open_source`` as a context: a reader opened here (for a path) is closed on leaving,
    with its decode-ahead thread; a reader passed in stays open for its owner."""
    source = open_source(video)
    try:
        yield source
    finally:
        if source is not video:
            source.close()


def cache_path(fingerprint: str, backbone: str) -> Path:
    return cache_dir("features") / f"{fingerprint}-{backbone}.npy"


def video_features(
    source: VideoReader,
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
        check_stop(should_stop, "feature extraction")
        batch.append(frame)
        if len(batch) == BATCH:
            out.append(backbone(np.stack(batch)))
            done += len(batch)
            batch = []
            report(progress, done, total)
    if batch:
        out.append(backbone(np.stack(batch)))
        done += len(batch)
    if not out:
        raise VideoError("the video has no decodable frames")
    feats = np.concatenate(out)
    report(progress, done, total)
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
