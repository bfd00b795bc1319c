"""Encoding RGB frames into a new video file (H.264, else MPEG-4) with PyAV, atomically.

Used to share a review: the overlay export hands in frames with the skeleton drawn on them.
The file appears only when every frame is encoded (``safeio.atomic_output``); a cancel or an
error leaves nothing behind, and an existing file at the path is replaced only by a whole one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from annotator.core.progress import Progress, ShouldStop, check_stop, report
from annotator.core.safeio import atomic_output
from annotator.errors import VideoError

log = logging.getLogger(__name__)

# Tried in order: H.264 plays everywhere; MPEG-4 part 2 ships with every FFmpeg build.
CODECS: tuple[str, ...] = ("libx264", "h264", "mpeg4")


def pick_codec(preferred: Iterable[str] = CODECS) -> str:
    """The first encoder of ``preferred`` this PyAV build has (``VideoError`` if none)."""
    for name in preferred:
        try:
            av.codec.Codec(name, "w")
        except Exception:  # unknown to this FFmpeg build (the error type varies by version)
            continue
        return name
    raise VideoError("no H.264 or MPEG-4 encoder is available in this PyAV build")


def write_video(
    path: str | Path,
    frames: Iterable[NDArray[np.uint8]],
    fps: float,
    total: int | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    codec: str | None = None,
) -> int:
    """Encode ``frames`` ((H, W, 3) uint8 RGB, all one size) into an MP4 at ``path``; returns
    the number of frames written. ``total`` (the expected count) drives ``progress``. Odd
    sizes are padded by one edge pixel (4:2:0 chroma needs even sizes)."""
    out = Path(path)
    name = codec or pick_codec()
    rate = Fraction(round(max(fps, 1e-3) * 1000), 1000)
    written = 0
    with (
        atomic_output(out, VideoError) as tmp,
        av.open(str(tmp), mode="w", format="mp4") as container,
    ):
        stream = container.add_stream(name, rate=rate)
        stream.pix_fmt = "yuv420p"
        size: tuple[int, int] | None = None
        for rgb in frames:
            check_stop(should_stop, "the video export")
            image = np.asarray(rgb, dtype=np.uint8)
            if size is None:
                size = (image.shape[0] + image.shape[0] % 2, image.shape[1] + image.shape[1] % 2)
                stream.height, stream.width = size
            if image.shape[:2] != size:
                pad_h, pad_w = size[0] - image.shape[0], size[1] - image.shape[1]
                if pad_h < 0 or pad_w < 0 or pad_h > 1 or pad_w > 1:
                    raise VideoError(
                        f"frame {written} is {image.shape[1]}x{image.shape[0]}, not the "
                        f"video's {size[1]}x{size[0]}"
                    )
                image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), "edge")
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            container.mux(stream.encode(frame))
            written += 1
            report(progress, written, total)
        if size is None:
            raise VideoError("no frames to write")
        container.mux(stream.encode(None))
    log.info("video written: %s (%d frames, %s)", out, written, name)
    return written
