"""Video-only key frame selectors that proposals are compared with: uniform and k-means.

``uniform`` spaces the budget evenly, first and last frame included; it needs only the frame
count, so a reader is never decoded for it. ``kmeans`` follows
DeepLabCut's frame extraction: every frame shrunk to a small grayscale thumbnail, k-means with
one cluster per frame to label, and the frame nearest each centre picked (so the picks cover
the different-looking parts of the video). Both look at the video alone, never at labels, and
are deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from annotator.core.framespec import uniform_frames
from annotator.errors import UsageError
from annotator.video.base import VideoReader

METHODS = ("uniform", "kmeans")
THUMB_WIDTH = 30  # DeepLabCut's default resize width for k-means extraction


def select_frames(
    video: NDArray[np.uint8] | Iterable[NDArray[np.uint8]] | VideoReader,
    budget: int,
    method: str,
    seed: int = 0,
) -> NDArray[np.int64]:
    """Sorted 0-based frame indices, ``budget`` of them (fewer only if the video is shorter).

    ``video``: an array (F, H, W[, 3]), an iterable of frames, or a reader with
    ``iter_frames()`` (which may yield frames, ``(index, frame)`` pairs or objects holding an
    ``rgb`` array).
    """
    if method not in METHODS:
        raise UsageError(f"unknown frame selector {method!r}; choose from {', '.join(METHODS)}")
    if budget < 1:
        raise UsageError("the frame budget must be at least 1")
    if method == "uniform":
        count = frame_count(video)
        if count == 0:
            raise UsageError("the video has no frames")
        return uniform_frames(count, budget)
    thumbs = thumbnails(video)
    if len(thumbs) == 0:
        raise UsageError("the video has no frames")
    return kmeans_frames(thumbs, budget, seed)


def frame_count(video: NDArray[np.uint8] | Iterable[NDArray[np.uint8]] | VideoReader) -> int:
    """How many frames ``video`` has: a reader's ``frame_count`` and an array's length are
    read without decoding a picture; only a plain iterable is walked."""
    count = getattr(video, "frame_count", None)
    if count is not None:
        return int(count)
    if isinstance(video, np.ndarray):
        return int(video.shape[0])
    frames: Iterable[Any] = video.iter_frames() if hasattr(video, "iter_frames") else video
    return sum(1 for _ in frames)


def thumbnails(
    video: NDArray[np.uint8] | Iterable[NDArray[np.uint8]] | VideoReader,
) -> NDArray[np.float32]:
    """(F, D) flattened grayscale thumbnails, ``THUMB_WIDTH`` pixels wide, values in [0, 1]."""
    frames: Iterable[Any] = video.iter_frames() if hasattr(video, "iter_frames") else video
    out = []
    for item in frames:
        if isinstance(item, tuple):  # readers yield (index, frame)
            item = item[-1]
        frame = np.asarray(getattr(item, "rgb", item))
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
        h, w = gray.shape
        size = (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w)))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        out.append(small.astype(np.float32).ravel() / 255.0)
    if not out:
        return np.zeros((0, 0), np.float32)
    return np.stack(out)


def kmeans_frames(x: NDArray[np.float32], k: int, seed: int = 0) -> NDArray[np.int64]:
    """The frame nearest each of ``k`` k-means centres of the rows of ``x``, all distinct."""
    n = len(x)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    centres = _kmeans(x, k, np.random.default_rng(seed))
    dist = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)  # (n, k)
    picked: list[int] = []
    taken = np.zeros(n, dtype=bool)
    # Centres in order of how tight their nearest frame is, so a shared nearest frame goes to
    # the centre it fits best and the other takes its next nearest.
    for c in np.argsort(dist.min(axis=0), kind="stable"):
        order = np.argsort(dist[:, c], kind="stable")
        frame = int(order[np.flatnonzero(~taken[order])[0]])
        taken[frame] = True
        picked.append(frame)
    return np.sort(np.asarray(picked, dtype=np.int64))


def _kmeans(x: NDArray[np.float32], k: int, rng: np.random.Generator, iters: int = 50) -> Any:
    """Lloyd's k-means with k-means++ seeding."""
    n = len(x)
    centres = np.empty((k, x.shape[1]), np.float32)
    centres[0] = x[rng.integers(n)]
    nearest = ((x - centres[0]) ** 2).sum(axis=1)
    for i in range(1, k):
        total = float(nearest.sum())
        idx = int(rng.choice(n, p=nearest / total)) if total > 0 else int(rng.integers(n))
        centres[i] = x[idx]
        nearest = np.minimum(nearest, ((x - centres[i]) ** 2).sum(axis=1))
    for _ in range(iters):
        dist = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        label = dist.argmin(axis=1)
        moved = centres.copy()
        for c in range(k):
            members = x[label == c]
            # An emptied cluster restarts at the frame worst served by the others.
            moved[c] = members.mean(axis=0) if len(members) else x[dist.min(axis=1).argmax()]
        if np.allclose(moved, centres):
            break
        centres = moved
    return centres
