"""Backbone features with decoding overlapped: the same features as sequential, written
straight to the cache (appended, no memory map), cancel and decode errors end the decode thread."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from annotator.core.progress import Cancelled
from annotator.errors import VideoError
from annotator.proposal import backbones
from annotator.proposal import features as ft
from tests.proposal.helpers import ArrayVideo, moving_square

BACKBONE = backbones.DEFAULT_BACKBONE


class BrokenVideo(ArrayVideo):
    """Decodes a few frames, then fails like a damaged file."""

    def iter_frames(self) -> Iterator[tuple[int, np.ndarray]]:
        yield from list(enumerate(self.frames))[:20]
        raise VideoError("damaged packet at frame 20")


def decode_threads() -> int:
    """The live decode-ahead threads (counted by name: other tests' threads may end meanwhile)."""
    return sum(thread.name == "decode-ahead" for thread in threading.enumerate())


def test_overlapped_decoding_gives_the_sequential_features_and_caches_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video = ArrayVideo(moving_square(21), fingerprint="stream-a")
    threads = decode_threads()
    # torch on as many threads as the overlapped default: other counts sum in another order
    same = ft.backbone_threads(overlap=True)
    seq = ft.video_features(video, BACKBONE, use_cache=False, overlap=False, threads=same)
    ovl = ft.video_features(video, BACKBONE, use_cache=False, overlap=True)
    assert seq.shape == (21, 320, 7, 7) and np.array_equal(seq, ovl)
    fractions: list[float] = []
    cached = ft.video_features(video, BACKBONE, mmap=True, progress=fractions.append)
    assert isinstance(cached, ft.FeatureFile) and cached.dtype == np.float16
    assert cached.shape == seq.shape and cached.ndim == 4 and len(cached) == 21
    assert np.array_equal(np.asarray(cached), seq.astype(np.float16))
    rows = np.array([[3, 1], [20, 0]])
    assert np.array_equal(cached[rows], seq.astype(np.float16)[rows])
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert decode_threads() == threads  # the decode thread has ended

    def no_backbone(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the backbone ran although the features are cached")

    monkeypatch.setattr(backbones, "Backbone", no_backbone)
    again = ft.video_features(video, BACKBONE)
    assert again.dtype == np.float32 and np.array_equal(again, seq.astype(np.float16))


def test_cancel_and_decode_errors_leave_no_cache_and_no_thread() -> None:
    threads = decode_threads()
    video = ArrayVideo(moving_square(60), fingerprint="stream-b")
    calls = {"n": 0}

    def stop_after_first_batch() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    with pytest.raises(Cancelled):
        ft.video_features(video, BACKBONE, should_stop=stop_after_first_batch)
    assert not ft.cache_path("stream-b", BACKBONE).exists()
    broken = BrokenVideo(moving_square(60), fingerprint="stream-c")
    with pytest.raises(VideoError, match="damaged"):
        ft.video_features(broken, BACKBONE)
    assert not ft.cache_path("stream-c", BACKBONE).exists()
    assert decode_threads() == threads
    leftovers = [p for p in ft.cache_path("x", BACKBONE).parent.iterdir() if "stream" in p.name]
    assert leftovers == []


class PromisingVideo(ArrayVideo):
    """An index that promises more frames than the file decodes (a truncated download)."""

    @property
    def frame_count(self) -> int:
        return int(self.frames.shape[0]) + 7


def test_smaller_batches_give_the_same_features(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CPU's 8 frames per backbone call give the features 16 gave, to float32 rounding
    (oneDNN picks its kernels by batch size, so not bit for bit), far below the float16
    cache's step (about 5e-4 of the maps' range)."""
    video = ArrayVideo(moving_square(37), fingerprint="stream-batch")
    assert ft.batch_size("cpu") == ft.BATCH == 8 and ft.batch_size("cuda") == ft.GPU_BATCH == 16
    sizes: list[int] = []
    real = ft.decoded_batches

    def spy(source: ArrayVideo, size: int = ft.BATCH, *args: object, **kwargs: object) -> Iterator:
        sizes.append(size)
        return real(source, size, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ft, "decoded_batches", spy)
    small = ft.video_features(video, BACKBONE, use_cache=False)
    monkeypatch.setattr(ft, "BATCH", 16)
    large = ft.video_features(video, BACKBONE, use_cache=False)
    assert sizes == [8, 16]
    assert small.shape == (37, 320, 7, 7) and large.shape == small.shape
    scale = float(large.max() - large.min())
    assert np.abs(small - large).max() <= 1e-5 * scale


def test_the_cache_file_is_appended_not_memory_mapped_and_reads_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows go to the file as each batch comes (no writable memory map), and the file is
    byte for byte what ``np.save`` writes of the whole float16 array, which ``FeatureFile``
    and ``np.load`` read as before."""

    real = np.lib.format.open_memmap

    def read_only(*args: object, **kwargs: object) -> np.memmap:
        if kwargs.get("mode", "r+") != "r":
            raise AssertionError("the cache was written through a memory map")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(np.lib.format, "open_memmap", read_only)
    video = ArrayVideo(moving_square(21), fingerprint="stream-append")
    same = ft.backbone_threads(overlap=True)
    want = ft.video_features(video, BACKBONE, use_cache=False, threads=same)
    cached = ft.video_features(video, BACKBONE, mmap=True)
    path = ft.cache_path("stream-append", BACKBONE)
    saved = io.BytesIO()
    np.save(saved, want.astype(np.float16))
    assert path.read_bytes() == saved.getvalue()
    assert isinstance(cached, ft.FeatureFile) and cached.shape == want.shape
    assert np.array_equal(cached[5:9], want[5:9].astype(np.float16))
    assert np.array_equal(np.load(path), want.astype(np.float16))


def test_a_video_shorter_than_its_index_keeps_the_frames_decoded() -> None:
    video = PromisingVideo(moving_square(19), fingerprint="stream-short")
    feats = ft.video_features(video, BACKBONE, mmap=True)
    assert feats.shape == (19, 320, 7, 7)
    whole = np.load(ft.cache_path("stream-short", BACKBONE))
    assert whole.shape == (19, 320, 7, 7) and np.array_equal(np.asarray(feats), whole)


def test_cutting_rows_behind_a_header_of_another_length_copies_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = np.arange(6 * 2 * 3, dtype=np.float16).reshape(6, 2, 3)
    path = tmp_path / "rows.npy"
    np.save(path, values)
    real = ft._npy_header

    def longer(shape: tuple[int, ...]) -> bytes:  # 64 more bytes of padding
        head = real(shape)
        size = int.from_bytes(head[8:10], "little") + 64
        return head[:8] + size.to_bytes(2, "little") + head[10:-1] + b" " * 64 + b"\n"

    monkeypatch.setattr(ft, "_npy_header", longer)
    ft._keep_rows(path, 4)
    assert np.array_equal(np.load(path), values[:4])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.npy"]
    monkeypatch.setattr(ft, "_npy_header", real)
    ft._keep_rows(path, 3)  # the same header length: rewritten in place
    assert np.array_equal(np.load(path), values[:3])


def test_a_failing_backbone_ends_the_decode_thread_before_the_error_is_handled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The decode-ahead thread is closed where the error passes, not when the garbage
    collector finds the generator: a handler still holding the traceback sees no thread."""
    threads = decode_threads()
    real = backbones.Backbone

    class Failing(real):  # type: ignore[misc, valid-type]
        calls = 0

        def __call__(self, frames: np.ndarray) -> np.ndarray:
            type(self).calls += 1
            if type(self).calls > 1:
                raise RuntimeError("out of memory in the backbone")
            return super().__call__(frames)

    monkeypatch.setattr(backbones, "Backbone", Failing)
    video = ArrayVideo(moving_square(80), fingerprint="stream-fail")
    try:
        ft.video_features(video, BACKBONE)
    except RuntimeError as err:
        assert err.__traceback__ is not None  # the frames (and the generators) still alive
        assert decode_threads() == threads
    else:  # pragma: no cover
        raise AssertionError("the backbone's error did not reach the caller")
    assert not ft.cache_path("stream-fail", BACKBONE).exists()
