"""The video writer behind the overlay export: frames in, a decodable MP4 out, atomically."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from annotator.errors import VideoError
from annotator.video.writer import pick_codec, write_video


def _frames(n: int, height: int = 31, width: int = 45):
    for k in range(n):
        frame = np.zeros((height, width, 3), dtype=np.uint8)
        frame[:, : 2 + k] = (200, 40, 40)
        yield frame


def test_frames_become_a_decodable_video(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    progress: list[float] = []
    assert write_video(out, _frames(9), 12.5, total=9, progress=progress.append) == 9
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        decoded = list(container.decode(stream))
        assert len(decoded) == 9
        assert (stream.codec_context.width, stream.codec_context.height) == (46, 32)  # even
        assert float(stream.average_rate) == pytest.approx(12.5)
    assert progress[-1] == 1.0
    assert pick_codec() in ("libx264", "h264", "mpeg4")


def test_bad_input_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    with pytest.raises(VideoError, match="no frames"):
        write_video(out, iter(()), 25.0)
    mixed = [np.zeros((32, 46, 3), np.uint8), np.zeros((64, 46, 3), np.uint8)]
    with pytest.raises(VideoError, match="not the video's 46x32"):
        write_video(out, mixed, 25.0)
    with pytest.raises(VideoError, match="no H\\.264 or MPEG-4 encoder"):
        pick_codec(("no-such-encoder",))
    assert list(tmp_path.iterdir()) == []
