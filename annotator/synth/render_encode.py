"""Encode rendered frames like real footage with PyAV.

Three profiles cover what the app meets in practice: H.264 with B-frames, H.264 without them
(both with a GOP between 30 and 250 frames), and MPEG-4 Part 2 with a GOP of 12 (older cameras
and the research datasets' AVI files). Encoders run single-threaded so a seed always gives the
same bytes, and H.264 uses a fixed GOP (no scene-cut key frames) so the GOP length is exactly
the one asked for. Frames go to the encoder already in YUV 4:2:0, converted here in NumPy:
FFmpeg 8's own RGB to YUV conversion (swscale, as bundled with PyAV 18) gave different bytes
from run to run on some frame sizes. Likewise x264's AVX-512 code gave different bytes from run
to run on an AVX-512 AMD EPYC, so x264 is held to its AVX2 code where the CPU has AVX-512 (same
bytes on the same kind of machine; x264's C and assembly paths differ slightly, so bytes are not
promised across CPUs).
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

X = ":asm=0"
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
            params = (
                f"keyint={enc.gop}:min-keyint={enc.gop}:scenecut=0:bframes={enc.bframes}"
                + _x264_cpu_cap()
            )
            stream.options = {"preset": "veryfast", "crf": "21", "x264-params": params}
        else:
            # About 0.2 bits per pixel: the look of a consumer camera's MPEG-4 file.
            cc.bit_rate = int(width * height * float(rate) * 0.2)
            # No extra key frames at scene changes: a fixed 12-frame GOP, like the cameras.
            stream.options = {"sc_threshold": "1000000000"}
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(rgb_to_yuv420p(rgb), format="yuv420p")
            frame.pts = count
            frame.time_base = Fraction(1) / rate
            for packet in stream.encode(frame):
                container.mux(packet)
            count += 1
        for packet in stream.encode(None):
            container.mux(packet)
    return count


def _x264_cpu_cap() -> str:
    """x264 parameters that keep it off its AVX-512 code where the CPU has AVX-512, else ""."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - numpy moved its private feature table
        return ""
    return ":asm=avx2" if features.get("AVX512F") and features.get("AVX2") else ""


def rgb_to_yuv420p(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """RGB (H, W, 3) with even H and W to planar YUV 4:2:0 as PyAV's ``from_ndarray`` takes it
    ((3H/2, W): the Y plane, then the two quarter-size chroma planes, flat): BT.601 limited
    range like FFmpeg's default conversion, chroma averaged over each 2 x 2 block."""
    h, w = rgb.shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"frame size {w}x{h}: 4:2:0 needs an even width and height")
    x = rgb.astype(np.float32)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    cb = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0
    cr = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0
    quarter = [c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).ravel() for c in (cb, cr)]
    planes = np.concatenate([y.ravel(), *quarter]).reshape(-1, w)
    return np.asarray(np.clip(np.rint(planes), 0, 255), dtype=np.uint8)
