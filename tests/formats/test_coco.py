"""COCO keypoints: loads in pycocotools, writes frame images, reads COCO's own layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseSet
from annotator.core.skeleton import COCO as COCO_SKELETON
from annotator.errors import FormatError
from annotator.formats import registry
from annotator.formats.coco import images_dir_for
from tests.formats.helpers import SAMPLES, FakeVideo


def test_export_loads_in_pycocotools(pose_set: PoseSet, tmp_path: Path) -> None:
    out = tmp_path / "labels.json"
    registry.get("coco").write(pose_set, out)
    coco = COCO(str(out))
    assert sorted(coco.getImgIds()) == [1, 6, 12]  # frames 0, 5, 11 (ids are frame + 1)
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[12]))
    (ann,) = anns
    kps = np.array(ann["keypoints"]).reshape(-1, 3)
    assert kps.shape == (13, 3)
    assert kps[4].tolist() == [0, 0, 0]  # absent joint: no position, v = 0
    assert ann["visibility"][4] == Visibility.ABSENT
    assert ann["num_keypoints"] == 12
    x, y, w, h = ann["bbox"]
    has = pose_set.instances[0].has_position()[11]
    xy = pose_set.instances[0].poses[11, has, :2]
    np.testing.assert_allclose([x, y, x + w, y + h], [*xy.min(0), *xy.max(0)], atol=0.01)
    (cat,) = coco.loadCats(coco.getCatIds())
    assert cat["keypoints"] == list(pose_set.skeleton.joints)
    edges = [tuple(e) for e in cat["skeleton"]]
    assert edges == [(a + 1, b + 1) for a, b in pose_set.skeleton.edges]  # 1-based
    img = coco.loadImgs([6])[0]
    assert img["frame_index"] == 5
    assert abs(img["timestamp"] - 5 / 30) < 1e-6
    assert (img["width"], img["height"]) == (64, 48)


def test_occluded_maps_to_coco_v1(pose_set: PoseSet, tmp_path: Path) -> None:
    out = tmp_path / "labels.json"
    registry.get("coco").write(pose_set, out)
    ann = next(a for a in json.loads(out.read_text())["annotations"] if a["image_id"] == 6)
    assert ann["keypoints"][3 * 3 + 2] == 1  # joint 3 is occluded on frame 5
    assert ann["keypoints"][0 * 3 + 2] == 2


def test_all_frames_mark_filled_values(pose_set: PoseSet, tmp_path: Path) -> None:
    out = tmp_path / "labels.json"
    registry.get("coco").write(pose_set, out, frames="all")
    coco = COCO(str(out))
    assert len(coco.getImgIds()) == 12
    ann = coco.loadAnns(coco.getAnnIds(imgIds=[3]))[0]
    assert set(ann["source"]) == {"hpim"}
    ann = coco.loadAnns(coco.getAnnIds(imgIds=[1]))[0]
    assert set(ann["source"]) == {"manual"}


def test_images_beside_the_json(pose_set: PoseSet, tmp_path: Path, fake_video: FakeVideo) -> None:
    out = tmp_path / "set.json"
    registry.get("coco").write(pose_set, out, images="png", video=fake_video)
    coco = COCO(str(out))
    for img in coco.loadImgs(coco.getImgIds()):
        bgr = cv2.imread(str(out.parent / img["file_name"]))
        assert bgr is not None, img["file_name"]
        assert bgr.shape == (48, 64, 3)
        assert int(bgr[0, 0, 2]) == 10 * img["frame_index"]  # red = index: RGB -> BGR done
    assert sorted(p.name for p in images_dir_for(out).iterdir()) == [
        "000000.png", "000005.png", "000011.png",
    ]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.json", "set_images"]


def test_a_re_export_replaces_the_images_an_earlier_export_wrote(
    pose_set: PoseSet, tmp_path: Path, fake_video: FakeVideo
) -> None:
    """The same export twice (as ``--force`` does): the second replaces the first's images
    (it said the folder was not empty, whatever the options); a file of the user's there
    still refuses it and stays."""
    out = tmp_path / "set.json"
    registry.get("coco").write(pose_set, out, images="png", video=fake_video)
    registry.get("coco").write(pose_set, out, images="jpg", video=fake_video)
    assert sorted(p.name for p in images_dir_for(out).iterdir()) == [
        "000000.jpg", "000005.jpg", "000011.jpg",
    ]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.json", "set_images"]
    (images_dir_for(out) / "notes.txt").write_text("mine")
    with pytest.raises(FormatError, match="not an empty folder"):
        registry.get("coco").write(pose_set, out, images="jpg", video=fake_video)
    assert (images_dir_for(out) / "notes.txt").read_text() == "mine"
    assert len(list(images_dir_for(out).iterdir())) == 4


def test_jpeg_export_never_deletes_files_in_an_existing_images_folder(
    pose_set: PoseSet, tmp_path: Path, fake_video: FakeVideo
) -> None:
    out = tmp_path / "set.json"
    images = images_dir_for(out)
    images.mkdir()
    (images / "notes.txt").write_text("mine")
    with pytest.raises(FormatError, match="not an empty folder"):
        registry.get("coco").write(pose_set, out, images="jpg", video=fake_video)
    assert [p.name for p in images.iterdir()] == ["notes.txt"]
    assert (images / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set_images"]  # no json, no temp


def test_jpeg_export_into_an_empty_images_folder(
    pose_set: PoseSet, tmp_path: Path, fake_video: FakeVideo
) -> None:
    out = tmp_path / "set.json"
    images_dir_for(out).mkdir()
    registry.get("coco").write(pose_set, out, images="jpg", video=fake_video)
    assert len(list(images_dir_for(out).iterdir())) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.json", "set_images"]


def test_reads_coco_documentation_layout() -> None:
    # Sample written after https://cocodataset.org/#format-data ("Keypoint Detection"):
    # 17 person keypoints, v=0 not labelled, v=1 labelled not visible, v=2 visible,
    # 1-based skeleton; no track ids, no frame_index.
    ps = registry.get("coco").read(SAMPLES / "coco_person_keypoints.json")
    assert ps.skeleton is COCO_SKELETON
    a, b = 397133, 397134  # the numbers ending the file names (000000397133.jpg) are frames
    assert ps.frame_count == b + 1
    assert (ps.width, ps.height) == (640, 427)
    (inst,) = ps.instances
    assert inst.manual_frames().tolist() == [a, b]
    assert inst.poses[a, 0].tolist() == [400, 70, Visibility.VISIBLE]
    assert inst.poses[a, 16].tolist() == [450, 150, Visibility.OCCLUDED]
    assert inst.poses[a, 2, 2] == Visibility.UNLABELLED and np.isnan(inst.poses[a, 2, 0])
    assert inst.poses[b, 0].tolist() == [12.5, 25, Visibility.VISIBLE]
    assert inst.source[a, 0] == Source.MANUAL and inst.source[a, 2] == Source.NONE
    assert registry.guess(SAMPLES / "coco_person_keypoints.json").name == "coco"


def test_reads_cvat_style_coco(tmp_path: Path) -> None:
    # CVAT's "COCO Keypoints 1.0" export of a video task: images named frame_<index>, the
    # track id inside each annotation's "attributes".
    doc = json.loads((SAMPLES / "coco_person_keypoints.json").read_text())
    doc["images"][0]["file_name"] = "frame_000007.jpg"
    doc["images"][1]["file_name"] = "frame_000003.jpg"
    for k, ann in enumerate(doc["annotations"]):
        ann["attributes"] = {"occluded": False, "track_id": 5 + k, "keyframe": True}
    path = tmp_path / "person_keypoints_default.json"
    path.write_text(json.dumps(doc))
    ps = registry.get("coco").read(path)
    assert ps.frame_count == 8
    assert [i.track_id for i in ps.instances] == [5, 6]
    assert ps.instances[0].manual_frames().tolist() == [7]
    assert ps.instances[1].manual_frames().tolist() == [3]


def _without_frame_index(pose_set: PoseSet, tmp_path: Path, **options: Any) -> dict[str, Any]:
    """Our export of ``pose_set`` (labels on frames 0, 5, 11) as a tool that keeps only
    standard COCO fields leaves it: no ``frame_index``."""
    out = tmp_path / "set.json"
    registry.get("coco").write(pose_set, out, **options)
    doc = json.loads(out.read_text())
    for image in doc["images"]:
        del image["frame_index"]
    return doc


def _frames(doc: dict[str, Any], tmp_path: Path) -> list[int]:
    path = tmp_path / "stripped.json"
    path.write_text(json.dumps(doc))
    return registry.get("coco").read(path).instances[0].manual_frames().tolist()


def test_frames_without_frame_index_come_from_file_names(
    pose_set: PoseSet, fake_video: FakeVideo, tmp_path: Path
) -> None:
    # the rank of the image ids moved labels on 0, 5, 11 onto 0, 1, 2
    doc = _without_frame_index(pose_set, tmp_path, images="jpg", video=fake_video)
    assert [i["file_name"] for i in doc["images"]][1] == "set_images/000005.jpg"
    for item in doc["images"] + doc["annotations"]:  # a tool that renumbers images
        item["id" if "file_name" in item else "image_id"] += 100  # keeps their names
    assert _frames(doc, tmp_path) == [0, 5, 11]


def test_frames_without_frame_index_or_names_come_from_our_ids(
    pose_set: PoseSet, tmp_path: Path
) -> None:
    doc = _without_frame_index(pose_set, tmp_path)  # no images: empty file names
    assert [i["id"] for i in doc["images"]] == [1, 6, 12]
    assert _frames(doc, tmp_path) == [0, 5, 11]


def test_sparse_file_without_frame_numbers_is_refused(pose_set: PoseSet, tmp_path: Path) -> None:
    doc = _without_frame_index(pose_set, tmp_path)
    doc["info"] = {"description": "relabelled elsewhere"}  # not ours: ids say nothing
    with pytest.raises(FormatError, match="do not say which video frames they are"):
        _frames(doc, tmp_path)
    # images that are every frame in order (ids 1, 2, 3) still read by rank
    for k, image in enumerate(doc["images"]):
        for ann in doc["annotations"]:
            if ann["image_id"] == image["id"]:
                ann["image_id"] = k + 1
        image["id"] = k + 1
    assert _frames(doc, tmp_path) == [0, 1, 2]
