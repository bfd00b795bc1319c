"""Caching, decode-ahead, the background index and its per-user cache, thread safety."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from annotator.video import open_video
from annotator.video.cache import FrameCache
from tests.video.videomaker import make_video, sequential_frames


@pytest.fixture
def gop_video(tmp_path: Path) -> Path:
    (tmp_path / "videos").mkdir()  # apart from the test's cache folder
    return make_video(
        tmp_path / "videos" / "v.mp4", n=80, options={"g": "50", "bf": "2", "sc_threshold": "0"}
    )


def test_lru_cache_is_bounded_and_evicts_oldest() -> None:
    cache: FrameCache[int] = FrameCache(3)
    for i in range(5):
        cache.put(i, i)
    assert cache.indices() == [2, 3, 4]
    cache.get(2)  # now the most recent
    cache.put(9, 9)
    assert cache.indices() == [2, 4, 9]
    assert FrameCache(0).get(0) is None


def test_stepping_backwards_reuses_the_decoded_gop(gop_video: Path) -> None:
    with open_video(gop_video, cache_frames=64, decode_ahead=0) as reader:
        reader.wait_for_index()
        reader.frame(45)
        decoded, seeks = reader.stats["decoded"], reader.stats["seeks"]
        for i in range(44, 4, -1):
            reader.frame(i)
        assert reader.stats == {"decoded": decoded, "seeks": seeks}


def test_memory_is_bounded_by_the_cache_setting(gop_video: Path) -> None:
    with open_video(gop_video, cache_frames=5, decode_ahead=2) as reader:
        for i in (70, 3, 60, 79, 10, 11, 12):
            reader.frame(i)
            assert len(reader.cached_indices()) <= 5


def test_decode_ahead_prepares_the_next_frames(gop_video: Path) -> None:
    with open_video(gop_video, cache_frames=32, decode_ahead=6) as reader:
        reader.wait_for_index()
        reader.frame(20)
        deadline = time.monotonic() + 10
        while not all(reader.cached(i) for i in range(21, 27)) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert all(reader.cached(i) for i in range(21, 27))
        seeks = reader.stats["seeks"]
        for i in range(21, 27):
            reader.frame(i)
        assert reader.stats["seeks"] == seeks  # served from what was decoded ahead


def test_index_is_cached_per_user_and_nothing_is_written_beside_the_video(
    gop_video: Path,
) -> None:
    before = sorted(os.listdir(gop_video.parent))
    progress: list[float] = []
    with open_video(gop_video, build_index=False) as reader:
        reader.add_index_listener(progress.append)
        assert reader.wait_for_index()
    assert progress and progress[-1] == 1.0
    cached = list(Path(os.environ["ANNOTATOR_CACHE_DIR"], "index").glob("*.npz"))
    assert len(cached) == 1
    with open_video(gop_video) as again:
        assert again.index_ready  # straight from the cache
        late: list[float] = []
        again.add_index_listener(late.append)
        assert late == [1.0]
    assert sorted(os.listdir(gop_video.parent)) == before


def test_index_cache_is_invalidated_when_the_file_changes(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.mp4", n=20)
    with open_video(path) as reader:
        assert reader.wait_for_index() and reader.frame_count == 20
    make_video(path, n=33)
    with open_video(path) as reader:
        assert reader.wait_for_index() and reader.frame_count == 33


def test_frames_are_read_only(gop_video: Path) -> None:
    with open_video(gop_video) as reader:
        frame = reader.frame(3)
        with pytest.raises(ValueError):
            frame[0, 0, 0] = 1


def test_concurrent_requests_while_indexing(gop_video: Path) -> None:
    reference = sequential_frames(gop_video)
    errors: list[str] = []
    with open_video(gop_video, cache_frames=8) as reader:

        def worker(seed: int) -> None:
            rng = np.random.default_rng(seed)
            for i in rng.integers(0, len(reference), 15):
                if not np.array_equal(reader.frame(int(i)), reference[int(i)]):
                    errors.append(f"frame {i}")

        threads = [threading.Thread(target=worker, args=(s,)) for s in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
