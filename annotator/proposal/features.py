"""Backbone features of every frame of a video, cached per video so proposals re-run fast.

The cache lives in ``cache_dir("features")`` as ``<fingerprint>-<backbone>-<input>px.npy``
(float16, ``(frames, C, 7, 7)``), written atomically. The fingerprint identifies the file's
content, so a renamed video keeps its cache and an edited one does not reuse a stale one; the
input size and frame step (``backbones.feature_key``: ``-stepN`` when the backbone sees every
N-th frame only) keep features of different inputs apart.

Decoding overlaps the network: a thread decodes and resizes frames to the backbone's input
(``decoded_batches``; PyAV and OpenCV release the GIL) while the caller's thread runs the
backbone on the previous batch, with torch on one core less than the machine's
(``backbone_threads``) so the two do not contend. The backbone takes ``BATCH`` frames per call
on the CPU (``GPU_BATCH`` on a GPU): a larger batch is no faster on the CPU and only raises the
peak of its activations. Features go straight into the cache file, appended batch by batch
through a plain file (the ``.npy`` header, written first, promises every frame's row), so a
long video never holds its features in memory; a writable memory map would do the same on
disk, but its dirty pages count in the process's resident memory until the kernel writes them
back. ``mmap=True`` returns a ``FeatureFile`` that reads them from that file slice by slice.
Two threads asking for the same cache at once run the backbone once (``feature_share``).

Proposals run the backbone on every ``PROPOSAL_STEP``-th frame (``backbones``); the ranking for
``N`` needs every frame's. A request for every frame whose video has the proposals' cache (or
is computing it) runs the backbone only on the frames that cache left out and writes the same
file a full run would (``_complete``: the computed rows are the backbone's own, the rows between
replaced), so proposals and ``N`` together still cost one pass of the backbone. A request that
accepts ``finer`` features takes every frame's cache when there is one (or waits for the run
computing it), rather than run the backbone again.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np

from annotator.core.paths import cache_dir
from annotator.core.progress import Progress, ShouldStop, check_stop, part, report
from annotator.core.safeio import atomic_output
from annotator.errors import VideoError
from annotator.proposal.feature_share import computing_once, is_running
from annotator.video.base import VideoReader, open_video
from annotator.video.opening import check_path
from annotator.video.prefetch import prefetched

BATCH = 8  # frames per backbone call on the CPU
GPU_BATCH = 16  # on a GPU
AHEAD = 3  # batches decoded ahead of the backbone
COPY_BYTES = 1 << 24  # block size when a cache file is rewritten
CHUNK_ROWS = 256  # cached rows copied at once when a cache is completed


def batch_size(device_type: str) -> int:
    """Frames per backbone call on a device of ``device_type`` (``"cpu"``, ``"cuda"``)."""
    return BATCH if device_type == "cpu" else GPU_BATCH


def open_source(video: str | Path | VideoReader) -> VideoReader:
    """A reader for a path (the caller closes it), or the reader itself."""
    if isinstance(video, (str, Path)):
        return open_video(check_path(video))
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


def cache_path(
    fingerprint: str, backbone: str, input_size: int | None = None, step: int | None = None
) -> Path:
    """The features cache of a video for ``backbone`` at ``input_size``, computed every
    ``step`` frames (defaults: ``backbones.DEFAULT_INPUT_SIZE`` and ``DEFAULT_STEP``)."""
    from annotator.proposal.backbones import DEFAULT_INPUT_SIZE, DEFAULT_STEP, feature_key

    size = DEFAULT_INPUT_SIZE if input_size is None else input_size
    key = feature_key(backbone, size, DEFAULT_STEP if step is None else step)
    return cache_dir("features") / f"{fingerprint}-{key}.npy"


def decoded_batches(
    source: VideoReader,
    size: int = BATCH,
    should_stop: ShouldStop | None = None,
    overlap: bool = True,
    input_size: int | None = None,
    step: int = 1,
    known: Callable[[int], bool] | None = None,
) -> Generator[tuple[np.ndarray, np.ndarray], None, None]:
    """Batches (frame indices, frames ``(n, input_size, input_size, 3)``) of the video's
    frames resized to the backbone input, in order: every ``step``-th frame and the last one.
    ``known`` (with ``step`` 1): leaves out the frames it is true of, whose features a cache
    holds already (``_complete``). With ``overlap`` a thread decodes up to ``AHEAD`` batches ahead of the consumer; a decode
    error or a cancel seen there, or closing the generator (a consumer that stops early closes
    it at once: ``contextlib.closing``), stops and joins it."""
    from annotator.proposal.backbones import DEFAULT_INPUT_SIZE, resize

    square = DEFAULT_INPUT_SIZE if input_size is None else input_size

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        index: list[int] = []
        batch: list[np.ndarray] = []
        skipped: tuple[int, np.ndarray] | None = None  # the latest frame left out
        for i, frame in source.iter_frames():
            check_stop(should_stop, "feature extraction")
            if known is not None and known(i):
                continue
            if i % step:
                skipped = (i, frame)
                continue
            skipped = None
            index.append(i)
            batch.append(resize(frame, square))
            if len(batch) == size:
                yield np.asarray(index), np.stack(batch)
                index, batch = [], []
        if skipped is not None:  # the video's last frame is always computed
            index.append(skipped[0])
            batch.append(resize(skipped[1], square))
        if batch:
            yield np.asarray(index), np.stack(batch)

    if not overlap:
        yield from batches()
        return
    yield from prefetched(batches(), AHEAD)  # decoding releases the GIL


def video_features(
    source: VideoReader,
    backbone_name: str,
    *,
    backbone_weights: str | Path | None = None,
    device: str = "cpu",
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    use_cache: bool = True,
    mmap: bool = False,
    overlap: bool = True,
    input_size: int | None = None,
    fused: bool = True,
    step: int | None = None,
    finer: bool = False,
    threads: int | None = None,
) -> np.ndarray:
    """``(frames, C, 7, 7)`` features of every frame, from the cache when present: float32 in
    memory, or with ``mmap`` (and the cache) a ``FeatureFile`` reading the float16 cache
    file slice by slice.
    ``overlap``: decode in a thread while the backbone runs (the same features either way).
    ``input_size``: the backbone's input square (default ``backbones.DEFAULT_INPUT_SIZE``);
    ``fused``: the batch-norm-folded backbone (``backbones.Backbone``).
    ``step`` (default ``backbones.DEFAULT_STEP``): the backbone sees every ``step``-th frame and the
    last; the features of the frames between are interpolated linearly.
    ``finer``: every frame's features serve too, when cached or being computed (the app's
    proposals take them; a benchmark comparing steps does not).
    ``threads``: torch's threads for a CPU backbone while it runs (default
    ``backbone_threads``)."""
    from annotator.proposal.backbones import (
        DEFAULT_INPUT_SIZE,
        DEFAULT_STEP,
        PROPOSAL_STEP,
        Backbone,
        check_input_size,
    )

    size = check_input_size(DEFAULT_INPUT_SIZE if input_size is None else input_size)
    every = DEFAULT_STEP if step is None else step
    if every < 1:
        raise ValueError("the feature step is at least 1")
    fingerprint = source.fingerprint
    path = cache_path(fingerprint, backbone_name, size, every)
    full = cache_path(fingerprint, backbone_name, size, 1)
    servable = [path] + ([full] if finer and every != 1 else [])
    if use_cache:
        for candidate in servable:
            cached = load_cached(candidate, 4, mmap=mmap)
            if cached is not None:
                return _as_features(candidate, cached, mmap)
    backbone = Backbone(backbone_name, backbone_weights, device, size, fused)
    kind = backbone.device.type
    if threads is None and kind == "cpu":
        threads = backbone_threads(overlap)
    if not use_cache:
        with torch_threads(threads):
            return _compute(
                source, path, backbone, size, every, progress, should_stop, False, mmap, overlap
            )
    coarse = cache_path(fingerprint, backbone_name, size, PROPOSAL_STEP)
    if every == 1 and PROPOSAL_STEP > 1 and is_running(coarse, kind):
        # The proposals are computing every PROPOSAL_STEP-th frame: wait, then do the rest.
        with computing_once(coarse, kind, part(progress, 0.0, 0.5), should_stop):
            pass
        progress = part(progress, 0.5, 1.0)
    elif len(servable) > 1 and is_running(full, kind):
        # Every frame's features are being computed (the reading for ``N``): wait for them.
        with computing_once(full, kind, progress, should_stop):
            pass
        cached = load_cached(full, 4, mmap=mmap)
        if cached is not None:
            return _as_features(full, cached, mmap)
    # Another thread computing this cache (the reading for N while the user proposes): wait
    # for it and read what it writes, rather than run the backbone twice (``feature_share``).
    with computing_once(path, kind, progress, should_stop) as shared:
        cached = load_cached(path, 4, mmap=mmap)
        if cached is not None:
            report(progress, 1, 1)
            return _as_features(path, cached, mmap)
        with torch_threads(threads):
            if every == 1 and PROPOSAL_STEP > 1 and load_cached(coarse, 4, mmap=True) is not None:
                with contextlib.suppress(_OtherRows):  # then the whole video, as without it
                    return _complete(
                        source, path, coarse, backbone, size, shared, should_stop, mmap, overlap
                    )
            return _compute(
                source, path, backbone, size, every, shared, should_stop, True, mmap, overlap
            )


def backbone_threads(overlap: bool) -> int:
    """torch's threads for a CPU backbone: every core, less one for the decoding thread when
    it overlaps (threads that outnumber the cores wait on each other; ``annotator bench
    proposal-speed`` times both)."""
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if overlap else cores


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``count`` inside, restored after (None: unchanged)."""
    import torch

    if count is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _compute(
    source: VideoReader,
    path: Path,
    backbone: Callable[[np.ndarray], np.ndarray],
    size: int,
    every: int,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    use_cache: bool,
    mmap: bool,
    overlap: bool,
) -> np.ndarray:
    """Run the backbone over the video (the rest of ``video_features``)."""
    total = source.frame_count
    device = getattr(backbone, "device", None)
    batch = batch_size(getattr(device, "type", "cpu"))
    # Closed where an error or a cancel passes, so the decode-ahead thread has ended before
    # anyone handles it (a traceback would otherwise keep the generator, and the thread, alive).
    batches = decoded_batches(source, batch, should_stop, overlap, size, every)
    if not use_cache:
        with contextlib.closing(batches):
            out = [rows for _, rows in interpolated(batches, backbone)]
        if not out:
            raise VideoError("the video has no decodable frames")
        report(progress, total, total)
        return np.concatenate(out)
    with atomic_output(path) as tmp, contextlib.closing(batches):
        done = _stream_to(tmp, batches, backbone, total, progress, should_stop)
        if done == 0:
            raise VideoError("the video has no decodable frames")
        if done < total:  # the index promised more frames than decoded: keep those decoded
            _keep_rows(tmp, done)
    cached = load_cached(path, 4, mmap=mmap)
    if cached is None:  # pragma: no cover - just written
        raise VideoError(f"cannot read back the features cache {path}")
    return _as_features(path, cached, mmap)


class _OtherRows(Exception):
    """The coarse cache's rows are not the backbone's (another backbone wrote it)."""


def _complete(
    source: VideoReader,
    path: Path,
    coarse: Path,
    backbone: Callable[[np.ndarray], np.ndarray],
    size: int,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    mmap: bool,
    overlap: bool,
) -> np.ndarray:
    """Every frame's features into ``path``, from the cache ``coarse`` of every
    ``PROPOSAL_STEP``-th frame and the last: the backbone runs on the other frames only, and
    the rows the coarse cache computed are copied (``CHUNK_ROWS`` at a time), so the file is
    the one a full run writes."""
    from annotator.proposal.backbones import PROPOSAL_STEP

    rows = FeatureFile(coarse)
    total = len(rows)
    device = getattr(backbone, "device", None)
    batch = batch_size(getattr(device, "type", "cpu"))
    last = total - 1  # the coarse run computed the last frame it decoded

    def known(i: int) -> bool:
        return i % PROPOSAL_STEP == 0 or i == last

    batches = decoded_batches(source, batch, should_stop, overlap, size, known=known)
    with atomic_output(path) as tmp, contextlib.closing(batches), tmp.open("wb") as fh:
        fh.write(_npy_header(rows.shape))

        def copy(upto: int) -> None:  # the coarse rows from ``done`` up to ``upto``
            for lo in range(done, upto, CHUNK_ROWS):
                fh.write(np.ascontiguousarray(rows[lo : min(upto, lo + CHUNK_ROWS)]).tobytes())

        done = 0
        for index, frames in batches:
            feats = backbone(frames).astype(np.float16)
            if feats.shape[1:] != rows.shape[1:]:
                raise _OtherRows(f"{coarse} holds rows of {rows.shape[1:]}")
            for i, f in zip(index.tolist(), feats, strict=True):
                if i >= total:
                    break
                copy(i)
                fh.write(np.ascontiguousarray(f).tobytes())
                done = i + 1
            report(progress, done, total)
            check_stop(should_stop, "feature extraction")
        copy(total)
    report(progress, total, total)
    cached = load_cached(path, 4, mmap=mmap)
    if cached is None:  # pragma: no cover - just written
        raise VideoError(f"cannot read back the features cache {path}")
    return _as_features(path, cached, mmap)


def _as_features(path: Path, cached: np.ndarray, mmap: bool) -> np.ndarray:
    """float32 in memory, or (``mmap``) a ``FeatureFile`` over the cache file; it reads like
    an array (shape, ndim, len, slices, fancy indexing), which is all the proposals need."""
    if not mmap:
        return np.asarray(cached, dtype=np.float32)
    del cached
    return cast(np.ndarray, FeatureFile(path))


def interpolated(
    batches: Iterator[tuple[np.ndarray, np.ndarray]],
    backbone: Callable[[np.ndarray], np.ndarray],
) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, rows) of features in frame order: the backbone's on the frames of
    ``batches``, linear interpolation between them for the frames left out, and the first
    frame's features for frames before it (a damaged start that does not decode: the rows
    began at that frame and the stream stopped with an internal error)."""
    last: tuple[int, np.ndarray] | None = None
    for index, frames in batches:
        feats = backbone(frames)
        start = 0 if last is None else last[0] + 1
        rows: list[np.ndarray] = []
        for i, f in zip(index.tolist(), feats, strict=True):
            if last is None and i > 0:
                rows.extend([f] * i)
            if last is not None and i - last[0] > 1:
                gap = i - last[0]
                w = (np.arange(1, gap, dtype=np.float32) / gap)[:, None, None, None]
                rows.extend((1 - w) * last[1] + w * f)
            rows.append(f)
            last = (i, f)
        yield start, np.stack(rows)


def _stream_to(
    tmp: Path,
    batches: Iterator[tuple[np.ndarray, np.ndarray]],
    backbone: Callable[[np.ndarray], np.ndarray],
    total: int,
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> int:
    """Write the backbone's features of ``batches`` into the float16 ``.npy`` file ``tmp``:
    a header for ``total`` rows, then the rows appended as they come (no memory map, see the
    module); returns the rows written (``_keep_rows`` fixes the header when fewer)."""
    done = 0
    with tmp.open("wb") as fh:
        for start, feats in interpolated(batches, backbone):
            if start != done:  # pragma: no cover - ``interpolated`` yields every row in order
                raise AssertionError(f"feature rows out of order: {start} after {done}")
            if done == 0:
                fh.write(_npy_header((total, *feats.shape[1:])))
            n = min(len(feats), total - start)
            fh.write(np.ascontiguousarray(feats[:n], dtype=np.float16).tobytes())
            done = start + n
            report(progress, done, total)
            check_stop(should_stop, "feature extraction")
            if done >= total:
                break
    return done


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """The ``.npy`` (version 1.0) header of a C-ordered float16 array of ``shape``."""
    out = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float16))}
    np.lib.format.write_array_header_1_0(out, {**header, "fortran_order": False, "shape": shape})
    return out.getvalue()


def _keep_rows(path: Path, rows: int) -> None:
    """Cut the float16 ``.npy`` file ``path`` to its first ``rows`` rows: the header rewritten
    in place when its length allows (numpy pads it to 64 bytes, so it nearly always does), else
    the rows copied block by block behind a new header; never the whole array in memory."""
    with path.open("rb") as fh:
        fmt = np.lib.format
        version = fmt.read_magic(fh)
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, _ = read(fh)
        offset = fh.tell()
    new = _npy_header((rows, *shape[1:]))
    size = rows * int(np.prod(shape[1:], dtype=np.int64)) * np.dtype(np.float16).itemsize
    if len(new) == offset:
        with path.open("r+b") as fh:
            fh.write(new)
            fh.truncate(offset + size)
        return
    copy = path.with_name(path.name + ".rows")
    try:
        with path.open("rb") as src, copy.open("wb") as dst:
            dst.write(new)
            src.seek(offset)
            left = size
            while left > 0:
                block = src.read(min(COPY_BYTES, left))
                if not block:
                    raise VideoError(f"the features file {path} is shorter than its rows")
                dst.write(block)
                left -= len(block)
        os.replace(copy, path)
    finally:
        copy.unlink(missing_ok=True)


class FeatureFile:
    """A cached feature file read slice by slice: each read maps the file, copies the slice
    and unmaps it, so a long video's features never stay resident (a plain memory map keeps
    every page it has read in the process's resident memory until it is closed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        head = np.load(path, mmap_mode="r")
        self.shape: tuple[int, ...] = tuple(head.shape)
        self.dtype = head.dtype
        del head

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        view = np.load(self.path, mmap_mode="r")
        try:
            return np.array(view[key])
        finally:
            del view

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self[:], dtype=dtype)


def load_cached(path: Path, ndim: int, mmap: bool = False) -> np.ndarray | None:
    """A cached per-frame array with ``ndim`` dimensions and at least one frame (``mmap``: a
    read-only memory map of it), or None when there is none or it is damaged (the caller
    rebuilds it)."""
    if not path.is_file():
        return None
    try:
        cached: np.ndarray = np.load(path, mmap_mode="r" if mmap else None)
    except (OSError, ValueError):
        return None
    if cached.ndim != ndim or cached.shape[0] == 0 or not _finite_sample(cached):
        return None
    return cached


def _finite_sample(values: np.ndarray, frames: int = 64) -> bool:
    """Whether ``frames`` evenly spaced frames of ``values`` are finite floats: a cache
    overwritten with garbage (NaN from there on made every proposal run fail, and a retry
    read the same file) is rebuilt. A sample, not every frame: a long video's features are
    gigabytes, read only where needed."""
    if not np.issubdtype(values.dtype, np.floating):
        return False
    picks = np.unique(np.linspace(0, values.shape[0] - 1, frames).round().astype(np.int64))
    return bool(np.isfinite(values[picks]).all())


def save_cached(path: Path, values: np.ndarray) -> None:
    """Store ``values`` as float16, atomically (a temporary file renamed over ``path``)."""
    with atomic_output(path) as tmp, tmp.open("wb") as fh:
        np.save(fh, values.astype(np.float16))
