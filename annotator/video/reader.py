"""Frame-accurate random access to a video file with PyAV.

``frame(i)`` returns exactly the ``i``-th picture a sequential decode produces. Seeking goes to
the last key frame at or before ``i`` and decodes forward; everything decoded on the way is kept
in a bounded LRU cache (as decoded pictures, converted to RGB on first use), so stepping
backwards inside a GOP costs no decoding. After a request, a worker decodes a few frames ahead so
stepping and playback find them ready.

The packet index (timestamps and key flags, from demuxing only) is built in a background thread
and cached per user; until it is ready, ``frame_count`` is the container's estimate and frames
near the start are served by decoding from the beginning. Frame 0 is decoded while opening.

Frames are identified by their presentation timestamp, except in AVI files, whose timestamps
do not follow display order: there they are counted from the key frame the decoder started at.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from annotator.core.fingerprint import video_fingerprint
from annotator.core.memory import keep_frame_memory
from annotator.core.progress import Cancelled, Progress
from annotator.errors import VideoError
from annotator.video import index as index_mod
from annotator.video.cache import FrameCache
from annotator.video.index import PacketIndex
from annotator.video.opening import (
    check_path,
    has_motion_vectors,
    open_container,
    uses_counted_order,
    video_stream,
)

log = logging.getLogger(__name__)

Frame = npt.NDArray[np.uint8]
# Before the index exists, requests this far past the decoder are served by decoding on from
# the start; further ones wait for the index (a seek needs key frame positions).
_PRE_INDEX_REACH = 300
# Decoding proxy advice: pixels per second this class of machine decodes (H.264, 2 cores),
# and the worst seek time above which a short-GOP proxy is worth offering.
_DECODE_PIXELS_PER_S = 480e6
_PROXY_SEEK_S = 0.3
_PICT_TYPES = {1: "I", 2: "P", 3: "B", 4: "P", 5: "I", 6: "P", 7: "B"}


class FrameIndexError(VideoError, IndexError):
    """A frame index outside ``0 .. frame_count - 1``."""


class PyAVVideo:
    """A video file opened for frame-accurate random access (see the module docstring).

    ``frame_count`` (and ``fps``, ``duration``, ``variable_frame_rate``) are the container's
    estimates until the background index is ready, then exact. ``cache_frames`` bounds memory:
    at most that many decoded frames are held. ``decode_ahead`` frames past the last request are
    decoded in the background. All public methods may be called from any thread.
    """

    def __init__(
        self,
        path: str | Path,
        cache_frames: int = 64,
        decode_ahead: int = 8,
        build_index: bool = True,
    ) -> None:
        self.path = check_path(path).resolve()
        keep_frame_memory()
        self.fingerprint = video_fingerprint(self.path)
        self._cache: FrameCache[Frame | VideoFrame] = FrameCache(cache_frames)
        self._decode_ahead = max(0, min(decode_ahead, cache_frames // 2))
        self._lock = threading.RLock()  # guards the decoder: container, run and position
        self._convert_lock = threading.Lock()
        self._container: InputContainer = open_container(self.path)
        self._closed = False
        try:
            self._stream: VideoStream = video_stream(self._container, self.path)
            self._counted = uses_counted_order(self._container)
            self.codec: str = self._stream.codec_context.name
            self.has_motion_vectors = has_motion_vectors(self.codec)
            self._pict: dict[int, str] = {}
            self.frame_problems: dict[int, int] = {}  # requested index -> index returned
            # decoder work so far, for tests and benchmarks: frames decoded, seeks made
            self.stats = {"decoded": 0, "seeks": 0}
            self._run: Iterator[tuple[int, VideoFrame]] | None = None
            self._run_last = -1
            self._index: PacketIndex | None = index_mod.load_cached(self.path, self._stream.index)
            self._index_done = threading.Event()
            self._listeners: list[Progress] = []
            self._listeners_lock = threading.Lock()
            self._listeners_done = False
            self._stop = threading.Event()
            self.index_error: str | None = None
            self.rotation = 0
            self._read_first_frame()
        except BaseException:
            self._container.close()
            raise
        self._ahead_wanted = -1
        self._ahead_cond = threading.Condition()
        self._foreground = 0
        # Named, so a test can count the threads readers leave behind.
        self._ahead_thread = threading.Thread(
            target=self._ahead_loop, name="video-decode-ahead", daemon=True
        )
        self._ahead_thread.start()
        self._index_thread: threading.Thread | None = None
        if self._index is not None:
            self._index_done.set()
            self._listeners_done = True
        elif build_index:
            self._index_thread = threading.Thread(
                target=self._build_index, name="video-index", daemon=True
            )
            self._index_thread.start()

    # ---- facts -------------------------------------------------------------------------

    @property
    def index_ready(self) -> bool:
        return self._index_done.is_set() and self._index is not None

    @property
    def frame_count(self) -> int:
        """Number of frames: exact once ``index_ready``, the container's estimate before."""
        if self._index is not None:
            return self._index.frame_count
        stream = self._stream
        if stream.frames:
            return int(stream.frames)
        if stream.duration and stream.time_base and stream.average_rate:
            return max(1, round(float(stream.duration * stream.time_base * stream.average_rate)))
        return 1

    @property
    def fps(self) -> float:
        """Mean frame rate: from the timestamps once indexed, the container's rate before."""
        idx = self._index
        if idx is not None and idx.frame_count > 1:
            span = float(idx.seconds()[-1])
            if span > 0:
                return (idx.frame_count - 1) / span
        rate = self._stream.average_rate or self._stream.guessed_rate or self._stream.base_rate
        return float(rate) if rate else 25.0

    @property
    def variable_frame_rate(self) -> bool:
        """True when frame intervals differ by more than a tick and 1% (False until indexed)."""
        idx = self._index
        if idx is None or idx.frame_count < 3:
            return False
        steps = np.diff(idx.pts)
        median = float(np.median(steps))
        return bool(float(steps.max() - steps.min()) > 1 + 0.01 * median)

    @property
    def duration(self) -> float:
        """Seconds from the first frame's start to the last frame's end."""
        idx = self._index
        if idx is not None and idx.frame_count > 0:
            return float(idx.seconds()[-1]) + 1.0 / self.fps
        return self.frame_count / self.fps

    @property
    def coded_width(self) -> int:
        return int(self._stream.codec_context.width)

    @property
    def coded_height(self) -> int:
        return int(self._stream.codec_context.height)

    @property
    def width(self) -> int:
        """Display width, after rotation."""
        return self.coded_height if self.rotation in (90, 270) else self.coded_width

    @property
    def height(self) -> int:
        """Display height, after rotation."""
        return self.coded_width if self.rotation in (90, 270) else self.coded_height

    @property
    def key_frames(self) -> npt.NDArray[np.int64] | None:
        return None if self._index is None else self._index.key_frames

    @property
    def timestamps(self) -> npt.NDArray[np.float64] | None:
        """Seconds of each frame from the first frame, or ``None`` until indexed."""
        return None if self._index is None else self._index.seconds()

    def timestamp(self, i: int) -> float:
        """Presentation time of frame ``i`` in seconds from the first frame."""
        self._check_index(i)
        if self._index is not None:
            return float(self._index.seconds()[i])
        return i / self.fps

    def picture_type(self, i: int) -> str | None:
        """``"I"``, ``"P"`` or ``"B"`` once frame ``i`` has been decoded, else ``None``."""
        return self._pict.get(i)

    @property
    def max_gop(self) -> int | None:
        """Longest run of frames from a key frame to the next, once indexed."""
        return None if self._index is None else int(self._index.gop_lengths().max())

    @property
    def suggest_proxy(self) -> bool:
        """True when a worst-case seek would take long enough that a proxy is worth offering."""
        gop = self.max_gop
        if gop is None:
            return False
        worst = gop * self.coded_width * self.coded_height / _DECODE_PIXELS_PER_S
        return worst > _PROXY_SEEK_S

    def info(self) -> dict[str, Any]:
        """The contract's ``annotator info --json`` object (plus a few extra facts)."""
        keys = self.key_frames
        return {
            "path": str(self.path),
            "frame_count": self.frame_count,
            "frame_count_exact": self.index_ready,
            "fps": self.fps,
            "variable_frame_rate": self.variable_frame_rate,
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "codec": self.codec,
            "container": self._container.format.name,
            "duration": self.duration,
            "key_frames": None if keys is None else [int(k) for k in keys],
            "max_gop": self.max_gop,
            "suggest_proxy": self.suggest_proxy,
            "has_motion_vectors": self.has_motion_vectors,
            "fingerprint": self.fingerprint,
        }

    # ---- index -------------------------------------------------------------------------

    def wait_for_index(self, timeout: float | None = None) -> bool:
        """Block until the index is ready (or failed); True if it is ready."""
        if not self._index_done.is_set() and self._index_thread is None:
            self._build_index()  # opened with build_index=False: build it here
        self._index_done.wait(timeout)
        return self.index_ready

    def add_index_listener(self, callback: Progress) -> None:
        """Call ``callback(progress)`` from the index thread, with 1.0 when done.

        If indexing already ended, the callback runs at once with 1.0 in the caller's thread.
        Either way it is called exactly once with 1.0; ``index_ready`` then says whether the
        index was built (``index_error`` says why not).
        """
        with self._listeners_lock:
            if not self._listeners_done:
                self._listeners.append(callback)
                return
        callback(1.0)

    def _notify(self, progress: float) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
            if progress >= 1.0:
                self._listeners_done = True
                self._listeners.clear()
        for callback in listeners:
            try:
                callback(progress)
            except Exception:  # a listener's bug must not kill the index thread
                log.exception("index listener failed")

    def _build_index(self) -> None:
        try:
            idx = index_mod.build_index(
                self.path,
                self._stream.index,
                progress=self._notify,
                should_stop=self._stop.is_set,
            )
            if idx.frame_count == 0:
                self.index_error = "the video stream has no frames"
            else:
                index_mod.save_cached(self.path, self._stream.index, idx)
                self._index = idx
        except Cancelled:
            self.index_error = "indexing was stopped"
        except (av.error.FFmpegError, OSError) as err:
            self.index_error = f"cannot index {self.path.name}: {err}"
            log.warning("%s", self.index_error)
        finally:
            self._index_done.set()
        self._notify(1.0)

    def _check_index(self, i: int) -> int:
        i = int(i)
        if i < 0 or i >= self.frame_count:
            if not self.index_ready and i >= 0 and self.wait_for_index() and i < self.frame_count:
                return i
            raise FrameIndexError(
                f"frame {i} is out of range: the video has {self.frame_count} frames "
                f"(0 to {self.frame_count - 1})"
            )
        return i

    # ---- frames ------------------------------------------------------------------------

    def cached(self, i: int) -> bool:
        """True if ``frame(i)`` would return without decoding."""
        return i in self._cache

    def cached_indices(self) -> list[int]:
        return self._cache.indices()

    def clear_cache(self) -> None:
        """Forget every decoded frame and the decoder's position (the next request seeks)."""
        with self._lock:
            self._cache.clear()
            self._run = None
            self._run_last = -1

    def frame(self, i: int) -> Frame:
        """Frame ``i`` as a read-only, C-contiguous (H, W, 3) uint8 RGB array, rotation applied.

        A frame that cannot be decoded (corrupt data) is replaced by the nearest decoded one,
        and the substitution is recorded in ``frame_problems``.
        """
        if self._closed:
            raise VideoError(f"{self.path.name} was closed")
        i = self._check_index(i)
        rgb = self._from_cache(i)
        if rgb is None:
            with self._ahead_cond:
                self._foreground += 1
            try:
                with self._lock:
                    rgb = self._from_cache(i)
                    if rgb is None:
                        rgb = self._decode_to(i)
            finally:
                with self._ahead_cond:
                    self._foreground -= 1
        self._request_ahead(i)
        return rgb

    def _from_cache(self, i: int) -> Frame | None:
        entry = self._cache.get(i)
        if entry is None:
            return None
        if isinstance(entry, np.ndarray):
            return entry
        return self._convert_cached(i, entry)

    def _convert_cached(self, i: int, entry: VideoFrame) -> Frame:
        # one conversion at a time: a frame's converter must not run in two threads at once
        with self._convert_lock:
            again = self._cache.peek(i)
            if isinstance(again, np.ndarray):
                return again
            rgb = self._to_rgb(entry)
            self._cache.replace(i, rgb)
            return rgb

    def _to_rgb(self, frame: VideoFrame) -> Frame:
        rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
        if self.rotation:
            # rotation is clockwise; np.rot90 turns counter-clockwise for positive k
            rgb = np.ascontiguousarray(np.rot90(rgb, k=-self.rotation // 90))
        rgb.flags.writeable = False
        return rgb

    def _read_first_frame(self) -> None:
        run = self._run_from_start()
        self._start_run(run)
        try:
            first = next(run, None)
        except av.error.FFmpegError as err:
            raise VideoError(f"{self.path.name} cannot be decoded: {err}") from err
        if first is None:
            raise VideoError(
                f"{self.path.name} has no decodable frames (zero frames, truncated or corrupt)"
            )
        _, frame = first
        # PyAV reports the display matrix counter-clockwise; store the usual clockwise tag
        self.rotation = round(-frame.rotation / 90.0) % 4 * 90
        self._run_last = 0
        self.stats["decoded"] += 1
        self._pict[0] = _PICT_TYPES.get(int(frame.pict_type), "P")
        self._cache.put(0, self._to_rgb(frame))

    def _decode_to(self, target: int) -> Frame:
        """Decode until ``target`` (caller holds the lock) and return its RGB picture."""
        idx = self._index
        far = target - self._run_last > _PRE_INDEX_REACH or target <= self._run_last
        if idx is None and far:
            self.wait_for_index()
            idx = self._index
        seek_key: int | None = None
        if idx is not None:
            key = idx.key_at_or_before(target)
            if self._run is None or not (key <= self._run_last < target):
                seek_key = key
        elif self._run is None or self._run_last >= target:
            self._start_run(self._run_from_start())
        attempts = 0
        while True:
            if seek_key is not None:
                self._start_run(self._run_from_key(seek_key))
            found, overshot = self._advance_run(target)
            if found is not None:
                return found
            if overshot and idx is not None and seek_key is not None:
                # the demuxer landed after the wanted key frame: start one key frame earlier,
                # or from the very beginning (always right: it defines the frame order)
                earlier = idx.key_at_or_before(seek_key - 1) if seek_key > 0 else 0
                if 0 < earlier < seek_key and attempts < 3:
                    seek_key = earlier
                    attempts += 1
                    continue
                seek_key = None
                self._start_run(self._run_from_start())
                continue
            if self._run_last < 0 and idx is not None and seek_key and attempts < 3:
                # nothing decodable from this key frame on: the nearest good frame is earlier
                seek_key = idx.key_at_or_before(seek_key - 1)
                attempts += 1
                continue
            return self._substitute(target)

    def _start_run(self, run: Iterator[tuple[int, VideoFrame]]) -> None:
        self.stats["seeks"] += 1
        self._run = run
        self._run_last = -1

    def _advance_run(self, target: int) -> tuple[Frame | None, bool]:
        """Decode forward to ``target``: (its picture or None, whether the run started past it)."""
        assert self._run is not None
        for n, frame in self._run:
            if self._run_last < 0 and n > target:
                return None, True  # the run's very first frame is already past the target
            self._run_last = n
            self._remember(n, frame)
            if n == target:
                rgb = self._from_cache(n)
                return (rgb if rgb is not None else self._to_rgb(frame)), False
            if n > target:
                return None, False
        self._run = None
        return None, False

    def _remember(self, n: int, frame: VideoFrame) -> None:
        self.stats["decoded"] += 1
        self._pict[n] = _PICT_TYPES.get(int(frame.pict_type), "P")
        if n not in self._cache:
            self._cache.put(n, frame)

    def _substitute(self, target: int) -> Frame:
        near = self._cache.indices()
        if not near:
            raise VideoError(f"frame {target} of {self.path.name} cannot be decoded")
        best = min(near, key=lambda k: (abs(k - target), k))
        log.info("frame %d could not be decoded; showing frame %d instead", target, best)
        self.frame_problems[target] = best
        rgb = self._from_cache(best)
        assert rgb is not None
        return rgb

    # ---- decode runs -------------------------------------------------------------------

    def _run_from_start(self) -> Iterator[tuple[int, VideoFrame]]:
        """Decode from the first packet, counting frames (the definition of frame order)."""
        self._container.seek(0, backward=True, any_frame=False)
        return _counted(_decode_packets(self._container, self._stream), 0, self._index)

    def _run_from_key(self, key: int) -> Iterator[tuple[int, VideoFrame]]:
        assert self._index is not None
        return run_from_key(self._container, self._stream, self._index, key, self._counted)

    # ---- decode-ahead ------------------------------------------------------------------

    def _request_ahead(self, i: int) -> None:
        if self._decode_ahead == 0:
            return
        with self._ahead_cond:
            self._ahead_wanted = i
            self._ahead_cond.notify()

    def _ahead_loop(self) -> None:
        while True:
            with self._ahead_cond:
                while not self._closed and (self._ahead_wanted < 0 or self._foreground):
                    self._ahead_cond.wait(0.5)
                if self._closed:
                    return
                center = self._ahead_wanted
                self._ahead_wanted = -1
            try:
                self._decode_ahead_to(min(center + self._decode_ahead, self.frame_count - 1))
                self._convert_around(center)
            except Exception:  # background help must never take the reader down
                log.exception("decode-ahead failed")

    def _interrupted(self) -> bool:
        with self._ahead_cond:
            return self._closed or bool(self._foreground) or self._ahead_wanted >= 0

    def _decode_ahead_to(self, wanted: int) -> None:
        # one frame per lock hold, so a foreground request waits for at most one decode
        while not self._interrupted():
            with self._lock:
                if self._closed or self._run is None or self._run_last >= wanted:
                    return
                if wanted - self._run_last > 3 * self._decode_ahead:
                    return  # the decoder is far behind: the next request will seek
                try:
                    n, frame = next(self._run)
                except (StopIteration, av.error.FFmpegError):
                    self._run = None
                    return
                self._run_last = n
                self._remember(n, frame)

    def _convert_around(self, center: int) -> None:
        """Turn cached decoded pictures near ``center`` into RGB, nearest first (playback
        forwards, stepping backwards), so those requests cost a dictionary look-up."""
        for offset in range(1, self._decode_ahead + 1):
            for j in (center + offset, center - offset):
                if self._interrupted():
                    return
                if isinstance(self._cache.peek(j), VideoFrame):
                    self._from_cache_quiet(j)

    def _from_cache_quiet(self, i: int) -> None:
        entry = self._cache.peek(i)
        if isinstance(entry, VideoFrame):
            self._convert_cached(i, entry)

    def cache_bytes(self) -> int:
        """Memory held by cached frames (decoded pictures or RGB arrays)."""
        total = 0
        for i in self._cache.indices():
            entry = self._cache.peek(i)
            if isinstance(entry, np.ndarray):
                total += entry.nbytes
            elif entry is not None:
                total += sum(plane.buffer_size for plane in entry.planes)
        return total

    # ---- sequential --------------------------------------------------------------------

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, Frame]]:
        """Yield ``(index, rgb)`` for ``start <= index < stop`` by sequential decoding.

        Uses its own demuxer and decoder, so it neither disturbs nor waits for random access.
        """
        start = max(0, int(start))
        if start > 0 and not self.index_ready:
            self.wait_for_index()
        container = open_container(self.path)
        try:
            stream = video_stream(container, self.path)
            if start > 0 and self._index is not None:
                key = self._index.key_at_or_before(start)
                run = run_from_key(container, stream, self._index, key, self._counted)
            else:
                run = _counted(_decode_packets(container, stream), 0, self._index)
            for n, frame in run:
                if stop is not None and n >= stop:
                    break
                if n < start:
                    continue
                self._pict.setdefault(n, _PICT_TYPES.get(int(frame.pict_type), "P"))
                yield n, self._to_rgb(frame)
        finally:
            container.close()

    # ---- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Stop background work and release the file."""
        if self._closed:
            return
        self._stop.set()
        with self._ahead_cond:
            self._closed = True
            self._ahead_cond.notify_all()
        if self._index_thread is not None:
            self._index_thread.join(timeout=5)
        self._ahead_thread.join(timeout=5)
        with self._lock:
            self._run = None
            self._cache.clear()
            self._container.close()

    def __enter__(self) -> PyAVVideo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"PyAVVideo({str(self.path)!r}, {self.width}x{self.height}, "
            f"{self.frame_count} frames, {self.codec})"
        )


def _decode_packets(
    container: InputContainer, stream: VideoStream
) -> Iterator[tuple[Any, VideoFrame | None]]:
    """Yield ``(first packet of the run, frame)``. A packet that fails to decode yields
    ``(first, None)``: its picture is lost, and runs that count frames must still count it, or
    every later frame would be numbered one too low (another frame's picture)."""
    first: Any = None
    for packet in container.demux(stream):
        if first is None and packet.size:
            first = packet
        try:
            frames = packet.decode()
        except av.error.FFmpegError as err:
            # corrupt data: the missing frame is substituted (and reported) on request
            log.info("skipping a packet that does not decode: %s", err)
            if packet.size:
                yield first, None
            continue
        for frame in frames:
            yield first, frame


def _counted(
    pairs: Iterator[tuple[Any, VideoFrame | None]], start: int, idx: PacketIndex | None = None
) -> Iterator[tuple[int, VideoFrame]]:
    n = start
    for _, frame in pairs:
        if frame is not None:
            n = _resync(idx, n, frame.pts)
            yield n, frame
        n += 1  # a lost picture keeps its number, so the next frame keeps its own


def _resync(idx: PacketIndex | None, n: int, pts: int | None) -> int:
    """The frame number of a counted frame, moved forward when its timestamp shows that the
    decoder silently dropped pictures before it (damaged data): those frames are then missing
    (and substituted with a report), instead of every later frame taking its neighbour's
    number."""
    if idx is None or pts is None or n >= idx.frame_count or pts <= idx.pts[n]:
        return n
    if not idx.decode_order_is_presentation:  # reordered timestamps prove nothing here
        return n
    m = int(np.searchsorted(idx.pts, pts))
    return m if m < idx.frame_count and idx.pts[m] == pts else n


def run_from_key(
    container: InputContainer,
    stream: VideoStream,
    idx: PacketIndex,
    key: int,
    counted: bool,
) -> Iterator[tuple[int, VideoFrame]]:
    """Seek to key frame ``key`` and yield ``(index, frame)`` in presentation order.

    Frames are identified by timestamp (or, if ``counted``, by counting from the key frame the
    demuxer landed on, lost pictures included). Frames before ``key`` (open-GOP leftovers) are
    dropped.
    """
    # AVI's index is in decode order (its times are packet counts), others' in presentation time
    target = int(idx.decode_pos[key]) if counted else int(idx.pts[key])
    container.seek(target, stream=stream, backward=True, any_frame=False)
    anchor: int | None = None
    last = -1
    for packet, frame in _decode_packets(container, stream):
        if counted:
            if anchor is None:
                pts = packet.pts if packet.pts is not None else packet.dts
                anchor = int(np.searchsorted(idx.pts, pts)) if pts is not None else key
                n = anchor
            else:
                n = last + 1
            if frame is not None:
                n = _resync(idx, n, frame.pts)
        elif frame is None:
            continue  # identified by timestamps: a lost picture shifts nothing
        else:
            n = _index_of(idx, frame.pts, last)
        if frame is None:
            last = n
            continue
        if n < key and not counted:
            continue
        last = n
        yield n, frame


def _index_of(idx: PacketIndex, pts: int | None, last: int) -> int:
    if pts is None:
        return last + 1
    pos = int(np.searchsorted(idx.pts, pts))
    if pos < idx.frame_count and idx.pts[pos] == pts:
        return pos
    return last + 1  # a time the demuxer did not list: count on from the previous frame
