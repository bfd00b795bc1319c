"""CVAT for video 1.1: our XML has CVAT's structure, and CVAT's own layout reads correctly."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseSet
from annotator.errors import FormatError
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


def _task(text: str, start: int, stop: int, step: int, frames: tuple[int, int]) -> str:
    """The sample as a task of video frames ``start..stop`` every ``step``, its two key
    shapes (frames 0 and 4 in the sample) moved to the video frames ``frames``."""
    text = text.replace("<start_frame>0</start_frame>", f"<start_frame>{start}</start_frame>")
    text = text.replace("<stop_frame>9</stop_frame>", f"<stop_frame>{stop}</stop_frame>")
    text = text.replace("<size>10</size>", f"<size>{(stop - start) // step + 1}</size>")
    text = text.replace(
        "<frame_filter></frame_filter>", f"<frame_filter>step={step}</frame_filter>"
    )
    text = text.replace('<skeleton frame="0"', f'<skeleton frame="{frames[0]}"')
    text = text.replace('<skeleton frame="4"', f'<skeleton frame="{frames[1]}"')
    return text.replace('<skeleton frame="1"', f'<skeleton frame="{frames[0] + step}"')


def test_shape_frames_are_video_frames_in_a_trimmed_task(tmp_path: Path) -> None:
    # CVAT's exporter writes each shape's absolute video frame (start_frame + step * the task
    # frame); reading it as a task frame again put keys drawn on 20 and 60 onto 30 and 70.
    text = (SAMPLES / "cvat_video_skeleton.xml").read_text()
    path = tmp_path / "a.xml"
    path.write_text(_task(text, 10, 239, 1, (20, 60)))
    ps = registry.get("cvat-video").read(path)
    assert ps.instances[0].manual_frames().tolist() == [20, 60]
    assert ps.frame_count == 240  # stop_frame + 1, not start + size (one frame too many)


def test_shape_frames_on_a_stepped_task(tmp_path: Path) -> None:
    text = (SAMPLES / "cvat_video_skeleton.xml").read_text()
    path = tmp_path / "a.xml"
    path.write_text(_task(text, 0, 162, 3, (6, 120)))
    ps = registry.get("cvat-video").read(path)
    assert ps.instances[0].manual_frames().tolist() == [6, 120]
    assert ps.frame_count == 163
    # a frame the task does not hold (task-relative numbering) is refused, not moved
    path.write_text(_task(text, 0, 162, 3, (2, 40)))
    with pytest.raises(FormatError, match="frame 2, which is not one of the task's frames"):
        registry.get("cvat-video").read(path)


def test_export_numbers_shapes_by_video_frame(pose_set: PoseSet, tmp_path: Path) -> None:
    # our task starts at frame 0 with step 1, so a task frame is the video frame: the file
    # follows CVAT's convention and comes back on the same frames
    out = tmp_path / "a.xml"
    registry.get("cvat-video").write(pose_set, out)
    task = ET.parse(out).getroot().find("meta/task")
    assert task is not None
    assert (task.findtext("start_frame"), task.findtext("stop_frame")) == ("0", "11")
    assert task.findtext("frame_filter") == ""
    back = registry.get("cvat-video").read(out)
    assert back.frame_count == pose_set.frame_count
    assert back.instances[0].manual_frames().tolist() == [0, 5, 11]


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
