"""Make small test videos with PyAV: each frame shows its own number, so a wrong frame shows.

Also the reference every reader test compares against: a plain sequential decode.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def pattern(i: int, width: int, height: int) -> np.ndarray:
    """Frame ``i``: a moving bar, a colour ramp and the number's bits as big blocks."""
    y, x = np.mgrid[0:height, 0:width]
    img = np.empty((height, width, 3), np.uint8)
    img[..., 0] = (x * 4 + i * 7) % 256
    img[..., 1] = (y * 4) % 256
    img[..., 2] = (i * 23) % 256
    bar = (i * 3) % width
    img[:, bar : bar + 4] = 255
    block = max(2, width // 16)
    for bit in range(8):
        if (i >> bit) & 1:
            img[:block, bit * block : (bit + 1) * block] = 0
    return img


def make_video(
    path: Path,
    n: int = 60,
    size: tuple[int, int] = (96, 64),
    codec: str = "libx264",
    fmt: str | None = None,
    options: dict[str, str] | None = None,
    rate: int = 25,
    start_ms: int = 0,
    vfr: bool = False,
    rotation: int | None = None,
    gop: int | None = None,
    bframes: int | None = None,
) -> Path:
    """Write ``n`` pattern frames; ``start_ms``/``vfr`` set explicit millisecond timestamps."""
    width, height = size
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if options:
            stream.options = options
        if gop is not None:
            stream.codec_context.gop_size = gop
        if bframes is not None:
            stream.codec_context.max_b_frames = bframes
        timed = vfr or start_ms
        if timed:
            stream.codec_context.time_base = Fraction(1, 1000)
            stream.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        t = start_ms
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(pattern(i, width, height), format="rgb24")
            if timed:
                frame.pts, frame.time_base = t, Fraction(1, 1000)
                t += (25 if i % 3 else 90) if vfr else 1000 // rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def sequential_frames(path: Path) -> list[np.ndarray]:
    """Every frame of a plain PyAV decode, in output order, as RGB (no rotation)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [f.to_ndarray(format="rgb24") for f in container.decode(stream)]


def rotate(frames: list[np.ndarray], clockwise: int) -> list[np.ndarray]:
    return [np.rot90(f, k=-clockwise // 90) for f in frames]


def frame_hash(rgb: np.ndarray) -> bytes:
    return hashlib.sha1(np.ascontiguousarray(rgb).tobytes()).digest()


def sequential_hashes(path: Path, clockwise: int = 0, limit: int | None = None) -> list[bytes]:
    """Digest of the first ``limit`` (or all) frames of a plain decode; no frames are kept."""
    hashes: list[bytes] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if limit is not None and len(hashes) >= limit:
                break
            rgb = np.rot90(frame.to_ndarray(format="rgb24"), k=-clockwise // 90)
            hashes.append(frame_hash(rgb))
    return hashes
