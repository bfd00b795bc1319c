"""The in-memory reader behaves like a file reader."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.errors import VideoError
from annotator.video import VideoReader
from annotator.video.reader import FrameIndexError
from annotator.video.synthetic import SyntheticVideo


def test_synthetic_video_serves_its_frames() -> None:
    frames = np.random.default_rng(0).integers(0, 255, (6, 8, 10, 3), dtype=np.uint8)
    video = SyntheticVideo(frames, fps=10)
    assert isinstance(video, VideoReader)
    assert (video.frame_count, video.width, video.height) == (6, 10, 8)
    assert np.array_equal(video.frame(4), frames[4])
    assert video.timestamp(3) == pytest.approx(0.3) and video.duration == pytest.approx(0.6)
    assert [i for i, _ in video.iter_frames(2, 5)] == [2, 3, 4]
    assert video.info()["key_frames"] == list(range(6))
    with pytest.raises(FrameIndexError):
        video.frame(6)


def test_synthetic_video_checks_its_input() -> None:
    with pytest.raises(VideoError):
        SyntheticVideo(np.zeros((0, 4, 4, 3), np.uint8))
    with pytest.raises(VideoError):
        SyntheticVideo(np.zeros((3, 4, 4), np.uint8))
    stamps = np.array([0.0, 0.1, 0.5])
    video = SyntheticVideo(np.zeros((3, 4, 4, 3), np.uint8), fps=10, timestamps=stamps)
    assert video.variable_frame_rate
