"""Random access returns exactly the frame a sequential decode gives, for awkward streams."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from annotator.video import open_video
from annotator.video.reader import PyAVVideo
from tests.video.videomaker import make_video, rotate, sequential_frames

CASES = {
    # B-frames, 3 reference frames, key frames 50 apart (and x264's scene-cut keys)
    "h264_bframes_ref3": dict(options={"bf": "3", "refs": "3", "g": "50"}, n=130),
    # one key frame for the whole file: every seek decodes from the start
    "h264_long_gop": dict(options={"bf": "2", "g": "300", "sc_threshold": "0"}, n=90),
    "mpeg4_part2_avi": dict(codec="mpeg4", fmt="avi", gop=12, bframes=2, n=70),
    "mpeg4_part2_mp4": dict(codec="mpeg4", gop=10, n=50),
    "vfr": dict(vfr=True, options={"bf": "2", "g": "20"}, n=60),
    "nonzero_start": dict(start_ms=5000, options={"g": "15"}, n=50),
    "rotated_90": dict(rotation=-90, options={"g": "12"}, n=40, size=(80, 48)),
    "vp9_mkv": dict(codec="libvpx-vp9", fmt="matroska", gop=15, n=40),
}


def _indices(n: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    forward = sorted(rng.sample(range(n), min(n, 12)))
    return [
        *(rng.randrange(n) for _ in range(25)),  # random
        *forward,  # forward jumps
        *reversed(forward),  # backward jumps
        *range(n - 1, max(-1, n - 15), -1),  # stepping backwards from the end
        0,
        0,
        n - 1,
        n // 2,
        n // 2,  # repeated
        *range(n // 3, n // 3 + 10),  # stepping forwards
    ]


def check_random_access(path: Path, reader: PyAVVideo, seed: int = 0) -> None:
    reference = sequential_frames(path)
    if reader.rotation:
        reference = rotate(reference, reader.rotation)
    assert reader.wait_for_index(30)
    assert reader.frame_count == len(reference)
    for i in _indices(len(reference), seed):
        got = reader.frame(i)
        assert got.dtype == np.uint8 and got.flags.c_contiguous
        assert got.shape == (reader.height, reader.width, 3)
        assert np.array_equal(got, reference[i]), f"frame {i} differs from sequential decode"
    assert reader.frame_problems == {}


@pytest.mark.parametrize("case", sorted(CASES))
def test_random_access_matches_sequential_decode(case: str, tmp_path: Path) -> None:
    kwargs = dict(CASES[case])
    ext = {"avi": ".avi", "matroska": ".mkv"}.get(str(kwargs.get("fmt")), ".mp4")
    path = make_video(tmp_path / f"{case}{ext}", **kwargs)
    with open_video(path, cache_frames=16) as reader:
        check_random_access(path, reader)


@pytest.mark.parametrize(
    ("name", "options"),
    [("cut.mp4", {"g": "12", "bf": "0"}), ("cut_b.mp4", {"g": "12", "bf": "2"}),
     ("cut_b.mkv", {"g": "12", "bf": "2"})],
)  # fmt: skip
def test_a_stream_cut_at_a_non_key_frame_reads_as_a_plain_decode(
    name: str, options: dict[str, str], tmp_path: Path
) -> None:
    """A stream copy that starts after a key frame (a cutter without key-frame snapping, a
    recording joined mid-stream): its first pictures lost their reference and decoders drop
    them. The frames are those a plain decode gives, the same whichever way they are reached
    (the dropped pictures were listed, so each frame showed a later one's picture when
    stepped to and another's when jumped to, and the first ones could not be read)."""
    import av

    whole = make_video(tmp_path / f"whole{Path(name).suffix}", n=60, options=options)
    cut = tmp_path / name
    with av.open(str(whole)) as src, av.open(str(cut), "w") as dst:
        ist = src.streams.video[0]
        ost = dst.add_stream_from_template(ist)
        for k, packet in enumerate(p for p in src.demux(ist) if p.dts is not None):
            if k >= 5:  # the key frame and the four pictures after it are cut away
                packet.stream = ost
                dst.mux(packet)
    with open_video(cut, cache_frames=16) as reader:
        check_random_access(cut, reader)
        assert reader.frame_count < 60


def test_random_access_before_the_index_is_ready(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.mp4", n=40, options={"bf": "2", "g": "10"})
    reference = sequential_frames(path)
    with open_video(path, cache_frames=8, build_index=False) as reader:
        assert not reader.index_ready and reader.key_frames is None
        for i in (0, 3, 1, 7, 39, 2):
            assert np.array_equal(reader.frame(i), reference[i])
        assert reader.index_ready


def test_iter_frames_is_the_sequential_decode(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.mp4", n=45, options={"bf": "3", "g": "16"})
    reference = sequential_frames(path)
    with open_video(path) as reader:
        got = list(reader.iter_frames(20, 40))
        assert [i for i, _ in got] == list(range(20, 40))
        assert all(np.array_equal(f, reference[i]) for i, f in got)
        assert len(list(reader.iter_frames())) == len(reference)


def test_variable_frame_rate_and_timestamps(tmp_path: Path) -> None:
    path = make_video(tmp_path / "vfr.mp4", n=30, vfr=True, start_ms=2000)
    with open_video(path) as reader:
        reader.wait_for_index()
        assert reader.variable_frame_rate
        stamps = reader.timestamps
        assert stamps is not None and stamps[0] == 0.0
        expected = np.cumsum([0] + [(25 if i % 3 else 90) for i in range(29)]) / 1000
        np.testing.assert_allclose(stamps, expected, atol=1e-3)
        assert reader.timestamp(4) == pytest.approx(expected[4], abs=1e-3)


def test_constant_rate_facts(tmp_path: Path) -> None:
    path = make_video(
        tmp_path / "cfr.mp4", n=50, rate=25, options={"g": "10", "bf": "2", "sc_threshold": "0"}
    )
    with open_video(path) as reader:
        reader.wait_for_index()
        assert not reader.variable_frame_rate
        assert reader.fps == pytest.approx(25.0)
        assert reader.duration == pytest.approx(2.0)
        assert (reader.width, reader.height, reader.rotation) == (96, 64, 0)
        assert reader.codec == "h264" and reader.has_motion_vectors
        keys = reader.key_frames
        assert keys is not None and list(keys[:5]) == [0, 10, 20, 30, 40]


def test_rotation_gives_display_size(tmp_path: Path) -> None:
    path = make_video(tmp_path / "r.mp4", n=5, size=(80, 48), rotation=-90)  # phone "rotate=90"
    with open_video(path) as reader:
        assert reader.rotation == 90
        assert (reader.width, reader.height) == (48, 80)
        raw = sequential_frames(path)[2]
        # clockwise: the raw top-left corner ends up top-right
        assert np.array_equal(reader.frame(2), np.rot90(raw, k=-1))


def test_picture_types_are_reported_after_decoding(tmp_path: Path) -> None:
    options = {"bf": "2", "g": "10", "b_strategy": "0", "sc_threshold": "0"}
    path = make_video(tmp_path / "b.mp4", n=30, options=options)
    with open_video(path, cache_frames=32) as reader:
        assert reader.wait_for_index()  # so that frame 29 is reached by a seek to frame 20
        assert reader.picture_type(0) == "I"
        assert reader.picture_type(15) is None
        reader.frame(29)
        types = {reader.picture_type(i) for i in range(20, 30)}
        assert "I" in types and "B" in types and None not in types
