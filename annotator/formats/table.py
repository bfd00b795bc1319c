"""Plain CSV: one row per joint, readable by any spreadsheet or ``pandas.read_csv``.

Columns: ``frame, time, track, joint, x, y, visibility, source``. ``visibility`` and
``source`` are the contract's names (``visible``, ``occluded``, ``absent``; ``manual``,
``hpim``, ...); ``x`` and ``y`` are empty where there is no position. Every frame that holds
anything for a person gets one row per joint of the skeleton, in skeleton order, so the
joint list can be read back from the file. When an estimator gave some of the values, a
ninth column ``confidence`` holds its score (0..1) on those rows and is empty on the others;
files without it read as before.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.codes import SOURCE_NAMES, Source, Visibility
from annotator.core.poseset import PoseSet, predicted_confidence
from annotator.core.skeleton import Skeleton
from annotator.errors import FormatError
from annotator.formats._common import (
    atomic_file,
    check_frame_count,
    check_table_size,
    csv_rows,
    csv_text_cell,
    csv_text_value,
    empty_instances,
    match_skeleton,
    parse_float,
    parse_int,
    read_text_limited,
    select_values,
)
from annotator.formats.adaptor import FormatAdaptor

COLUMNS = ("frame", "time", "track", "joint", "x", "y", "visibility", "source")
SCORED = (*COLUMNS, "confidence")
_VIS_NAMES = {v: v.name.lower() for v in Visibility}
_VIS_BY_NAME = {name: v for v, name in _VIS_NAMES.items()}


def write_csv(ps: PoseSet, path: Path, frames: str = "manual", **options: Any) -> None:
    """``frames``: 'manual' writes manual values only, 'all' every value with its source."""
    instances = select_values(ps, frames)
    times = ps.frame_times()
    joints = ps.skeleton.joints
    scores = [predicted_confidence(i) for i in instances]
    scored = any(c is not None for c in scores)
    with atomic_file(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(SCORED if scored else COLUMNS)
        for inst, conf in zip(instances, scores, strict=True):
            informative = (inst.visibility != Visibility.UNLABELLED) | (inst.source != Source.NONE)
            for f in np.flatnonzero(informative.any(axis=1)):
                for j, joint in enumerate(joints):
                    x, y, v = inst.poses[f, j]
                    has = not (math.isnan(x) or math.isnan(y))
                    score = math.nan if conf is None else float(conf[f, j])
                    extra = (f"{score:.4f}" if math.isfinite(score) else "",) if scored else ()
                    out.writerow(
                        (
                            int(f),
                            f"{times[f]:.6f}",
                            inst.track_id,
                            csv_text_cell(joint),
                            f"{x:.3f}" if has else "",
                            f"{y:.3f}" if has else "",
                            _VIS_NAMES[Visibility(int(v))],
                            SOURCE_NAMES[int(inst.source[f, j])],
                            *extra,
                        )
                    )


_SOURCE_BY_NAME = {name: Source(i) for i, name in enumerate(SOURCE_NAMES)}


def read_csv(path: Path, skeleton: Skeleton | None = None, **options: Any) -> PoseSet:
    name = path.name
    text = read_text_limited(path)
    check_table_size(text, name)
    rows = csv_rows(text, name)
    header = next(rows, None)
    columns = None if header is None else tuple(h.strip() for h in header)
    if columns not in (COLUMNS, SCORED):
        raise FormatError(f"{name}: the first row must be {','.join(COLUMNS)}[,confidence]")
    width = len(columns)
    # frame, track, joint, x, y, vis, src, confidence
    cols: list[list[Any]] = [[], [], [], [], [], [], [], []]
    for line, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != width:
            raise FormatError(f"{name} line {line}: {len(row)} fields, expected {width}")
        for col, value in zip(cols, _parse_row(row, f"{name} line {line}"), strict=True):
            col.append(value)
    frames, tracks, joints, xs, ys, vis, src, scores = cols
    if not frames:  # with the project's skeleton given, it said "0 frames is out of range"
        raise FormatError(f"{name} holds no labels (only its header row)")
    joint_order = list(dict.fromkeys(joints))
    sk = skeleton if skeleton is not None else match_skeleton(joint_order) if joint_order else None
    if sk is None:
        raise FormatError(f"{name} holds no labels")
    index = {j: i for i, j in enumerate(sk.joints)}
    unknown = [j for j in joint_order if j not in index]
    if unknown:
        raise FormatError(f"{name}: joint {unknown[0]!r} is not in skeleton {sk.name!r}")
    frame_count = max(frames) + 1 if frames else 0
    track_ids = sorted(set(tracks))
    check_frame_count(frame_count, sk.num_joints, len(track_ids), name)
    f = np.array(frames, dtype=np.int64)
    t = np.searchsorted(np.array(track_ids), np.array(tracks, dtype=np.int64))
    j = np.array([index[k] for k in joints], dtype=np.int64)
    key = (t * frame_count + f) * sk.num_joints + j
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    if (counts > 1).any():
        k = int(first[np.argmax(counts > 1)])
        raise FormatError(
            f"{name}: two rows for {joints[k]!r} of track {tracks[k]} on frame {frames[k]}"
        )
    instances = empty_instances(track_ids, frame_count, sk.num_joints)
    values = np.column_stack([xs, ys, vis]).astype(np.float32)
    sources = np.array(src, dtype=np.int8)
    conf = np.array(scores, dtype=np.float32)
    for n, inst in enumerate(instances):
        mine = t == n
        inst.poses[f[mine], j[mine]] = values[mine]
        inst.source[f[mine], j[mine]] = sources[mine]
        if np.isfinite(conf[mine]).any():
            inst.confidence = np.full(inst.source.shape, np.nan, np.float32)
            inst.confidence[f[mine], j[mine]] = conf[mine]
    return PoseSet(sk, frame_count, instances)


def _parse_row(row: list[str], where: str) -> tuple[int, int, str, float, float, int, int, float]:
    """One data row, checked; messages name the line."""
    frame = parse_int(row[0], f"{where} frame")
    track = parse_int(row[2], f"{where} track")
    vis = _VIS_BY_NAME.get(row[6].strip())
    if vis is None:
        raise FormatError(f"{where}: unknown visibility {row[6]!r}")
    src = _SOURCE_BY_NAME.get(row[7].strip())
    if src is None:
        raise FormatError(f"{where}: unknown source {row[7]!r}")
    if vis in (Visibility.VISIBLE, Visibility.OCCLUDED):
        x, y = parse_float(row[4], f"{where} x"), parse_float(row[5], f"{where} y")
    elif row[4].strip() or row[5].strip():
        raise FormatError(f"{where}: a {vis.name.lower()} joint must have no position")
    else:
        x = y = math.nan
    score = math.nan
    if len(row) > len(COLUMNS) and row[8].strip():
        if src != Source.PREDICTED:
            raise FormatError(f"{where}: only a predicted joint has a confidence")
        score = parse_float(row[8], f"{where} confidence")
        if not 0 <= score <= 1:
            raise FormatError(f"{where}: confidence {row[8]!r} is not in 0..1")
    return frame, track, csv_text_value(row[3].strip()), x, y, int(vis), int(src), score


def _sniff(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        first = fh.readline(4096)
    return tuple(c.strip() for c in first.strip().split(",")) in (COLUMNS, SCORED)


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
