"""The project file's JSON schema: Document <-> dict, strict validation, migration, safe parsing.

The layout is documented in ``docs/project-format.md``. Reading is defensive: any file, however
malformed or hostile (NaN, huge numbers, deep nesting, gigantic arrays, wrong types), gives a
``ProjectError`` with one line naming the offending field, and never allocates more than the
limits below allow. Older schema versions are migrated here (``migrate``), never dropped.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Visibility
from annotator.core.document import (
    COORD_DECIMALS,
    MAX_FRAMES,
    MAX_INSTANCES,
    Document,
    FloatArray,
    Instance,
    Proposals,
    Review,
    VideoRef,
    empty_confidence,
    empty_labels,
)
from annotator.core.poseset import PoseSet
from annotator.core.skeleton import Skeleton
from annotator.errors import AnnotatorError, ProjectError

SCHEMA_PREFIX = "annotator.project/"
CURRENT_VERSION = 2  # 2: instances carry the predicted layer and its confidence
EXTENSION = ".annot.json"

MAX_FILE_BYTES = 256 * 1024 * 1024  # a 100,000-frame, 17-joint project is about 40 MB
MAX_LABEL_CELLS = 20_000_000  # frames x joints over all instances (240 MB of float32)
MAX_COORD = 1e7  # pixels; anything larger is a corrupt file, not a video
MAX_TEXT = 10_000
MAX_SETTINGS_DEPTH = 8
CONFIDENCE_DECIMALS = 4
TIME_TOLERANCE = 1e-3  # seconds between a stored frame's time and the timestamps


class _Invalid(Exception):
    """Internal: a validation failure with the JSON path of the offending value."""


# ---------------------------------------------------------------------------- parsing
def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def decode(raw: bytes) -> Any:
    """Parse JSON bytes safely: no NaN/Infinity, no overflowing numbers, bounded size/depth."""
    if len(raw) > MAX_FILE_BYTES:
        raise ProjectError(f"the file is larger than {MAX_FILE_BYTES >> 20} MiB")
    try:
        text = raw.decode("utf-8-sig")  # an editor's byte-order mark is not an error
    except UnicodeDecodeError:
        raise ProjectError("the file is not UTF-8 text") from None
    try:
        # Overflowing literals (1e999) parse as inf; every validator below refuses non-finite
        # numbers (a parse_float hook would do it too, at 3x the cost on large projects).
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ProjectError("the file is nested too deeply to be a project") from None
    except json.JSONDecodeError as err:
        raise ProjectError(f"the file is not valid JSON ({err.msg}, line {err.lineno})") from None
    except ValueError as err:  # from the hooks, or int() of a gigantic number
        raise ProjectError(f"the file holds an invalid number: {str(err)[:80]}") from None


def encode(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode(
        "utf-8"
    )


def encode_document(doc: Document, project_dir: Path | None = None) -> bytes:
    """The project file's bytes: ``encode(document_to_dict(doc))``, but with the label lists
    written directly as text (the slow part of a large project)."""
    data = document_to_dict(doc, project_dir, labels=False)
    times = [float(t) for t in doc.timestamps.tolist()]
    token = secrets.token_hex(8)
    for i, inst in enumerate(data["instances"]):
        inst["labels"] = f"{token}-{i}"  # a placeholder no user string can equal
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    for i in range(len(data["instances"])):
        body = _labels_json(doc.manual(i), doc.labelled_frames(i), times)
        text = text.replace(f'"{token}-{i}"', body, 1)
    return text.encode("utf-8")


# ---------------------------------------------------------------------------- checks
def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(f"{where} must be an object")
    return value


def _key(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise _Invalid(f"{where} must be an object")
    if key not in data:
        raise _Invalid(f"{where} is missing {key!r}")
    return data[key]


def _list(value: Any, where: str, max_len: int) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid(f"{where} must be a list")
    if len(value) > max_len:
        raise _Invalid(f"{where} has {len(value)} items, more than {max_len}")
    return value


def _int(value: Any, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{where} must be an integer")
    if not lo <= value <= hi:
        raise _Invalid(f"{where} must be between {lo} and {hi}")
    return value


def _num(value: Any, where: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(f"{where} must be a number")
    try:
        out = float(value)
    except OverflowError:
        raise _Invalid(f"{where} is out of range") from None
    if not (math.isfinite(out) and lo <= out <= hi):
        raise _Invalid(f"{where} must be between {lo:g} and {hi:g}")
    return out


def _str(value: Any, where: str, max_len: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{where} must be a string")
    if len(value) > max_len:
        raise _Invalid(f"{where} is longer than {max_len} characters")
    return value


def _opt_str(value: Any, where: str) -> str | None:
    return None if value is None else _str(value, where)


def _json_value(value: Any, where: str, depth: int = 0) -> Any:
    """A bounded JSON value for settings."""
    if depth > MAX_SETTINGS_DEPTH:
        raise _Invalid(f"{where} is nested too deeply")
    if value is None or isinstance(value, (bool, int, float)):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
            raise _Invalid(f"{where} is out of range")
        if isinstance(value, float) and not math.isfinite(value):
            raise _Invalid(f"{where} must be a finite number")
        return value
    if isinstance(value, str):
        return _str(value, where)
    if isinstance(value, list):
        return [_json_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            _str(k, where, 200): _json_value(v, f"{where}.{k}", depth + 1) for k, v in value.items()
        }
    raise _Invalid(f"{where} has an unsupported value")


def _float_array(values: Any, where: str, shape_tail: tuple[int, ...]) -> NDArray[np.float64]:
    """Nested lists of numbers/None -> float64 array (None -> NaN), validated vectorially."""
    try:
        arr = np.array(values, dtype=object)
    except (ValueError, TypeError):
        raise _Invalid(f"{where} must be a regular table of numbers") from None
    if arr.shape[1:] != shape_tail or arr.ndim != len(shape_tail) + 1:
        raise _Invalid(f"{where} must have shape (n, {', '.join(map(str, shape_tail))})")
    flat = arr.reshape(-1)
    if not set(map(type, flat)) <= {int, float, type(None)}:
        raise _Invalid(f"{where} must hold only numbers and nulls")
    try:
        out = flat.astype(np.float64).reshape(arr.shape)  # NumPy casts None to NaN
    except OverflowError:
        raise _Invalid(f"{where} holds a number out of range") from None
    if np.isinf(out).any():
        raise _Invalid(f"{where} holds a number out of range")
    return out


# ---------------------------------------------------------------------------- migration
def schema_version(data: Any) -> int:
    if not isinstance(data, dict) or "schema" not in data:
        raise ProjectError("the file is not an annotator project (no 'schema' field)")
    if not isinstance(data["schema"], str):
        raise ProjectError(
            f"the file is not an annotator project (its 'schema' is {type(data['schema']).__name__}"
            f" {str(data['schema'])[:40]}, not a name such as {SCHEMA_PREFIX}{CURRENT_VERSION})"
        )
    name = data["schema"]
    if not name.startswith(SCHEMA_PREFIX) or not name[len(SCHEMA_PREFIX) :].isdigit():
        raise ProjectError(f"the file is not an annotator project (schema {name[:60]!r})")
    version = int(name[len(SCHEMA_PREFIX) :][:6])
    if version > CURRENT_VERSION:
        raise ProjectError(
            f"the project was saved by a newer version (schema {version}); "
            f"this version reads schema {CURRENT_VERSION} and older"
        )
    return version


def migrate(data: Any) -> dict[str, Any]:
    """Bring any supported schema version up to the current one."""
    version = schema_version(data)
    try:
        if version == 0:
            data = _migrate_v0(data)
            version = 1
        if version == 1:
            data = _migrate_v1(data)
    except _Invalid as err:
        raise ProjectError(f"invalid project (schema {version}): {err}") from None
    return dict(data)


def _migrate_v1(old: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 had no predicted layer: every person gets an empty one. Anything malformed
    is left for ``_build`` to name."""
    new = dict(old)
    new["schema"] = f"{SCHEMA_PREFIX}2"
    insts = old.get("instances")
    if isinstance(insts, list):
        new["instances"] = [{**i, "predicted": []} if isinstance(i, dict) else i for i in insts]
    return new


def _migrate_v0(old: dict[str, Any]) -> dict[str, Any]:
    """Schema 0 (pre-release): one person, two-state visibility, ``labels`` keyed by frame."""
    frames = _int(_key(old, "frame_count", "project"), "frame_count", 1, MAX_FRAMES)
    fps = _num(old.get("fps", 0.0), "fps", 0.0, 10_000.0)
    skel = _key(old, "skeleton", "project")
    if isinstance(skel, str):
        from annotator.core.skeleton import builtin

        try:
            skel = builtin(skel).to_dict()
        except AnnotatorError as err:
            raise _Invalid(f"skeleton: {err}") from None
    rate = fps if fps > 0 else 1.0
    labels = []
    raw = _obj(old.get("labels", {}), "labels")
    if len(raw) > frames:
        raise _Invalid("labels has more frames than the video")
    visibility = {True: int(Visibility.VISIBLE), False: int(Visibility.OCCLUDED)}
    for key in raw:
        if not (key.isascii() and key.isdigit()) or len(key) > 9:
            raise _Invalid(f"labels key {key[:20]!r} is not a frame number")
    for key in sorted(raw, key=int):
        frame = int(key)
        rows = []
        for j, row in enumerate(_list(raw[key], f"labels.{key}", 1024)):
            row = _list(row, f"labels.{key}[{j}]", 3)
            if len(row) != 3 or not (row[2] is None or isinstance(row[2], bool)):
                raise _Invalid(f"labels.{key}[{j}] must be [x, y, true|false|null]")
            if row[2] is None:
                rows.append([None, None, int(Visibility.UNLABELLED)])
            else:
                rows.append([row[0], row[1], visibility[row[2]]])
        labels.append({"frame": frame, "time": frame / rate, "joints": rows})
    keyframes = [
        _int(f, "keyframes[]", 0, frames - 1)
        for f in _list(old.get("keyframes", []), "keyframes", frames)
    ]
    proposals = (
        {
            "method": "manual",
            "frames": [
                {"frame": f, "time": f / rate, "score": None} for f in sorted(set(keyframes))
            ],
        }
        if keyframes
        else None
    )
    video = old.get("video", "")
    return {
        "schema": f"{SCHEMA_PREFIX}1",
        "video": {
            "path": video if isinstance(video, str) else "",
            "fingerprint": old.get("fingerprint"),
            "frame_count": frames,
            "fps": fps,
            "width": old.get("width", 0),
            "height": old.get("height", 0),
        },
        "timestamps": {"start": 0.0, "fps": rate},
        "skeletons": [skel],
        "skeleton": 0,
        "instances": [{"track_id": 0, "skeleton": 0, "labels": labels}],
        "proposals": proposals,
        "gate": [],
        "flags": [],
        "reviews": [],
        "scene_cuts": [],
        "settings": {},
    }


# ---------------------------------------------------------------------------- writing
def _relative_video_path(video_path: str, project_dir: Path | None) -> str:
    if not video_path or project_dir is None:
        return video_path
    try:
        return os.path.relpath(os.path.abspath(video_path), os.path.abspath(project_dir))
    except ValueError:  # another drive on Windows
        return video_path


def _labels_json(labels: FloatArray, frames: NDArray[np.int64], times: list[float]) -> str:
    """JSON text of one instance's label entries, built directly (100k frames in ~1 s).

    Coordinates are already quantised to ``COORD_DECIMALS`` by the document, so rounding the
    float32 values here gives short decimals that read back to the very same float32.
    """
    block = labels[frames]
    xy = np.round(block[:, :, :2].astype(np.float64), COORD_DECIMALS).tolist()
    vis = block[:, :, 2].astype(np.int64).tolist()
    entries = []
    for f, rows_xy, rows_v in zip(frames.tolist(), xy, vis, strict=True):
        joints = ",".join(
            f"[{x!r},{y!r},{v}]" if v in (1, 2) else f"[null,null,{v}]"
            for (x, y), v in zip(rows_xy, rows_v, strict=True)
        )
        entries.append(f'{{"frame":{f},"time":{times[f]!r},"joints":[{joints}]}}')
    return "[" + ",".join(entries) + "]"


def _predicted_json(doc: Document, instance: int, times: list[float]) -> list[dict[str, Any]]:
    """The predicted layer's entries: frames with any predicted joint, each with its joints
    (as labels are written) and one confidence per joint (null where none)."""
    frames = doc.predicted_frames(instance)
    if not frames.size:
        return []
    entries = json.loads(_labels_json(doc.predicted(instance), frames, times))
    conf = doc.confidence(instance)[frames].astype(np.float64)
    rounded = np.round(conf, CONFIDENCE_DECIMALS).tolist()
    for entry, row in zip(entries, rounded, strict=True):
        entry["confidence"] = [None if math.isnan(c) else c for c in row]
    return list(entries)


def document_to_dict(
    doc: Document, project_dir: Path | None = None, labels: bool = True
) -> dict[str, Any]:
    """The current-schema dict of ``doc``; the video path is made relative to ``project_dir``.

    With ``labels=False`` the instances' ``labels`` lists are left empty (for callers that
    store labels their own way: the fast encoder and the recovery journal).
    """
    ts = doc.timestamps
    times = [float(t) for t in ts.tolist()]

    def ref(frame: int) -> dict[str, Any]:
        return {"frame": int(frame), "time": times[frame]}

    skeletons: list[Skeleton] = [doc.skeleton]
    for inst in doc.instances:
        if inst.skeleton not in skeletons:
            skeletons.append(inst.skeleton)
    instances = []
    for i, inst in enumerate(doc.instances):
        entries = (
            json.loads(_labels_json(doc.manual(i), doc.labelled_frames(i), times)) if labels else []
        )
        instances.append(
            {
                "track_id": inst.track_id,
                "skeleton": skeletons.index(inst.skeleton),
                "labels": entries,
                "predicted": _predicted_json(doc, i, times),
            }
        )
    proposals = doc.proposals
    v = doc.video
    return {
        "schema": f"{SCHEMA_PREFIX}{CURRENT_VERSION}",
        "video": {
            "path": _relative_video_path(v.path, project_dir),
            "absolute_path": os.path.abspath(v.path) if v.path else None,
            "fingerprint": v.fingerprint,
            "frame_count": v.frame_count,
            "fps": v.fps,
            "width": v.width,
            "height": v.height,
        },
        "timestamps": _timestamps_to_json(ts, doc.video.fps),
        "skeletons": [s.to_dict() for s in skeletons],
        "skeleton": 0,
        "instances": instances,
        "proposals": None
        if proposals is None
        else {
            "method": proposals.method,
            "frames": [{**ref(f), "score": proposals.score_of(f)} for f in proposals.frames],
            # One score per video frame (the contract's proposals scores): the score curve.
            "scores": None if proposals.scores is None else list(proposals.scores),
        },
        "gate": [
            {**ref(f), "decision": int(doc.gate[f])} for f in np.flatnonzero(doc.gate >= 0).tolist()
        ],
        "flags": [{**ref(f), "reason": r} for f, r in sorted(doc.flags.items())],
        "reviews": [{**ref(f), "by": r.by, "at": r.at} for f, r in sorted(doc.reviews.items())],
        "scene_cuts": [ref(f) for f in doc.scene_cuts],
        "settings": dict(doc.settings),
    }


def _uniform(start: float, fps: float, n: int) -> NDArray[np.float64]:
    return start + np.arange(n, dtype=np.float64) / fps


def _timestamps_to_json(ts: NDArray[np.float64], fps: float) -> Any:
    """``{"start", "fps"}`` when that regenerates ``ts`` bit for bit, else the full list."""
    n = ts.size
    candidates = [fps] if fps > 0 else []
    if n > 1 and ts[1] > ts[0]:
        candidates.append(float(1.0 / (ts[1] - ts[0])))
    for rate in candidates:
        if math.isfinite(rate) and np.array_equal(_uniform(float(ts[0]), rate, n), ts):
            return {"start": float(ts[0]), "fps": rate}
    return [float(t) for t in ts.tolist()]


# ---------------------------------------------------------------------------- reading
def document_from_dict(data: Any, project_dir: Path | None = None) -> Document:
    """Validate a (migrated, current-schema) dict and build the document."""
    data = migrate(data)
    try:
        return _build(data, project_dir)
    except _Invalid as err:
        raise ProjectError(f"invalid project: {err}") from None
    except AnnotatorError as err:
        raise ProjectError(f"invalid project: {err}") from None


def _build(data: dict[str, Any], project_dir: Path | None) -> Document:
    v = _obj(_key(data, "video", "project"), "video")
    frames = _int(_key(v, "frame_count", "video"), "video.frame_count", 1, MAX_FRAMES)
    path = _str(v.get("path", ""), "video.path", 4096)
    if path and project_dir is not None and not os.path.isabs(path):
        path = os.path.normpath(os.path.join(project_dir, path))
    fingerprint = _opt_str(v.get("fingerprint"), "video.fingerprint")
    video = VideoRef(
        path=path,
        fingerprint=fingerprint,
        frame_count=frames,
        fps=_num(v.get("fps", 0.0), "video.fps", 0.0, 10_000.0),
        width=_int(v.get("width", 0), "video.width", 0, 1 << 20),
        height=_int(v.get("height", 0), "video.height", 0, 1 << 20),
    )
    _opt_str(v.get("absolute_path"), "video.absolute_path")  # a hint store.py may use
    timestamps = _timestamps_from_json(_key(data, "timestamps", "project"), frames)

    skel_list = _list(_key(data, "skeletons", "project"), "skeletons", MAX_INSTANCES + 1)
    if not skel_list:
        raise _Invalid("skeletons must not be empty")
    skeletons = []
    for k, s in enumerate(skel_list):
        try:
            skeletons.append(Skeleton.from_dict(_obj(s, f"skeletons[{k}]")))
        except AnnotatorError as err:
            raise _Invalid(f"skeletons[{k}]: {err}") from None
    main = _int(data.get("skeleton", 0), "skeleton", 0, len(skeletons) - 1)
    doc = Document(video, skeletons[main], timestamps)

    def frame_ref(entry: Any, where: str) -> int:
        entry = _obj(entry, where)
        f = _int(_key(entry, "frame", where), f"{where}.frame", 0, frames - 1)
        t = _num(_key(entry, "time", where), f"{where}.time", -1e9, 1e9)
        if abs(t - timestamps[f]) > TIME_TOLERANCE:
            raise _Invalid(f"{where}.time {t:g} s does not match frame {f} ({timestamps[f]:g} s)")
        return f

    insts = _list(_key(data, "instances", "project"), "instances", MAX_INSTANCES)
    if not insts:
        raise _Invalid("instances must not be empty")
    cells = sum(
        skeletons[
            _int(
                _obj(i, "instances[]").get("skeleton", 0),
                "instances[].skeleton",
                0,
                len(skeletons) - 1,
            )
        ].num_joints
        for i in insts
    )
    if cells * frames > MAX_LABEL_CELLS:
        raise _Invalid(f"{frames} frames x {cells} joints is more than this app can hold")
    for k, raw in enumerate(insts):
        where = f"instances[{k}]"
        inst = _obj(raw, where)
        track = _int(_key(inst, "track_id", where), f"{where}.track_id", 0, 2**31 - 1)
        skel = skeletons[_int(inst.get("skeleton", 0), f"{where}.skeleton", 0, len(skeletons) - 1)]
        labels = _labels(
            _list(inst.get("labels", []), f"{where}.labels", frames),
            skel,
            frame_ref,
            timestamps,
            f"{where}.labels",
        )
        predicted, confidence = _predicted(
            _list(inst.get("predicted", []), f"{where}.predicted", frames),
            skel,
            frame_ref,
            timestamps,
            f"{where}.predicted",
        )
        if any(i.track_id == track for i in doc.instances):
            raise _Invalid(f"{where}.track_id {track} is used twice")
        doc.insert_instance(k, Instance(track, skel), labels, predicted, confidence)

    props = data.get("proposals")
    if props is not None:
        props = _obj(props, "proposals")
        method = _str(props.get("method", ""), "proposals.method", 200)
        entries = _list(_key(props, "frames", "proposals"), "proposals.frames", frames)
        pf = [frame_ref(e, f"proposals.frames[{i}]") for i, e in enumerate(entries)]
        if pf != sorted(set(pf)):
            raise _Invalid("proposals.frames must be sorted and unique")
        # Scores are one per video frame; files written before they were kept per proposed
        # frame only, which cannot rebuild the curve, so those scores are not read.
        raw_scores = props.get("scores")
        vals: tuple[float, ...] | None = None
        if raw_scores is not None:
            items = _list(raw_scores, "proposals.scores", frames)
            if len(items) != frames:
                raise _Invalid(f"proposals.scores must hold {frames} values, one per frame")
            vals = tuple(
                _num(s, f"proposals.scores[{i}]", -1e12, 1e12) for i, s in enumerate(items)
            )
        doc.set_proposals(Proposals(tuple(pf), vals, method))

    gate = np.full(frames, -1, dtype=np.int8)
    for i, e in enumerate(_list(data.get("gate", []), "gate", frames)):
        f = frame_ref(e, f"gate[{i}]")
        gate[f] = _int(_key(e, "decision", f"gate[{i}]"), f"gate[{i}].decision", 0, 1)
    if (gate >= 0).any():
        doc.set_gate(0, gate)

    flags: dict[int, str] = {}
    for i, e in enumerate(_list(data.get("flags", []), "flags", frames)):
        flags[frame_ref(e, f"flags[{i}]")] = _str(
            _key(e, "reason", f"flags[{i}]"), f"flags[{i}].reason"
        )
    doc.set_flags(0, frames, flags)

    reviews: dict[int, Review] = {}
    for i, e in enumerate(_list(data.get("reviews", []), "reviews", frames)):
        f = frame_ref(e, f"reviews[{i}]")
        reviews[f] = Review(
            _str(_key(e, "by", f"reviews[{i}]"), f"reviews[{i}].by", 200),
            _str(_key(e, "at", f"reviews[{i}]"), f"reviews[{i}].at", 64),
        )
    doc.set_reviews(0, frames, reviews)

    for i, e in enumerate(_list(data.get("scene_cuts", []), "scene_cuts", frames)):
        doc.set_scene_cut(frame_ref(e, f"scene_cuts[{i}]"), True)

    settings = _obj(data.get("settings", {}), "settings")
    if len(settings) > 10_000:
        raise _Invalid("settings has too many entries")
    for key, value in _json_value(settings, "settings").items():
        if value is not None:
            doc.set_setting(key, value)
    return doc


def _timestamps_from_json(value: Any, frames: int) -> NDArray[np.float64]:
    if isinstance(value, dict):
        start = _num(_key(value, "start", "timestamps"), "timestamps.start", -1e9, 1e9)
        fps = _num(_key(value, "fps", "timestamps"), "timestamps.fps", 1e-6, 1e6)
        return _uniform(start, fps, frames)
    values = _list(value, "timestamps", frames)
    if len(values) != frames:
        raise _Invalid(f"timestamps has {len(values)} values for {frames} frames")
    arr = _float_array([[t] for t in values], "timestamps", (1,))[:, 0]
    if not np.isfinite(arr).all() or (np.abs(arr) > 1e9).any():
        raise _Invalid("timestamps must be finite numbers")
    if (np.diff(arr) < 0).any():
        raise _Invalid("timestamps must not decrease")
    return arr


def _fast_frame_refs(entries: list[Any], timestamps: NDArray[np.float64]) -> list[int] | None:
    """Frame numbers of well-formed entries, checked in bulk; None if any entry is not."""
    if not all(type(e) is dict for e in entries):
        return None
    frames = [e.get("frame") for e in entries]
    times = [e.get("time") for e in entries]
    if set(map(type, frames)) != {int} or not set(map(type, times)) <= {int, float}:
        return None
    f = np.array(frames, dtype=object)
    if f.min() < 0 or f.max() >= timestamps.size:
        return None
    try:
        t = np.array(times, dtype=np.float64)
    except OverflowError:  # an integer time beyond float range
        return None
    if (
        not np.isfinite(t).all()
        or (np.abs(t - timestamps[f.astype(np.int64)]) > TIME_TOLERANCE).any()
    ):
        return None
    return frames


def _labels(
    entries: list[Any],
    skel: Skeleton,
    frame_ref: Any,
    timestamps: NDArray[np.float64],
    where: str,
) -> FloatArray:
    out = empty_labels(timestamps.size, skel.num_joints)
    if not entries:
        return out
    idx = _fast_frame_refs(entries, timestamps)
    if idx is None:  # something is wrong: the slow path names the offending entry
        idx = [frame_ref(e, f"{where}[{i}]") for i, e in enumerate(entries)]
    if len(set(idx)) != len(idx):
        raise _Invalid(f"{where} has a frame twice")
    rows = [_key(e, "joints", f"{where}[{i}]") for i, e in enumerate(entries)]
    arr = _float_array(rows, f"{where}[].joints", (skel.num_joints, 3))
    vis = arr[:, :, 2]
    if not np.isin(vis, (0, 1, 2, 3)).all():
        raise _Invalid(f"{where}: visibility codes must be 0, 1, 2 or 3")
    has_pos = (vis == 1) | (vis == 2)
    xy = arr[:, :, :2]
    finite = np.isfinite(xy).all(axis=2)
    if (has_pos & ~finite).any():
        raise _Invalid(f"{where}: a visible or occluded joint has no position")
    if (np.abs(np.where(np.isfinite(xy), xy, 0.0)) > MAX_COORD).any():
        raise _Invalid(f"{where}: a coordinate is beyond {MAX_COORD:g} pixels")
    xy[~has_pos] = np.nan
    out[np.asarray(idx)] = arr.astype(np.float32)
    return out


def _predicted(
    entries: list[Any],
    skel: Skeleton,
    frame_ref: Any,
    timestamps: NDArray[np.float64],
    where: str,
) -> tuple[FloatArray, NDArray[np.float32]]:
    """The predicted layer (entries as labels, plus ``confidence``) and its confidence."""
    values = _labels(entries, skel, frame_ref, timestamps, where)
    conf = empty_confidence(timestamps.size, skel.num_joints)
    if not entries:
        return values, conf
    idx = [frame_ref(e, f"{where}[{i}]") for i, e in enumerate(entries)]
    rows = [_key(e, "confidence", f"{where}[{i}]") for i, e in enumerate(entries)]
    arr = _float_array(
        [[[c] for c in _list(r, f"{where}[].confidence", skel.num_joints)] for r in rows],
        f"{where}[].confidence",
        (skel.num_joints, 1),
    )[:, :, 0]
    if (np.isfinite(arr) & ((arr < 0) | (arr > 1))).any():
        raise _Invalid(f"{where}: confidence must lie in 0..1")
    conf[np.asarray(idx)] = arr.astype(np.float32)
    unknown = values[:, :, 2] == Visibility.UNLABELLED
    conf[unknown] = np.nan
    return values, conf


# ---------------------------------------------------------------------------- pose sets
def check_pose_set(ps: PoseSet, what: str, error: type[AnnotatorError] = ProjectError) -> None:
    """Refuse a ``PoseSet`` that a project could not hold: the very limits ``_build`` enforces
    when a project is loaded, so labels that import (or fill) are labels that save and load."""
    f, j, n = ps.frame_count, ps.skeleton.num_joints, len(ps.instances)
    if not 1 <= f <= MAX_FRAMES:
        raise error(f"{what}: {f} frames is out of range (1 to {MAX_FRAMES:,})")
    if n > MAX_INSTANCES:
        raise error(f"{what}: {n} people is more than the {MAX_INSTANCES} a project holds")
    if f * j * max(n, 1) > MAX_LABEL_CELLS:
        raise error(f"{what}: {f} frames x {j} joints x {n} people is more than a project holds")
    tracks = [inst.track_id for inst in ps.instances]
    if any(not 0 <= t <= 2**31 - 1 for t in tracks) or len(set(tracks)) != len(tracks):
        raise error(f"{what}: track ids must be distinct integers from 0 to {2**31 - 1}")
    for inst in ps.instances:
        vis = inst.poses[:, :, 2]
        if not np.isin(vis, (0, 1, 2, 3)).all():
            raise error(f"{what}: person {inst.track_id} has visibility codes other than 0-3")
        xy = inst.poses[:, :, :2]
        if np.isinf(xy).any():
            raise error(f"{what}: person {inst.track_id} has an infinite coordinate")
        if (np.abs(np.nan_to_num(xy)) > MAX_COORD).any():
            raise error(
                f"{what}: person {inst.track_id} has a coordinate beyond {MAX_COORD:g} pixels"
            )
    if ps.timestamps is not None:
        ts = ps.timestamps
        if not np.isfinite(ts).all() or (np.abs(ts) > 1e9).any() or (np.diff(ts) < 0).any():
            raise error(f"{what}: timestamps must be finite, within 1e9 s and not decrease")
    if ps.fps is not None and not (math.isfinite(ps.fps) and 0 <= ps.fps <= 10_000):
        raise error(f"{what}: a frame rate of {ps.fps!r} is out of range (0 to 10000)")
    for key, size in (("width", ps.width), ("height", ps.height)):
        if size is not None and not 0 <= size <= 1 << 20:
            raise error(f"{what}: {key} {size} is out of range")
    if ps.video_path is not None and len(ps.video_path) > 4096:
        raise error(f"{what}: the video path is longer than 4096 characters")
