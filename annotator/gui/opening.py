"""Opening, saving, exporting and background jobs for the window (the file-facing half).

Opening a video shows its first frame at once; the packet index (exact frame count and
timestamps, which the document needs) is built by a worker with progress and cancel, and the
project's session starts when it is ready. Projects go through ``annotator.core.store``;
exports through the format registry. Nothing here decides how things look.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6 import QtWidgets

from annotator.core.codes import Source
from annotator.core.document import Document, VideoRef
from annotator.core.paths import data_dir
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.progress import Cancelled, Progress, ShouldStop
from annotator.core.schema import EXTENSION, SCHEMA_PREFIX
from annotator.errors import AnnotatorError, ProjectError, VideoError
from annotator.gui.dialogs import ExportChoice
from annotator.gui.session import Session

if TYPE_CHECKING:
    from annotator.gui.services import WindowServices
    from annotator.video.base import VideoReader

log = logging.getLogger(__name__)

PROJECT_SUFFIX = EXTENSION  # ".annot.json"
VIDEO_FILTER = "Videos (*.mp4 *.m4v *.mov *.avi *.mkv *.webm *.mpg *.mpeg *.wmv);;All files (*)"
MAX_RECENT = 10


def open_reader(path: Path, cache_frames: int = 64) -> VideoReader:
    """Open a video for random access (``VideoError`` with a readable message on failure);
    ``cache_frames``: decoded frames kept (Settings > Frame cache)."""
    from annotator.video import open_video

    return open_video(path, cache_frames=cache_frames)


def is_project(path: Path) -> bool:
    """A project by its name: ``.annot.json``, any ``.json``, or a save's backup of one
    (``.bak``, which the message on a damaged project points to)."""
    name = path.name.lower().removesuffix(".bak")
    return name.endswith((PROJECT_SUFFIX, ".json"))


def with_project_suffix(path: Path) -> Path:
    """A name typed in the save dialog without the project extension gets it (``take1`` is
    saved as ``take1.annot.json``): projects are known by their extension when opened, so a
    file without it would later be taken for a video."""
    return path if is_project(path) else path.with_name(path.name + PROJECT_SUFFIX)


# ---------------------------------------------------------------------- opening
def open_any(path: Path, window: WindowServices) -> None:
    """Open ``path`` in ``window``: a project, or a video for a new project.

    The session is handed to ``window.set_session`` once the video's index is ready (at once
    when it is cached); failures reach the window's reporter. The caller has asked
    ``open_refusal`` first (the window's ``open_path``), before offering to save."""
    if not path.exists():  # gone since ``open_refusal`` was asked
        raise AnnotatorError(f"file not found: {path}")
    if is_project(path):
        _open_project(path, window)
    else:
        _open_video(path, window)


def open_refusal(path: Path, has_project: bool) -> str | None:
    """Why ``path`` cannot be opened, known before anything is closed for it, or None: a file
    that does not exist, or a label file opened as a video or a project (known by its
    extension and first bytes; a video reader would only call it unreadable, the project
    reader "not an annotator project")."""
    from annotator.errors import FormatError
    from annotator.formats import registry

    if not path.exists():
        return f"file not found: {path}"
    if not path.is_file():
        return None
    if is_project(path):
        if _has_project_schema(path):
            return None
        label_format = registry.recognise(path)  # only by content: a project may be any .json
        if label_format is None:
            return None  # the project reader says what is wrong with it
        return _label_file(path, label_format.name, "a project", has_project)
    if path.suffix.lower() not in registry.extensions():
        return None
    try:
        label_format = registry.guess(path)
    except FormatError:
        return None
    return _label_file(path, label_format.name, "a video", has_project)


def _has_project_schema(path: Path) -> bool:
    """Whether the start of ``path`` names a project schema (``"schema": "annotator.project/N"``,
    written first), so a project is never taken for a label file."""
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        return SCHEMA_PREFIX in fh.read(65536)


def _label_file(path: Path, label_format: str, opened_as: str, has_project: bool) -> str:
    what = f"{path.name} is a label file ({label_format}), not {opened_as}"
    if has_project:
        return f"{what}: File > Import Labels (Ctrl+I) brings it into this project"
    return f"{what}: open its video, then File > Import Labels (Ctrl+I)"


def _open_video(path: Path, window: WindowServices) -> None:
    from annotator.gui import autosave

    reader = open_reader(path, window.settings.prefs.frame_cache)
    if window.session is None:  # never cover the open project's frame with another video
        # A first frame that cannot be decoded is not fatal here: the index job says why.
        with contextlib.suppress(AnnotatorError):
            window.show_preview(reader.frame(0))
    # Unsaved work left on this video is offered before the skeleton is asked: restored, it
    # brings its own (asked first, another skeleton refused the work, and the new session's
    # journal then overwrote it).
    recovery = autosave.find(path)
    restored = autosave.ask_restore(window, recovery) if recovery is not None else None
    if restored is None:
        project = saved_project_beside(path)
        if project is not None and window.reporter.ask(
            f"{project.name} beside this video is a saved project on it. Open it? (No starts "
            "a new project, which Save would offer to write over it.)",
            "Saved project",
        ):
            reader.close()
            _open_project(project, window)
            return
    skeleton = restored.skeleton if restored is not None else window.reporter.choose_skeleton()
    if skeleton is None:
        reader.close()
        return

    def make_session() -> Session:
        doc = Document.new(video_ref(reader), skeleton, reader.timestamps)
        return Session(reader, doc, method=window.settings.fill_method())

    _when_indexed(window, reader, make_session, path, restored=restored, offered=True)


def saved_project_beside(video: Path) -> Path | None:
    """The project Save suggests for ``video`` (``NAME.annot.json`` beside it), when it exists
    and is a project on this very video; None otherwise (a damaged file is left to Open)."""
    from annotator.core import store
    from annotator.core.fingerprint import video_fingerprint

    beside = video.with_name(video.stem + PROJECT_SUFFIX)
    if not beside.is_file():
        return None
    try:
        doc = store.load_project(beside)
        same = doc.video.fingerprint in (None, video_fingerprint(str(video)))
    except (AnnotatorError, OSError):
        return None
    return beside if same and Path(doc.video.path).name == video.name else None


def _open_project(path: Path, window: WindowServices) -> None:
    from annotator.core import store

    doc = store.load_project(path)
    saved_video = doc.video
    check = store.check_video(doc, path)
    reporter = window.reporter
    if check.status == "missing":
        new_path = None
        if reporter.ask(f"{check.message[0].upper()}{check.message[1:]}. Locate it?", "Video"):
            new_path = reporter.locate_file(
                "Locate the project's video", VIDEO_FILTER, str(path.parent)
            )
        if not new_path:
            raise ProjectError(f"the project's video is missing: {check.message}")
        check = store.relocate_video(doc, new_path)
        if check.status == "mismatch" and reporter.ask(f"{check.message}. Use it anyway?"):
            store.relocate_video(doc, new_path, accept_mismatch=True)
        elif not check.ok:
            raise ProjectError(check.message)
    elif check.status == "mismatch":
        if not reporter.ask(f"{check.message}. Open the project with it anyway?", "Video"):
            return
        store.relocate_video(doc, check.path, accept_mismatch=True)
    elif check.path != doc.video.path:
        store.relocate_video(doc, check.path)  # found beside the project
    video_path = Path(doc.video.path)
    try:
        reader = open_reader(video_path, window.settings.prefs.frame_cache)
    except VideoError as err:
        raise ProjectError(f"the project's video cannot be opened: {err}") from None

    def make_session() -> Session:
        if reader.frame_count != doc.frame_count:
            raise ProjectError(
                f"the project has {doc.frame_count} frames but {video_path.name} has "
                f"{reader.frame_count}: is it the same video?"
            )
        session = Session(reader, doc, path=own)
        if doc.video != saved_video or own != path:  # the file must learn it
            session.history.set_unsaved()
        return session

    # A backup opened (a damaged project's message points to it) is the project again: Save
    # writes the project's own file, not the backup.
    bak = path.name.lower().endswith(".bak")
    own = path.with_name(path.name[: -len(".bak")]) if bak else path
    _when_indexed(window, reader, make_session, own)


def _when_indexed(
    window: WindowServices,
    reader: VideoReader,
    make_session: Any,
    path: Path,
    restored: Document | None = None,
    offered: bool = False,
) -> None:
    """Hand the session to the window once the video is indexed, its journal started, and
    unsaved work restored: ``restored`` (already accepted) or, unless ``offered``, whatever
    is found for ``path`` (asked now)."""
    from annotator.gui import autosave

    def finish(_result: object) -> None:
        if not reader.index_ready:
            reader.close()
            window.reporter.error(reader.index_error or f"cannot index {path.name}")
            return
        try:
            session = make_session()
        except AnnotatorError as err:
            reader.close()
            window.reporter.error(str(err))
            return
        # Unsaved work is read when asked, before the new session starts: its journal takes
        # the same file over at the first change (motion fields, proposals arriving while the
        # question was on screen), and "Yes" then restored nothing.
        recovery = None if offered else autosave.find(path)
        work = restored
        if recovery is not None:
            work = autosave.ask_restore(window, recovery)
        window.set_session(session)
        add_recent(path)
        autosave.start_journal(session, window.settings.prefs.autosave_interval)
        if work is not None:
            saved = work
            window.guarded(lambda: autosave.restore_into(window, session, saved))

    if reader.index_ready:
        finish(None)
        return

    def index_job(progress: Progress, should_stop: ShouldStop) -> None:
        reader.add_index_listener(progress)
        while not reader.wait_for_index(timeout=0.1):
            if reader.index_error:
                return
            if should_stop():
                raise Cancelled("indexing")

    def failed(message: str) -> None:
        reader.close()
        window.reporter.error(message)

    window.tasks.start(
        f"Indexing {path.name}", index_job, finish, failed, on_cancelled=reader.close
    )


def video_ref(reader: VideoReader) -> VideoRef:
    return VideoRef(
        path=str(reader.path),
        fingerprint=getattr(reader, "fingerprint", None),
        frame_count=int(reader.frame_count),
        fps=float(reader.fps or 0.0),
        width=int(reader.width),
        height=int(reader.height),
    )


# ---------------------------------------------------------------------- recent files
def _recent_file() -> Path:
    return data_dir() / "recent.json"


def recent_paths() -> list[Path]:
    try:
        items = json.loads(_recent_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [Path(p) for p in items if isinstance(p, str) and Path(p).exists()][:MAX_RECENT]


def add_recent(path: Path) -> None:
    items = [str(path.resolve())] + [str(p) for p in recent_paths() if p != path.resolve()]
    try:
        _recent_file().write_text(json.dumps(items[:MAX_RECENT]), encoding="utf-8")
    except OSError as err:  # a read-only profile must not break opening files
        log.warning("cannot remember recent files: %s", err)


# ---------------------------------------------------------------------- file dialogs
def dialog_dir(session: Session | None) -> str:
    """The folder file dialogs start in: the project's once it is saved (even when that is
    not the video's folder), else the video's, else the current directory."""
    if session is None:
        return ""
    if session.path is not None:
        return str(session.path.parent)
    return str(Path(session.doc.video.path).parent)


def ask_open_video(parent: QtWidgets.QWidget, session: Session | None = None) -> str:
    path, _ = QtWidgets.QFileDialog.getOpenFileName(
        parent, "Open video", dialog_dir(session), VIDEO_FILTER
    )
    return str(path)


def ask_open_project(parent: QtWidgets.QWidget, session: Session | None = None) -> str:
    path, _ = QtWidgets.QFileDialog.getOpenFileName(
        parent,
        "Open project",
        dialog_dir(session),
        f"Annotator projects (*{PROJECT_SUFFIX});;All files (*)",
    )
    return str(path)


# ---------------------------------------------------------------------- saving
def default_project_path(session: Session) -> Path:
    """Where Save suggests the project: its own file once saved, else beside the video."""
    if session.path is not None:
        return session.path
    video = Path(session.doc.video.path)
    return video.with_name(video.stem + PROJECT_SUFFIX)


def save(
    window: WindowServices, session: Session, ask_path: bool, path: Path | None = None
) -> bool:
    """Save the project (asking where when it has no file yet or ``ask_path``)."""
    from annotator.core import store

    target = path or session.path
    if target is None or ask_path:
        chosen = window.reporter.choose_save_path(
            "Save project",
            f"Annotator projects (*{PROJECT_SUFFIX})",
            str(default_project_path(session) if target is None else target),
        )
        if not chosen:
            return False
        target = with_project_suffix(Path(chosen))
    if not _may_replace(window, session, target):
        return False
    store.save_project(session.doc, target)
    session.mark_saved(target)  # also drops the recovery journal
    add_recent(target)
    window.show_status(f"saved {target}", 4000)
    return True


def _may_replace(window: WindowServices, session: Session, target: Path) -> bool:
    """Whether saving may write over ``target``: yes unless it is this project's file and
    changed on disk since this session read or wrote it (another window or program saved
    it, and the save would drop that work without a word); then the user says."""
    from annotator.gui.session import file_stamp

    if target != session.path or session.disk_stamp is None:
        return True
    now = file_stamp(target)
    if now is None or now == session.disk_stamp:
        return True
    return window.reporter.ask(
        f"{target.name} was changed on disk since it was opened here (another window or "
        "program saved it). Save over it? (No keeps that file: Save As writes elsewhere.)",
        "Project changed on disk",
    )


def confirm_discard(window: WindowServices, session: Session | None) -> bool:
    """Every place that would drop unsaved edits (quit, opening another video or project)
    asks here first: Save / Discard / Cancel. True to go on (saved, or discarded on purpose);
    False on Cancel, Esc, or a save that did not happen."""
    if session is None or not session.dirty:
        return True
    name = session.path.name if session.path else Path(session.doc.video.path).name
    choice = window.reporter.ask_save(
        f"{name} has unsaved changes. Save them before closing it?", "Unsaved changes"
    )
    if choice == "discard":
        return True
    if choice != "save":
        return False
    try:
        return save(window, session, ask_path=False)
    except AnnotatorError as err:
        window.reporter.error(str(err))
        return False


# ---------------------------------------------------------------------- export
def label_filter() -> str:
    """The file dialog's filters: every readable label format, then each (a DeepLabCut
    folder is imported through its CollectedData table)."""
    from annotator.formats import registry

    return ";;".join([*registry.dialog_filters("read"), "All files (*)"])


def import_labels(window: WindowServices) -> None:
    """File > Import Labels: a label file in any readable format, or an estimator's output
    (``annotator estimate``), merged into the open project as one undo step
    (``formats.importing``). The file is read in a worker; errors reach the reporter and
    leave the project as it was. A file made for another video (frames of another size, or
    a longer video, its labels within this one) is merged with the warnings ``annotator
    import`` gives (``video_warnings``), on the status bar."""
    from annotator.formats._common import fit_frames
    from annotator.formats.importing import (
        merge_into,
        read_labels,
        refuse_empty,
        summary,
        video_warnings,
    )

    session = window.need_session()
    chosen = window.reporter.locate_file("Import labels", label_filter(), dialog_dir(session))
    if not chosen:
        return
    path = Path(chosen)
    skeleton, frames, video = session.doc.skeleton, session.doc.frame_count, session.doc.video

    def job(_progress: Any, _should_stop: Any) -> tuple[PoseSet, str, list[str]]:
        advice = "it is none of the formats the app reads"
        ps, name = read_labels(path, skeleton=skeleton, advice=advice)
        refuse_empty(ps, path.name)
        said = video_warnings(ps, frames, video.width, video.height)
        return fit_frames(ps, frames), name, said

    def done(result: tuple[PoseSet, str, list[str]]) -> None:
        if window.session is not session:
            return  # another video was opened meanwhile: these labels are not for it
        ps, name, said = result
        session.push(merge_into(session.doc, ps, f"Import {path.name}"))
        text = f"imported {summary(ps)} from {path.name} ({name})"
        if said:  # up for longer: the labels may sit in the wrong place
            window.show_status(f"{text}; warning: {'; '.join(said)}", 16000)
        else:
            window.show_status(text, 8000)

    window.tasks.start(f"Importing {path.name}", job, done, window.reporter.error)


def export_formats() -> list[tuple[str, str]]:
    """(name, description) of every format that can write."""
    from annotator.formats import registry

    return [(f.name, f.description) for f in registry.all_formats() if f.can_write]


def filled_pose_set(session: Session) -> PoseSet:
    """The project's labels with the live fill in the gaps (sources say which is which, and
    ``held`` which values are only held before the first or after the last label, and the
    predicted joints' ``confidence``), for every person, each with their own fill."""
    ps = session.doc.to_pose_set()
    out = []
    for k, inst in enumerate(ps.instances):
        result = session.result_for(k)  # the fill, predicted joints laid over it
        manual = inst.source == Source.MANUAL
        poses = np.where(manual[:, :, None], inst.poses, result.poses).astype(np.float32)
        source = np.where(manual, inst.source, result.source).astype(np.int8)
        held = result.held & ~manual
        # the estimator's score travels with its joints (formats write it where they can)
        conf = result.confidence
        out.append(PoseInstance(inst.track_id, poses, source, inst.boxes, held, conf))
    ps.instances = out
    return ps


def export_to(
    session: Session, name: str, path: Path, frames: str = "all", images: str | None = None
) -> None:
    """Export through the same path as ``annotator export`` (``formats.exporting``)."""
    ps = filled_pose_set(session) if frames == "all" else session.doc.to_pose_set()
    write_with_video(ps, name, path, frames, images, session.doc.video.path)


def write_with_video(
    ps: PoseSet, name: str, path: Path, frames: str, images: str | None, video_path: str
) -> None:
    """``write_export`` with frame images read from a reader of its own (the session's
    reader belongs to its decoding thread), opened only when images are wanted."""
    from annotator.formats.exporting import write_export

    if images is None:
        write_export(ps, name, path, frames=frames)
        return
    if not video_path or not Path(video_path).is_file():
        raise AnnotatorError(
            f"frame images need the project's video, which was not found: {video_path}"
        )
    with open_reader(Path(video_path)) as video:
        write_export(ps, name, path, frames=frames, images=images, video=video)


def export_choices() -> list[ExportChoice]:
    from annotator.formats import registry
    from annotator.formats.exporting import image_types

    return [
        ExportChoice(f.name, f.description, f.extensions, f.is_folder, image_types(f.name))
        for f in registry.all_formats()
        if f.can_write
    ]


def export_base(session: Session) -> str:
    """Where an export is suggested, less its extension: beside the project once it has a
    file, else beside the video."""
    if session.path is not None:
        name = session.path.name
        stem = name[: -len(PROJECT_SUFFIX)] if name.endswith(PROJECT_SUFFIX) else session.path.stem
        return str(session.path.with_name(stem))
    video = Path(session.doc.video.path)
    return str(video.with_suffix(""))


def export_dialog(window: WindowServices, name: str | None) -> None:
    """Ask for the export's choices, then write it in a worker (frame images take a while)."""
    from annotator.formats.exporting import check_not_empty

    session = window.need_session()
    choices = export_choices()
    if not choices:
        raise AnnotatorError("no export format is available")
    request = window.reporter.choose_export(choices, name, export_base(session))
    if request is None:
        return
    # The labels are taken now, on the GUI thread: later edits do not change this export.
    ps = filled_pose_set(session) if request.frames == "all" else session.doc.to_pose_set()
    check_not_empty(ps, request.frames, session.doc, '"Every frame"')
    video = session.doc.video.path

    def job(_progress: Any, _should_stop: Any) -> None:
        write_with_video(
            ps, request.format, Path(request.path), request.frames, request.images, video
        )

    def done(_result: object) -> None:
        what = "every frame" if request.frames == "all" else "the manual labels"
        window.show_status(f"exported {what} as {request.format} to {request.path}", 6000)

    window.tasks.start(f"Exporting {request.format}", job, done, window.reporter.error)
