"""Backbone features with decoding overlapped: the same features as sequential, written
straight to the cache (a memory map), cancel and decode errors end the decode thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

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


def test_overlapped_decoding_gives_the_sequential_features_and_caches_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video = ArrayVideo(moving_square(21), fingerprint="stream-a")
    threads = threading.active_count()
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
    assert threading.active_count() == threads  # the decode thread has ended

    def no_backbone(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the backbone ran although the features are cached")

    monkeypatch.setattr(backbones, "Backbone", no_backbone)
    again = ft.video_features(video, BACKBONE)
    assert again.dtype == np.float32 and np.array_equal(again, seq.astype(np.float16))


def test_cancel_and_decode_errors_leave_no_cache_and_no_thread() -> None:
    threads = threading.active_count()
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
    assert threading.active_count() == threads
    leftovers = [p for p in ft.cache_path("x", BACKBONE).parent.iterdir() if "stream" in p.name]
    assert leftovers == []
