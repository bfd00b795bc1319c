"""The packet index of a video stream: timestamps and key flags from demuxing alone.

Demuxing reads the container without decoding a single picture, so it is cheap even for long
files. The index maps presentation order (frame ``i``) to timestamps and tells where the key
frames are, which is what seeking needs. It is cached in the per-user cache directory, keyed by
the file's path, size, modification time and a hash of its first megabyte; nothing is ever
written next to the user's video.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from av.container import InputContainer
from av.packet import Packet
from av.stream import Stream

from annotator.core.fingerprint import video_fingerprint
from annotator.core.paths import cache_dir
from annotator.core.progress import Progress, ShouldStop, check_stop

log = logging.getLogger(__name__)

INDEX_VERSION = 2
# Progress is reported every this many packets (cheap enough, smooth enough for a bar).
_PROGRESS_EVERY = 2000


@dataclass(frozen=True)
class PacketIndex:
    """Per-frame facts in presentation order, from the demuxer.

    ``pts`` are stream ticks (``time_base`` seconds each) sorted ascending; ``key`` marks key
    frames; ``decode_pos`` is each frame's packet position in decode order. Packets without a
    presentation time fall back to their decode time.
    """

    pts: npt.NDArray[np.int64]
    key: npt.NDArray[np.bool_]
    decode_pos: npt.NDArray[np.int64]
    time_base: Fraction

    @property
    def frame_count(self) -> int:
        return int(self.pts.size)

    @cached_property
    def key_frames(self) -> npt.NDArray[np.int64]:
        """0-based indices (presentation order) of the key frames."""
        return np.flatnonzero(self.key).astype(np.int64)

    def seconds(self) -> npt.NDArray[np.float64]:
        """Presentation time of each frame in seconds from the first frame."""
        return self._seconds

    @cached_property
    def _seconds(self) -> npt.NDArray[np.float64]:
        if self.pts.size == 0:
            return np.zeros(0)
        seconds: npt.NDArray[np.float64] = (self.pts - self.pts[0]).astype(np.float64)
        return seconds * float(self.time_base)

    def key_at_or_before(self, index: int) -> int:
        """The last key frame index ≤ ``index`` (0 when none is flagged)."""
        keys = self.key_frames
        pos = int(np.searchsorted(keys, index, side="right")) - 1
        return int(keys[pos]) if pos >= 0 else 0

    def gop_lengths(self) -> npt.NDArray[np.int64]:
        """Frames from each key frame to the next (or to the end)."""
        keys = self.key_frames
        if keys.size == 0:
            return np.array([self.frame_count], dtype=np.int64)
        ends = np.append(keys[1:], self.frame_count)
        return (ends - keys).astype(np.int64)


def build_index(
    path: str | Path,
    stream_index: int,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> PacketIndex:
    """Demux every packet of the video stream (no decoding) and return the index."""
    container = av.open(str(path))
    try:
        stream = container.streams[stream_index]
        total = max(int(stream.frames or 0), 1)
        pts_list: list[int] = []
        key_list: list[bool] = []
        for n, packet in _packets(container, stream):
            if packet.size == 0:  # the demuxer's end-of-stream marker, not a frame
                continue
            pts = packet.pts if packet.pts is not None else packet.dts
            pts_list.append(len(pts_list) if pts is None else int(pts))
            key_list.append(bool(packet.is_keyframe))
            if n % _PROGRESS_EVERY == 0:
                check_stop(should_stop, "indexing")
                if progress is not None:
                    progress(min(len(pts_list) / total, 0.99))
        time_base = stream.time_base or Fraction(1, 1)
    finally:
        container.close()
    raw = np.asarray(pts_list, dtype=np.int64)
    order = np.argsort(raw, kind="stable")
    return PacketIndex(
        pts=raw[order],
        key=np.asarray(key_list, dtype=np.bool_)[order],
        decode_pos=order.astype(np.int64),
        time_base=Fraction(time_base),
    )


def _packets(container: InputContainer, stream: Stream) -> Iterator[tuple[int, Packet[Any]]]:
    """Packets with their count; a damaged tail ends the listing instead of failing it."""
    n = 0
    demuxer = container.demux(stream)
    while True:
        try:
            packet = next(demuxer)
        except StopIteration:
            return
        except av.error.FFmpegError as err:
            log.warning(
                "the file is damaged after %d packets; indexing what came before: %s", n, err
            )
            return
        yield n, packet
        n += 1


def cache_key(path: str | Path) -> str:
    """Key of a file's cached index: path, size, mtime and the hash of its first MiB."""
    path = Path(path).resolve()
    stat = path.stat()
    text = f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{video_fingerprint(path)}|{INDEX_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cache_file(path: str | Path, stream_index: int) -> Path:
    return cache_dir("index") / f"{cache_key(path)}-s{stream_index}.npz"


def load_cached(path: str | Path, stream_index: int) -> PacketIndex | None:
    """The cached index of this exact file, or ``None`` (missing, stale or unreadable)."""
    try:
        file = _cache_file(path, stream_index)
        if not file.exists():
            return None
        with np.load(file) as data:
            return PacketIndex(
                pts=data["pts"].astype(np.int64),
                key=data["key"].astype(np.bool_),
                decode_pos=data["decode_pos"].astype(np.int64),
                time_base=Fraction(int(data["tb_num"]), int(data["tb_den"])),
            )
    except (OSError, KeyError, ValueError) as err:
        log.info("ignoring unreadable index cache: %s", err)
        return None


def save_cached(path: str | Path, stream_index: int, index: PacketIndex) -> None:
    """Store the index atomically; a cache that cannot be written is not an error."""
    try:
        file = _cache_file(path, stream_index)
        tmp = file.with_name(f"{file.stem}.{os.getpid()}.tmp.npz")
        np.savez(
            tmp,
            pts=index.pts,
            key=index.key,
            decode_pos=index.decode_pos,
            tb_num=np.int64(index.time_base.numerator),
            tb_den=np.int64(index.time_base.denominator),
        )
        os.replace(tmp, file)
    except OSError as err:
        log.info("could not write the index cache: %s", err)
