"""A private H.264 copy of a video whose codec stores no exportable motion vectors.

HEVC, VP9 and AV1 streams carry motion vectors, but FFmpeg does not export them. Re-encoding
the decoded frames to H.264 gives codec vectors again, at the cost of one encode. The copy is
written under ``cache_dir("motion-proxy")`` keyed by the source's fingerprint (the user's file
is only read), with one reference frame and no B-frames, so every vector points exactly one
frame back and no reference distance needs guessing. Frames map one to one to the source's
decoded frames; odd sizes are padded by one replicated pixel, which leaves the cell grid
unchanged for even cell sizes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import av
import numpy as np

from annotator.core.fingerprint import video_fingerprint
from annotator.core.paths import cache_dir
from annotator.errors import VideoError
from annotator.video.motion_extract import (
    ExtractionCancelled,
    Progress,
    ShouldStop,
    frame_total,
    open_video_stream,
)

PROXY_OPTIONS = {
    "preset": "veryfast",
    "crf": "16",
    "x264-params": "ref=1:bframes=0:keyint=250:scenecut=0",
}


def proxy_path(path: str | Path) -> Path:
    """Where the H.264 proxy of ``path`` lives (it may not exist yet)."""
    try:
        fingerprint = video_fingerprint(path)
    except OSError as exc:
        raise VideoError(f"cannot read {path}: {exc}") from exc
    return cache_dir("motion-proxy") / f"{fingerprint}-h264.mp4"


def make_h264_proxy(
    path: str | Path,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> Path:
    """Re-encode ``path`` to an H.264 proxy (reused when it already exists); returns its path.

    Raises :class:`ExtractionCancelled` when ``should_stop()`` turns True (nothing is kept).
    """
    source = Path(path)
    target = proxy_path(source)
    if target.is_file():
        return target
    temporary = target.with_name(f"{target.stem}.{os.getpid()}.tmp.mp4")
    try:
        _encode(source, temporary, progress, should_stop)
        os.replace(temporary, target)
    except av.FFmpegError as exc:
        raise VideoError(f"re-encoding {source.name} to H.264 failed: {exc}") from exc
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _encode(
    source: Path, target: Path, progress: Progress | None, should_stop: ShouldStop | None
) -> None:
    reader, stream = open_video_stream(source)
    total = frame_total(stream)
    rate = stream.average_rate or 25
    try:
        with av.open(str(target), "w") as writer:
            out: Any = None
            for index, frame in enumerate(reader.decode(stream)):
                if out is None:
                    out = writer.add_stream("libx264", rate=rate)
                    # yuv420p needs even sizes: pad odd ones by one replicated pixel.
                    out.width = frame.width + frame.width % 2
                    out.height = frame.height + frame.height % 2
                    out.pix_fmt = "yuv420p"
                    out.options = dict(PROXY_OPTIONS)
                rgb = frame.to_ndarray(format="rgb24")
                if rgb.shape[0] != out.height or rgb.shape[1] != out.width:
                    pad = ((0, out.height - rgb.shape[0]), (0, out.width - rgb.shape[1]), (0, 0))
                    rgb = np.pad(rgb, pad, mode="edge")
                encoded = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                encoded.pts = index
                for packet in out.encode(encoded):
                    writer.mux(packet)
                if progress is not None:
                    progress(index + 1, total)
                if should_stop is not None and should_stop():
                    raise ExtractionCancelled("H.264 proxy re-encode was cancelled")
            if out is None:
                raise VideoError(f"{source.name} has no decodable video frames")
            for packet in out.encode():
                writer.mux(packet)
    finally:
        reader.close()
