"""Motion fields on disk, compact and read frame span by frame span: what long videos use.

An in-memory :class:`~annotator.video.motion.MotionFields` costs 13 bytes per cell and frame
(float32 vectors and residual, a bool mask): 420 KB per 1080p frame at 8 px cells, 42 GB for a
100,000-frame video. Propagation only ever reads the frames of the gaps it walks, and only the
vectors, validity and residual. A store keeps exactly that, in one flat file:

- a magic line, then one fixed-size record per frame (presentation order): ``dx``, ``dy`` as
  int16 in 1/32 px (±1023 px per frame, rounding error ≤ 1/64 px, about what float16 kept
  below 32 px; ``-32768`` marks an invalid cell, so validity costs nothing) and the residual
  as uint8, its square root in 1/16 steps (0..252 grey levels, 1/64 of a level near 0 and
  1 level near 250; 255 = none, e.g. frame 0): 5 bytes per cell;
- a JSON trailer (kind, field, cell, size, codec, note, the video's fingerprint, picture types,
  presentation times, derived flags, per-frame residual energy), its length and an end mark.

Records are written as the extraction produces them (:class:`StoreWriter`: a temporary file
beside the target, fsynced and renamed over it only when the last frame is in, so a crash or
a cancel leaves no half store). The layout is plain enough to memory-map, but
:meth:`MotionStore.window` reads a span with one positioned read instead: pages of a mapping
that propagation has touched would count as the process's resident memory until the kernel
drops them, while a read leaves them to the page cache. So resident memory is bounded by the
windows in use and the last windows kept for reuse (``CACHE_BYTES``), whatever the video's
length.

:func:`store_cell` picks the cell so that a frame costs at most ``MAX_FRAME_BYTES`` (8 px up
to 720p, 12 px at 1080p). A store that does not read back exactly (truncated, another video,
another version, damaged trailer) raises :class:`~annotator.errors.VideoError` with one line
saying why; ``motion_cache`` then rebuilds it.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections import OrderedDict
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from annotator.core.safeio import fsync_dir, parse_json, regular_file, temp_sibling
from annotator.errors import VideoError
from annotator.video.motion import MotionFields

STORE_VERSION = 3  # 1: a folder of .npy files (never read); 2: no field name in the trailer
Field = Literal["mv", "dis", "dis-640", "dis-320", "dis-fast", "farneback"]
FIELDS: tuple[Field, ...] = ("mv", "dis", "dis-640", "dis-320", "dis-fast", "farneback")
"""What a store's field is made of: the codec's vectors (the flow fallback where there are
none), or dense optical flow on the decoded luma for every video: DIS at OpenCV's medium
preset on luma of longer side at most ``flow.DIS_MAX_SIDE`` (``dis``), 640 px (``dis-640``,
the ``dis`` of store names without a size) or 320 px (``dis-320``), its fast preset at 640 px
(``dis-fast``), or Farneback."""
MAGIC = b"ANNOTATOR-MOTION-STORE\n"
END = b"MVSTORE2"
UNITS = 32  # int16 steps per px
INVALID = np.int16(-32768)
NO_RESIDUAL = np.uint8(255)
RESIDUAL_STEPS = 16  # per unit of the residual's square root (grey levels ** 0.5)
BYTES_PER_CELL = 5
MAX_FRAME_BYTES = 100_000  # a frame's record at most (the bound for a 1080p frame)
MAX_TRAILER = 256 << 20  # JSON of per-frame lists: about 60 bytes a frame
DECODED_BYTES_PER_CELL = 13  # a window in memory: float32 dx, dy, residual and a bool
CACHE_BYTES = 160 << 20  # decoded windows kept per store (the last ones read)

FloatArray = NDArray[np.float32]


def grid_cells(width: int, height: int, cell: int) -> int:
    return math.ceil(width / cell) * math.ceil(height / cell)


def store_cell(width: int, height: int, limit: int = MAX_FRAME_BYTES) -> int:
    """The smallest cell (a multiple of 4, at least 8 px) whose record of a ``width`` x
    ``height`` frame costs at most ``limit`` bytes: 8 px up to 720p, 12 px for 1080p."""
    cell = 8
    while grid_cells(width, height, cell) * BYTES_PER_CELL > limit:
        cell += 4
    return cell


def _quantize(d: FloatArray, valid: NDArray[np.bool_]) -> NDArray[np.int16]:
    q = np.clip(np.rint(np.nan_to_num(d) * UNITS), -32767, 32767).astype(np.int16)
    q[~valid | ~np.isfinite(d)] = INVALID
    return q


def _residual8(residual: FloatArray) -> NDArray[np.uint8]:
    """The residual's square root in 1/16 grey-level steps: fine where residuals are small
    (most cells: rounding them to whole grey levels cost a point of PCK on the basketball
    clip), coarser where they are large and only say "poorly explained"."""
    finite = np.isfinite(residual)
    root = np.sqrt(np.clip(np.where(finite, residual, 0.0), 0.0, None)) * RESIDUAL_STEPS
    r: NDArray[np.uint8] = np.clip(np.rint(root), 0, 254).astype(np.uint8)
    r[~finite] = NO_RESIDUAL
    return r


def _residual_values(r8: NDArray[np.uint8]) -> FloatArray:
    root = r8.astype(np.float32) * np.float32(1.0 / RESIDUAL_STEPS)
    values: FloatArray = np.where(r8 == NO_RESIDUAL, np.float32(np.nan), root * root)
    return values


def _energy(r8: NDArray[np.uint8]) -> float | None:
    """Mean residual of the cells that have one (what ``window`` gives back), or None."""
    have = r8 != NO_RESIDUAL
    count = int(have.sum())
    values = _residual_values(r8[have])
    return float(values.sum(dtype=np.float64) / count) if count else None


class StoreWriter:
    """Writes a store frame by frame: ``add`` each frame's arrays (the extraction's
    ``FrameSink``), then ``finish`` with the per-video facts. Used as a context manager, a
    writer left unfinished (an error, a cancel) removes its temporary file; ``target`` is only
    replaced by a complete store."""

    def __init__(self, target: str | Path) -> None:
        self.target = Path(target)
        self._tmp = temp_sibling(self.target)
        self._fh = self._tmp.open("wb")
        self._fh.write(MAGIC)
        self.grid: tuple[int, int] | None = None
        self.frames = 0
        self.energy: list[float | None] = []
        self._done = False

    def restart(self) -> None:
        """Forget every frame written so far (a first try that turned out unusable)."""
        self._fh.seek(len(MAGIC))
        self._fh.truncate()
        self.grid, self.frames, self.energy = None, 0, []

    def add(
        self, dx: FloatArray, dy: FloatArray, valid: NDArray[np.bool_], residual: FloatArray
    ) -> None:
        shape = (int(dx.shape[0]), int(dx.shape[1]))
        if self.grid is None:
            self.grid = shape
        elif shape != self.grid:
            raise VideoError(f"motion field grid changed from {self.grid} to {shape}")
        r8 = _residual8(residual)
        self._fh.write(_quantize(dx, valid).astype("<i2").tobytes())
        self._fh.write(_quantize(dy, valid).astype("<i2").tobytes())
        self._fh.write(r8.tobytes())
        self.energy.append(_energy(r8))
        self.frames += 1

    def finish(
        self,
        *,
        kind: str,
        cell: int,
        width: int,
        height: int,
        codec: str,
        note: str,
        picture_types: str,
        times: list[float],
        derived: list[bool],
        fingerprint: str = "",
        field: str = "mv",
    ) -> Path:
        """Write the trailer and put the store in place (atomically). ``field``: what the
        vectors were made of (``FIELDS``: the codec's vectors, or an optical flow chosen)."""
        if field not in FIELDS:
            raise VideoError(f"unknown motion field {field!r}")
        if self.grid is None or len(times) != self.frames or len(derived) != self.frames:
            raise VideoError("a motion store needs at least one frame and one time per frame")
        meta: dict[str, Any] = {
            "version": STORE_VERSION,
            "units": UNITS,
            "fingerprint": fingerprint,
            "frames": self.frames,
            "grid": list(self.grid),
            "kind": kind,
            "field": field,
            "cell": cell,
            "width": width,
            "height": height,
            "codec": codec,
            "note": note,
            "picture_types": picture_types,
            "times": [float(t) for t in times],
            "derived": "".join("1" if d else "0" for d in derived),
            "energy": self.energy,
        }
        text = json.dumps(meta, allow_nan=False).encode("utf-8")
        self._fh.write(text)
        self._fh.write(len(text).to_bytes(8, "little"))
        self._fh.write(END)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._tmp, self.target)
        fsync_dir(self.target.parent)
        self._done = True
        return self.target

    def abort(self) -> None:
        if not self._done:
            self._fh.close()
            self._tmp.unlink(missing_ok=True)
            self._done = True

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.abort()


def write_store(
    fields: MotionFields, target: str | Path, fingerprint: str = "", field: str = "mv"
) -> Path:
    """Write in-memory ``fields`` as a store at ``target`` (replaced atomically)."""
    with StoreWriter(target) as writer:
        for t in range(len(fields)):
            writer.add(fields.dx[t], fields.dy[t], fields.valid[t], fields.residual[t])
        return writer.finish(
            kind=fields.kind,
            cell=fields.cell,
            width=fields.width,
            height=fields.height,
            codec=fields.codec,
            note=fields.note,
            picture_types="".join(fields.picture_types),
            times=[float(t) for t in fields.times],
            derived=[bool(d) for d in fields.derived],
            fingerprint=fingerprint,
            field=field,
        )


class MotionStore:
    """A store opened for reading: checked whole on open, frames read span by span.

    ``fingerprint``: the video's (``core.fingerprint``); a store written for another video is
    refused, and so is one of another ``field`` when given. Has ``field`` and the per-video
    attributes of ``MotionFields`` (``kind``, ``cell``, ``width``,
    ``height``, ``codec``, ``note``, ``picture_types``, ``times``, ``derived``) and ``len``."""

    def __init__(
        self, path: str | Path, fingerprint: str | None = None, field: str | None = None
    ) -> None:
        self.path = Path(path)
        size = regular_file(self.path, VideoError)
        meta = self._trailer(size)
        try:
            if meta.get("version") != STORE_VERSION or meta.get("units") != UNITS:
                raise ValueError(
                    f"format {meta.get('version')}/{meta.get('units')}, not {STORE_VERSION}/{UNITS}"
                )
            if fingerprint is not None and meta.get("fingerprint") != fingerprint:
                raise ValueError("it was written for another video")
            if meta.get("field") not in FIELDS:
                raise ValueError(f"unknown field {meta.get('field')!r}")
            if field is not None and meta["field"] != field:
                raise ValueError(f"it holds the {meta['field']} field, not {field}")
            self.field = str(meta["field"])
            self.frames = int(meta["frames"])
            gh, gw = (int(v) for v in meta["grid"])
            self.grid = (gh, gw)
            self.record = gh * gw * BYTES_PER_CELL
            body = len(MAGIC) + self.frames * self.record
            if self.frames < 1 or gh < 1 or gw < 1 or size != body + self._trailer_bytes:
                raise ValueError(f"{size:,} bytes where its trailer implies {body:,} + trailer")
            self.kind = "flow" if meta["kind"] == "flow" else "mv"
            self.cell = int(meta["cell"])
            self.width, self.height = int(meta["width"]), int(meta["height"])
            self.codec, self.note = str(meta["codec"]), str(meta["note"])
            self.picture_types = tuple(str(meta["picture_types"]))
            self.times = np.asarray(meta["times"], dtype=np.float64)
            self.derived = np.asarray([c == "1" for c in str(meta["derived"])], dtype=bool)
            energy = [np.nan if e is None else float(e) for e in meta["energy"]]
            self.energy: FloatArray = np.asarray(energy, dtype=np.float32)
            lengths = {len(self.picture_types), len(self.times), len(self.derived), len(energy)}
            if lengths != {self.frames}:
                raise ValueError("its per-frame lists do not match its frame count")
        except (KeyError, TypeError, ValueError) as exc:
            raise VideoError(f"{self.path.name} is not a usable motion store: {exc}") from None
        self._lock = threading.Lock()
        self._recent: OrderedDict[tuple[int, int], MotionFields] = OrderedDict()
        self._recent_bytes: dict[tuple[int, int], int] = {}
        self._dtype = np.dtype(
            [("dx", "<i2", self.grid), ("dy", "<i2", self.grid), ("residual", "u1", self.grid)]
        )

    def _trailer(self, size: int) -> dict[str, Any]:
        bad = f"{self.path.name} is not a usable motion store"
        if size < len(MAGIC) + 16:
            raise VideoError(f"{bad}: {size} bytes (truncated)")
        with self.path.open("rb") as fh:
            if fh.read(len(MAGIC)) != MAGIC:
                raise VideoError(f"{bad}: no motion-store header")
            fh.seek(size - 16)
            tail = fh.read(16)
            length = int.from_bytes(tail[:8], "little")
            if tail[8:] != END or not 0 < length <= min(MAX_TRAILER, size - len(MAGIC) - 16):
                raise VideoError(f"{bad}: no end mark (truncated or damaged)")
            fh.seek(size - 16 - length)
            text = fh.read(length)
        self._trailer_bytes = length + 16
        meta = parse_json(text, self.path.name, VideoError)
        if not isinstance(meta, dict):
            raise VideoError(f"{bad}: its trailer is not an object")
        return meta

    def __len__(self) -> int:
        return self.frames

    @property
    def bytes_per_frame(self) -> int:
        """Bytes of one frame's record (the trailer adds about 60 bytes per frame)."""
        return self.record

    def window(self, first: int, last: int) -> MotionFields:
        """Frames ``first .. last`` (inclusive) as :class:`MotionFields` (frame ``first`` is
        index 0 there; shared with later calls: read them, never write). The last windows read are kept (``CACHE_BYTES`` in
        all), so a drag, which walks the same gaps at every step, reads the disk once."""
        if not 0 <= first <= last < len(self):
            raise IndexError(f"frames {first}..{last} outside 0..{len(self) - 1}")
        key = (first, last)
        with self._lock:
            hit = self._recent.get(key)
            if hit is not None:
                self._recent.move_to_end(key)
                return hit
        fields = self._read(first, last)
        size = (last - first + 1) * self.grid[0] * self.grid[1] * DECODED_BYTES_PER_CELL
        if size <= CACHE_BYTES:
            with self._lock:
                self._recent[key] = fields
                self._recent_bytes[key] = size
                while sum(self._recent_bytes.values()) > CACHE_BYTES:
                    old, _ = self._recent.popitem(last=False)
                    del self._recent_bytes[old]
        return fields

    def _read(self, first: int, last: int) -> MotionFields:
        n = last - first + 1
        with self.path.open("rb") as fh:
            fh.seek(len(MAGIC) + first * self.record)
            buf = fh.read(n * self.record)
        if len(buf) != n * self.record:
            raise VideoError(f"{self.path.name} was truncated while in use")
        rec = np.frombuffer(buf, dtype=self._dtype)
        qx, qy, r8 = rec["dx"], rec["dy"], rec["residual"]
        valid = (qx != INVALID) & (qy != INVALID)
        nan = np.float32(np.nan)
        scale = np.float32(1.0 / UNITS)
        span = slice(first, last + 1)
        arrays = (
            np.where(valid, qx.astype(np.float32) * scale, nan),
            np.where(valid, qy.astype(np.float32) * scale, nan),
            valid,
            _residual_values(r8),
        )
        return MotionFields(
            dx=arrays[0],
            dy=arrays[1],
            valid=arrays[2],
            residual=arrays[3],
            picture_types=self.picture_types[span],
            times=self.times[span],
            derived=self.derived[span],
            kind="flow" if self.kind == "flow" else "mv",
            cell=self.cell,
            width=self.width,
            height=self.height,
            codec=self.codec,
            note=self.note,
        )

    def fields(self) -> MotionFields:
        """Every frame in memory (short videos; long ones read windows)."""
        return self.window(0, len(self) - 1)
