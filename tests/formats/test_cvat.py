"""CVAT for video 1.1: our XML has CVAT's structure, and CVAT's own layout reads correctly."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseSet
from annotator.formats import registry
from tests.formats.helpers import SAMPLES


def test_export_structure(pose_set: PoseSet, tmp_path: Path) -> None:
    out = tmp_path / "annotations.xml"
    registry.get("cvat-video").write(pose_set, out)
    root = ET.parse(out).getroot()
    assert root.findtext("version") == "1.1"
    task = root.find("meta/task")
    assert task is not None
    assert task.findtext("mode") == "interpolation"
    assert task.findtext("size") == "12"
    labels = task.findall("labels/label")
    assert labels[0].findtext("type") == "skeleton"
    subs = [lb for lb in labels if lb.findtext("parent") == labels[0].findtext("name")]
    assert [lb.findtext("name") for lb in subs] == list(pose_set.skeleton.joints)
    assert all(lb.findtext("type") == "points" for lb in subs)
    svg = ET.fromstring(f"<svg>{labels[0].findtext('svg')}</svg>")
    assert len(svg.findall("line")) == len(pose_set.skeleton.edges)
    (track,) = root.findall("track")
    shapes = track.findall("skeleton")
    assert [s.get("frame") for s in shapes] == ["0", "5", "11"]
    assert all(s.get("keyframe") == "1" for s in shapes)
    last = {p.get("label"): p for p in shapes[2].findall("points")}
    absent = last[pose_set.skeleton.joints[4]]
    assert (absent.get("outside"), absent.get("keyframe")) == ("1", "1")
    mid = {p.get("label"): p for p in shapes[1].findall("points")}
    occluded = mid[pose_set.skeleton.joints[3]]
    assert (occluded.get("occluded"), occluded.get("outside")) == ("1", "0")
    x, y = (float(v) for v in occluded.get("points", "").split(","))
    np.testing.assert_allclose([x, y], pose_set.instances[0].poses[5, 3, :2], atol=0.01)


def test_all_frames_writes_filled_values_as_non_key(pose_set: PoseSet, tmp_path: Path) -> None:
    out = tmp_path / "annotations.xml"
    registry.get("cvat-video").write(pose_set, out, frames="all")
    shapes = ET.parse(out).getroot().findall("track/skeleton")
    assert len(shapes) == 12
    keys = {s.get("frame"): s.get("keyframe") for s in shapes}
    assert keys["3"] == "0" and keys["5"] == "1"


def test_first_frame_starts_every_point(pose_set: PoseSet, tmp_path: Path) -> None:
    inst = pose_set.instances[0]
    inst.poses[0, 6] = (np.nan, np.nan, Visibility.UNLABELLED)
    inst.source[0, 6] = Source.NONE
    out = tmp_path / "annotations.xml"
    registry.get("cvat-video").write(pose_set, out)
    first = ET.parse(out).getroot().findall("track/skeleton")[0]
    point = {p.get("label"): p for p in first.findall("points")}[pose_set.skeleton.joints[6]]
    assert (point.get("keyframe"), point.get("outside")) == ("1", "1")
    back = registry.get("cvat-video").read(out).instances[0]
    assert back.visibility[0, 6] == Visibility.ABSENT  # the documented change


def test_person_without_labels_writes_no_track(two_people: PoseSet, tmp_path: Path) -> None:
    two_people.instances[1].source[:] = Source.HPIM  # filled only: nothing manual
    out = tmp_path / "annotations.xml"
    registry.get("cvat-video").write(two_people, out, frames="all")
    assert [t.get("id") for t in ET.parse(out).getroot().findall("track")] == ["0"]


def test_export_meets_cvat_loader_needs(two_people: PoseSet, tmp_path: Path) -> None:
    # CVAT's XML loader (cvat/apps/dataset_manager/formats/cvat.py, load_anno) reads these
    # attributes without defaults, keeps only key shapes, and needs a shape in every track;
    # each skeleton point track must begin with a key.
    out = tmp_path / "annotations.xml"
    registry.get("cvat-video").write(two_people, out, frames="all")
    tracks = ET.parse(out).getroot().findall("track")
    assert len(tracks) == 2
    for track in tracks:
        assert {"id", "label"} <= set(track.attrib)
        shapes = track.findall("skeleton")
        assert shapes and shapes[0].get("keyframe") == "1"
        assert all({"frame", "keyframe"} <= set(s.attrib) for s in shapes)
        for point in shapes[0].findall("points"):
            assert point.get("keyframe") == "1"
        for shape in shapes:
            points = shape.findall("points")
            assert len(points) == two_people.skeleton.num_joints
            for p in points:
                assert {"label", "keyframe", "outside", "occluded", "points"} <= set(p.attrib)


def test_whole_skeleton_outside_is_absent(tmp_path: Path) -> None:
    text = (SAMPLES / "cvat_video_skeleton.xml").read_text()
    text = text.replace(
        '<skeleton frame="4" keyframe="1"', '<skeleton frame="4" keyframe="1" outside="1"'
    )
    path = tmp_path / "a.xml"
    path.write_text(text)
    inst = registry.get("cvat-video").read(path).instances[0]
    assert (inst.visibility[4] == Visibility.ABSENT).all()


def test_trimmed_task_frames_map_to_video_frames(tmp_path: Path) -> None:
    # CVAT numbers a task's frames from 0; video frame = start_frame + step * task frame.
    text = (SAMPLES / "cvat_video_skeleton.xml").read_text()
    text = text.replace("<start_frame>0</start_frame>", "<start_frame>100</start_frame>")
    text = text.replace("<frame_filter></frame_filter>", "<frame_filter>step=2</frame_filter>")
    path = tmp_path / "a.xml"
    path.write_text(text)
    ps = registry.get("cvat-video").read(path)
    assert ps.frame_count == 100 + 2 * 10
    assert ps.instances[0].manual_frames().tolist() == [100, 108]


def test_reads_cvat_layout() -> None:
    # Sample laid out after https://docs.cvat.ai/docs/other/xml_format/ plus CVAT's skeleton
    # export (see the comment at the top of the sample).
    path = SAMPLES / "cvat_video_skeleton.xml"
    assert registry.guess(path).name == "cvat-video"
    ps = registry.get("cvat-video").read(path)
    assert ps.skeleton.joints == ("head", "hip", "foot")
    assert ps.skeleton.edges == ((0, 1), (1, 2))
    assert ps.frame_count == 10
    assert (ps.width, ps.height) == (640, 480)
    (inst,) = ps.instances
    assert inst.track_id == 3
    assert inst.poses[0, 0].tolist() == [100.5, 40.25, Visibility.VISIBLE]
    assert inst.poses[0, 1].tolist() == [110, 140, Visibility.OCCLUDED]
    assert inst.poses[0, 2, 2] == Visibility.ABSENT and np.isnan(inst.poses[0, 2, 0])
    # frame 1 holds only CVAT's interpolation (keyframe="0"): nothing is imported there
    assert (inst.visibility[1] == Visibility.UNLABELLED).all()
    assert inst.poses[4, 0].tolist() == [104, 44, Visibility.VISIBLE]
    assert inst.visibility[4, 1] == Visibility.UNLABELLED
    assert inst.poses[4, 2].tolist() == [124, 234, Visibility.VISIBLE]
    assert inst.source[0, 0] == Source.MANUAL and inst.source[4, 1] == Source.NONE
    assert inst.manual_frames().tolist() == [0, 4]


def test_track_sources_cvat_writes(pose_set: PoseSet, tmp_path: Path) -> None:
    """CVAT's automatic annotation (``auto``) reads as predicted joints; once a person edits
    such a track CVAT marks it ``semi-auto``, which reads as labels like ``manual``."""
    out = tmp_path / "annotations.xml"
    registry.get("cvat-video").write(pose_set, out)
    text = out.read_text()
    expected = {"auto": Source.PREDICTED, "semi-auto": Source.MANUAL, "manual": Source.MANUAL}
    for source, want in expected.items():
        path = tmp_path / f"{source}.xml"
        path.write_text(text.replace('source="manual"', f'source="{source}"'))
        inst = registry.get("cvat-video").read(path).instances[0]
        labelled = inst.visibility != Visibility.UNLABELLED
        assert labelled.any() and (inst.source[labelled] == want).all(), source
