"""The extraction engine: one sequential decode producing a motion field and residual per frame.

Decodes with ``flags2=+export_mvs`` and default threading (frame threading loses H.264
vectors), keeps a window of decoded luma planes ``max_distance`` frames either side of the frame
being processed (B-frames point forward, so a frame is finished only once the frames after it
are decoded), and turns each frame's vectors into a cell field with
:mod:`annotator.video.motion_vectors`. Candidate references are pruned with what the stream
tells us: a frame decoded after frame t (packet order) cannot be its reference, and outside
H.264 a B-frame is never a reference. Codecs whose vectors FFmpeg cannot export go through
:mod:`annotator.video.flow` instead. Public entry point: :func:`annotator.video.motion.extract_motion`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import av
import numpy as np
from av.sidedata import sidedata as av_sidedata
from av.sidedata.sidedata import Type as SideDataType
from av.video.frame import PictureType
from numpy.typing import NDArray

from annotator.core.progress import Progress, ShouldStop, check_stop, report
from annotator.errors import VideoError
from annotator.video import motion_kernels as kernels
from annotator.video.flow import DIS_MAX_SIDE, DisFlow, DisPreset, dis_reduction, flow_field
from annotator.video.motion_vectors import (
    Blocks,
    FrameBlocks,
    blocks_from_side_data,
    drop_worse_direction,
    grid_shape,
    per_frame_blocks,
    rotate_blocks,
    shift_blocks,
    suspicious_pairs,
)
from annotator.video.prefetch import prefetched
from annotator.video.residual import reduce_luma, residual_factor

MV_CODECS = frozenset(
    {
        "h264",
        "mpeg4",
        "mpeg1video",
        "mpeg2video",
        "h263",
        "h263p",
        "flv",
        "msmpeg4v1",
        "msmpeg4v2",
        "msmpeg4",
        "wmv1",
        "wmv2",
    }
)
"""Decoders whose motion vectors FFmpeg exports (H.264 and the MPEG-video family)."""

ZERO_B_VECTORS = frozenset({"mpeg4"})
"""Decoders that export all-zero vectors for B-frames (checked on PyAV 18.1: every B-frame
vector of MPEG-4 Part 2 is zero, P-frames are fine): those B-frames are derived instead."""

INTRA_PROBE_FRAMES = 30
"""If this many frames decode without a single vector, the stream is treated as intra-only."""

_PICTURE = {"I": "I", "SI": "I", "P": "P", "S": "P", "SP": "P", "B": "B", "BI": "B"}
_PLANAR_8BIT = frozenset(
    {
        "yuv420p",
        "yuvj420p",
        "yuv422p",
        "yuvj422p",
        "yuv444p",
        "yuvj444p",
        "yuv440p",
        "yuvj440p",
        "yuv411p",
        "yuv410p",
        "nv12",
        "nv21",
        "gray",
    }
)

_SIDE_DATA: Any = av_sidedata.SideDataContainer
"""PyAV's side-data container class (its stubs omit the constructor's frame argument)."""

T = TypeVar("T")
FlowMethod = Literal["farneback", "dis", "dis-640", "dis-320", "dis-fast"]
DIS_SIDES: dict[str, int] = {"dis": DIS_MAX_SIDE, "dis-640": 640, "dis-320": 320, "dis-fast": 640}
"""Longer side (px) each DIS field's luma is halved down to (``flow.dis_reduction``)."""
FloatArray = NDArray[np.float32]
Luma = NDArray[np.uint8]


class NoVectorsFound(Exception):
    """Internal: the stream decoded without any motion vector (e.g. intra-only)."""


class UnsupportedCodec(Exception):
    """Internal: FFmpeg exports no motion vectors for this codec (see :data:`MV_CODECS`)."""

    def __init__(self, codec: str) -> None:
        super().__init__(codec)
        self.codec = codec


@dataclass
class FrameRecord:
    """A decoded frame as the engine keeps it in its window.

    ``luma`` and ``blocks`` (the codec's vectors; None when the frame has none) are in coded
    orientation, where reference matching happens; ``clockwise`` is the video's rotation tag.
    ``resolved`` (per-frame motion) and ``small`` (the luma reduced for the residual, made on
    the decoding thread when it was given a cell size) are in display orientation.
    """

    index: int
    rank: int | None
    picture: str
    luma: Luma
    blocks: Blocks | None
    time: float
    clockwise: int = 0
    resolved: FrameBlocks | None = None
    small: Luma | None = None

    def display_luma(self) -> Luma:
        """``luma`` turned to display orientation (itself when the video is not rotated)."""
        if not self.clockwise:
            return self.luma
        # np.rot90 turns counter-clockwise for positive k
        return np.ascontiguousarray(np.rot90(self.luma, k=-self.clockwise // 90))

    def display_shape(self) -> tuple[int, int]:
        """(height, width) in display orientation."""
        height, width = self.luma.shape
        return (width, height) if self.clockwise in (90, 270) else (height, width)


FrameSink = Callable[[FloatArray, FloatArray, NDArray[np.bool_], FloatArray], None]
"""Receives each frame's dx, dy, valid and residual arrays in presentation order."""


@dataclass
class RawFields:
    """Per-frame outputs, collected in presentation order."""

    kind: str
    note: str
    codec: str
    width: int
    height: int
    dx: list[FloatArray] = field(default_factory=list)
    dy: list[FloatArray] = field(default_factory=list)
    valid: list[NDArray[np.bool_]] = field(default_factory=list)
    residual: list[FloatArray] = field(default_factory=list)
    pictures: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    derived: list[bool] = field(default_factory=list)
    # where the per-cell arrays go instead of the lists above (a disk store written frame by
    # frame, so a long video never sits in memory); the small per-frame lists are kept
    sink: FrameSink | None = None
    count: int = 0

    def add(
        self,
        arrays: tuple[FloatArray, FloatArray, NDArray[np.bool_], FloatArray],
        picture: str,
        time: float,
        derived: bool,
    ) -> None:
        """One frame's field (dx, dy, valid, residual) and what it was."""
        if self.sink is not None:
            self.sink(*arrays)
        else:
            self.dx.append(arrays[0])
            self.dy.append(arrays[1])
            self.valid.append(arrays[2])
            self.residual.append(arrays[3])
        self.pictures.append(picture)
        self.times.append(time)
        self.derived.append(derived)
        self.count += 1


def open_video_stream(path: Path) -> tuple[Any, Any]:
    """Open ``path`` with PyAV and return ``(container, first video stream)``."""
    if not path.is_file():
        raise VideoError(f"video file not found: {path}")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise VideoError(f"cannot open {path.name} as a video: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path.name} has no video stream")
    return container, container.streams.video[0]


def luma_of(frame: Any) -> Luma:
    """The frame's 8-bit luma plane as a contiguous copy (no colour conversion when planar)."""
    if frame.format.name in _PLANAR_8BIT:
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8, count=frame.height * plane.line_size)
        luma: Luma = rows.reshape(frame.height, plane.line_size)[:, : frame.width].copy()
        return luma
    gray: Luma = frame.to_ndarray(format="gray")
    return gray


def display_rotation(frame: Any) -> int:
    """The frame's rotation tag as clockwise degrees (0, 90, 180 or 270), as the reader reads
    it: PyAV reports the display matrix counter-clockwise."""
    return round(-float(frame.rotation) / 90.0) % 4 * 90


def picture_letter(frame: Any) -> str:
    # PyAV 18 returns the raw AVPictureType number; older versions an enum.
    try:
        name = PictureType(int(frame.pict_type)).name
    except ValueError:
        name = ""
    return _PICTURE.get(name, "I" if frame.key_frame else "P")


def decode_records(
    path: Path, export_mvs: bool, cell: int | None = None
) -> Iterator[tuple[Any, FrameRecord]]:
    """Decode every frame in presentation order; yields ``(stream, record)``.

    Records carry the first frame's rotation tag. With ``cell``, each record also carries its
    luma reduced for the residual at that cell size (display orientation), so that work
    happens on the decoding thread.
    """
    container, stream = open_video_stream(path)
    if export_mvs:
        stream.codec_context.options = {"flags2": "+export_mvs"}
    rate = float(stream.average_rate or 25)
    ranks: dict[int, int] = {}
    sequence = 0
    index = 0
    clockwise = 0
    factor = 1
    try:
        for packet in container.demux(stream):
            if packet.pts is not None and packet.size:
                ranks[packet.pts] = sequence
                sequence += 1
            for frame in packet.decode():
                if index == 0:
                    clockwise = display_rotation(frame)
                    if cell is not None:
                        turned = clockwise in (90, 270)
                        height, width = frame.height, frame.width
                        factor = residual_factor(
                            width if turned else height, height if turned else width, cell
                        )
                # Not frame.side_data: it caches the container on the frame, a reference cycle
                # that only a full garbage collection frees, so every decoded frame would stay
                # alive, FFmpeg could not reuse its buffers and would keep taking fresh memory
                # (hundreds of page faults per frame, as much CPU as the decoding itself).
                side = _SIDE_DATA(frame).get(SideDataType.MOTION_VECTORS) if export_mvs else None
                # Converted here, from the side data in place (a copy of the records would cost
                # fresh memory, i.e. page faults, every frame).
                blocks = None if side is None else blocks_from_side_data(side.to_ndarray())
                del side
                time = frame.time
                record = FrameRecord(
                    index=index,
                    rank=ranks.pop(frame.pts, None) if frame.pts is not None else None,
                    picture=picture_letter(frame),
                    luma=luma_of(frame),
                    blocks=blocks,
                    time=float(time) if time is not None else index / rate,
                    clockwise=clockwise,
                )
                if cell is not None:
                    record.small = reduce_luma(record.display_luma(), factor)
                yield stream, record
                index += 1
    except av.FFmpegError as exc:
        raise VideoError(
            f"{path.name} cannot be decoded past frame {index}: the file is damaged or "
            f"truncated ({getattr(exc, 'strerror', None) or exc})"
        ) from exc
    finally:
        container.close()


def frame_total(stream: Any) -> int | None:
    if stream.frames:
        return int(stream.frames)
    if stream.duration is not None and stream.time_base and stream.average_rate:
        return round(float(stream.duration * stream.time_base * stream.average_rate))
    return None


class _Collector:
    """Appends a frame's field, fills invalid cells for the residual's warp, checks cancel."""

    def __init__(
        self, raw: RawFields, cell: int, progress: Progress | None, should_stop: ShouldStop | None
    ) -> None:
        self.raw, self.cell = raw, cell
        self.progress, self.should_stop = progress, should_stop
        self.total: int | None = None
        shape = grid_shape(raw.height, raw.width, cell)
        # Cells with no field borrow the last known motion there, so the residual of an
        # intra block measures new content rather than plain frame differences.
        self.fill_dx = np.zeros(shape, dtype=np.float32)
        self.fill_dy = np.zeros(shape, dtype=np.float32)
        self.factor = residual_factor(raw.height, raw.width, cell)

    def small(self, record: FrameRecord) -> Luma:
        """The frame's luma at the residual's working resolution, computed once."""
        if record.small is None:
            record.small = reduce_luma(record.display_luma(), self.factor)
        return record.small

    def add(
        self,
        record: FrameRecord,
        previous: FrameRecord | None,
        field_xy: tuple[FloatArray, FloatArray, NDArray[np.bool_]],
        derived: bool,
    ) -> None:
        dx, dy, valid = field_xy
        self.fill_dx = np.where(valid, dx, self.fill_dx).astype(np.float32)
        self.fill_dy = np.where(valid, dy, self.fill_dy).astype(np.float32)
        if previous is None:
            residual = np.full(valid.shape, np.nan, dtype=np.float32)
        else:
            f = self.factor
            residual = kernels.residual(
                self.small(previous),
                self.small(record),
                (self.fill_dx / f).astype(np.float32),
                (self.fill_dy / f).astype(np.float32),
                self.cell // f,
            )
        raw = self.raw
        raw.add((dx, dy, valid, residual), record.picture, record.time, derived)
        report(self.progress, raw.count, self.total)
        check_stop(self.should_stop, "motion extraction")


def _missing(shape: tuple[int, int]) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    nan = np.full(shape, np.nan, dtype=np.float32)
    return nan, nan.copy(), np.zeros(shape, dtype=bool)


class VectorEngine:
    """Per-frame fields from codec vectors, with reference-distance resolution."""

    def __init__(self, codec: str, width: int, height: int, cell: int, max_distance: int):
        self.codec, self.width, self.height = codec, width, height
        self.cell, self.max_distance = cell, max_distance
        self.window: dict[int, FrameRecord] = {}

    def candidates(self, record: FrameRecord, forward: bool) -> list[tuple[int, Luma]]:
        out = []
        for k in range(1, self.max_distance + 1):
            other = self.window.get(record.index + k if forward else record.index - k)
            if other is None:
                continue
            if self.codec != "h264" and other.picture == "B":
                continue  # only H.264 lets a B-frame be a reference
            if other.rank is not None and record.rank is not None and other.rank > record.rank:
                continue  # decoded after this frame: cannot be its reference
            out.append((k, other.luma))
        return out

    def resolved(self, record: FrameRecord) -> FrameBlocks:
        """The frame's blocks with per-frame motion, computed once per frame."""
        if record.resolved is None:
            record.resolved = self._resolve(record)
        return record.resolved

    def _resolve(self, record: FrameRecord) -> FrameBlocks:
        blocks = record.blocks
        if blocks is None or len(blocks) == 0:
            return _no_blocks()
        past, future = blocks.take(~blocks.forward), blocks.take(blocks.forward)
        pairs = suspicious_pairs(past, future)
        need_past = np.zeros(len(past), dtype=bool)
        need_future = np.zeros(len(future), dtype=bool)
        need_past[pairs[0]] = True
        need_future[pairs[1]] = True
        past_k, past_cost = kernels.resolve(
            past, record.luma, self.candidates(record, False), need_past
        )
        future_k, future_cost = kernels.resolve(
            future, record.luma, self.candidates(record, True), need_future
        )
        drop_past, drop_future = drop_worse_direction(pairs, past_cost, future_cost)
        past_k[drop_past] = 0
        future_k[drop_future] = 0
        coded = FrameBlocks.concat(
            [per_frame_blocks(past, past_k), per_frame_blocks(future, future_k)]
        )
        height, width = record.luma.shape
        return rotate_blocks(coded, record.clockwise, width, height)

    def field(
        self, record: FrameRecord
    ) -> tuple[tuple[FloatArray, FloatArray, NDArray[np.bool_]], bool]:
        shape = grid_shape(self.height, self.width, self.cell)
        if record.picture == "I" or record.blocks is None:
            return _missing(shape), False
        derived = False
        if record.picture == "B" and self.codec in ZERO_B_VECTORS:
            anchor = self._anchor(record, forward=True) or self._anchor(record, forward=False)
            if anchor is None:
                return _missing(shape), True
            # The anchor's blocks moved back (or forward) to where they are in this frame.
            blocks = shift_blocks(self.resolved(anchor), anchor.index - record.index)
            derived = True
        else:
            blocks = self.resolved(record)
        return kernels.paint(blocks, self.height, self.width, self.cell), derived

    def _anchor(self, record: FrameRecord, forward: bool) -> FrameRecord | None:
        """The nearest P-frame before or after a B-frame, if no I-frame comes first."""
        step = 1 if forward else -1
        for k in range(1, self.max_distance + 1):
            other = self.window.get(record.index + step * k)
            if other is None or other.picture == "I":
                return None
            if other.picture == "P":
                return other
        return None


def _no_blocks() -> FrameBlocks:
    f = np.zeros(0, dtype=np.float32)
    i = np.zeros(0, dtype=np.int32)
    return FrameBlocks(f, f, i, i, f, f, f, np.zeros(0, dtype=bool))


def run_vectors(
    path: Path,
    cell: int,
    max_distance: int,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    sink: FrameSink | None = None,
) -> RawFields:
    """Extract fields from codec vectors (each frame's arrays to ``sink`` when given); raises :class:`UnsupportedCodec` for codecs whose
    vectors FFmpeg does not export and :class:`NoVectorsFound` for intra-only streams."""
    engine: VectorEngine | None = None
    collector: _Collector | None = None
    seen_vectors = False
    pending: list[int] = []

    def finish(upto: int) -> None:
        assert engine is not None and collector is not None
        while pending and pending[0] <= upto:
            t = pending.pop(0)
            record = engine.window[t]
            previous = engine.window.get(t - 1)
            field_xy, derived = engine.field(record)
            collector.add(record, previous, field_xy, derived)
            for old in [j for j in engine.window if j < t + 1 - max_distance - 1]:
                del engine.window[old]

    with closing(prefetched(decode_records(path, True, cell))) as frames:
        for stream, record in frames:
            if engine is None:
                codec = stream.codec_context.name
                if codec not in MV_CODECS:
                    raise UnsupportedCodec(codec)
                height, width = record.display_shape()
                engine = VectorEngine(codec, width, height, cell, max_distance)
                raw = RawFields("mv", "", codec, width, height, sink=sink)
                collector = _Collector(raw, cell, progress, should_stop)
                collector.total = frame_total(stream)
            seen_vectors = seen_vectors or (record.blocks is not None and len(record.blocks) > 0)
            if record.index + 1 >= INTRA_PROBE_FRAMES and not seen_vectors:
                raise NoVectorsFound
            engine.window[record.index] = record
            pending.append(record.index)
            finish(record.index - max_distance)
    if engine is None or collector is None:
        raise VideoError(f"{path.name} has no decodable video frames")
    if not seen_vectors and len(pending) > 1:
        raise NoVectorsFound
    finish(collector.raw.count + len(pending))
    return collector.raw


def run_flow(
    path: Path,
    cell: int,
    note: str,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    sink: FrameSink | None = None,
    method: FlowMethod = "farneback",
) -> RawFields:
    """Extract fields with dense optical flow (kind ``"flow"``): Farneback on the full luma
    (the fallback) or DIS on the luma the residual reduces anyway, halved down to the field's
    ``DIS_SIDES`` (``"dis"``: OpenCV's medium preset, longer side at most ``DIS_MAX_SIDE``;
    ``"dis-640"`` and ``"dis-320"``: the same at 640 and 320 px; ``"dis-fast"``: OpenCV's
    fast preset at 640 px)."""
    collector: _Collector | None = None
    dis: DisFlow | None = None
    previous: FrameRecord | None = None
    with closing(prefetched(decode_records(path, export_mvs=False, cell=cell))) as frames:
        for stream, record in frames:
            if collector is None:
                height, width = record.display_shape()
                raw = RawFields("flow", note, stream.codec_context.name, width, height, sink=sink)
                collector = _Collector(raw, cell, progress, should_stop)
                collector.total = frame_total(stream)
                if method in DIS_SIDES:
                    preset: DisPreset = "fast" if method == "dis-fast" else "medium"
                    factor = collector.factor
                    extra = dis_reduction(height, width, factor, cell, DIS_SIDES[method])
                    dis = DisFlow(factor, cell, preset, extra)
            grid = grid_shape(collector.raw.height, collector.raw.width, cell)
            if previous is None:
                field_xy = _missing(grid)
            else:
                if dis is not None:
                    dx, dy = dis.field(collector.small(previous), collector.small(record), grid)
                else:
                    dx, dy = flow_field(previous.display_luma(), record.display_luma(), cell)
                field_xy = (dx, dy, np.ones(dx.shape, dtype=bool))
            collector.add(record, previous, field_xy, False)
            previous = record
    if collector is None:
        raise VideoError(f"{path.name} has no decodable video frames")
    return collector.raw
