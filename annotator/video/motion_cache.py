"""A video's motion fields as a disk store, extracted once and reused: what the app, ``fill
--video`` and the benchmarks read.

``open_motion(path)`` returns the :class:`~annotator.video.motion_store.MotionStore` cached
for the video's fingerprint under ``cache_dir("motion")``, extracting it first when there is
none. The extraction streams every frame's field straight into the store's temporary file
(``StoreWriter``), so even a 100,000-frame 1080p video never has its fields in memory; the
store takes the cache name only when complete. A store that does not read back (truncated,
damaged, another version or another video) is logged and rebuilt; caches of earlier versions
(``.npz`` files of whole fields) have other names and are never read.

The cell defaults to ``store_cell`` of the video's size (8 px up to 720p, 12 px at 1080p:
under 100 KB per frame on disk). ``field`` chooses what the vectors are made of (``FIELDS``:
the codec's vectors by default, or an optical flow on the decoded luma); each field has its
own store, named and checked by it. An optical flow's cell defaults to ``FLOW_CELL_FACTOR``
times the codec store's (16 px at 720p, 24 px at 1080p): the app keeps both stores of a video
(the codec's for the gate and the residual row, the flow for the fill), and together they stay
under the 100 KB per 1080p frame bound (``bench propagation --sections store`` prints both).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from annotator.core.fingerprint import video_fingerprint
from annotator.core.paths import cache_dir
from annotator.core.progress import Progress, ShouldStop, part
from annotator.errors import VideoError
from annotator.video.flow import DIS_MAX_SIDE
from annotator.video.motion_extract import (
    FrameSink,
    NoVectorsFound,
    RawFields,
    UnsupportedCodec,
    open_video_stream,
    run_flow,
    run_vectors,
)
from annotator.video.motion_proxy import make_h264_proxy
from annotator.video.motion_store import (
    FIELDS,
    STORE_VERSION,
    Field,
    MotionStore,
    StoreWriter,
    store_cell,
)
from annotator.video.motion_vectors import UNIT

log = logging.getLogger(__name__)

DEFAULT_MAX_DISTANCE = 8
FLOW_CELL_FACTOR = 2
"""An optical flow field's default cell over the codec store's: a quarter of the cells, so the
two stores together cost 1.25 times the codec store alone (see the module docstring)."""
Fallback = Literal["flow", "proxy"]


def default_cell(path: str | Path, field: Field = "mv") -> int:
    """``store_cell`` of the video's coded size (a turned picture has as many cells); for an
    optical flow field ``FLOW_CELL_FACTOR`` times that (``flow_cell``)."""
    container, stream = open_video_stream(Path(path))
    try:
        width, height = int(stream.codec_context.width), int(stream.codec_context.height)
    finally:
        container.close()
    cell = store_cell(width, height)
    return cell if field == "mv" else flow_cell(cell)


def flow_cell(codec_cell: int) -> int:
    """The default cell of an optical flow store beside a codec store of ``codec_cell``."""
    return FLOW_CELL_FACTOR * codec_cell


def store_path(
    path: Path, cell: int, max_distance: int, fallback: str, field: str = "mv"
) -> tuple[Path, str]:
    """Where ``path``'s store lives, and the video's fingerprint."""
    try:
        fingerprint = video_fingerprint(path)
    except OSError as exc:
        raise VideoError(f"cannot read {path}: {exc}") from exc
    # "dis" names its size: its stores from before DIS_MAX_SIDE (640 px) are not read as it
    kind = "" if field == "mv" else f"-dis{DIS_MAX_SIDE}" if field == "dis" else f"-{field}"
    name = f"{fingerprint}-c{cell}-d{max_distance}-{fallback}{kind}-s{STORE_VERSION}.mvs"
    return cache_dir("motion") / name, fingerprint


def check_arguments(
    path: Path, cell: int, max_distance: int, fallback: str, field: str = "mv"
) -> None:
    if field not in FIELDS:
        raise VideoError(f"unknown motion field {field!r}: use {', '.join(FIELDS)}")
    if cell <= 0 or cell % UNIT:
        raise VideoError(f"motion cell size must be a positive multiple of {UNIT} px, not {cell}")
    if not 1 <= max_distance <= 16:
        raise VideoError(f"reference distance must be 1..16 frames, not {max_distance}")
    if not path.is_file():
        raise VideoError(f"video file not found: {path}")
    if fallback not in ("flow", "proxy"):
        raise VideoError(f"unknown motion fallback {fallback!r}: use 'flow' or 'proxy'")


def flow_note(codec: str) -> str:
    return (
        f"{codec} video has no motion vectors FFmpeg can export; using OpenCV dense optical "
        "flow instead (an estimate, flagged kind='flow'), or re-encode a copy to H.264"
    )


def extract_raw(
    path: Path,
    cell: int,
    max_distance: int,
    fallback: Fallback,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    sink_for: StoreWriter | None = None,
    field: Field = "mv",
) -> RawFields:
    """Codec vectors, else the fallback; every frame's arrays go to ``sink_for`` when given
    (a writer: restarted from scratch if the vectors turn out unusable after some frames).
    ``field`` other than "mv": that optical flow for every video, vectors or not."""
    if field != "mv":
        note = f"{field} optical flow on the decoded luma (chosen, not a fallback)"
        return run_flow(path, cell, note, progress, should_stop, _sink(sink_for), method=field)
    note = ""
    # run_vectors opens the video once and checks the codec itself (no separate
    # motion_support() call: opening a container costs tens of milliseconds).
    try:
        return run_vectors(path, cell, max_distance, progress, should_stop, _sink(sink_for))
    except UnsupportedCodec as exc:
        note = flow_note(exc.codec)
    except NoVectorsFound:
        note = (
            "this video has no motion vectors (intra-only); using OpenCV dense optical "
            "flow instead (an estimate, flagged kind='flow')"
        )
    if fallback == "proxy":
        log.warning("%s: %s; re-encoding a private H.264 copy", path.name, note)
        proxy = make_h264_proxy(path, progress=part(progress, 0.0, 0.5), should_stop=should_stop)
        raw = run_vectors(
            proxy, cell, max_distance, part(progress, 0.5, 1.0), should_stop, _sink(sink_for)
        )
        raw.note = f"{note.split(';')[0]}; vectors come from a private H.264 re-encode"
        return raw
    log.warning("%s: %s", path.name, note)
    return run_flow(path, cell, note, progress, should_stop, _sink(sink_for))


def _sink(writer: StoreWriter | None) -> FrameSink | None:
    """The writer's ``add``, from an empty store (a failed first try may have written)."""
    if writer is None:
        return None
    writer.restart()
    return writer.add


def open_motion(
    path: str | Path,
    *,
    cell: int | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    fallback: Fallback = "flow",
    field: Field = "mv",
) -> MotionStore:
    """The motion store of ``path`` (see the module docstring). ``cell`` None: chosen from
    the video's size and the field (``default_cell``). Progress, cancel (``Cancelled``, nothing cached) and errors as
    ``extract_motion``; ``field`` as in :func:`extract_raw` (each has its own store)."""
    path = Path(path)
    if cell is None:
        check_arguments(path, UNIT, max_distance, fallback, field)
        cell = default_cell(path, field)
    check_arguments(path, cell, max_distance, fallback, field)
    target, fingerprint = store_path(path, cell, max_distance, fallback, field)
    if target.is_file():
        try:
            store = MotionStore(target, fingerprint, field)
        except VideoError as exc:  # a damaged cache is rebuilt, never an error
            log.warning("rebuilding the motion cache: %s", exc)
        else:
            if progress is not None:
                progress(1.0)
            return store
    with StoreWriter(target) as writer:
        raw = extract_raw(path, cell, max_distance, fallback, progress, should_stop, writer, field)
        # Frames leave the decoder in presentation order, but some containers (AVI with
        # B-frames) stamp them with decode-order times; the sorted stamps are the times.
        writer.finish(
            kind="flow" if raw.kind == "flow" else "mv",
            cell=cell,
            width=raw.width,
            height=raw.height,
            codec=raw.codec,
            note=raw.note,
            picture_types="".join(raw.pictures),
            times=sorted(raw.times),
            derived=list(raw.derived),
            fingerprint=fingerprint,
            field=field,
        )
    return MotionStore(target, fingerprint, field)
