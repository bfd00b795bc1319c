"""The video's descriptors for the next-frame ranking (``dynamics.ranking``), cached per video.

The ranking raises a frame's score where straight lines between the labelled frames rebuild
the video badly (``ranking.video_evidence``). The descriptors it reads are K-FPN's: the
backbone maps of every frame (``features.py``, the same cache the proposals use) average-pooled
to 3 x 3 as the K-FPN search sees them, then rotated onto their first ``RANK_DIMS`` principal
axes so that a long video's descriptors stay small (100,000 frames: 12 MB as float16) and the
ranking stays fast. The app's ``N`` and the benchmark's protocol B both take them from
``ranking_descriptors``, which reads the features cache ``CHUNK`` frames at a time (two
passes: the pooled values' covariance, then the projection), so memory stays
O(CHUNK x C x 49 + (C x 9)² + frames x RANK_DIMS) whatever the video's length. They are cached
as float16 in
``cache_dir("features")/<fingerprint>-<backbone>-<input>px-rank<RANK_DIMS>-v<VERSION>.npy``
(the backbone's default input and frame step, ``backbones.feature_key``). They need every
frame's features: with the backbone on every other frame (``step=2``, the features between
interpolated) the frames next to a label lose the evidence of their own picture, and protocol B
needed more labels than uniform spacing (docs/kfpn.md, "What did not pay").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from annotator.core.paths import cache_dir
from annotator.core.progress import Progress, ShouldStop, check_stop, part, report
from annotator.proposal.backbones import (
    DEFAULT_BACKBONE,
    DEFAULT_STEP,
    PROPOSAL_STEP,
    feature_key,
)
from annotator.proposal.features import (
    cache_path as features_path,
)
from annotator.proposal.features import (
    load_cached,
    reading,
    save_cached,
    video_features,
)
from annotator.video.base import VideoReader

RANK_DIMS = 64
VERSION = 1
POOL = 3
CHUNK = 256  # frames pooled at once (C x 7 x 7 float64 each: 32 MB): bounded memory
# The 7 x 7 map's rows (and columns) each 3 x 3 cell averages, as adaptive average pooling
# divides them (start floor(i * 7 / 3), end ceil((i + 1) * 7 / 3)).
_BINS = ((0, 3), (2, 5), (4, 7))


def cache_path(
    fingerprint: str, backbone: str = DEFAULT_BACKBONE, step: int = DEFAULT_STEP
) -> Path:
    key = feature_key(backbone, step=step)
    return cache_dir("features") / f"{fingerprint}-{key}-rank{RANK_DIMS}-v{VERSION}.npy"


def pooled(maps: NDArray[np.floating]) -> NDArray[np.float64]:
    """(N, C x 9): backbone maps (N, C, 7, 7) average-pooled to 3 x 3 (K-FPN's search input)."""
    x = np.asarray(maps, dtype=np.float64)
    if x.ndim != 4 or x.shape[2:] != (7, 7):
        raise ValueError(f"expected backbone maps (N, C, 7, 7), got {x.shape}")
    cells = [x[:, :, r0:r1, c0:c1].mean(axis=(2, 3)) for r0, r1 in _BINS for c0, c1 in _BINS]
    return np.stack(cells, axis=-1).reshape(len(x), -1)


def descriptors_from_features(
    feats: NDArray[np.floating],
    dims: int = RANK_DIMS,
    should_stop: ShouldStop | None = None,
    rows: NDArray[np.integer] | None = None,
) -> NDArray[np.float32]:
    """(F, ≤ dims) descriptors: the pooled maps of ``feats[rows]`` (every frame by default),
    centred and projected onto their principal axes. Reads ``feats`` (an array or a memory
    map) in chunks; memory is O(C² + F x dims), never the whole feature array. Fewer frames
    than pooled values take the frames' Gram matrix instead (``_few_frames``)."""
    index = np.arange(len(feats)) if rows is None else np.asarray(rows, dtype=np.int64)
    f = len(index)

    def chunk(start: int) -> NDArray[np.float64]:
        return pooled(np.asarray(feats[index[start : start + CHUNK]]))

    width = int(np.shape(feats)[1]) * POOL * POOL
    if 0 < f < width:
        return _few_frames(np.concatenate([chunk(s) for s in range(0, f, CHUNK)]), dims)
    from scipy.linalg.blas import dsyrk

    # The covariance is built in one D x D array, updated in place (BLAS's symmetric rank-k
    # update, upper triangle): no second D x D temporary per chunk or for the centring.
    total = np.zeros(width)
    gram = np.zeros((width, width), order="F")
    for start in range(0, f, CHUNK):
        check_stop(should_stop, "ranking descriptors")
        y = chunk(start)
        total += y.sum(axis=0)
        gram = dsyrk(1.0, y, beta=1.0, c=gram, trans=1, lower=0, overwrite_c=1)
    mean = total / max(f, 1)
    gram /= max(f, 1)
    for row in range(0, width, CHUNK):  # minus the mean's outer product, a band at a time
        gram[row : row + CHUNK] -= np.outer(mean[row : row + CHUNK], mean)
    axes = _top_axes(gram, min(dims, len(mean)))
    del gram
    out = np.empty((f, axes.shape[1]), dtype=np.float32)
    for start in range(0, f, CHUNK):
        out[start : start + CHUNK] = (chunk(start) - mean) @ axes
    return out


def _top_axes(cov: NDArray[np.float64], keep: int) -> NDArray[np.float64]:
    """(D, keep) eigenvectors of the largest eigenvalues of the symmetric ``cov`` (its upper
    triangle is read; overwritten), largest first, each signed so that its largest component
    is positive. Only those are computed (LAPACK's ``syevr`` on a subset): the full D x D
    decomposition of the backbone's 2880 pooled values takes another 250 MB while it runs,
    and the app can run two at once (the proposals' long grid and the reading for ``N``)."""
    from scipy.linalg import eigh

    d = len(cov)
    subset = [d - keep, d - 1]
    _, vecs = eigh(cov, lower=False, overwrite_a=True, subset_by_index=subset, driver="evr")
    axes = np.ascontiguousarray(vecs[:, ::-1])  # ascending eigenvalues: largest first
    top = np.abs(axes).argmax(axis=0)
    signs = np.sign(axes[top, np.arange(keep)])
    return np.asarray(axes * np.where(signs == 0, 1.0, signs), dtype=np.float64)


def _few_frames(y: NDArray[np.float64], dims: int) -> NDArray[np.float32]:
    """The same projection for fewer frames than pooled values, from the frames' Gram matrix:
    with F < D the F x F eigendecomposition gives the centred data's principal coordinates
    (sqrt(eigenvalue) x eigenvector, up to each axis's sign) at a fraction of the D x D one's
    cost (a 40-frame clip: D = 2880, tens of seconds of CPU on a busy laptop, and 130 MB).
    Axes past the data's rank are zero, as the D x D route gives them."""
    y = y - y.mean(axis=0)
    vals, vecs = np.linalg.eigh(y @ y.T)  # ascending eigenvalues
    keep = min(dims, y.shape[1])
    top = min(keep, len(vals))
    out = np.zeros((len(y), keep), dtype=np.float32)
    out[:, :top] = vecs[:, ::-1][:, :top] * np.sqrt(np.clip(vals[::-1][:top], 0.0, None))
    return out


def cached_descriptors(
    fingerprint: str, frame_count: int, backbone: str = DEFAULT_BACKBONE, step: int = DEFAULT_STEP
) -> NDArray[np.float32] | None:
    """The cached descriptors of a video, or None (none, damaged, or another frame count)."""
    cached = load_cached(cache_path(fingerprint, backbone, step), 2)
    if cached is None or len(cached) != frame_count:
        return None
    return np.asarray(cached, dtype=np.float32)


def ranking_descriptors(
    video: str | Path | VideoReader,
    *,
    compute: bool = True,
    backbone: str = DEFAULT_BACKBONE,
    device: str = "cpu",
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    step: int = DEFAULT_STEP,
) -> NDArray[np.float32] | None:
    """(F, ≤ RANK_DIMS) descriptors of ``video`` for ``rank_next_frames(video=...)``, from the
    cache when present; else from the cached backbone features, else (``compute``) from the
    backbone run over the video (its features are cached for the proposals too). None when
    ``compute`` is False and neither cache holds them (the proposals' cache of every
    ``PROPOSAL_STEP``-th frame counts: the backbone then runs on the other frames only).
    ``step``: the backbone on every ``step``-th frame (the default, every frame, is the one the
    ranking was tuned on)."""
    with reading(video) as source:
        fingerprint, count = source.fingerprint, source.frame_count
        hit = cached_descriptors(fingerprint, count, backbone, step)
        if hit is not None:
            report(progress, 1, 1)
            return hit
        if not compute and not _features_on_disk(fingerprint, backbone, step):
            return None
        # Read from the cache file chunk by chunk (``FeatureFile``), never as one array:
        # a 100,000-frame video's features are 6 GB as float32.
        feats = video_features(
            source,
            backbone,
            device=device,
            progress=part(progress, 0.0, 0.95),
            should_stop=should_stop,
            mmap=True,
            step=step,
        )
    out = descriptors_from_features(feats, should_stop=should_stop)
    save_cached(cache_path(fingerprint, backbone, step), out)
    report(progress, 1, 1)
    return out


def _features_on_disk(fingerprint: str, backbone: str, step: int) -> bool:
    """Whether the features cache of ``step`` is on disk, or for every frame the proposals'
    cache that ``video_features`` completes."""
    steps = {step, PROPOSAL_STEP} if step == 1 else {step}
    return any(features_path(fingerprint, backbone, step=s).is_file() for s in steps)
