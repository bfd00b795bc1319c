"""Project files on disk: atomic save with a backup, safe load, and the video check.

``save_project`` writes a temporary file next to the project, fsyncs it, keeps the previous
version as ``<name>.bak`` and renames the new file into place, so a crash at any moment leaves
either the old or the new project, never a torn one. ``load_project`` refuses anything that is
not a valid project with a one-line ``ProjectError`` and never writes. ``check_video`` tells the
GUI whether the project's video is where it was and is the same file (fingerprint), so it can
ask for the new location or warn before showing anything.

Autosave and crash recovery live in ``annotator.core.journal`` and are re-exported here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from annotator.core.document import Document
from annotator.core.fingerprint import video_fingerprint
from annotator.core.journal import (
    Autosaver,
    Recovery,
    RecoveryJournal,
    find_recovery,
    list_recoveries,
)
from annotator.core.safeio import check_output_path, fsync_dir, read_bytes
from annotator.core.schema import (
    CURRENT_VERSION,
    EXTENSION,
    MAX_FILE_BYTES,
    decode,
    document_from_dict,
    encode_document,
)
from annotator.errors import ProjectError

__all__ = [
    "CURRENT_VERSION",
    "EXTENSION",
    "Autosaver",
    "OpenedProject",
    "Recovery",
    "RecoveryJournal",
    "VideoCheck",
    "atomic_write",
    "backup_path",
    "check_video",
    "find_recovery",
    "list_recoveries",
    "load_project",
    "open_project",
    "relocate_video",
    "save_project",
]


MAX_MESSAGE = 300


def backup_path(path: str | Path) -> Path:
    """Where ``save_project`` keeps the previous version: ``<name>.bak``."""
    path = Path(path)
    return path.with_name(path.name + ".bak")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _remove_stale_temps(path: Path) -> None:
    """Temporary files left by a save that was killed (their process is gone)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 2 :].split(".")
        pid = int(parts[0]) if parts and parts[0].isdigit() else None
        if pid == os.getpid():
            continue
        if pid is not None:
            try:
                os.kill(pid, 0)
                continue  # still running: maybe another save in progress
            except ProcessLookupError:
                pass
            except OSError:
                continue
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write(path: str | Path, data: bytes, keep_backup: bool = True) -> None:
    """Replace ``path`` by ``data`` atomically (temp file, fsync, rename), keeping ``.bak``."""
    path = Path(path)
    check_output_path(path, ProjectError)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if keep_backup and path.exists():
            bak = backup_path(path)
            bak_tmp = tmp.with_name(tmp.name + ".bak")
            try:  # a hard link keeps the old version without copying or a moment of absence
                os.link(path, bak_tmp)
            except OSError:
                shutil.copyfile(path, bak_tmp)
            os.replace(bak_tmp, bak)
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ProjectError(f"cannot save {path}: {err.strerror or err}") from None
    fsync_dir(path.parent)
    _remove_stale_temps(path)


def save_project(doc: Document, path: str | Path) -> None:
    """Save atomically; the video path is stored relative to the project when possible."""
    path = Path(path)
    data = encode_document(doc, path.parent.resolve())
    atomic_write(path, data, keep_backup=True)


def load_project(path: str | Path) -> Document:
    """Read and validate a project; raises ``ProjectError`` (one line) and never writes."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise ProjectError(f"project file not found: {path}")
    raw = read_bytes(path, MAX_FILE_BYTES, ProjectError)
    try:
        data = decode(raw)
        doc = document_from_dict(data, path.parent.resolve())
    except ProjectError as err:
        message = f"{path.name}: {err}"
        if len(message) > MAX_MESSAGE:  # hostile values must not flood the dialog
            message = message[: MAX_MESSAGE - 3] + "..."
        bak = backup_path(path)
        if bak.is_file():  # the save before the last one, kept for just this
            message += f"; the previous save is kept as {bak.name}: open that instead"
        raise ProjectError(message) from None
    except MemoryError:
        raise ProjectError(f"{path.name}: the project is too large to open") from None
    video = data.get("video") if isinstance(data, dict) else None
    hint = video.get("absolute_path") if isinstance(video, dict) else None
    moved = bool(doc.video.path) and not os.path.exists(doc.video.path)
    if moved and isinstance(hint, str) and os.path.isfile(hint):
        doc.set_video(replace(doc.video, path=hint))  # the project moved, the video did not
    return doc


@dataclass(frozen=True)
class VideoCheck:
    """Outcome of looking for a project's video.

    ``status``: ``ok`` (found, same fingerprint), ``missing`` (ask the user where it is),
    ``mismatch`` (a file is there but its fingerprint differs: warn before showing anything),
    ``unchecked`` (found, but the project has no fingerprint to compare).
    """

    status: Literal["ok", "missing", "mismatch", "unchecked"]
    path: str
    expected: str | None
    actual: str | None
    message: str

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "unchecked")


def _check(path: str, expected: str | None) -> VideoCheck:
    if not path or not os.path.isfile(path):
        return VideoCheck(
            "missing", path, expected, None, f"the video {path or '(none)'} was not found"
        )
    try:
        actual = video_fingerprint(path)
    except OSError as err:
        return VideoCheck(
            "missing", path, expected, None, f"cannot read the video {path}: {err.strerror}"
        )
    if expected is None:
        return VideoCheck("unchecked", path, None, actual, "the project has no video fingerprint")
    if actual != expected:
        return VideoCheck(
            "mismatch",
            path,
            expected,
            actual,
            f"{os.path.basename(path)} is not the video this project was labelled on "
            "(its size or content differs)",
        )
    return VideoCheck("ok", path, expected, actual, "the video matches the project")


def check_video(doc: Document, project_path: str | Path | None = None) -> VideoCheck:
    """Find and fingerprint the document's video; also tries its name beside the project."""
    result = _check(doc.video.path, doc.video.fingerprint)
    if result.status == "missing" and project_path is not None and doc.video.path:
        beside = Path(project_path).resolve().parent / Path(doc.video.path).name
        alt = _check(str(beside), doc.video.fingerprint)
        if alt.status != "missing":
            return alt
    return result


def relocate_video(
    doc: Document, new_path: str | Path, accept_mismatch: bool = False
) -> VideoCheck:
    """Point the document at ``new_path`` if it is the same video (or the user accepts it).

    The document changes only when the result is ok, or on a mismatch with
    ``accept_mismatch`` (then the new fingerprint is adopted so the warning does not repeat).
    """
    path = os.path.abspath(new_path)
    result = _check(path, doc.video.fingerprint)
    if result.ok or (result.status == "mismatch" and accept_mismatch):
        doc.set_video(replace(doc.video, path=path, fingerprint=result.actual))
    return result


@dataclass(frozen=True)
class OpenedProject:
    """What opening a project found: the document, its video and any unsaved work."""

    document: Document
    video: VideoCheck
    recovery: Recovery | None


def open_project(path: str | Path, recovery_dir: str | Path | None = None) -> OpenedProject:
    """Load a project, check its video and look for a recovery journal, in one call."""
    doc = load_project(path)
    found = find_recovery(path, directory=recovery_dir)
    return OpenedProject(doc, check_video(doc, path), found)
