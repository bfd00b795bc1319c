"""Every kind of bad input gives a VideoError with a message a user understands."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from annotator.errors import VideoError
from annotator.video import open_video
from annotator.video.reader import FrameIndexError
from tests.video.videomaker import make_video, pattern, sequential_frames


def _fails(path: Path, *words: str) -> None:
    with pytest.raises(VideoError) as info:
        open_video(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert any(w in message for w in words), message


def test_missing_path(tmp_path: Path) -> None:
    _fails(tmp_path / "nope.mp4", "not found")


def test_folder_and_empty_file(tmp_path: Path) -> None:
    _fails(tmp_path, "folder")
    (tmp_path / "empty.mp4").write_bytes(b"")
    _fails(tmp_path / "empty.mp4", "empty")


def test_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are my notes, not a video\n" * 50)
    _fails(path, "not a video")


def test_truncated_file(tmp_path: Path) -> None:
    data = make_video(tmp_path / "v.mp4", n=40).read_bytes()  # index (moov) at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    _fails(cut, "truncated")


def test_zero_frames(tmp_path: Path) -> None:
    path = tmp_path / "zero.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()  # header written, then no frame at all
    assert path.stat().st_size > 0
    _fails(path, "no frames", "no video data", "no decodable")


def test_audio_only(tmp_path: Path) -> None:
    path = tmp_path / "sound.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    _fails(path, "audio only")


def test_unsupported_codec(tmp_path: Path) -> None:
    data = bytearray(make_video(tmp_path / "v.mkv", n=5).read_bytes())
    at = data.find(b"V_MPEG4/ISO/AVC")
    assert at > 0
    data[at : at + 15] = b"V_QQQQQ/QQQ/QQQ"  # a codec id no decoder knows
    path = tmp_path / "odd.mkv"
    path.write_bytes(bytes(data))
    _fails(path, "codec")


def test_out_of_range_index(tmp_path: Path) -> None:
    with open_video(make_video(tmp_path / "v.mp4", n=10)) as reader:
        for bad in (-1, 10, 99):
            with pytest.raises(FrameIndexError, match="out of range"):
                reader.frame(bad)


def test_truncated_streamable_file_keeps_working(tmp_path: Path) -> None:
    full = tmp_path / "fast.mp4"
    with av.open(str(full), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.options = {"g": "10"}
        for i in range(60):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pattern(i, 96, 64), "rgb24")))
        container.mux(stream.encode(None))
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])  # the index lists frames whose data is gone
    decoded = _decodable_pts(cut)
    with open_video(cut) as reader:
        reader.wait_for_index()
        n = reader.frame_count
        frames = [reader.frame(i) for i in range(n)]
        stamps = reader.timestamps
    assert all(f.shape == (64, 96, 3) for f in frames)
    assert stamps is not None
    missing = {i for i in range(n) if round(stamps[i] * 12800) not in decoded}
    assert missing  # the cut removed some frames' data
    assert set(reader.frame_problems) == missing  # each reported ...
    for i, shown in reader.frame_problems.items():  # ... and replaced by the nearest good one
        assert shown not in missing
        assert all(abs(j - i) >= abs(shown - i) for j in range(n) if j not in missing)


def _decodable_pts(path: Path) -> set[int]:
    """Timestamps a plain decode gets out of a damaged file (a plain loop would raise)."""
    found: set[int] = set()
    with av.open(str(path)) as container:
        for packet in container.demux(video=0):
            try:
                found.update(int(f.pts) for f in packet.decode())
            except av.error.InvalidDataError:
                continue
    return found


def test_corrupt_frame_in_the_middle(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.avi", n=40, codec="mpeg4", fmt="avi", gop=10)
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
        victim = packets[15]
        pos, size = victim.pos, victim.size
    data = bytearray(path.read_bytes())
    data[pos + 4 : pos + size] = bytes(size - 4)  # wipe frame 15's picture data
    bad = tmp_path / "bad.avi"
    bad.write_bytes(bytes(data))
    reference = sequential_frames(path)
    with open_video(bad, cache_frames=8) as reader:
        reader.wait_for_index()
        frames = [reader.frame(i) for i in range(reader.frame_count)]
    assert all(f.shape == (64, 96, 3) for f in frames)
    # the next GOP starts clean again
    assert all(np.array_equal(frames[i], reference[i]) for i in range(20, 40))
