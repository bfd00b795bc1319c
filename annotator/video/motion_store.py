"""Motion fields stored compactly and memory-mapped, for propagation over long videos.

``motion.py``'s cache is a compressed ``.npz`` loaded whole: float32 in memory, 13 bytes per
cell and frame (about 190 KB per 720p frame at 8 px cells, 1.8 GB for a 10,000-frame video).
Propagation reads only the frames of the gaps it walks, and only the vectors, validity and
residual. This store keeps exactly that, in plain ``.npy`` files that are memory-mapped:

- ``dx.npy``, ``dy.npy``: int16 in 1/16 px (±2047 px per frame, rounding error ≤ 1/32 px);
  ``-32768`` marks an invalid cell (so validity costs nothing);
- ``residual.npy``: uint8 grey levels (0..254, rounded; 255 = none, frame 0);
- ``meta.json``: kind, cell, size, codec, note, picture types, times, derived flags.

That is 5 bytes per cell: 72 KB per 720p frame at 8 px cells; a 1080p frame needs 12 or 16 px
cells to stay under 100 KB (73 KB and 41 KB; at 8 px it is 162 KB). :meth:`MotionStore.window`
decodes a span of frames into an ordinary :class:`MotionFields`, so only the frames a gap needs
are ever resident.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.errors import VideoError
from annotator.video.motion import MotionFields

STORE_VERSION = 1
UNITS = 16  # int16 steps per px
INVALID = np.int16(-32768)
NO_RESIDUAL = np.uint8(255)


def _quantize(d: NDArray[np.float32], valid: NDArray[np.bool_]) -> NDArray[np.int16]:
    q = np.clip(np.rint(np.nan_to_num(d) * UNITS), -32767, 32767).astype(np.int16)
    q[~valid | ~np.isfinite(d)] = INVALID
    return q


def write_store(fields: MotionFields, folder: str | Path) -> Path:
    """Write ``fields`` as a store in ``folder`` (created; replaced atomically if it exists)."""
    folder = Path(folder)
    tmp = folder.with_name(f"{folder.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.mkdir(parents=True, exist_ok=False)
    try:
        np.save(tmp / "dx.npy", _quantize(fields.dx, fields.valid))
        np.save(tmp / "dy.npy", _quantize(fields.dy, fields.valid))
        res = np.where(np.isfinite(fields.residual), fields.residual, np.inf)
        res8 = np.where(np.isinf(res), NO_RESIDUAL, np.clip(np.rint(res), 0, 254))
        np.save(tmp / "residual.npy", res8.astype(np.uint8))
        meta: dict[str, Any] = {
            "version": STORE_VERSION,
            "kind": fields.kind,
            "cell": fields.cell,
            "width": fields.width,
            "height": fields.height,
            "codec": fields.codec,
            "note": fields.note,
            "picture_types": "".join(fields.picture_types),
            "times": [float(t) for t in fields.times],
            "derived": [bool(d) for d in fields.derived],
        }
        (tmp / "meta.json").write_text(json.dumps(meta))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


class MotionStore:
    """A store opened for reading: arrays memory-mapped, frames decoded on demand."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        try:
            meta = json.loads((self.folder / "meta.json").read_text())
            if meta.get("version") != STORE_VERSION:
                raise ValueError(f"version {meta.get('version')}")
            self.dx = np.load(self.folder / "dx.npy", mmap_mode="r")
            self.dy = np.load(self.folder / "dy.npy", mmap_mode="r")
            self.residual = np.load(self.folder / "residual.npy", mmap_mode="r")
        except (OSError, ValueError, KeyError) as exc:
            raise VideoError(f"{self.folder} is not a motion store: {exc}") from None
        self.kind = "flow" if meta["kind"] == "flow" else "mv"
        self.cell = int(meta["cell"])
        self.width, self.height = int(meta["width"]), int(meta["height"])
        self.codec, self.note = str(meta["codec"]), str(meta["note"])
        self.picture_types = tuple(str(meta["picture_types"]))
        self.times = np.asarray(meta["times"], dtype=np.float64)
        self.derived = np.asarray(meta["derived"], dtype=bool)

    def __len__(self) -> int:
        return int(self.dx.shape[0])

    @property
    def bytes_per_frame(self) -> int:
        cells = int(self.dx.shape[1] * self.dx.shape[2])
        return cells * (2 + 2 + 1)

    def window(self, first: int, last: int) -> MotionFields:
        """Frames ``first .. last`` (inclusive) as :class:`MotionFields` (frame ``first`` is
        index 0 there)."""
        if not 0 <= first <= last < len(self):
            raise IndexError(f"frames {first}..{last} outside 0..{len(self) - 1}")
        span = slice(first, last + 1)
        qx = np.asarray(self.dx[span])
        qy = np.asarray(self.dy[span])
        valid = (qx != INVALID) & (qy != INVALID)
        dx = np.where(valid, qx.astype(np.float32) / UNITS, np.float32(np.nan))
        dy = np.where(valid, qy.astype(np.float32) / UNITS, np.float32(np.nan))
        r8 = np.asarray(self.residual[span])
        residual = np.where(r8 == NO_RESIDUAL, np.float32(np.nan), r8.astype(np.float32))
        return MotionFields(
            dx=dx.astype(np.float32),
            dy=dy.astype(np.float32),
            valid=valid,
            residual=residual.astype(np.float32),
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
