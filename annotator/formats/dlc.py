"""DeepLabCut: the ``labeled-data`` project layout (``dlc``) and its CSV table (``dlc-csv``).

Export (``dlc``) writes a folder DeepLabCut reads::

    OUT/labeled-data/<video>/CollectedData_<scorer>.csv   three header rows scorer/bodyparts/coords
    OUT/labeled-data/<video>/CollectedData_<scorer>.h5    same table (when pandas + PyTables exist)
    OUT/labeled-data/<video>/img<frame>.png               zero-padded to ceil(log10(frames)) digits
    OUT/config_labels.yaml                                scorer, bodyparts, skeleton for config.yaml

Several people, or one whose track id is not 0, use the multi-animal header
(scorer/individuals/bodyparts/coords, individuals named ``individual<track id>``). The table
has x and y only: occluded joints become plain positions, absent and unlabelled joints empty
cells. The plain table (``dlc-csv``) of poses an estimator gave adds a ``likelihood`` column per
joint, as DeepLabCut's own analysis output does: the score of a predicted joint, empty for the
others (the ``labeled-data`` folder stays x and y, which is what DeepLabCut trains from).
Import reads a ``likelihood`` cell as a model's output: that joint is ``predicted`` with the
likelihood as its confidence; a joint with x and y and no likelihood is ``manual``. Import reads both the old one-column index (``labeled-data/v/img5.png``) and the newer
three-column one, and single- or multi-animal headers.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet, predicted_confidence
from annotator.core.skeleton import Skeleton
from annotator.errors import FormatError
from annotator.formats._common import (
    atomic_dir,
    atomic_file,
    check_frame_count,
    check_table_size,
    csv_rows,
    csv_text_cell,
    csv_text_value,
    empty_instances,
    labelled_frames,
    match_skeleton,
    parse_float,
    read_text_limited,
    select_values,
)
from annotator.formats._frames import frame_source, read_frame, write_image
from annotator.formats.adaptor import FormatAdaptor

log = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def image_name(frame: int, frame_count: int) -> str:
    """DeepLabCut's frame file name: ``img`` + index zero-padded to ceil(log10(frames))."""
    width = math.ceil(math.log10(frame_count)) if frame_count > 1 else 1
    return f"img{frame:0{width}d}.png"


def _video_name(ps: PoseSet, video_name: str | None) -> str:
    raw = video_name or (Path(ps.video_path).stem if ps.video_path else "video")
    return _SAFE.sub("_", raw).strip("._") or "video"


def _table(
    ps: PoseSet, video: str, scorer: str, frames: str, likelihood: bool = False
) -> list[list[str]]:
    """Header rows then one row per frame, as DeepLabCut lays out CollectedData; with
    ``likelihood``, a likelihood column per joint when some joint has a confidence."""
    instances = select_values(ps, frames)
    scores = [predicted_confidence(i) for i in instances]
    scored = any(c is not None for c in scores)
    coords = ("x", "y", "likelihood") if likelihood and scored else ("x", "y")
    multi = _multi(ps)
    joints = ps.skeleton.joints
    rows: list[list[str]] = [["scorer"] + [scorer] * (len(coords) * len(joints) * len(instances))]
    if multi:
        rows.append(
            ["individuals"]
            + [f"individual{i.track_id}" for i in instances for _ in joints for _ in coords]
        )
    rows.append(
        ["bodyparts"] + [csv_text_cell(j) for _ in instances for j in joints for _ in coords]
    )
    rows.append(["coords"] + list(coords) * len(joints) * len(instances))
    # Cells as text, once per person (per-frame recomputation would be quadratic).
    cells = []
    for inst, conf in zip(instances, scores, strict=True):
        text = np.char.mod("%.2f", inst.poses[:, :, :2].astype(np.float64)).astype(object)
        text[~inst.has_position()] = ""
        if len(coords) == 3:
            score = np.full(inst.source.shape, np.nan) if conf is None else conf
            cell = np.char.mod("%.4f", score.astype(np.float64)).astype(object)
            cell[~np.isfinite(score) | ~inst.has_position()] = ""
            text = np.concatenate([text, cell[:, :, None]], axis=2)
        cells.append(text.reshape(ps.frame_count, -1))
    for f in labelled_frames(ps, frames):
        row = [f"labeled-data/{video}/{image_name(int(f), ps.frame_count)}"]
        for text in cells:
            row += text[f].tolist()
        rows.append(row)
    return rows


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def write_dlc_csv(
    ps: PoseSet,
    path: Path,
    scorer: str = "annotator",
    frames: str = "manual",
    video_name: str | None = None,
    **options: Any,
) -> None:
    rows = _table(ps, _video_name(ps, video_name), _scorer(scorer), frames, likelihood=True)
    with atomic_file(path) as tmp:
        tmp.write_text(_csv_text(rows), encoding="utf-8")


def write_dlc(
    ps: PoseSet,
    path: Path,
    scorer: str = "annotator",
    frames: str = "manual",
    video_name: str | None = None,
    video: Any = None,
    images: bool = True,
    **options: Any,
) -> None:
    """The labeled-data folder; frame images come from ``video`` (an open reader the caller
    closes)."""
    scorer = _scorer(scorer)
    name = _video_name(ps, video_name)
    rows = _table(ps, name, scorer, frames)
    source = frame_source(video) if images else None
    with atomic_dir(path) as tmp:
        folder = tmp / "labeled-data" / name
        folder.mkdir(parents=True)
        (folder / f"CollectedData_{scorer}.csv").write_text(_csv_text(rows), encoding="utf-8")
        _write_h5(rows, folder / f"CollectedData_{scorer}.h5", multi=_multi(ps))
        if source is not None:
            for f in labelled_frames(ps, frames):
                rgb = read_frame(source, int(f))
                write_image(folder / image_name(int(f), ps.frame_count), rgb, "png")
        (tmp / "config_labels.yaml").write_text(_config(ps, scorer, name), encoding="utf-8")


def _multi(ps: PoseSet) -> bool:
    """Whether the table needs the multi-animal header: several people, or one whose track id
    is not 0 (the single-animal header has no place for it, and it reads back as person 0)."""
    return len(ps.instances) > 1 or any(inst.track_id != 0 for inst in ps.instances)


def _scorer(scorer: str) -> str:
    if not scorer or _SAFE.search(scorer):
        raise FormatError(f"scorer {scorer!r} must be letters, digits, '_', '.' or '-'")
    return scorer


def _write_h5(rows: list[list[str]], path: Path, multi: bool) -> None:
    """The same table as DeepLabCut's ``.h5`` (key ``df_with_missing``), if PyTables exists."""
    try:
        import pandas as pd
        import tables  # noqa: F401  (pandas needs it for to_hdf)
    except ImportError:
        log.warning(
            "%s not written: pandas and PyTables (pip install pandas tables) are needed for"
            " DeepLabCut's .h5; the CSV beside it holds the same table",
            path.name,
        )
        return
    n_head = 4 if multi else 3
    names = [r[0] for r in rows[:n_head]]
    columns = pd.MultiIndex.from_arrays([r[1:] for r in rows[:n_head]], names=names)
    data = [[float(v) if v else np.nan for v in r[1:]] for r in rows[n_head:]]
    frame = pd.DataFrame(
        np.array(data, dtype=np.float64).reshape(len(data), len(columns)),
        columns=columns,
        index=[r[0] for r in rows[n_head:]],
    )
    frame.to_hdf(path, key="df_with_missing", mode="w")


def _config(ps: PoseSet, scorer: str, video: str) -> str:
    """The label keys of DeepLabCut's config.yaml (multi-animal projects list body parts under
    ``multianimalbodyparts`` and set ``bodyparts: MULTI!``, as DeepLabCut's template does)."""
    q = _yaml_str
    multi = _multi(ps)
    parts = [f"- {q(j)}" for j in ps.skeleton.joints]
    lines = [
        "# Label settings for a DeepLabCut config.yaml (merge into your project's file).",
        f"scorer: {q(scorer)}",
        f"multianimalproject: {'true' if multi else 'false'}",
    ]
    if multi:
        lines += [
            "individuals:",
            *[f"- individual{i.track_id}" for i in ps.instances],
            "uniquebodyparts: []",
            "multianimalbodyparts:",
            *parts,
            "bodyparts: MULTI!",
        ]
    else:
        lines += ["bodyparts:", *parts]
    lines += [
        "skeleton:",
        *[
            f"- - {q(ps.skeleton.joints[a])}\n  - {q(ps.skeleton.joints[b])}"
            for a, b in ps.skeleton.edges
        ],
    ]
    if ps.video_path and ps.width and ps.height:
        lines += [
            "video_sets:",
            f"  {q(ps.video_path)}:",
            f"    crop: 0, {ps.width}, 0, {ps.height}",
        ]
    lines.append(f"# labeled-data folder: labeled-data/{video}")
    return "\n".join(lines) + "\n"


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_FRAME = re.compile(r"(\d+)(?!.*\d)")


def read_dlc_csv(path: Path, **options: Any) -> PoseSet:
    name = path.name
    text = read_text_limited(path)
    check_table_size(text, name)
    rows = [r for r in csv_rows(text, name) if any(c.strip() for c in r)]
    if not rows or rows[0][0].strip() != "scorer":
        raise FormatError(f"{name} is not a DeepLabCut table (first cell is not 'scorer')")
    n_head = next((i + 1 for i, r in enumerate(rows[:5]) if r and r[0].strip() == "coords"), 0)
    if n_head not in (3, 4):
        raise FormatError(f"{name}: expected header rows scorer, [individuals,] bodyparts, coords")
    head = rows[:n_head]
    width = len(head[0])
    if any(len(r) != width for r in rows):
        bad = next(i for i, r in enumerate(rows) if len(r) != width)
        raise FormatError(f"{name} line {bad + 1}: {len(rows[bad])} fields, expected {width}")
    n_index = 1
    while n_index < width and not head[0][n_index].strip():
        n_index += 1
    individuals = head[1][n_index:] if n_head == 4 else ["individual0"] * (width - n_index)
    parts, coords = [csv_text_value(p) for p in head[-2][n_index:]], head[-1][n_index:]
    if any(c not in ("x", "y", "likelihood") for c in coords):
        raise FormatError(f"{name}: coords must be x, y (or likelihood)")
    people: list[str] = []
    joints: dict[str, list[str]] = {}
    cols: dict[tuple[str, str, str], int] = {}
    for k, (ind, part, coord) in enumerate(zip(individuals, parts, coords, strict=True)):
        if ind == "single":
            continue  # maDLC's unique (scene) points are not joints of a person
        if ind not in joints:
            people.append(ind)
            joints[ind] = []
        if part not in joints[ind]:
            joints[ind].append(part)
        cols[(ind, part, coord)] = n_index + k
    if not people:
        raise FormatError(f"{name} holds no body parts")
    order = joints[people[0]]
    if any(joints[p] != order for p in people):
        raise FormatError(f"{name}: individuals have different body part lists")
    for p in people:
        for part in order:
            if (p, part, "x") not in cols or (p, part, "y") not in cols:
                raise FormatError(f"{name}: body part {part!r} lacks an x or y column")
    sk: Skeleton = match_skeleton(order, "dlc_import")
    frames: list[int] = []
    for r in rows[n_head:]:
        image = "/".join(c for c in r[:n_index] if c)
        m = _FRAME.search(Path(image).stem)
        if m is None:
            raise FormatError(f"{name}: cannot read a frame number from {image!r}")
        frames.append(int(m.group(1)))
    if not frames:
        raise FormatError(f"{name} holds no labelled frames (only its header rows)")
    if len(set(frames)) != len(frames):
        raise FormatError(f"{name}: two rows name the same frame")
    frame_count = max(frames, default=-1) + 1
    check_frame_count(frame_count, sk.num_joints, len(people), name)
    instances = empty_instances(_track_ids(people), frame_count, sk.num_joints)
    for r, f in zip(rows[n_head:], frames, strict=True):
        for inst, person in zip(instances, people, strict=True):
            for j, part in enumerate(order):
                xs, ys = r[cols[(person, part, "x")]].strip(), r[cols[(person, part, "y")]].strip()
                if xs.lower() in ("", "nan") and ys.lower() in ("", "nan"):
                    continue
                where = f"{name} frame {f} {part}"
                x, y = parse_float(xs, f"{where} x"), parse_float(ys, f"{where} y")
                inst.poses[f, j] = (x, y, Visibility.VISIBLE)
                inst.source[f, j] = Source.MANUAL
                column = cols.get((person, part, "likelihood"))
                score = "" if column is None else r[column].strip()
                if score.lower() not in ("", "nan"):
                    _read_likelihood(inst, f, j, parse_float(score, f"{where} likelihood"))
    return PoseSet(sk, frame_count, instances)


def _read_likelihood(inst: PoseInstance, f: int, j: int, value: float) -> None:
    """A likelihood marks a model's output: the joint is predicted, with that confidence
    (DeepLabCut's scores are probabilities; a value a hair outside 0..1 is rounding)."""
    if not -1e-3 <= value <= 1 + 1e-3:
        raise FormatError(f"likelihood {value:g} is not in 0..1 (frame {f})")
    if inst.confidence is None:
        inst.confidence = np.full(inst.source.shape, np.nan, np.float32)
    inst.confidence[f, j] = min(1.0, max(0.0, value))
    inst.source[f, j] = Source.PREDICTED


def _track_ids(people: list[str]) -> list[int]:
    """``individualN`` names (as this app writes them) keep N; other names count from 0."""
    found = [re.fullmatch(r"individual(\d+)", p) for p in people]
    ids = [int(m.group(1)) for m in found if m]
    if len(ids) == len(people) and len(set(ids)) == len(ids):
        return ids
    return list(range(len(people)))


def find_table(path: Path) -> Path:
    """The one CollectedData CSV in a project, labeled-data or video folder."""
    if not path.is_dir():
        raise FormatError(f"{path} is not a folder")
    found = (
        sorted(path.glob("CollectedData_*.csv"))
        or sorted(path.glob("labeled-data/*/CollectedData_*.csv"))
        or sorted(path.glob("*/CollectedData_*.csv"))
    )
    if not found:
        raise FormatError(f"{path} holds no DeepLabCut CollectedData_*.csv")
    if len(found) > 1:
        raise FormatError(
            f"{path} holds {len(found)} label tables; give the video's folder "
            f"(e.g. {found[0].parent})"
        )
    return found[0]


def read_dlc(path: Path, **options: Any) -> PoseSet:
    return read_dlc_csv(find_table(path), **options)


def _sniff_csv(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        return fh.readline(4096).split(",")[0].strip() == "scorer"


def _sniff_dir(path: Path) -> bool:
    try:
        find_table(path)
    except FormatError:
        return False
    return True


ADAPTORS = (
    FormatAdaptor(
        name="dlc",
        description="DeepLabCut labeled-data folder",
        extensions=(),
        is_folder=True,
        can_read=True,
        can_write=True,
        reader=read_dlc,
        writer=write_dlc,
        sniffer=_sniff_dir,
        images_by_default=True,
    ),
    FormatAdaptor(
        name="dlc-csv",
        description="DeepLabCut CollectedData table",
        extensions=(".csv",),
        is_folder=False,
        can_read=True,
        can_write=True,
        reader=read_dlc_csv,
        writer=write_dlc_csv,
        sniffer=_sniff_csv,
    ),
)
