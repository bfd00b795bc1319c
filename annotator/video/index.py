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
from annotator.core.safeio import atomic_savez
from annotator.errors import AnnotatorError

log = logging.getLogger(__name__)

INDEX_VERSION = 4  # 3: a checksum guards the cached arrays; 4: from the first key frame
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

    @cached_property
    def decode_order_is_presentation(self) -> bool:
        """True when no frame is reordered (no B-frames): decoded pictures then carry the very
        timestamps of their packets."""
        return bool(np.array_equal(self.decode_pos, np.arange(self.pts.size)))

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
    raw, keys = _from_first_key(
        np.asarray(pts_list, dtype=np.int64), np.asarray(key_list, dtype=np.bool_)
    )
    order = np.argsort(raw, kind="stable")
    return PacketIndex(
        pts=raw[order],
        key=keys[order],
        decode_pos=order.astype(np.int64),
        time_base=Fraction(time_base),
    )


def _from_first_key(
    pts: npt.NDArray[np.int64], key: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The packets (decode order) from the first key frame on, without those shown before it:
    a stream cut at a non-key frame (a stream-copy cut, a recording joined mid-stream) starts
    with pictures whose reference is gone, which decoders drop without a word. Listed, they
    were frames that decoding from the start never reached, so every frame after them showed
    another's picture, depending on how it was reached."""
    first = int(np.argmax(key)) if key.any() else 0
    keep = np.arange(pts.size) >= first
    if key.any():
        keep &= pts >= pts[first]
    return pts[keep], key[keep]


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


def _checksum(pts: Any, key: Any, decode_pos: Any, tb_num: int, tb_den: int) -> str:
    h = hashlib.sha256(f"annotator.index/{INDEX_VERSION}|{tb_num}/{tb_den}|".encode())
    for arr, dtype in ((pts, np.int64), (key, np.bool_), (decode_pos, np.int64)):
        a = np.ascontiguousarray(arr, dtype=dtype)
        h.update(f"{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def validate(index: PacketIndex) -> str | None:
    """Why ``index`` cannot be right (a damaged or tampered cache), or None when it is sound."""
    n = index.pts.size
    if n == 0:
        return "it lists no frames"
    if index.pts.ndim != 1 or index.key.shape != (n,) or index.decode_pos.shape != (n,):
        return "its arrays disagree in length"
    if (np.diff(index.pts) < 0).any():
        return "its timestamps are not in order"
    if not np.array_equal(np.sort(index.decode_pos), np.arange(n)):
        return "its decode positions are not a permutation of the frames"
    if not index.key.any():
        return "it marks no key frame"
    if index.time_base <= 0:
        return "its time base is not positive"
    return None


def load_cached(path: str | Path, stream_index: int) -> PacketIndex | None:
    """The cached index of this exact file, or ``None`` (missing, stale, damaged or
    inconsistent: the caller then rebuilds it and the rebuilt one replaces the cache)."""
    try:
        file = _cache_file(path, stream_index)
        if not file.is_file() or file.stat().st_size > 1 << 30:
            return None
        with np.load(file, allow_pickle=False) as data:
            pts, key, pos = data["pts"], data["key"], data["decode_pos"]
            num, den = int(data["tb_num"]), int(data["tb_den"])
            stored = str(data["checksum"])
        if den <= 0 or stored != _checksum(pts, key, pos, num, den):
            log.info("ignoring an index cache whose checksum does not match: %s", file)
            return None
        index = PacketIndex(
            pts=pts.astype(np.int64),
            key=key.astype(np.bool_),
            decode_pos=pos.astype(np.int64),
            time_base=Fraction(num, den),
        )
    except Exception as err:  # truncated zip, missing key, wrong dtype: rebuild, never fail
        log.info("ignoring unreadable index cache: %s", err)
        return None
    problem = validate(index)
    if problem is not None:
        log.info("ignoring an index cache: %s", problem)
        return None
    return index


def save_cached(path: str | Path, stream_index: int, index: PacketIndex) -> None:
    """Store the index atomically with its checksum; a cache that cannot be written is not an
    error."""
    try:
        file = _cache_file(path, stream_index)
        num, den = index.time_base.numerator, index.time_base.denominator
        arrays = {
            "pts": index.pts,
            "key": index.key,
            "decode_pos": index.decode_pos,
            "tb_num": np.int64(num),
            "tb_den": np.int64(den),
            "checksum": np.array(_checksum(index.pts, index.key, index.decode_pos, num, den)),
        }
        atomic_savez(file, arrays, compressed=False)
    except (OSError, AnnotatorError) as err:
        log.info("could not write the index cache: %s", err)
