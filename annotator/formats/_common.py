"""Helpers shared by the format adaptors: atomic writes, input limits and checks.

Every writer goes through :func:`atomic_file` or :func:`atomic_dir`, so a failed export
leaves nothing behind and a successful one appears all at once. Every reader goes through
:func:`read_text_limited` (or checks :func:`check_size`) so a huge or binary file is refused
with one line instead of exhausting memory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.skeleton import BUILTIN, Skeleton
from annotator.errors import FormatError

MAX_FILE_BYTES = 256 * 1024 * 1024  # label files larger than this are refused, not parsed
MAX_FRAMES = 2_000_000  # about 18 hours at 30 fps
MAX_INSTANCES = 1000
MAX_CELLS = 100_000_000  # frames x joints x instances held in memory at once


def check_size(path: Path, limit: int | None = None) -> None:
    """Refuse a missing path or a file larger than ``limit`` (default ``MAX_FILE_BYTES``)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FormatError(f"file not found: {path}") from None
    except OSError as err:
        raise FormatError(f"cannot read {path}: {err.strerror}") from None
    if size > limit:
        raise FormatError(
            f"{path.name} is too large to be a label file ({size:,} bytes; the limit is {limit:,})"
        )


def read_text_limited(path: Path, limit: int | None = None) -> str:
    """The file's text as UTF-8 (BOM tolerated), refusing huge or binary files."""
    check_size(path, limit)
    if path.is_dir():
        raise FormatError(f"{path} is a folder, not a file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError(f"{path.name} is not a UTF-8 text file") from None
    except OSError as err:
        raise FormatError(f"cannot read {path}: {err.strerror}") from None


def check_frame_count(frame_count: int, num_joints: int, instances: int, what: str) -> None:
    """Refuse sizes that would allocate absurd arrays (a hostile or corrupt file)."""
    if frame_count < 0 or frame_count > MAX_FRAMES:
        raise FormatError(f"{what}: {frame_count} frames is out of range (at most {MAX_FRAMES})")
    if instances > MAX_INSTANCES:
        raise FormatError(f"{what}: {instances} people is more than the {MAX_INSTANCES} allowed")
    if frame_count * max(num_joints, 1) * max(instances, 1) > MAX_CELLS:
        raise FormatError(f"{what}: too many labels to hold in memory")


def parse_float(text: str, what: str) -> float:
    """A finite float from text, or ``FormatError`` naming ``what``."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise FormatError(f"{what}: {text!r} is not a number") from None
    if not np.isfinite(value):
        raise FormatError(f"{what}: {text!r} is not a finite number")
    return value


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
    return value


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


def pad_frames(ps: PoseSet, frame_count: int) -> PoseSet:
    """``ps`` extended with unlabelled frames to ``frame_count`` (import onto a longer video)."""
    if frame_count == ps.frame_count:
        return ps
    if frame_count < ps.frame_count:
        raise FormatError(
            f"the labels reach frame {ps.frame_count - 1} but the video has {frame_count} frames"
        )
    extra = frame_count - ps.frame_count
    out = []
    for inst in ps.instances:
        pad = PoseInstance.empty(inst.track_id, extra, ps.skeleton.num_joints)
        boxes = None
        if inst.boxes is not None:
            boxes = np.concatenate([inst.boxes, np.full((extra, 4), np.nan, np.float32)])
        out.append(
            PoseInstance(
                inst.track_id,
                np.concatenate([inst.poses, pad.poses]),
                np.concatenate([inst.source, pad.source]),
                boxes,
            )
        )
    return PoseSet(ps.skeleton, frame_count, out, ps.fps, None, ps.width, ps.height, ps.video_path)


def temp_sibling(path: Path, folder: bool = False) -> Path:
    """A new, hidden, uniquely named file or folder beside ``path``.

    Made with the default permissions (the umask applies), unlike ``tempfile``'s private
    0600/0700 ones, because it becomes the user's export when renamed into place.
    """
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            if folder:
                os.mkdir(tmp, 0o777)
            else:
                os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def check_target(path: Path) -> None:
    """Refuse, before any work, a file target that is a folder or lies in a missing folder."""
    if path.is_dir():
        raise FormatError(f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise FormatError(f"folder does not exist: {path.parent}")


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    check_target(path)
    try:
        tmp = temp_sibling(path)
    except OSError as err:
        raise FormatError(f"cannot write in {path.parent}: {err.strerror}") from None
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise FormatError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
        if path.exists():
            path.rmdir()
        os.replace(tmp, path)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FormatError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_dir(new: Path, target: Path) -> None:
    """Move the finished folder ``new`` to ``target``, replacing an older export there."""
    backup = None
    if target.exists():
        if not target.is_dir():
            raise FormatError(f"{target} exists and is not a folder")
        backup = target.with_name(f".{target.name}.{secrets.token_hex(4)}.old")
        os.replace(target, backup)
    try:
        os.replace(new, target)
    except OSError:
        if backup is not None:
            os.replace(backup, target)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


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
