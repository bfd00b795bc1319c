"""Plain CSV: one row per joint, readable by any spreadsheet or ``pandas.read_csv``.

Columns: ``frame, time, track, joint, x, y, visibility, source``. ``visibility`` and
``source`` are the contract's names (``visible``, ``occluded``, ``absent``; ``manual``,
``hpim``, ...); ``x`` and ``y`` are empty where there is no position. Every frame that holds
anything for a person gets one row per joint of the skeleton, in skeleton order, so the
joint list can be read back from the file.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.codes import SOURCE_NAMES, Source, Visibility
from annotator.core.poseset import PoseSet
from annotator.core.skeleton import Skeleton
from annotator.errors import FormatError
from annotator.formats._common import (
    atomic_file,
    check_frame_count,
    empty_instances,
    match_skeleton,
    parse_float,
    parse_int,
    read_text_limited,
    select_values,
)
from annotator.formats.registry import FormatAdaptor

COLUMNS = ("frame", "time", "track", "joint", "x", "y", "visibility", "source")
_VIS_NAMES = {v: v.name.lower() for v in Visibility}
_VIS_BY_NAME = {name: v for v, name in _VIS_NAMES.items()}


def write_csv(ps: PoseSet, path: Path, frames: str = "manual", **options: Any) -> None:
    """``frames``: 'manual' writes manual values only, 'all' every value with its source."""
    instances = select_values(ps, frames)
    times = ps.frame_times()
    joints = ps.skeleton.joints
    with atomic_file(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        for inst in instances:
            informative = (inst.visibility != Visibility.UNLABELLED) | (inst.source != Source.NONE)
            for f in np.flatnonzero(informative.any(axis=1)):
                for j, joint in enumerate(joints):
                    x, y, v = inst.poses[f, j]
                    has = not (math.isnan(x) or math.isnan(y))
                    out.writerow(
                        (
                            int(f),
                            f"{times[f]:.6f}",
                            inst.track_id,
                            joint,
                            f"{x:.3f}" if has else "",
                            f"{y:.3f}" if has else "",
                            _VIS_NAMES[Visibility(int(v))],
                            SOURCE_NAMES[int(inst.source[f, j])],
                        )
                    )


def read_csv(path: Path, skeleton: Skeleton | None = None, **options: Any) -> PoseSet:
    text = read_text_limited(path)
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise FormatError(f"{path.name}: the first row must be {','.join(COLUMNS)}")
    parsed: list[tuple[int, int, str, float, float, Visibility, Source]] = []
    joint_order: list[str] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(COLUMNS):
            raise FormatError(
                f"{path.name} line {line}: {len(row)} fields, expected {len(COLUMNS)}"
            )
        where = f"{path.name} line {line}"
        frame = parse_int(row[0], f"{where} frame")
        track = parse_int(row[2], f"{where} track")
        joint = row[3].strip()
        vis = _VIS_BY_NAME.get(row[6].strip())
        if vis is None:
            raise FormatError(f"{where}: unknown visibility {row[6]!r}")
        try:
            src = Source.from_label(row[7].strip())
        except ValueError as err:
            raise FormatError(f"{where}: {err}") from None
        if vis.has_position:
            x, y = parse_float(row[4], f"{where} x"), parse_float(row[5], f"{where} y")
        elif row[4].strip() or row[5].strip():
            raise FormatError(f"{where}: a {vis.name.lower()} joint must have no position")
        else:
            x = y = math.nan
        if joint not in seen:
            seen.add(joint)
            joint_order.append(joint)
        parsed.append((frame, track, joint, x, y, vis, src))
    sk = skeleton if skeleton is not None else match_skeleton(joint_order) if joint_order else None
    if sk is None:
        raise FormatError(f"{path.name} holds no labels")
    index = {name: i for i, name in enumerate(sk.joints)}
    unknown = [j for j in joint_order if j not in index]
    if unknown:
        raise FormatError(f"{path.name}: joint {unknown[0]!r} is not in skeleton {sk.name!r}")
    frame_count = max(p[0] for p in parsed) + 1 if parsed else 0
    tracks = sorted({p[1] for p in parsed})
    check_frame_count(frame_count, sk.num_joints, len(tracks), path.name)
    instances = empty_instances(tracks, frame_count, sk.num_joints)
    by_track = {t: inst for t, inst in zip(tracks, instances, strict=True)}
    seen_rows: set[tuple[int, int, str]] = set()
    for frame, track, joint, x, y, vis, src in parsed:
        if (frame, track, joint) in seen_rows:
            raise FormatError(
                f"{path.name}: two rows for {joint!r} of track {track} on frame {frame}"
            )
        seen_rows.add((frame, track, joint))
        inst = by_track[track]
        inst.poses[frame, index[joint]] = (x, y, int(vis))
        inst.source[frame, index[joint]] = int(src)
    return PoseSet(sk, frame_count, instances)


def _sniff(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        first = fh.readline(4096)
    return tuple(c.strip() for c in first.strip().split(",")) == COLUMNS


ADAPTORS = (
    FormatAdaptor(
        name="csv",
        description="Plain CSV table",
        extensions=(".csv",),
        is_folder=False,
        can_read=True,
        can_write=True,
        reader=read_csv,
        writer=write_csv,
        sniffer=_sniff,
    ),
)
