"""MATLAB label files of two datasets, import only: Penn Action and JHMDB.

``penn-mat``: one Penn Action label file (``x``, ``y``, ``visibility`` (frames, 13), ``bbox``,
``dimensions``), read by ``annotator.core.datasets.load_penn_action``; joints not visible are
occluded (Penn gives a position for every joint). ``jhmdb-mat``: a JHMDB clip's
``joint_positions.mat`` with ``pos_img`` (2, 15, frames) in pixels (also ``pos_world``,
``scale``, ``viewpoint``, not used); every joint is visible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy.io import whosmat

from annotator.core.codes import Source, Visibility
from annotator.core.datasets import load_penn_action
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.safeio import load_mat
from annotator.core.skeleton import JHMDB
from annotator.errors import FormatError
from annotator.formats._common import (
    MAX_FILE_BYTES,
    check_frame_count,
    check_size,
    check_values,
)
from annotator.formats.adaptor import FormatAdaptor


def read_penn(path: Path, **options: Any) -> PoseSet:
    check_size(path)
    seq = load_penn_action(path)
    check_frame_count(seq.frame_count, 13, 1, path.name)
    if not np.isfinite(seq.xy).all():
        raise FormatError(f"{path.name}: joint coordinates must be finite numbers")
    check_values(seq.xy, path.name)
    check_values(seq.bbox, f"{path.name} bbox")
    ps = seq.to_pose_set()
    return PoseSet(
        ps.skeleton,
        ps.frame_count,
        ps.instances,
        None,
        None,
        seq.width or None,
        seq.height or None,
    )


def read_jhmdb(path: Path, **options: Any) -> PoseSet:
    m = load_mat(path, FormatError, file_limit=MAX_FILE_BYTES)
    if "pos_img" not in m:
        raise FormatError(f"{path.name} is not a JHMDB joint_positions file (no pos_img)")
    pos = np.asarray(m["pos_img"])
    if np.iscomplexobj(pos) or not np.issubdtype(pos.dtype, np.number):
        raise FormatError(f"{path.name}: pos_img is not numeric")
    if pos.ndim != 3 or pos.shape[:2] != (2, JHMDB.num_joints):
        raise FormatError(
            f"{path.name}: pos_img has shape {pos.shape}, expected (2, {JHMDB.num_joints}, frames)"
        )
    frames = int(pos.shape[2])
    check_frame_count(frames, JHMDB.num_joints, 1, path.name)
    xy = np.transpose(pos.astype(np.float64), (2, 1, 0))  # (frames, joints, 2)
    if not np.isfinite(xy).all():
        raise FormatError(f"{path.name}: pos_img must hold finite numbers")
    check_values(xy, path.name)
    poses = np.empty((frames, JHMDB.num_joints, 3), dtype=np.float32)
    poses[:, :, :2] = xy
    poses[:, :, 2] = Visibility.VISIBLE
    source = np.full((frames, JHMDB.num_joints), Source.MANUAL, dtype=np.int8)
    return PoseSet(JHMDB, frames, [PoseInstance(0, poses, source)])


def _names(path: Path) -> set[str]:
    if path.suffix.lower() != ".mat" or not path.is_file():
        return set()
    try:
        return {name for name, _, _ in whosmat(str(path))}
    except Exception:  # not a MAT file at all
        return set()


ADAPTORS = (
    FormatAdaptor(
        name="penn-mat",
        description="Penn Action labels",
        extensions=(".mat",),
        is_folder=False,
        can_read=True,
        can_write=False,
        reader=read_penn,
        writer=None,
        sniffer=lambda p: {"x", "y", "visibility"} <= _names(p),
    ),
    FormatAdaptor(
        name="jhmdb-mat",
        description="JHMDB joint positions",
        extensions=(".mat",),
        is_folder=False,
        can_read=True,
        can_write=False,
        reader=read_jhmdb,
        writer=None,
        sniffer=lambda p: "pos_img" in _names(p),
    ),
)
