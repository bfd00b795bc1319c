"""Random access on every real clip in the shared data matches a sequential decode."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from annotator.video import open_video
from tests.video.videomaker import frame_hash, sequential_hashes

# clip -> frames of the reference decode to compare (a prefix spanning several GOPs keeps the
# test quick on 2 cores; the whole clip where it is short)
REAL = {
    "hybrik_taiji.mp4": 140,
    "mmpose_body3d_demo.mp4": 60,
    "mmhuman3d_single_person_demo.mp4": None,
    "mmaction2_test.avi": None,
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_clip_random_access(name: str, data_dir: Path) -> None:
    path = data_dir / "videos" / name
    with open_video(path, cache_frames=24) as reader:
        assert reader.wait_for_index(60)
        reference = sequential_hashes(path, reader.rotation, REAL[name])
        n = len(reference)
        if REAL[name] is None:
            assert reader.frame_count == n
        rng = random.Random(name)
        picks = [rng.randrange(n) for _ in range(12)]
        picks += [n - 1, 0, *range(n // 2, n // 2 - 6, -1), *range(n // 3, n // 3 + 6), 0]
        for i in picks:
            assert frame_hash(reader.frame(i)) == reference[i], f"{name}: frame {i}"
        assert reader.frame_problems == {}


def test_real_clip_facts(data_dir: Path) -> None:
    with open_video(data_dir / "videos" / "hybrik_taiji.mp4") as reader:
        reader.wait_for_index()
        info = reader.info()
    assert info["frame_count"] == 412
    assert (info["width"], info["height"], info["codec"]) == (1280, 720, "h264")
    assert info["fps"] == pytest.approx(24000 / 1001)
    assert info["key_frames"][:3] == [0, 60, 120]
    with open_video(data_dir / "videos" / "mmhuman3d_single_person_demo.mp4") as reader:
        assert (reader.width, reader.height) == (1080, 1920)
