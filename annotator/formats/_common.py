"""Helpers shared by the format adaptors: atomic writes, input limits and checks.

Every writer goes through :func:`atomic_file` or :func:`atomic_dir`, so a failed export
leaves nothing behind and a successful one appears all at once. Every reader goes through
:func:`read_text_limited` (or checks :func:`check_size`) so a huge or binary file is refused
with one line instead of exhausting memory.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.safeio import (
    atomic_output,
    fsync_dir,
    fsync_file,
    read_text,
    regular_file,
    temp_sibling,
)
from annotator.core.skeleton import BUILTIN, Skeleton
from annotator.errors import FormatError

# Label files larger than this are refused before a byte is parsed. A 100,000-frame, 17-joint
# track is about 35 MB as DeepLabCut CSV and 120 MB as COCO JSON.
MAX_FILE_BYTES = 160 * 1024 * 1024
MAX_FRAMES = 2_000_000  # about 18 hours at 30 fps
MAX_INSTANCES = 1000
MAX_CELLS = 100_000_000  # frames x joints x instances held in memory at once


def check_size(path: Path, limit: int | None = None) -> None:
    """Refuse a missing path, anything but a regular file, or one over ``limit`` bytes."""
    regular_file(path, FormatError, MAX_FILE_BYTES if limit is None else limit)


def read_text_limited(path: Path, limit: int | None = None) -> str:
    """The file's text as UTF-8 (BOM tolerated), refusing huge, binary or non-regular files."""
    return read_text(path, MAX_FILE_BYTES if limit is None else limit, FormatError)


MAX_TABLE_CELLS = 40_000_000  # CSV fields parsed at once (a 100,000-frame, 17-joint DLC table
# has 3.4 million); each becomes a Python string, so this bounds memory to a few GB at worst


def check_table_size(text: str, name: str) -> None:
    """Refuse a CSV table whose row count times its header's width is beyond
    ``MAX_TABLE_CELLS``, before the parser allocates a string per field."""
    rows = text.count("\n") + 1
    width = text[: text.find("\n") if "\n" in text else len(text)].count(",") + 1
    if rows * width > MAX_TABLE_CELLS:
        raise FormatError(
            f"{name}: {rows:,} rows of {width} fields is more than the {MAX_TABLE_CELLS:,} "
            "fields a label table may hold"
        )


def csv_rows(text: str, name: str) -> Iterator[list[str]]:
    """The rows of a CSV text; a malformed one (a stray quote or carriage return, a field
    beyond the parser's limit) is a one-line ``FormatError``, not ``csv.Error``."""
    reader = csv.reader(io.StringIO(text, newline=None))
    try:
        yield from reader
    except csv.Error as err:
        raise FormatError(
            f"{name} line {reader.line_num}: not a well-formed CSV row ({err})"
        ) from None


def check_frame_count(frame_count: int, num_joints: int, instances: int, what: str) -> None:
    """Refuse sizes that would allocate absurd arrays (a hostile or corrupt file)."""
    if frame_count < 0 or frame_count > MAX_FRAMES:
        raise FormatError(f"{what}: {frame_count} frames is out of range (at most {MAX_FRAMES})")
    if instances > MAX_INSTANCES:
        raise FormatError(f"{what}: {instances} people is more than the {MAX_INSTANCES} allowed")
    if frame_count * max(num_joints, 1) * max(instances, 1) > MAX_CELLS:
        raise FormatError(f"{what}: too many labels to hold in memory")


MAX_VALUE = 1e36  # any number beyond this is garbage, and would overflow float32 arrays


def parse_float(text: str, what: str) -> float:
    """A finite float of reasonable size from text, or ``FormatError`` naming ``what``."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise FormatError(f"{what}: {text!r} is not a number") from None
    if not np.isfinite(value):
        raise FormatError(f"{what}: {text!r} is not a finite number")
    if abs(value) > MAX_VALUE:
        raise FormatError(f"{what}: {text[:40]!r} is out of range")
    return value


def check_values(arr: NDArray[Any], what: str) -> None:
    """Refuse finite values beyond ``MAX_VALUE`` before an array is cast to float32."""
    if arr.dtype.kind in "fiu" and arr.size:
        finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
        if finite.size and float(np.max(np.abs(finite.astype(np.float64)))) > MAX_VALUE:
            raise FormatError(f"{what}: a value is out of range (beyond {MAX_VALUE:g})")


def parse_int(value: object, what: str) -> int:
    """A non-negative int from JSON/XML/CSV input, or ``FormatError``."""
    if isinstance(value, bool):
        raise FormatError(f"{what}: {value!r} is not an integer")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise FormatError(f"{what}: {value!r} is not an integer") from None
    if not isinstance(value, int):
        raise FormatError(f"{what}: {value!r} is not an integer")
    if value < 0:
        raise FormatError(f"{what}: {value} must not be negative")
    if value > 2**63 - 1:
        raise FormatError(f"{what}: {str(value)[:30]}... is out of range")
    return value


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text_cell(text: str) -> str:
    """A text cell (a joint or person name) safe to open in a spreadsheet: a leading
    formula character is escaped with an apostrophe, as spreadsheets themselves do."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text_value(cell: str) -> str:
    """The name a :func:`csv_text_cell` stands for (the escape removed)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell


def match_skeleton(joints: list[str] | tuple[str, ...], name: str | None = None) -> Skeleton:
    """The built-in template with exactly these joints, else a new one named ``name``."""
    for sk in BUILTIN.values():
        if tuple(joints) == sk.joints:
            return sk
    if not joints:
        raise FormatError("the file names no joints")
    try:
        return Skeleton(name=name or "imported", joints=tuple(joints))
    except Exception as err:  # SkeletonError: duplicates, empty names, too many
        raise FormatError(f"the file's joint list is not usable: {err}") from None


def empty_instances(track_ids: list[int], frame_count: int, num_joints: int) -> list[PoseInstance]:
    return [PoseInstance.empty(t, frame_count, num_joints) for t in track_ids]


def labelled_frames(ps: PoseSet, frames: str = "manual") -> NDArray[np.int64]:
    """Frames to export: with a manual value (``manual``) or with any position (``all``)."""
    if frames not in ("manual", "all"):
        raise FormatError(f"frames must be 'manual' or 'all', not {frames!r}")
    mask = np.zeros(ps.frame_count, dtype=bool)
    for inst in ps.instances:
        if frames == "manual":
            mask |= (inst.source == Source.MANUAL).any(axis=1)
        else:
            mask |= (inst.visibility != Visibility.UNLABELLED).any(axis=1)
    return np.flatnonzero(mask)


def fit_frames(ps: PoseSet, frame_count: int) -> PoseSet:
    """``ps`` made ``frame_count`` frames long (the video's): extended with unlabelled frames,
    or cut after its last frame with a value when the file was made for a longer video (COCO's
    ``info.frame_count``, CVAT's ``stop_frame`` and npz arrays say how long; CSV and DeepLabCut
    tables end at their last label, so the same labels read alike from every format). Labels
    past the video's end are refused."""
    if frame_count == ps.frame_count:
        return ps
    if frame_count < ps.frame_count:
        return _cut_frames(ps, frame_count)
    extra = frame_count - ps.frame_count
    joints = ps.skeleton.num_joints

    def padded(values: NDArray[Any] | None, fill: Any, shape: tuple[int, ...]) -> Any:
        if values is None:
            return None
        return np.concatenate([values, np.full((extra, *shape), fill, values.dtype)])

    out = []
    for inst in ps.instances:
        pad = PoseInstance.empty(inst.track_id, extra, joints)
        out.append(
            PoseInstance(
                inst.track_id,
                np.concatenate([inst.poses, pad.poses]),
                np.concatenate([inst.source, pad.source]),
                padded(inst.boxes, np.nan, (4,)),
                padded(inst.held, False, (joints,)),
                padded(inst.confidence, np.nan, (joints,)),
            )
        )
    return PoseSet(ps.skeleton, frame_count, out, ps.fps, None, ps.width, ps.height, ps.video_path)


def _cut_frames(ps: PoseSet, frame_count: int) -> PoseSet:
    """``ps`` without its frames from ``frame_count`` on, which must hold no value."""
    used = np.zeros(ps.frame_count, dtype=bool)
    for inst in ps.instances:
        used |= ((inst.visibility != Visibility.UNLABELLED) | (inst.source != Source.NONE)).any(1)
    last = int(np.flatnonzero(used)[-1]) if used.any() else -1
    if last >= frame_count:
        longer = ""
        if last + 1 < ps.frame_count:  # the file says how long its video was: worth knowing
            longer = f" (the file is for a {ps.frame_count}-frame video)"
        raise FormatError(
            f"the labels reach frame {last} but the video has {frame_count} frames{longer}"
        )

    def cut(values: Any) -> Any:
        return None if values is None else values[:frame_count]

    out = [
        PoseInstance(
            inst.track_id,
            inst.poses[:frame_count],
            inst.source[:frame_count],
            cut(inst.boxes),
            cut(inst.held),
            cut(inst.confidence),
        )
        for inst in ps.instances
    ]
    return PoseSet(
        ps.skeleton, frame_count, out, ps.fps, cut(ps.timestamps), ps.width, ps.height,
        ps.video_path,
    )  # fmt: skip


def check_target(path: Path) -> None:
    """Refuse, before any work, a file target that is a folder or lies in a missing folder."""
    if path.is_dir():
        raise FormatError(f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise FormatError(f"folder does not exist: {path.parent}")


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and replaces ``path``.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    check_target(path)
    with atomic_output(path, FormatError) as tmp:
        yield tmp


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            fsync_file(Path(root) / name)
        fsync_dir(root)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it becomes ``path``.

    ``path`` must not exist or be an empty folder (an export never merges into old files).
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FormatError(f"{path} already exists and is not an empty folder")
    if not path.parent.is_dir():
        raise FormatError(f"folder does not exist: {path.parent}")
    try:
        tmp = temp_sibling(path, folder=True)
    except OSError as err:
        raise FormatError(f"cannot write in {path.parent}: {err.strerror}") from None
    try:
        yield tmp
        _fsync_tree(tmp)
        if path.exists():
            path.rmdir()
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FormatError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_new_dir(target: Path, owned: re.Pattern[str] | None = None) -> None:
    """Refuse a folder target that exists and holds anything: an export never deletes or
    mixes with files it did not create. ``owned``: the names of the files this kind of export
    writes; a folder holding only such files (an earlier export's) may be replaced."""
    if not target.exists():
        return
    if target.is_dir() and owned is not None and _only_owned(target, owned):
        return
    if not target.is_dir() or any(target.iterdir()):
        raise FormatError(
            f"{target} already exists and is not an empty folder; move it or choose another name"
        )


def _only_owned(folder: Path, owned: re.Pattern[str]) -> bool:
    return all(
        p.is_file() and not p.is_symlink() and owned.fullmatch(p.name) for p in folder.iterdir()
    )


def place_dir(new: Path, target: Path, owned: re.Pattern[str] | None = None) -> None:
    """Move the finished (fsynced) folder ``new`` to ``target``, which must be absent, empty
    or (``owned``) hold only files an earlier export of the same kind wrote, which go."""
    check_new_dir(target, owned)
    _fsync_tree(new)
    old = None
    if target.exists() and any(target.iterdir()):
        old = temp_sibling(target, folder=True)  # a free hidden name beside it
        old.rmdir()
        os.replace(target, old)
    elif target.exists():
        target.rmdir()  # empty: nothing of the user's is lost
    try:
        os.replace(new, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(target.parent)


def select_values(ps: PoseSet, frames: str) -> list[PoseInstance]:
    """Instances restricted to what an export of ``frames`` ('manual' or 'all') carries.

    For ``manual`` only manual values survive; the rest become unlabelled with source none.
    """
    if frames == "all":
        return list(ps.instances)
    if frames != "manual":
        raise FormatError(f"frames must be 'manual' or 'all', not {frames!r}")
    out = []
    for inst in ps.instances:
        keep = inst.source == Source.MANUAL
        poses = inst.poses.copy()
        poses[~keep] = (np.nan, np.nan, Visibility.UNLABELLED)
        source = np.where(keep, inst.source, np.int8(Source.NONE)).astype(np.int8)
        held = None if inst.held is None else np.zeros_like(inst.held)  # manual: none held
        out.append(PoseInstance(inst.track_id, poses, source, inst.boxes, held))
    return out
