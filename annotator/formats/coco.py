"""COCO keypoints JSON, both ways; optionally with the frame images beside it.

One image record per exported frame (``file_name``, ``frame_index``, ``timestamp``,
``width``, ``height``); ``file_name`` names the written image, and is empty when no images are
written (the file never references an image that does not exist: ``frame_index`` and the
video in ``info`` locate the picture), one annotation per person with ``keypoints`` [x, y, v] (v per the
contract: visible 2, occluded 1, absent/unlabelled 0 with x = y = 0), ``num_keypoints``,
``bbox`` from the joints, ``track_id``, and two extra per-joint lists COCO tools ignore:
``visibility`` (the app's 4 codes, so absent survives), ``source`` (manual, hpim, ...) and,
when the fill said so, ``held`` (true where the value is held from the nearest label, before
the first or after the last one, rather than filled between labels). Where an estimator
gave joints (source ``predicted``), ``keypoint_scores`` lists each joint's confidence (null on
the others) and ``score`` their mean, as pose estimators' COCO results carry them; import
reads ``keypoint_scores`` back as the confidence of the predicted joints (and, in a file with
no ``source`` lists, a scored joint as a model's output: ``predicted``).
The category carries the joint names and the 1-based skeleton edges. ``info`` holds the
frame count, fps and video path. Must load with ``pycocotools.coco.COCO``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.codes import SOURCE_NAMES, Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet, predicted_confidence
from annotator.core.safeio import parse_json, temp_sibling
from annotator.core.skeleton import Skeleton
from annotator.errors import AnnotatorError, FormatError
from annotator.formats._common import (
    atomic_file,
    check_frame_count,
    check_new_dir,
    check_target,
    check_values,
    empty_instances,
    labelled_frames,
    match_skeleton,
    parse_int,
    place_dir,
    read_text_limited,
    select_values,
)
from annotator.formats._frames import (
    IMAGE_TYPES,
    FrameSource,
    frame_source,
    read_frame,
    write_image,
)
from annotator.formats.adaptor import FormatAdaptor

# ``info.description`` of our exports: their image ids are frame + 1.
DESCRIPTION = "pose labels exported by annotator"
# The frame images an export writes (``_write``): what a re-export may replace.
IMAGE_NAME = re.compile(r"\d{6,}\.(?:jpg|png)")


def images_dir_for(path: Path) -> Path:
    """Where the frame images of a COCO export at ``path`` go."""
    return path.with_name(f"{path.stem}_images")


def write_coco(
    ps: PoseSet,
    path: Path,
    frames: str = "manual",
    images: str | None = None,
    video: Any = None,
    **options: Any,
) -> None:
    """``frames``: 'manual' (frames with a manual label, manual values only) or 'all' (every
    frame with a value, filled ones marked in ``source``). ``images``: 'jpg'/'png' to write the
    frames beside the JSON, read from ``video`` (an open reader the caller closes)."""
    if images is not None and images not in IMAGE_TYPES:
        raise FormatError(f"images must be one of {', '.join(IMAGE_TYPES)}, not {images!r}")
    check_target(path)
    if images is not None:
        check_new_dir(images_dir_for(path), IMAGE_NAME)
    instances = select_values(ps, frames)
    chosen = labelled_frames(ps, frames)
    source = frame_source(video) if images else None
    _write(ps, path, frames, instances, chosen, images, source)


def _write(
    ps: PoseSet,
    path: Path,
    frames: str,
    instances: list[PoseInstance],
    chosen: np.ndarray,
    images: str | None,
    source: FrameSource | None,
) -> None:
    img_dir = images_dir_for(path)
    ext = images or "jpg"
    times = ps.frame_times()
    width, height = ps.width or 0, ps.height or 0
    tmp_img = temp_sibling(img_dir, folder=True) if source is not None else None
    try:
        records = []
        for f in chosen:
            name = f"{img_dir.name}/{int(f):06d}.{ext}" if source is not None else ""
            if source is not None and tmp_img is not None:
                rgb = read_frame(source, int(f))
                height, width = int(rgb.shape[0]), int(rgb.shape[1])
                write_image(tmp_img / Path(name).name, rgb, ext)
            records.append(
                {
                    "id": int(f) + 1,
                    "file_name": name,
                    "frame_index": int(f),
                    "timestamp": round(float(times[f]), 6),
                    "width": int(width),
                    "height": int(height),
                }
            )
        doc = {
            "info": {
                "description": DESCRIPTION,
                "version": "1.0",
                "frame_count": ps.frame_count,
                "fps": ps.fps,
                "video": ps.video_path,
                "skeleton": ps.skeleton.name,
                "frames": frames,
            },
            "licenses": [],
            "images": records,
            "annotations": _annotations(instances, chosen),
            "categories": [_category(ps.skeleton)],
        }
        text = json.dumps(doc, separators=(",", ":"), allow_nan=False)  # C encoder: fast
        with atomic_file(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
            if tmp_img is not None:
                place_dir(tmp_img, img_dir, IMAGE_NAME)
                tmp_img = None
    finally:
        if tmp_img is not None:
            shutil.rmtree(tmp_img, ignore_errors=True)


def _category(sk: Skeleton) -> dict[str, Any]:
    return {
        "id": 1,
        "name": "person",
        "supercategory": "person",
        "keypoints": list(sk.joints),
        "skeleton": [[a + 1, b + 1] for a, b in sk.edges],
    }


_COCO_V = np.array([Visibility(c).to_coco() for c in range(4)], dtype=np.int64)


def _annotations(instances: list[PoseInstance], frames: np.ndarray) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    # Per-instance arrays once: recomputing them per frame would make long exports quadratic.
    prepared = []
    for inst in instances:
        has = inst.has_position()
        vis = inst.visibility.copy()
        vis[~has & ((vis == Visibility.VISIBLE) | (vis == Visibility.OCCLUDED))] = 0  # no x, y
        xy = np.where(has[:, :, None], inst.poses[:, :, :2].astype(np.float64), 0.0).round(3)
        kps = np.concatenate([xy, _COCO_V[vis][:, :, None]], axis=2)
        names = np.array(SOURCE_NAMES, dtype=object)[inst.source.astype(np.int64)]
        conf = predicted_confidence(inst)
        prepared.append((inst.track_id, has, vis, kps, names, inst.held, conf))
    for f in frames:
        for track_id, has, vis, kps, names, held, conf in prepared:
            if not (vis[f] != Visibility.UNLABELLED).any():
                continue
            if has[f].any():
                pts = kps[f, has[f], :2]
                x0, y0 = pts.min(axis=0)
                x1, y1 = pts.max(axis=0)
                bbox = [float(x0), float(y0), round(float(x1 - x0), 3), round(float(y1 - y0), 3)]
            else:
                bbox = [0.0, 0.0, 0.0, 0.0]
            record: dict[str, Any] = {
                "id": len(out) + 1,
                "image_id": int(f) + 1,
                "category_id": 1,
                "iscrowd": 0,
                "keypoints": [
                    int(v) if k % 3 == 2 else v for k, v in enumerate(kps[f].ravel().tolist())
                ],
                "num_keypoints": int(has[f].sum()),
                "bbox": bbox,
                "area": round(bbox[2] * bbox[3], 3),
                "track_id": track_id,
                "visibility": vis[f].tolist(),
                "source": names[f].tolist(),
            }
            if held is not None:
                record["held"] = held[f].tolist()
            if conf is not None and np.isfinite(conf[f]).any():
                scores = conf[f].astype(np.float64)
                record["keypoint_scores"] = [
                    round(float(c), 4) if np.isfinite(c) else None for c in scores
                ]
                record["score"] = round(float(np.nanmean(scores)), 4)
            out.append(record)
    return out


def read_coco(path: Path, **options: Any) -> PoseSet:
    name = path.name
    doc = parse_json(read_text_limited(path), name, FormatError)
    if not isinstance(doc, dict):
        raise FormatError(f"{name} is not a COCO file (not a JSON object)")
    images, anns, cats = (doc.get(k) for k in ("images", "annotations", "categories"))
    if not all(isinstance(v, list) for v in (images, anns, cats)):
        raise FormatError(f"{name} is not a COCO file (needs images, annotations, categories)")
    assert isinstance(images, list) and isinstance(anns, list) and isinstance(cats, list)
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    assert isinstance(info, dict)
    cat = next(
        (c for c in cats if isinstance(c, dict) and isinstance(c.get("keypoints"), list)), None
    )
    if cat is None:
        raise FormatError(f"{name} has no keypoint category")
    sk = _read_skeleton(cat, info, name)
    frame_of = _frame_indices(images, info, name)
    frame_count = max(frame_of.values(), default=-1) + 1
    if isinstance(info.get("frame_count"), int) and info["frame_count"] >= frame_count:
        frame_count = info["frame_count"]
    mine = [a for a in anns if isinstance(a, dict) and a.get("category_id") == cat.get("id")]
    tracks = _tracks(mine, frame_of, name)
    track_ids = sorted(set(tracks))
    check_frame_count(frame_count, sk.num_joints, len(track_ids), name)
    instances = empty_instances(track_ids, frame_count, sk.num_joints)
    by_id = dict(zip(track_ids, instances, strict=True))
    done: set[tuple[int, int]] = set()
    for k, (ann, track) in enumerate(zip(mine, tracks, strict=True)):
        frame = frame_of[ann["image_id"]]
        if (frame, track) in done:
            raise FormatError(f"{name}: two annotations of person {track} on frame {frame}")
        done.add((frame, track))
        _fill(by_id[track], frame, ann, sk, f"{name} annotation {ann.get('id', k)}")
    timestamps = None
    stamps = {frame_of[i["id"]]: i.get("timestamp") for i in images}
    if len(stamps) == frame_count and all(isinstance(t, (int, float)) for t in stamps.values()):
        timestamps = np.array([stamps[f] for f in range(frame_count)], dtype=np.float64)
    w = images[0].get("width") if images else None
    h = images[0].get("height") if images else None
    fps = info.get("fps")
    video = info.get("video")
    return PoseSet(
        sk,
        frame_count,
        instances,
        float(fps) if isinstance(fps, (int, float)) and fps > 0 else None,
        timestamps if timestamps is not None and np.isfinite(timestamps).all() else None,
        w if isinstance(w, int) and w > 0 else None,
        h if isinstance(h, int) and h > 0 else None,
        video if isinstance(video, str) else None,
    )


def _read_skeleton(cat: dict[str, Any], info: dict[str, Any], name: str) -> Skeleton:
    joints = cat["keypoints"]
    if not all(isinstance(j, str) for j in joints):
        raise FormatError(f"{name}: category keypoints must be joint names")
    sk = match_skeleton(joints, str(info.get("skeleton") or cat.get("name") or "coco_import"))
    edges = cat.get("skeleton", [])
    if not isinstance(edges, list):
        raise FormatError(f"{name}: category skeleton must be a list of [a, b] pairs")
    pairs = []
    for e in edges:
        if not (isinstance(e, list) and len(e) == 2 and all(isinstance(i, int) for i in e)):
            raise FormatError(f"{name}: category skeleton must be a list of [a, b] pairs")
        a, b = e[0] - 1, e[1] - 1  # COCO edges are 1-based
        if not (0 <= a < len(joints) and 0 <= b < len(joints)) or a == b:
            raise FormatError(
                f"{name}: skeleton edge {e} does not join two of the {len(joints)} joints"
            )
        pairs.append((a, b))
    if sk.edges or not pairs:
        return sk
    try:
        return Skeleton(sk.name, sk.joints, tuple(pairs), sk.symmetry)
    except AnnotatorError as err:
        raise FormatError(f"{name}: {err}") from None


def _frame_indices(images: list[Any], info: dict[str, Any], name: str) -> dict[Any, int]:
    """image id -> video frame, from the first of these that every image has: ``frame_index``;
    a number ending its file name (``000010.jpg`` as our export names it, CVAT's
    ``frame_000010.jpg``); our export's id (frame + 1); else, for a file whose images are every
    frame in order (ids 0.., 1.. or as many images as ``info.frame_count``), the rank of its id.
    Anything else is refused: placing labels on guessed frames would move them silently."""
    if not all(isinstance(i, dict) and _is_id(i.get("id")) for i in images):
        raise FormatError(f"{name}: every image needs an integer or text id")
    ids = [i["id"] for i in images]
    if len(set(ids)) != len(ids):
        raise FormatError(f"{name}: image ids are not unique")
    if not images:
        return {}
    if all("frame_index" in i for i in images):
        frames = [parse_int(i["frame_index"], f"{name} frame_index") for i in images]
        if len(set(frames)) != len(frames):
            raise FormatError(f"{name}: two images have the same frame_index")
        return dict(zip(ids, frames, strict=True))
    named = [_NAME_NUMBER.search(Path(str(i.get("file_name") or "")).stem) for i in images]
    numbers = [int(m.group(1)) for m in named if m]
    if len(numbers) == len(images) and len(set(numbers)) == len(numbers):
        return dict(zip(ids, numbers, strict=True))
    numeric = all(isinstance(i, int) for i in ids)
    if numeric and info.get("description") == DESCRIPTION and min(ids) >= 1:
        return {image_id: image_id - 1 for image_id in ids}
    ordered = sorted(ids) if numeric else ids
    every_frame = info.get("frame_count") == len(ids) or (
        numeric and ordered[:1] in ([0], [1]) and ordered[-1] - ordered[0] == len(ids) - 1
    )
    if every_frame:
        return {image_id: k for k, image_id in enumerate(ordered)}
    raise FormatError(
        f"{name}: its images do not say which video frames they are (no frame_index, no frame "
        "number ending every file name) and do not cover every frame in order; add each "
        "image's 0-based frame as frame_index"
    )


# A frame number ending an image's name: ``000010`` (our export), ``frame_000010`` (CVAT).
_NAME_NUMBER = re.compile(r"(\d+)$")


def _is_id(value: object) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _tracks(anns: list[dict[str, Any]], frame_of: dict[Any, int], name: str) -> list[int]:
    tracks = []
    per_image: dict[Any, int] = {}
    for a in anns:
        if not _is_id(a.get("image_id")) or a["image_id"] not in frame_of:
            raise FormatError(f"{name}: annotation {a.get('id')} points at a missing image")
        attrs = a.get("attributes") if isinstance(a.get("attributes"), dict) else {}
        assert isinstance(attrs, dict)
        track = a.get("track_id", attrs.get("track_id"))  # CVAT puts it in "attributes"
        if track is not None:
            tracks.append(parse_int(track, f"{name} track_id"))
        else:  # no tracking: the k-th person of each image is person k
            k = per_image.get(a["image_id"], 0)
            per_image[a["image_id"]] = k + 1
            tracks.append(k)
    return tracks


_FROM_V = np.array([Visibility.from_coco(v) for v in range(3)], dtype=np.int64)
_SOURCE_BY_NAME = {name: i for i, name in enumerate(SOURCE_NAMES)}


def _numbers(values: list[Any], where: str) -> np.ndarray:
    """JSON numbers as a float array; names the first value that is not a finite number."""
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise FormatError(f"{where}: {v!r} is not a number")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except OverflowError:  # an integer beyond float range
        raise FormatError(f"{where}: a value is out of range") from None
    if not np.isfinite(arr).all():
        raise FormatError(f"{where}: {arr[~np.isfinite(arr)][0]!r} is not a finite number")
    check_values(arr, where)
    return arr


def _fill(inst: PoseInstance, frame: int, ann: dict[str, Any], sk: Skeleton, where: str) -> None:
    kps = ann.get("keypoints")
    j = sk.num_joints
    if not isinstance(kps, list) or len(kps) != 3 * j:
        n = len(kps) if isinstance(kps, list) else "no"
        raise FormatError(f"{where}: {n} keypoint values, expected {3 * j} for {j} joints")
    vis = ann.get("visibility")
    if vis is not None and (not isinstance(vis, list) or len(vis) != j):
        raise FormatError(f"{where}: 'visibility' must list {j} codes")
    src = ann.get("source")
    if src is not None and (not isinstance(src, list) or len(src) != j):
        raise FormatError(f"{where}: 'source' must list {j} names")
    arr = _numbers(kps, where).reshape(j, 3)
    v = arr[:, 2]
    bad = (v != 0) & (v != 1) & (v != 2)
    if bad.any():
        raise FormatError(f"{where}: COCO visibility must be 0, 1 or 2, not {v[bad][0]:g}")
    codes = _FROM_V[v.astype(np.int64)]
    if vis is not None:
        stored = _numbers(vis, f"{where} visibility")
        ok = (stored >= 0) & (stored <= 3) & (stored == np.round(stored))
        if ok.all():
            ok = _COCO_V[stored.astype(np.int64)] == v
        if not ok.all():
            k = int(np.flatnonzero(~ok)[0])
            raise FormatError(f"{where}: visibility {stored[k]:g} contradicts v={v[k]:g}")
        codes = stored.astype(np.int64)
    has = (codes == Visibility.VISIBLE) | (codes == Visibility.OCCLUDED)
    inst.poses[frame, :, :2] = np.where(has[:, None], arr[:, :2], np.nan)
    inst.poses[frame, :, 2] = codes
    if src is not None:
        unknown = [s for s in src if not isinstance(s, str) or s not in _SOURCE_BY_NAME]
        if unknown:
            raise FormatError(f"{where}: unknown source {unknown[0]!r}")
        inst.source[frame] = [_SOURCE_BY_NAME[s] for s in src]
    else:
        inst.source[frame] = np.where(codes != Visibility.UNLABELLED, Source.MANUAL, Source.NONE)
    _scores(inst, frame, ann.get("keypoint_scores"), has, src is None, where)


def _scores(
    inst: PoseInstance, frame: int, raw: Any, has: np.ndarray, mark: bool, where: str
) -> None:
    """``keypoint_scores`` (numbers in 0..1 or null, one per joint) as the confidence of the
    frame's predicted joints; with ``mark`` (no ``source`` lists), a scored joint with a
    position is a model's output and becomes ``predicted``."""
    if raw is None:
        return
    j = inst.source.shape[1]
    if not isinstance(raw, list) or len(raw) != j:
        raise FormatError(f"{where}: 'keypoint_scores' must list {j} numbers or nulls")
    given = np.array([v is not None for v in raw])
    values = np.full(j, np.nan)
    if given.any():
        values[given] = _numbers([v for v in raw if v is not None], f"{where} keypoint_scores")
    if ((values[given] < 0) | (values[given] > 1)).any():
        raise FormatError(f"{where}: 'keypoint_scores' must lie in 0..1")
    if mark:
        inst.source[frame, given & has] = Source.PREDICTED
    predicted = given & (inst.source[frame] == Source.PREDICTED)
    if not predicted.any():
        return
    if inst.confidence is None:
        inst.confidence = np.full(inst.source.shape, np.nan, np.float32)
    inst.confidence[frame, predicted] = values[predicted]


def _sniff(path: Path) -> bool:
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(65536)
    return '"images"' in head or '"annotations"' in head or '"categories"' in head


ADAPTORS = (
    FormatAdaptor(
        name="coco",
        description="COCO keypoints",
        extensions=(".json",),
        is_folder=False,
        can_read=True,
        can_write=True,
        reader=read_coco,
        writer=write_coco,
        sniffer=_sniff,
        images_by_default=False,
    ),
)
