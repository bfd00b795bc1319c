"""Readers for the pose datasets used to train and benchmark: Penn Action and JHMDB.

These return plain arrays; ``annotator.formats`` wraps them as import adaptors. JHMDB's
pickles are read with a restricted unpickler that only rebuilds NumPy arrays, so a hostile
file cannot run code.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.safeio import load_mat
from annotator.core.skeleton import JHMDB, PENN_ACTION
from annotator.errors import FormatError


@dataclass(frozen=True)
class PennSequence:
    """One Penn Action label file."""

    name: str
    xy: NDArray[np.float64]  # (F, 13, 2) pixels
    visible: NDArray[np.bool_]  # (F, 13)
    bbox: NDArray[np.float64]  # (F, 4) x1, y1, x2, y2; NaN rows where the file has none
    width: int
    height: int
    action: str

    @property
    def frame_count(self) -> int:
        return int(self.xy.shape[0])

    @property
    def absent(self) -> NDArray[np.bool_]:
        """(F, 13) joints Penn Action parks at (1, 1): not in the picture, no position."""
        parked = (self.xy[..., 0] <= 1.0) & (self.xy[..., 1] <= 1.0)
        return np.asarray(parked & ~self.visible, dtype=np.bool_)

    def to_pose_set(self, fps: float = 30.0) -> PoseSet:
        """Every joint labelled: visible ones as visible, joints parked at (1, 1) as absent,
        the rest as occluded (Penn gives estimated positions for joints it cannot see)."""
        f = self.frame_count
        absent = self.absent
        poses = np.empty((f, 13, 3), dtype=np.float32)
        poses[:, :, :2] = np.where(absent[..., None], np.nan, self.xy)
        poses[:, :, 2] = np.where(self.visible, Visibility.VISIBLE, Visibility.OCCLUDED)
        poses[:, :, 2][absent] = Visibility.ABSENT
        source = np.full((f, 13), Source.MANUAL, dtype=np.int8)
        inst = PoseInstance(0, poses, source, boxes=self.bbox.astype(np.float32))
        return PoseSet(PENN_ACTION, f, [inst], fps=fps, width=self.width, height=self.height)


def load_penn_action(path: str | Path) -> PennSequence:
    """Read one Penn Action ``.mat`` label file; raises ``FormatError`` when it is not one."""
    path = Path(path)
    m = load_mat(path, FormatError)
    try:
        x = np.asarray(m["x"], dtype=np.float64)
        y = np.asarray(m["y"], dtype=np.float64)
        vis = np.asarray(m["visibility"]).astype(bool)
    except KeyError as missing:
        raise FormatError(f"{path.name} is not a Penn Action label file (no {missing})") from None
    except (TypeError, ValueError):
        raise FormatError(f"{path.name}: x, y and visibility must be numeric") from None
    if x.ndim != 2 or x.shape[1] != 13 or y.shape != x.shape or vis.shape != x.shape:
        raise FormatError(f"{path.name}: expected x, y, visibility of shape (frames, 13)")
    f = x.shape[0]
    bbox = np.full((f, 4), np.nan)
    try:
        if "bbox" in m:
            b = np.asarray(m["bbox"], dtype=np.float64).reshape(-1, 4)[:f]
            bbox[: b.shape[0]] = b
        dims = np.asarray(m.get("dimensions", [[0, 0, f]]), dtype=np.float64).ravel()[:2]
        if dims.size != 2 or not (np.isfinite(dims).all() and (dims >= 0).all()):
            raise ValueError("dimensions")
        h, w = (int(min(v, 1 << 20)) for v in dims)
        action_arr = np.asarray(m.get("action", [""])).ravel()
        action = str(action_arr[0]) if action_arr.size else ""
    except (TypeError, ValueError):
        raise FormatError(f"{path.name}: bbox or dimensions are malformed") from None
    return PennSequence(path.stem, np.stack([x, y], axis=-1), vis, bbox, w, h, action)


class _ArrayOnlyUnpickler(pickle.Unpickler):
    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module.startswith("numpy.core"):
            module = module.replace("numpy.core", "numpy._core", 1)
        return super().find_class(module, name)


def load_jhmdb_pickle(path: str | Path) -> list[tuple[str, NDArray[np.float64]]]:
    """(action label, (T, 15, 2) joints) for each clip of a JHMDB ``GT_*.pkl`` file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = _ArrayOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except FileNotFoundError:
        raise FormatError(f"file not found: {path}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as err:
        raise FormatError(f"{path.name} is not a JHMDB ground-truth pickle: {err}") from None
    if not isinstance(data, dict) or "pose" not in data or "label" not in data:
        raise FormatError(f"{path.name} is not a JHMDB ground-truth pickle")
    out = []
    for label, pose in zip(data["label"], data["pose"], strict=True):
        arr = np.asarray(pose, dtype=np.float64)
        if arr.ndim != 3 or arr.shape[1:] != (JHMDB.num_joints, 2):
            raise FormatError(f"{path.name}: a clip has shape {arr.shape}, expected (T, 15, 2)")
        out.append((str(label), arr))
    return out
