"""NumPy ``.npz``: the contract's arrays, both ways.

Layout (CONTRACTS.md "Fill output", extended so a file stands alone): ``poses`` float32
(F, J, 3) x, y, visibility code with NaN where no position; ``source`` int8 (F, J) indices
into ``source_names``. With several people ``poses`` is (N, F, J, 3) and ``source`` (N, F, J),
with ``track_ids`` (N,). Optional: ``joint_names``, ``skeleton_json``, ``timestamps`` (F,),
``fps``, ``width``, ``height``, ``boxes`` (N, F, 4), ``video_path``, ``held`` bool (F, J) or
(N, F, J) (values held before the first or after the last label, when the writer knew them),
``confidence`` float32 (F, J) or (N, F, J) (an estimator's score in 0..1 where ``source`` is
``predicted``, NaN elsewhere; written when some value has one). Files are loaded with
``allow_pickle=False``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import SOURCE_NAMES, Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet, predicted_confidence
from annotator.core.safeio import load_npz, parse_json
from annotator.core.skeleton import BUILTIN, Skeleton
from annotator.errors import AnnotatorError, FormatError
from annotator.formats._common import (
    MAX_FILE_BYTES,
    atomic_file,
    check_frame_count,
    check_values,
    match_skeleton,
    select_values,
)
from annotator.formats.adaptor import FormatAdaptor


def write_npz(ps: PoseSet, path: Path, frames: str = "manual", **options: Any) -> None:
    """``frames``: 'manual' writes manual values only, 'all' every value with its source."""
    instances = select_values(ps, frames)
    n = len(instances)
    if n == 0:
        raise FormatError("there are no people to export")
    poses = np.stack([i.poses for i in instances]).astype(np.float32)
    source = np.stack([i.source for i in instances]).astype(np.int8)
    arrays: dict[str, Any] = {
        "poses": poses[0] if n == 1 else poses,
        "source": source[0] if n == 1 else source,
        "source_names": np.array(SOURCE_NAMES),
        "track_ids": np.array([i.track_id for i in instances], dtype=np.int64),
        "joint_names": np.array(ps.skeleton.joints),
        "skeleton_json": np.array(json.dumps(ps.skeleton.to_dict())),
    }
    if ps.timestamps is not None:
        arrays["timestamps"] = ps.timestamps.astype(np.float64)
    if ps.fps:
        arrays["fps"] = np.float64(ps.fps)
    if ps.width and ps.height:
        arrays["width"] = np.int64(ps.width)
        arrays["height"] = np.int64(ps.height)
    if any(i.boxes is not None for i in instances):
        nan = np.full((ps.frame_count, 4), np.nan, np.float32)
        arrays["boxes"] = np.stack([i.boxes if i.boxes is not None else nan for i in instances])
    if any(i.held is not None for i in instances):
        none = np.zeros(poses.shape[1:3], dtype=bool)
        held = np.stack([i.held if i.held is not None else none for i in instances])
        arrays["held"] = held[0] if n == 1 else held
    scores = [predicted_confidence(i) for i in instances]
    if any(c is not None for c in scores):
        nan = np.full(poses.shape[1:3], np.nan, np.float32)
        conf = np.stack([c if c is not None else nan for c in scores])
        arrays["confidence"] = conf[0] if n == 1 else conf
    if ps.video_path:
        arrays["video_path"] = np.array(ps.video_path)
    with atomic_file(path) as tmp, tmp.open("wb") as fh:
        np.savez_compressed(fh, **arrays)


def read_npz(path: Path, skeleton: Skeleton | None = None, **options: Any) -> PoseSet:
    arrays = load_npz(path, FormatError, file_limit=MAX_FILE_BYTES)
    return _from_arrays(arrays, path.name, skeleton)


def _number(a: dict[str, NDArray[Any]], key: str, name: str, integer: bool = False) -> float:
    """One finite real number stored as ``key``, or ``FormatError``."""
    arr = a[key]
    if arr.size != 1:
        raise FormatError(f"{name}: {key!r} must be one number, not an array of {arr.size}")
    if np.iscomplexobj(arr) or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise FormatError(f"{name}: {key!r} must be a number, not {arr.dtype}")
    value = float(arr.ravel()[0])
    if not np.isfinite(value) or (integer and not value.is_integer()):
        raise FormatError(
            f"{name}: {key!r} = {value!r} is not a valid {'integer' if integer else 'number'}"
        )
    return value


def _text(a: dict[str, NDArray[Any]], key: str, name: str) -> str:
    arr = a[key]
    if arr.size != 1 or arr.dtype.kind not in "US":
        raise FormatError(f"{name}: {key!r} must be one string")
    return str(arr.ravel()[0])


def _from_arrays(a: dict[str, NDArray[Any]], name: str, skeleton: Skeleton | None) -> PoseSet:
    if "poses" not in a:
        raise FormatError(f"{name} has no 'poses' array")
    poses = a["poses"]
    if np.iscomplexobj(poses) or not np.issubdtype(poses.dtype, np.number):
        raise FormatError(f"{name}: 'poses' is not numeric")
    if poses.ndim == 3:
        poses = poses[None]
    if poses.ndim != 4 or poses.shape[3] != 3:
        raise FormatError(f"{name}: 'poses' must be (frames, joints, 3), not {a['poses'].shape}")
    n, f, j, _ = poses.shape
    check_frame_count(f, j, n, name)
    check_values(poses, f"{name}: 'poses'")
    poses = poses.astype(np.float32)
    sk = _skeleton(a, j, name, skeleton)
    source = _source(a, poses.shape[:3], name)
    raw_ids = np.asarray(a.get("track_ids", np.arange(n))).ravel()
    if not np.issubdtype(raw_ids.dtype, np.number) or np.iscomplexobj(raw_ids):
        raise FormatError(f"{name}: 'track_ids' must hold integers")
    ids = raw_ids.astype(np.float64)
    if not (np.isfinite(ids).all() and (ids == np.round(ids)).all()):
        raise FormatError(f"{name}: 'track_ids' must hold integers (not NaN or fractions)")
    if ids.size and (ids.min() < 0 or ids.max() > 2**31 - 1):
        raise FormatError(f"{name}: 'track_ids' must lie between 0 and {2**31 - 1}")
    track_ids = [int(t) for t in ids]
    if len(track_ids) != n or len(set(track_ids)) != n:
        raise FormatError(f"{name}: 'track_ids' must hold {n} distinct ids")
    boxes = a.get("boxes")
    if boxes is not None and (
        boxes.shape != (n, f, 4) or not np.issubdtype(boxes.dtype, np.number)
    ):
        raise FormatError(f"{name}: 'boxes' must be ({n}, {f}, 4), not {boxes.shape}")
    held = a.get("held")
    if held is not None:
        expected = (f, j) if a["poses"].ndim == 3 else (n, f, j)
        if held.dtype != np.bool_ or held.shape != expected:
            raise FormatError(f"{name}: 'held' must be booleans of shape {expected}")
        held = held.reshape(n, f, j)
    conf = _confidence(a, (f, j) if a["poses"].ndim == 3 else (n, f, j), name)
    conf = None if conf is None else conf.reshape(n, f, j)
    instances = []
    for k in range(n):
        p = _checked_poses(poses[k], name)
        if boxes is not None:
            check_values(boxes, f"{name}: 'boxes'")
        b = None if boxes is None else boxes[k].astype(np.float32)
        h = None if held is None else held[k]
        c = None if conf is None else conf[k]
        instances.append(PoseInstance(track_ids[k], p, source[k], b, h, c))
    timestamps = a.get("timestamps")
    if timestamps is not None:
        if not np.issubdtype(timestamps.dtype, np.number) or np.iscomplexobj(timestamps):
            raise FormatError(f"{name}: 'timestamps' must hold numbers")
        timestamps = timestamps.astype(np.float64).ravel()
        if timestamps.shape != (f,) or not np.isfinite(timestamps).all():
            raise FormatError(f"{name}: 'timestamps' must hold {f} finite values")
    fps = _number(a, "fps", name) if "fps" in a else None
    if fps is not None and not 0 < fps <= 10_000:
        raise FormatError(f"{name}: 'fps' = {fps:g} is out of range (0 to 10000)")
    width = int(_number(a, "width", name, True)) if "width" in a else None
    height = int(_number(a, "height", name, True)) if "height" in a else None
    for key, value in (("width", width), ("height", height)):
        if value is not None and not 0 <= value <= 1 << 20:
            raise FormatError(f"{name}: {key!r} = {value} is out of range")
    video = _text(a, "video_path", name) if "video_path" in a else None
    return PoseSet(sk, f, instances, fps, timestamps, width, height, video)


def _skeleton(a: dict[str, NDArray[Any]], j: int, name: str, given: Skeleton | None) -> Skeleton:
    if given is not None:
        if given.num_joints != j:
            raise FormatError(
                f"{name} has {j} joints; skeleton {given.name!r} has {given.num_joints}"
            )
        return given
    if "skeleton_json" in a:
        try:
            sk = Skeleton.from_dict(
                parse_json(_text(a, "skeleton_json", name), f"{name} skeleton_json", FormatError)
            )
        except AnnotatorError as err:
            raise FormatError(f"{name}: the stored skeleton is invalid: {err}") from None
    elif "joint_names" in a:
        sk = match_skeleton([str(s) for s in a["joint_names"].ravel()])
    else:
        fits = [s for s in BUILTIN.values() if s.num_joints == j]
        if len(fits) != 1:
            raise FormatError(f"{name} does not name its {j} joints; give the skeleton")
        sk = fits[0]
    if sk.num_joints != j:
        raise FormatError(f"{name} has {j} joints but names {sk.num_joints}")
    return sk


def _source(a: dict[str, NDArray[Any]], shape: tuple[int, ...], name: str) -> NDArray[np.int8]:
    if "source" not in a:
        return np.full(shape, Source.MANUAL, dtype=np.int8)
    raw = a["source"]
    if not np.issubdtype(raw.dtype, np.integer):
        raise FormatError(f"{name}: 'source' must hold integers")
    if raw.ndim == 2:
        raw = raw[None]
    if raw.shape != shape:
        raise FormatError(f"{name}: 'source' has shape {a['source'].shape}, poses {shape}")
    file_names = [str(s) for s in a.get("source_names", np.array(SOURCE_NAMES)).ravel()]
    table = np.full(len(file_names), -1, dtype=np.int64)
    for i, s in enumerate(file_names):
        if s in SOURCE_NAMES:
            table[i] = SOURCE_NAMES.index(s)
    if raw.size and (raw.min() < 0 or raw.max() >= len(file_names)):
        raise FormatError(f"{name}: 'source' holds codes outside 'source_names'")
    mapped = table[raw.astype(np.int64)] if raw.size else raw.astype(np.int64)
    if (mapped < 0).any():
        raise FormatError(f"{name}: 'source_names' holds a name this app does not know")
    return mapped.astype(np.int8)


def _confidence(
    a: dict[str, NDArray[Any]], expected: tuple[int, ...], name: str
) -> NDArray[np.float32] | None:
    """The optional ``confidence`` array: numbers in 0..1 or NaN, of the poses' shape."""
    raw = a.get("confidence")
    if raw is None:
        return None
    if raw.shape != expected or not np.issubdtype(raw.dtype, np.floating):
        raise FormatError(f"{name}: 'confidence' must be floats of shape {expected}")
    conf = raw.astype(np.float32)
    finite = conf[np.isfinite(conf)]
    if np.isinf(conf).any() or (finite < 0).any() or (finite > 1).any():
        raise FormatError(f"{name}: 'confidence' must lie in 0..1 (NaN where none)")
    return conf


def _checked_poses(p: NDArray[np.float32], name: str) -> NDArray[np.float32]:
    vis = p[:, :, 2]
    if not np.isfinite(vis).all() or not np.isin(vis, list(map(int, Visibility))).all():
        raise FormatError(f"{name}: visibility codes must be 0, 1, 2 or 3")
    xy = p[:, :, :2]
    if np.isinf(xy).any():
        raise FormatError(f"{name}: coordinates must not be infinite")
    has_pos = (vis == Visibility.VISIBLE) | (vis == Visibility.OCCLUDED)
    if np.isnan(xy[has_pos]).any():
        raise FormatError(f"{name}: a visible or occluded joint has no position (NaN)")
    out: NDArray[np.float32] = p.copy()
    out[~has_pos, :2] = np.nan
    return out


def _sniff(path: Path) -> bool:
    if path.suffix.lower() != ".npz" or not path.is_file():
        return False
    return zipfile.is_zipfile(path)


ADAPTORS = (
    FormatAdaptor(
        name="npz",
        description="NumPy arrays",
        extensions=(".npz",),
        is_folder=False,
        can_read=True,
        can_write=True,
        reader=read_npz,
        writer=write_npz,
        sniffer=_sniff,
    ),
)
