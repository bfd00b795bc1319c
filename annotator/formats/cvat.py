"""CVAT for video 1.1 XML with skeleton tracks, both ways.

One ``<track>`` per person holding ``<skeleton frame=...>`` shapes, each with one
``<points label=JOINT keyframe outside occluded points="x,y">`` per joint, as CVAT writes
them. A manual label is a key frame (``keyframe="1"``); ``absent`` is ``outside="1"``;
``occluded`` is ``occluded="1"``. The estimator's joints (source ``predicted``) are key frames
too: they are what CVAT's model-assisted shapes are. CVAT keeps a source per track, not per
point: a person with manual labels is a ``manual`` track (its predicted keys read back as
labels), a person with only predicted joints an ``auto`` track (its keys read back as
predicted, without a confidence, which CVAT does not store); a track CVAT marks ``auto`` is
read so too, while ``semi-auto`` (a model's shapes a person has edited) reads as labels.
Filled values (``frames="all"``) are written as non-key shapes, which CVAT recomputes by its
own interpolation on import; values before a person's first key are not written (a CVAT track
starts at a key). CVAT starts every point of a track with a key, so a joint unlabelled on a
person's first exported frame is written there as outside (it reads back as absent). The
label list in
``<meta>`` declares the skeleton (type ``skeleton`` with an SVG of its nodes and edges, one
``points`` sub-label per joint) so CVAT can create the task's labels from the file. A
shape's ``frame`` is the video frame, as CVAT's own export numbers it (``start_frame + step *``
the task frame); our task starts at 0 with step 1, so the two agree.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import quoteattr

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.skeleton import Skeleton
from annotator.errors import AnnotatorError, FormatError
from annotator.formats._common import (
    atomic_file,
    check_frame_count,
    empty_instances,
    labelled_frames,
    match_skeleton,
    parse_float,
    parse_int,
    read_text_limited,
    select_values,
)
from annotator.formats.adaptor import FormatAdaptor

LABEL = "person"


def write_cvat(ps: PoseSet, path: Path, frames: str = "manual", **options: Any) -> None:
    instances = select_values(ps, frames)
    chosen = labelled_frames(ps, frames)
    meta = ET.Element("meta")
    meta.extend(_meta(ps))
    ET.indent(meta, space="  ", level=1)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  ',
        ET.tostring(meta, encoding="unicode"),
        "\n",
    ]
    labels = [quoteattr(j) for j in ps.skeleton.joints]
    for inst in instances:
        # Strings, not an element tree: long videos have hundreds of thousands of points.
        parts += _track(inst, chosen, labels)
    parts.append("</annotations>\n")
    with atomic_file(path) as tmp:
        tmp.write_text("".join(parts), encoding="utf-8")


def _track(inst: PoseInstance, chosen: NDArray[np.int64], labels: list[str]) -> list[str]:
    """One person's ``<track>``, starting at its first key (a manual or predicted value;
    CVAT starts on a key)."""
    all_vis, all_has = inst.visibility, inst.has_position()  # once, not per frame
    keys = np.isin(inst.source, (Source.MANUAL, Source.PREDICTED)) & (
        all_vis != Visibility.UNLABELLED
    )
    labelled = np.flatnonzero(keys.any(axis=1))
    if len(labelled) == 0:
        return []  # CVAT cannot load a track without shapes
    source = "manual" if (inst.source == Source.MANUAL).any() else "auto"
    out = [f'  <track id="{inst.track_id}" label="{LABEL}" source="{source}">\n']
    last_xy = np.zeros((len(labels), 2))
    first = True
    for f in chosen[chosen >= labelled[0]]:
        vis, has = all_vis[f], all_has[f]
        if not (vis != Visibility.UNLABELLED).any():
            continue
        key = keys[f]
        outside = ~has
        if first:
            # CVAT starts every point of a skeleton track with a key: a joint not labelled on
            # the person's first frame starts outside (it comes back as absent).
            outside = ~(key & has)
            key = np.ones_like(key)
            first = False
        last_xy[has] = inst.poses[f, has, :2]  # CVAT wants coordinates even when outside
        occluded = (vis == Visibility.OCCLUDED) & ~outside
        out.append(f'    <skeleton frame="{int(f)}" keyframe="{int(key.any())}" z_order="0">\n')
        # Plain Python values in the loop: NumPy scalars format several times slower.
        for label, k, o, c, (x, y) in zip(
            labels,
            key.astype(int).tolist(),
            outside.astype(int).tolist(),
            occluded.astype(int).tolist(),
            last_xy.tolist(),
            strict=True,
        ):
            out.append(
                f'      <points label={label} keyframe="{k}" outside="{o}" occluded="{c}" '
                f'points="{x:.2f},{y:.2f}">\n      </points>\n'
            )
        out.append("    </skeleton>\n")
    out.append("  </track>\n")
    return out


def _meta(ps: PoseSet) -> list[ET.Element]:
    now = dt.datetime.now(dt.timezone.utc).isoformat(sep=" ")
    meta = ET.Element("meta")
    task = ET.SubElement(meta, "task")
    name = Path(ps.video_path).name if ps.video_path else "annotator export"
    for tag, text in (
        ("id", "0"),
        ("name", name),
        ("size", str(ps.frame_count)),
        ("mode", "interpolation"),
        ("overlap", "0"),
        ("bugtracker", ""),
        ("created", now),
        ("updated", now),
        ("subset", "default"),
        ("start_frame", "0"),
        ("stop_frame", str(max(ps.frame_count - 1, 0))),
        ("frame_filter", ""),
    ):
        ET.SubElement(task, tag).text = text
    labels = ET.SubElement(task, "labels")
    sk = ps.skeleton
    parent = ET.SubElement(labels, "label")
    ET.SubElement(parent, "name").text = LABEL
    ET.SubElement(parent, "color").text = "#f2c94c"
    ET.SubElement(parent, "type").text = "skeleton"
    ET.SubElement(parent, "attributes")
    ET.SubElement(parent, "svg").text = _svg(sk)
    for joint, color in zip(sk.joints, sk.colors, strict=True):
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = joint
        ET.SubElement(label, "color").text = color
        ET.SubElement(label, "type").text = "points"
        ET.SubElement(label, "attributes")
        ET.SubElement(label, "parent").text = LABEL
    if ps.width and ps.height:
        size = ET.SubElement(task, "original_size")
        ET.SubElement(size, "width").text = str(ps.width)
        ET.SubElement(size, "height").text = str(ps.height)
    ET.SubElement(meta, "dumped").text = now
    return list(meta)


def _svg(sk: Skeleton) -> str:
    """The skeleton drawing CVAT stores with a skeleton label: nodes 1..J and edges."""
    n = sk.num_joints
    parts = []
    for a, b in sk.edges:
        parts.append(
            f'<line data-type="edge" data-node-from="{a + 1}" data-node-to="{b + 1}"></line>'
        )
    for j, joint in enumerate(sk.joints):
        cx, cy = 10 + 80 * (j % 8) / 7, 10 + 80 * (j // 8) / max((n - 1) // 8, 1)
        parts.append(
            f'<circle r="1.5" cx="{cx:.1f}" cy="{cy:.1f}" data-type="element node" '
            f'data-element-id="{j + 1}" data-node-id="{j + 1}" '
            f'data-label-name="{_attr(joint)}"></circle>'
        )
    return "".join(parts)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


_DANGEROUS = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def read_cvat(path: Path, **options: Any) -> PoseSet:
    name = path.name
    text = read_text_limited(path)
    if _DANGEROUS.search(text):
        raise FormatError(f"{name}: XML with a DOCTYPE or entities is refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise FormatError(f"{name} is not well-formed XML: {err}") from None
    if root.tag != "annotations":
        raise FormatError(f"{name} is not a CVAT annotation file (root <{root.tag}>)")
    if root.find("image") is not None:
        raise FormatError(f"{name} is 'CVAT for images'; export 'CVAT for video 1.1' instead")
    task = next(
        (e for e in (root.find(f"meta/{k}") for k in ("task", "job", "project")) if e is not None),
        None,
    )
    shapes = root.findall("track/skeleton")
    if not shapes:
        raise FormatError(f"{name} holds no skeleton tracks")
    label, sk = _skeleton(root, name)
    frames_of = _TaskFrames.of(task, name)
    tracks = [
        t
        for t in root.findall("track")
        if t.get("label") == label and t.find("skeleton") is not None
    ]
    track_ids = [parse_int(t.get("id"), f"{name} track id") for t in tracks]
    if len(set(track_ids)) != len(track_ids):
        raise FormatError(f"{name}: two tracks have the same id")
    frames = [
        frames_of.check(parse_int(s.get("frame"), f"{name} skeleton frame"), name)
        for t in tracks
        for s in t.findall("skeleton")
    ]
    frame_count = max([frames_of.frame_count, *(f + 1 for f in frames)])
    check_frame_count(frame_count, sk.num_joints, len(tracks), name)
    instances = empty_instances(track_ids, frame_count, sk.num_joints)
    index = {j: i for i, j in enumerate(sk.joints)}
    for track, inst in zip(tracks, instances, strict=True):
        shapes_of = [parse_int(s.get("frame"), f"{name} frame") for s in track.findall("skeleton")]
        if len(set(shapes_of)) != len(shapes_of):
            raise FormatError(f"{name}: track {inst.track_id} has two shapes on one frame")
        # CVAT's model output: its keys are predictions (an edited one is "semi-auto")
        source = Source.PREDICTED if track.get("source") == "auto" else Source.MANUAL
        for shape in track.findall("skeleton"):
            _read_shape(inst, shape, index, f"{name} track {inst.track_id}", source)
    width = height = None
    if task is not None and task.find("original_size") is not None:
        width = parse_int(task.findtext("original_size/width"), f"{name} width") or None
        height = parse_int(task.findtext("original_size/height"), f"{name} height") or None
    return PoseSet(sk, frame_count, instances, width=width, height=height)


@dataclass(frozen=True)
class _TaskFrames:
    """The video frames a CVAT task covers: ``start``, ``start + step``, ... up to ``stop``.

    CVAT for video numbers every shape by its video frame (its exporter writes
    ``start_frame + step * task frame``), so a shape's ``frame`` is used as it is; this only
    checks that it is one of the task's frames and gives the video length the file implies."""

    start: int
    step: int
    stop: int | None  # None when the file does not say

    @classmethod
    def of(cls, task: ET.Element | None, name: str) -> _TaskFrames:
        if task is None:
            return cls(0, 1, None)
        start = parse_int(task.findtext("start_frame") or "0", f"{name} <start_frame>")
        step = 1
        for part in (task.findtext("frame_filter") or "").split(","):
            key, _, value = part.strip().partition("=")
            if key == "step":
                step = parse_int(value, f"{name} frame_filter step")
        if step < 1:
            raise FormatError(f"{name}: frame_filter step must be at least 1")
        stop = None
        if task.findtext("stop_frame"):
            stop = parse_int(task.findtext("stop_frame"), f"{name} <stop_frame>")
        elif task.findtext("size"):
            size = parse_int(task.findtext("size"), f"{name} <size>")
            stop = start + step * (size - 1) if size else None
        if stop is not None and stop < start:
            raise FormatError(f"{name}: stop_frame {stop} is before start_frame {start}")
        return cls(start, step, stop)

    @property
    def frame_count(self) -> int:
        """Frames of the video up to the task's last one (the video may be longer)."""
        return 0 if self.stop is None else self.stop + 1

    def check(self, frame: int, name: str) -> int:
        """``frame`` (a video frame), refused when the task does not hold it."""
        beyond = self.stop is not None and frame > self.stop
        if frame < self.start or beyond or (frame - self.start) % self.step:
            last = "" if self.stop is None else f" to {self.stop}"
            raise FormatError(
                f"{name}: a shape is on frame {frame}, which is not one of the task's frames "
                f"({self.start}{last}, every {self.step}); CVAT for video numbers shapes by "
                "video frame"
            )
        return frame


def _read_shape(
    inst: PoseInstance,
    shape: ET.Element,
    index: dict[str, int],
    where: str,
    source: Source = Source.MANUAL,
) -> None:
    frame = parse_int(shape.get("frame"), f"{where} frame")  # a video frame, checked above
    where = f"{where} frame {frame}"
    if shape.get("outside") == "1" and shape.get("keyframe") == "1":
        # the whole skeleton leaves the picture here (CVAT's end of a track)
        inst.poses[frame] = (np.nan, np.nan, Visibility.ABSENT)
        inst.source[frame] = source
        return
    for pt in shape.findall("points"):
        joint = pt.get("label", "")
        if joint not in index:
            raise FormatError(f"{where}: unknown joint {joint!r}")
        flags = {k: pt.get(k, "0") for k in ("keyframe", "outside", "occluded")}
        if any(v not in ("0", "1") for v in flags.values()):
            raise FormatError(f"{where}: keyframe, outside and occluded must be 0 or 1")
        coords = (pt.get("points") or "").split(";")[0].split(",")
        if len(coords) != 2:
            raise FormatError(f'{where}: joint {joint!r} needs points="x,y"')
        x = parse_float(coords[0], f"{where} {joint} x")
        y = parse_float(coords[1], f"{where} {joint} y")
        if flags["keyframe"] != "1":
            continue  # CVAT's own interpolation; the app fills between key frames itself
        j = index[joint]
        if flags["outside"] == "1":
            inst.poses[frame, j] = (np.nan, np.nan, Visibility.ABSENT)
        else:
            code = Visibility.OCCLUDED if flags["occluded"] == "1" else Visibility.VISIBLE
            inst.poses[frame, j] = (x, y, code)
        inst.source[frame, j] = source


def _skeleton(root: ET.Element, name: str) -> tuple[str, Skeleton]:
    """The skeleton label's name and joints (node order of its SVG, else sub-label order)."""
    labels = root.findall("meta/*/labels/label") + root.findall(
        "meta/project/tasks/task/labels/label"
    )
    track = root.find("track[skeleton]")
    assert track is not None
    label = track.get("label", "")  # the first skeleton track's label is the one imported
    parent = next(
        (lb for lb in labels if lb.findtext("type") == "skeleton" and lb.findtext("name") == label),
        None,
    )
    if parent is not None:
        subs = [lb.findtext("name") or "" for lb in labels if lb.findtext("parent") == label]
        nodes = _svg_nodes(parent.findtext("svg") or "", name)
        if nodes:
            order = [n for _, n in sorted(nodes.items())]
            edges = _svg_edges(parent.findtext("svg") or "", sorted(nodes), name)
        else:
            order, edges = subs, []
    else:  # no label list: joints in the order of the first skeleton shape
        first = root.find("track/skeleton")
        assert first is not None
        order = [p.get("label", "") for p in first.findall("points")]
        edges = []
    sk = match_skeleton(order, label or "cvat_import")
    if not sk.edges and edges:
        try:
            sk = Skeleton(sk.name, sk.joints, tuple(edges), sk.symmetry)
        except AnnotatorError as err:
            raise FormatError(f"{name}: {err}") from None
    return label, sk


def _svg_root(svg: str, name: str) -> ET.Element:
    try:
        return ET.fromstring(f"<svg>{svg}</svg>" if not svg.lstrip().startswith("<svg") else svg)
    except ET.ParseError:
        raise FormatError(f"{name}: the skeleton label's SVG is not readable") from None


def _svg_nodes(svg: str, name: str) -> dict[int, str]:
    if not svg.strip():
        return {}
    nodes = {}
    for c in _svg_root(svg, name).iter("circle"):
        node, joint = c.get("data-node-id"), c.get("data-label-name")
        if node is None or joint is None:
            return {}  # older CVAT omits names: fall back to the sub-label order
        nodes[parse_int(node, f"{name} svg node")] = joint
    return nodes


def _svg_edges(svg: str, node_ids: list[int], name: str) -> list[tuple[int, int]]:
    pos = {n: i for i, n in enumerate(node_ids)}
    edges = []
    for line in _svg_root(svg, name).iter("line"):
        a = parse_int(line.get("data-node-from"), f"{name} svg edge")
        b = parse_int(line.get("data-node-to"), f"{name} svg edge")
        if a not in pos or b not in pos:
            raise FormatError(f"{name}: a skeleton edge joins unknown node {a} or {b}")
        edges.append((pos[a], pos[b]))
    return edges


def _sniff(path: Path) -> bool:
    if path.suffix.lower() != ".xml" or not path.is_file():
        return False
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(4096)
    return "<annotations" in head


ADAPTORS = (
    FormatAdaptor(
        name="cvat-video",
        description="CVAT for video 1.1",
        extensions=(".xml",),
        is_folder=False,
        can_read=True,
        can_write=True,
        reader=read_cvat,
        writer=write_cvat,
        sniffer=_sniff,
    ),
)
