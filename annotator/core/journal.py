"""Autosave: a recovery journal that every document change reaches at once, and its replay.

``RecoveryJournal(doc, project_path)`` subscribes to the document and appends one record per
change to a journal file in ``data_dir("recovery")`` *synchronously*: when an edit returns,
its record is already in the operating system's hands, so killing the app (even ``kill -9``)
loses nothing. A background thread fsyncs the file at most ``fsync_interval`` seconds after a
write (default 0.5 s), which bounds the loss on a power cut or OS crash to well under the 2
seconds promised. Records are cheap: label blocks travel as base64 float32, not JSON numbers.

File layout (one record per line, ``<crc32 hex> <json>``): a header, a snapshot of the whole
document, then one record per change. A torn last line (the process died mid-write) fails its
checksum and is ignored. The journal is rewritten (atomically) as a fresh snapshot when it
grows, and deleted by ``mark_saved`` after the project is saved: a journal that exists means
unsaved work, which ``find_recovery`` offers and ``Recovery.restore`` rebuilds.

Journals are keyed by the project path, or for a never-saved document by the video's
fingerprint (or path when it has none).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.document import (
    Change,
    Document,
    Instance,
    Proposals,
    Review,
    VideoRef,
    empty_labels,
)
from annotator.core.fingerprint import video_fingerprint
from annotator.core.paths import data_dir
from annotator.core.safeio import read_bytes
from annotator.core.schema import document_from_dict, document_to_dict
from annotator.core.skeleton import Skeleton
from annotator.errors import AnnotatorError, ProjectError

log = logging.getLogger(__name__)

JOURNAL_SCHEMA = "annotator.journal/1"
SUFFIX = ".journal"
MAX_JOURNAL_BYTES = 1 << 30  # compaction keeps a journal near twice its snapshot
COMPACT_MIN_BYTES = 8 << 20  # rewrite as a snapshot beyond max(this, 2 x the snapshot)


# ---------------------------------------------------------------------------- keys
def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def project_key(project_path: str | Path) -> str:
    return "p-" + _digest(os.path.realpath(project_path))


def video_key(video_path: str, fingerprint: str | None) -> str:
    if fingerprint:
        return "v-" + _digest(fingerprint)
    return "v-" + _digest(os.path.realpath(video_path) if video_path else "")


def _recovery_dir(directory: str | Path | None) -> Path:
    if directory is None:
        return data_dir("recovery")
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------- records
def _line(record: dict[str, Any]) -> bytes:
    body = json.dumps(record, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _b64(arr: np.ndarray[Any, Any]) -> str:
    return base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode("ascii")


def _unb64(text: str, dtype: Any) -> np.ndarray[Any, Any]:
    return np.frombuffer(base64.b64decode(text, validate=True), dtype=dtype)


def _snapshot(doc: Document) -> dict[str, Any]:
    meta = document_to_dict(doc, None, labels=False)
    labels = []
    for i in range(len(meta["instances"])):
        frames = doc.labelled_frames(i).astype("<i4")
        labels.append({"f": _b64(frames), "d": _b64(doc.manual(i)[frames].astype("<f4"))})
    return {"t": "snapshot", "doc": meta, "labels": labels}


def _proposals_json(p: Proposals | None) -> Any:
    if p is None:
        return None
    return {"method": p.method, "frames": list(p.frames), "scores": p.scores}


def _record(doc: Document, change: Change) -> dict[str, Any]:
    """The journal record that replays ``change`` (read from the document as it is now)."""
    kind = change.kind
    if kind == "labels" and change.instance is not None:
        start, stop = change.frames or (0, doc.frame_count)
        block = doc.manual(change.instance)[start:stop]
        if change.joints is not None:
            block = block[:, list(change.joints)]
        return {
            "t": "labels",
            "i": change.instance,
            "s": start,
            "shape": list(block.shape),
            "j": None if change.joints is None else list(change.joints),
            "d": _b64(block.astype("<f4")),
        }
    if kind == "predicted" and change.instance is not None:
        start, stop = change.frames or (0, doc.frame_count)
        block = doc.predicted(change.instance)[start:stop]
        return {
            "t": "predicted",
            "i": change.instance,
            "s": start,
            "shape": list(block.shape),
            "d": _b64(block.astype("<f4")),
            "c": _b64(doc.confidence(change.instance)[start:stop].astype("<f4")),
        }
    if kind in ("flags", "review"):
        start, stop = change.frames or (0, doc.frame_count)
        if kind == "flags":
            entries: dict[str, Any] = {str(f): r for f, r in doc.flags.items() if start <= f < stop}
        else:
            entries = {str(f): [r.by, r.at] for f, r in doc.reviews.items() if start <= f < stop}
        return {"t": kind, "s": start, "e": stop, "v": entries}
    if kind == "gate":
        start, stop = change.frames or (0, doc.frame_count)
        return {"t": "gate", "s": start, "d": _b64(doc.gate[start:stop].astype("i1"))}
    if kind == "scene_cuts" and change.frames is not None:
        frame = change.frames[0]
        return {"t": "scene_cut", "f": frame, "on": frame in doc.scene_cuts}
    if kind == "proposals":
        return {"t": "proposals", "v": _proposals_json(doc.proposals)}
    if kind == "settings":
        return {"t": "settings", "v": dict(doc.settings)}
    if kind == "video":
        v = doc.video
        return {"t": "video", "v": [v.path, v.fingerprint]}
    if kind == "instances" and change.op is not None and change.op[0] == "remove":
        return {"t": "instance_remove", "i": change.op[1]}
    if kind == "instances" and change.op is not None and change.op[0] == "insert":
        # one person's labels, not the whole document: adding a person stays instant
        i = change.op[1]
        inst = doc.instances[i]
        frames = doc.labelled_frames(i).astype("<i4")
        guessed = doc.predicted_frames(i).astype("<i4")
        return {
            "t": "instance_insert",
            "i": i,
            "track": inst.track_id,
            "skeleton": inst.skeleton.to_dict(),
            "f": _b64(frames),
            "d": _b64(doc.manual(i)[frames].astype("<f4")),
            "pf": _b64(guessed),
            "pd": _b64(doc.predicted(i)[guessed].astype("<f4")),
            "pc": _b64(doc.confidence(i)[guessed].astype("<f4")),
        }
    return _snapshot(doc)  # instances and anything without a cheap delta


def _apply(doc: Document | None, rec: dict[str, Any]) -> Document:
    """Replay one record; a snapshot record returns a new document."""
    t = rec["t"]
    if doc is None and t != "snapshot":
        raise ValueError("the journal does not start with a snapshot")
    if t == "snapshot" or doc is None:
        doc = document_from_dict(rec["doc"])
        for i, lab in enumerate(rec["labels"]):
            frames = _unb64(lab["f"], "<i4").astype(np.int64)
            if frames.size:
                j = doc.instances[i].skeleton.num_joints
                rows = _unb64(lab["d"], "<f4").reshape(frames.size, j, 3)
                full = np.array(doc.manual(i))
                full[frames] = rows
                doc.write_labels(i, 0, full)
        return doc
    if t == "labels":
        block = _unb64(rec["d"], "<f4").reshape(rec["shape"])
        doc.write_labels(int(rec["i"]), int(rec["s"]), block, rec["j"])
    elif t == "predicted":
        block = _unb64(rec["d"], "<f4").reshape(rec["shape"])
        conf = _unb64(rec["c"], "<f4").reshape(rec["shape"][:2])
        doc.write_predicted(int(rec["i"]), int(rec["s"]), block, conf)
    elif t == "flags":
        doc.set_flags(rec["s"], rec["e"], {int(f): str(r) for f, r in rec["v"].items()})
    elif t == "review":
        doc.set_reviews(
            rec["s"], rec["e"], {int(f): Review(str(r[0]), str(r[1])) for f, r in rec["v"].items()}
        )
    elif t == "gate":
        doc.set_gate(int(rec["s"]), _unb64(rec["d"], "i1"))
    elif t == "scene_cut":
        doc.set_scene_cut(int(rec["f"]), bool(rec["on"]))
    elif t == "proposals":
        v = rec["v"]
        doc.set_proposals(
            None
            if v is None
            else Proposals(
                tuple(int(f) for f in v["frames"]),
                None if v["scores"] is None else tuple(float(s) for s in v["scores"]),
                str(v["method"]),
            )
        )
    elif t == "settings":
        for key in list(doc.settings):
            doc.set_setting(key, None)
        for key, value in rec["v"].items():
            doc.set_setting(str(key), value)
    elif t == "instance_remove":
        doc.remove_instance(int(rec["i"]))
    elif t == "instance_insert":
        skeleton = Skeleton.from_dict(rec["skeleton"])
        labels = np.array(empty_labels(doc.frame_count, skeleton.num_joints))
        frames = _unb64(rec["f"], "<i4").astype(np.int64)
        j = skeleton.num_joints
        if frames.size:
            labels[frames] = _unb64(rec["d"], "<f4").reshape(frames.size, j, 3)
        predicted = np.array(empty_labels(doc.frame_count, j))
        confidence = np.full((doc.frame_count, j), np.nan, dtype=np.float32)
        guessed = _unb64(rec.get("pf", ""), "<i4").astype(np.int64)
        if guessed.size:
            predicted[guessed] = _unb64(rec["pd"], "<f4").reshape(guessed.size, j, 3)
            confidence[guessed] = _unb64(rec["pc"], "<f4").reshape(guessed.size, j)
        doc.insert_instance(
            int(rec["i"]), Instance(int(rec["track"]), skeleton), labels, predicted, confidence
        )
    elif t == "video":
        path, fingerprint = rec["v"]
        old = doc.video
        doc.set_video(
            VideoRef(str(path), fingerprint, old.frame_count, old.fps, old.width, old.height)
        )
    else:
        raise ValueError(f"unknown record {t!r}")
    return doc


def _records(raw: bytes) -> Iterator[dict[str, Any]]:
    """Intact records in order; stops at the first torn or corrupt line."""
    for line in raw.split(b"\n"):
        crc, _, body = line.partition(b" ")
        if len(crc) != 8 or not body:
            return
        try:
            if int(crc, 16) != zlib.crc32(body):
                return
            record = json.loads(body)
        except (ValueError, RecursionError):
            return
        if not isinstance(record, dict) or "t" not in record:
            return
        yield record


# ---------------------------------------------------------------------------- writer
class RecoveryJournal:
    """Keeps an append-only journal of every change to ``doc`` (see the module docstring)."""

    def __init__(
        self,
        doc: Document,
        project_path: str | Path | None = None,
        directory: str | Path | None = None,
        fsync_interval: float = 0.5,
    ) -> None:
        self._doc = doc
        self._dir = _recovery_dir(directory)
        self._project = os.path.abspath(project_path) if project_path else None
        self._path = self._key_path()
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._dirty = False
        self._bytes = 0
        self._snapshot_bytes = 0
        self.records = 0  # changes journaled since the last snapshot
        self.error: str | None = None  # last write failure, for the GUI to show
        self._interval = fsync_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sync_loop, name="journal-fsync", daemon=True)
        self._thread.start()
        self._unsubscribe = doc.subscribe(self._on_change)

    @property
    def fsync_interval(self) -> float:
        """Seconds an edit may wait before it is on disk (the autosave interval)."""
        return self._interval

    @fsync_interval.setter
    def fsync_interval(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError("the fsync interval must be positive")
        self._interval = float(seconds)  # the sync thread reads it before each wait

    @property
    def path(self) -> Path:
        """The journal file (fixed until ``mark_saved`` names a new project path)."""
        return self._path

    def _key_path(self) -> Path:
        if self._project:
            key = project_key(self._project)
        else:
            key = video_key(self._doc.video.path, self._doc.video.fingerprint)
        return self._dir / (key + SUFFIX)

    # ------------------------------------------------------------- writing
    def _on_change(self, change: Change) -> None:
        try:
            if self._fd is None:
                self._rewrite()
            else:
                self._append(_line(_record(self._doc, change)))
                self.records += 1
                if self._bytes > max(COMPACT_MIN_BYTES, 2 * self._snapshot_bytes):
                    self._rewrite()
        except (OSError, ValueError) as err:
            self.error = f"autosave failed: {err}"
            log.warning("%s", self.error)
            # A write that failed may have left a torn record, and replay stops there: every
            # record after it was lost (a full disk, freed, then a crash). The next change
            # starts a fresh journal instead, a whole snapshot, as soon as it can be written.
            self._close_file(delete=False)
            return
        self.error = None  # written: autosave works (again)

    def _append(self, data: bytes) -> None:
        with self._lock:
            assert self._fd is not None
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            self._bytes += len(data)
            self._dirty = True

    def _rewrite(self) -> None:
        """Start a fresh journal: header + snapshot, written aside and renamed into place."""
        header = {
            "t": "header",
            "schema": JOURNAL_SCHEMA,
            "project": self._project,
            "video": self._doc.video.path,
            "fingerprint": self._doc.video.fingerprint,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "pid": os.getpid(),
        }
        snapshot = _line(_snapshot(self._doc))
        data = _line(header) + snapshot
        target = self.path
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        new_fd = os.open(target, os.O_WRONLY | os.O_APPEND)
        with self._lock:
            old, self._fd = self._fd, new_fd
            self._bytes = len(data)
            self._snapshot_bytes = len(snapshot)
            self._dirty = False
        self.records = 0
        if old is not None:
            os.close(old)

    def _sync_loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def flush(self) -> None:
        """fsync now (the background thread does it at most ``fsync_interval`` after a write)."""
        with self._lock:
            if not self._dirty or self._fd is None:
                return
            fd = os.dup(self._fd)
            self._dirty = False
        try:
            os.fsync(fd)
        except OSError as err:
            self.error = f"autosave failed: {err}"
        finally:
            os.close(fd)

    # ------------------------------------------------------------- lifecycle
    def _close_file(self, delete: bool) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
            self._dirty = False
        if fd is not None:
            if not delete:  # a journal being deleted need not reach the disk
                with contextlib.suppress(OSError):
                    os.fsync(fd)
            os.close(fd)
        if delete:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def mark_saved(self, project_path: str | Path | None = None) -> None:
        """Call after a successful save: the journal is dropped (and re-keyed to the project)."""
        self._close_file(delete=True)
        if project_path is not None:
            self._project = os.path.abspath(project_path)
            self._path = self._key_path()

    def close(self, discard: bool = True) -> None:
        """Stop journaling; ``discard`` deletes the journal (the user saved or threw changes
        away). ``discard=False`` keeps it to be offered next time."""
        self._unsubscribe()
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._close_file(delete=discard)

    def __enter__(self) -> RecoveryJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(discard=exc[0] is None)


Autosaver = RecoveryJournal


# ---------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Recovery:
    """Unsaved work found in a journal; ``restore()`` rebuilds it, ``discard()`` deletes it."""

    journal: Path
    project_path: str | None
    video_path: str
    modified: float  # time of the last journal write (seconds since the epoch)
    edits: int  # changes journaled after the snapshot

    def restore(self) -> Document:
        """The document as of the last intact record; raises ``ProjectError`` if unusable."""
        try:
            raw = read_bytes(self.journal, MAX_JOURNAL_BYTES, ProjectError)
        except ProjectError as err:
            raise ProjectError(f"cannot read the recovery journal: {err}") from None
        doc: Document | None = None
        for k, record in enumerate(_records(raw)):
            if k == 0:
                if record.get("t") != "header" or record.get("schema") != JOURNAL_SCHEMA:
                    break
                continue
            if k == 1 and record.get("t") != "snapshot":
                break
            try:
                doc = _apply(doc, record)
            except (
                AnnotatorError,
                ValueError,
                KeyError,
                TypeError,
                IndexError,
                AttributeError,
                OverflowError,
            ) as err:
                log.warning("recovery stopped at record %d: %s", k, err)
                break
        if doc is None:
            raise ProjectError("the recovery journal holds no usable snapshot")
        return doc

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.journal.unlink()


def read_recovery(journal: Path) -> Recovery | None:
    """Header facts of a journal, or None when it has no intact header and snapshot."""
    try:
        raw = read_bytes(journal, MAX_JOURNAL_BYTES)
        modified = journal.stat().st_mtime
    except (OSError, AnnotatorError):  # not a regular file, too large, gone: not offered
        return None
    header: dict[str, Any] | None = None
    count = -1
    for k, record in enumerate(_records(raw)):
        if k == 0:
            header = record
        elif k == 1 and record.get("t") != "snapshot":
            return None
        count = k - 1
    if header is None or header.get("schema") != JOURNAL_SCHEMA or count < 0:
        return None
    project = header.get("project")
    return Recovery(
        journal=journal,
        project_path=project if isinstance(project, str) else None,
        video_path=str(header.get("video") or ""),
        modified=modified,
        edits=count,
    )


def find_recovery(
    path: str | Path, directory: str | Path | None = None, fingerprint: str | None = None
) -> Recovery | None:
    """Unsaved work for a project file, or for a video opened without a project (give the
    video's ``fingerprint`` when known; otherwise it is computed from the file if it exists)."""
    folder = _recovery_dir(directory)
    keys = [project_key(path)]
    if fingerprint:
        keys.append(video_key(str(path), fingerprint))
    elif os.path.isfile(path):
        with contextlib.suppress(OSError):
            keys.append(video_key(str(path), video_fingerprint(path)))
    keys.append(video_key(str(path), None))
    for key in keys:
        found = read_recovery(folder / (key + SUFFIX))
        if found is not None:
            return found
    return None


def list_recoveries(directory: str | Path | None = None) -> list[Recovery]:
    """Every journal holding unsaved work, newest first (for a start-up "recover" dialog)."""
    folder = _recovery_dir(directory)
    found = [r for p in folder.glob("*" + SUFFIX) if (r := read_recovery(p)) is not None]
    return sorted(found, key=lambda r: r.modified, reverse=True)


__all__ = [
    "Autosaver",
    "Recovery",
    "RecoveryJournal",
    "find_recovery",
    "list_recoveries",
    "read_recovery",
]
