"""H.264 proxies: private re-encodes of a video in the per-user cache.

A proxy has the same frames, in the same order, with the same timestamps as the original
(rotation already applied to the pixels), a key frame every ``gop`` frames and no B-frames.
Two uses: a short GOP makes files with far-apart key frames seek fast (any frame is at most
``gop - 1`` decodes from a key frame); ``single_reference`` (one reference frame, long GOP)
gives codecs whose motion vectors FFmpeg cannot export (HEVC, VP9, AV1) vectors that all point
exactly one frame back. Keyed like the packet index (the GOP is not part of the key: the app
finds "the" fast-seek proxy of a file by the file alone); the user's file is never touched.
:func:`proxy_settings` reads back the GOP and CRF a proxy was made with (x264 writes its
options into the first frame), so a request for other settings can be told that the cached
proxy differs.
"""

from __future__ import annotations

import logging
import os
import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from annotator.core.paths import cache_dir
from annotator.core.progress import Progress, ShouldStop, check_stop
from annotator.core.safeio import fsync_dir, fsync_file, refuse_replacing
from annotator.errors import VideoError
from annotator.video.index import cache_key
from annotator.video.reader import PyAVVideo

log = logging.getLogger(__name__)

DEFAULT_GOP = 12
DEFAULT_CRF = 18
MAX_CRF = 51  # x264's quality scale for 8-bit video: 0 (lossless) .. 51
_X264_OPTIONS = re.compile(rb"x264 - core[^\x00]*?options: ([^\x00]*)")
_TIME_BASE = Fraction(1, 90000)


def proxy_path(path: str | Path, single_reference: bool = False) -> Path:
    """Where the proxy of this exact file (path, size, mtime, first MiB) lives; the
    single-reference (motion-vector) proxy is a separate file."""
    refs = "-ref1" if single_reference else ""
    return cache_dir("proxy") / f"{cache_key(path)}{refs}.mp4"


def existing_proxy(path: str | Path) -> Path | None:
    """The default (fast-seek) proxy of ``path`` if one was made already."""
    try:
        candidate = proxy_path(path)
    except OSError:
        return None
    return candidate if candidate.exists() else None


def proxy_settings(proxy: str | Path) -> tuple[int, float] | None:
    """The GOP and CRF ``proxy`` was encoded with, read from the options libx264 writes into
    the first frame; None when the file or its options cannot be read."""
    try:
        with av.open(str(proxy)) as container:
            stream = container.streams.video[0]
            packet = next(iter(container.demux(stream)), None)
            head = bytes(packet) if packet is not None else b""
    except (av.FFmpegError, OSError, IndexError):
        return None
    found = _X264_OPTIONS.search(head)
    if found is None:
        return None
    options = dict(item.split(b"=", 1) for item in found.group(1).split() if b"=" in item)
    try:
        return int(options[b"keyint"]), float(options[b"crf"])
    except (KeyError, ValueError):
        return None


def make_proxy(
    path: str | Path,
    gop: int = DEFAULT_GOP,
    crf: int = DEFAULT_CRF,
    force: bool = False,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    single_reference: bool = False,
) -> Path:
    """Make (or reuse) the proxy of ``path`` and return its location.

    ``progress`` gets 0..1; ``should_stop`` returning true abandons the work, leaves no file
    and raises ``Cancelled``.
    """
    if gop < 1:
        raise VideoError("the proxy's GOP length must be at least 1 frame")
    if not 0 <= crf <= MAX_CRF:
        raise VideoError(f"the proxy's CRF must be 0 to {MAX_CRF} (lower is better), not {crf}")
    with PyAVVideo(path, cache_frames=0, decode_ahead=0) as reader:
        target = proxy_path(reader.path, single_reference)
        refuse_replacing(target, {"video": reader.path}, VideoError)
        if target.exists() and not force:
            return target
        if not reader.wait_for_index() or reader.timestamps is None:
            raise VideoError(f"cannot make a proxy: {reader.index_error or 'no packet index'}")
        stamps = reader.timestamps
        tmp = target.with_name(f"{target.stem}.{os.getpid()}.part.mp4")
        try:
            options = _options(gop, crf, single_reference)
            _encode(reader, stamps, tmp, options, progress, should_stop)
            fsync_file(tmp)
            os.replace(tmp, target)
            fsync_dir(target.parent)
        finally:
            tmp.unlink(missing_ok=True)
    return target


def _options(gop: int, crf: int, single_reference: bool) -> dict[str, str]:
    options: dict[str, str] = {
        "preset": "veryfast",
        "crf": str(crf),
        "g": str(gop),
        "keyint_min": str(gop),
        "sc_threshold": "0",  # key frames exactly every gop frames
        "bf": "0",  # no reordering: the decoder returns each frame as soon as it is fed
    }
    if single_reference:
        options["refs"] = "1"  # every motion vector points exactly one frame back
    return options


def _encode(
    reader: PyAVVideo,
    stamps: np.ndarray,
    out: Path,
    options: dict[str, str],
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> None:
    # libx264 with 4:2:0 chroma needs even sizes: pad one edge pixel on the right/bottom,
    # which keeps every pixel coordinate of the original valid
    width, height = reader.width + reader.width % 2, reader.height + reader.height % 2
    n = reader.frame_count
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(round(reader.fps * 1000), 1000))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = _TIME_BASE
        stream.codec_context.time_base = _TIME_BASE
        stream.options = dict[str, object](options)
        for i, rgb in reader.iter_frames():
            check_stop(should_stop, "making the fast-seek copy")
            if rgb.shape[:2] != (height, width):
                rgb = np.pad(
                    rgb, ((0, height - rgb.shape[0]), (0, width - rgb.shape[1]), (0, 0)), "edge"
                )
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = round(float(stamps[min(i, n - 1)]) / _TIME_BASE)
            frame.time_base = _TIME_BASE
            container.mux(stream.encode(frame))
            if progress is not None and i % 50 == 0:
                progress(i / n)
        container.mux(stream.encode(None))
    if progress is not None:
        progress(1.0)
    log.info("proxy written: %s", out)
