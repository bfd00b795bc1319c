"""Encode rendered frames like real footage with PyAV.

Three profiles cover what the app meets in practice: H.264 with B-frames, H.264 without them
(both with a GOP between 30 and 250 frames), and MPEG-4 Part 2 with a GOP of 12 (older cameras
and the research datasets' AVI files). Encoders run single-threaded so a seed always gives the
same bytes, and H.264 uses a fixed GOP (no scene-cut key frames) so the GOP length is exactly
the one asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from annotator.errors import UsageError

PROFILES = ("h264-bframes", "h264-nobframes", "mpeg4-gop12")


@dataclass(frozen=True)
class Encoding:
    """One encoder configuration, stored beside the video with its ground truth."""

    profile: str
    codec: str
    gop: int
    bframes: int

    def to_dict(self) -> dict[str, object]:
        return {
            "profile": self.profile,
            "codec": self.codec,
            "gop": self.gop,
            "bframes": self.bframes,
        }


def choose_encoding(profile: str, rng: np.random.Generator) -> Encoding:
    """The encoding for ``profile``; H.264 GOP lengths are drawn from 30-250."""
    if profile == "h264-bframes":
        return Encoding(profile, "libx264", int(rng.integers(30, 251)), 3)
    if profile == "h264-nobframes":
        return Encoding(profile, "libx264", int(rng.integers(30, 251)), 0)
    if profile == "mpeg4-gop12":
        return Encoding(profile, "mpeg4", 12, 0)
    raise UsageError(f"unknown encoding profile {profile!r}; choose from {', '.join(PROFILES)}")


def encode_video(
    path: Path,
    frames: Iterable[NDArray[np.uint8]],
    width: int,
    height: int,
    fps: float,
    enc: Encoding,
) -> int:
    """Write RGB frames (H, W, 3) to an MP4 file; returns the number of frames written."""
    rate = Fraction(fps).limit_denominator(1001)
    count = 0
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(enc.codec, rate=rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        cc = stream.codec_context
        cc.thread_count = 1
        cc.gop_size = enc.gop
        cc.max_b_frames = enc.bframes
        if enc.codec == "libx264":
            params = f"keyint={enc.gop}:min-keyint={enc.gop}:scenecut=0:bframes={enc.bframes}"
            stream.options = {"preset": "veryfast", "crf": "21", "x264-params": params}
        else:
            # About 0.2 bits per pixel: the look of a consumer camera's MPEG-4 file.
            cc.bit_rate = int(width * height * float(rate) * 0.2)
            # No extra key frames at scene changes: a fixed 12-frame GOP, like the cameras.
            stream.options = {"sc_threshold": "1000000000"}
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = count
            frame.time_base = Fraction(1) / rate
            for packet in stream.encode(frame):
                container.mux(packet)
            count += 1
        for packet in stream.encode(None):
            container.mux(packet)
    return count
