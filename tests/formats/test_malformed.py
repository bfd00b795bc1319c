"""Bad input is refused with a one-line ``FormatError``; a failed write leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from annotator.core.poseset import PoseSet
from annotator.errors import FormatError
from annotator.formats import _common, registry
from tests.formats.helpers import SAMPLES, FakeVideo

COCO = json.loads((SAMPLES / "coco_person_keypoints.json").read_text())
CVAT = (SAMPLES / "cvat_video_skeleton.xml").read_text()
DLC = (SAMPLES / "dlc_single_CollectedData_Mackenzie.csv").read_text()
TABLE = (SAMPLES / "plain_table.csv").read_text()


def _coco(edit: str) -> str:
    doc = json.loads(json.dumps(COCO))
    ann = doc["annotations"][0]
    if edit == "short":
        ann["keypoints"] = ann["keypoints"][:-3]
    elif edit == "text":
        ann["keypoints"][0] = "abc"
    elif edit == "v3":
        ann["keypoints"][2] = 3
    elif edit == "image":
        ann["image_id"] = 5
    elif edit == "frame":
        for i, img in enumerate(doc["images"]):
            img["frame_index"] = 10**12 + i
    elif edit == "dup":
        doc["images"][1]["id"] = doc["images"][0]["id"]
    elif edit == "nocat":
        doc["categories"] = [{"id": 1, "name": "person"}]
    return json.dumps(doc)


BAD = [
    ("coco", "a.json", "{not json", "not valid JSON"),
    ("coco", "a.json", "[1, 2]", "not a COCO file"),
    ("coco", "a.json", _coco("short"), "48 keypoint values, expected 51"),
    ("coco", "a.json", _coco("text"), "'abc' is not a number"),
    ("coco", "a.json", _coco("v3").replace("400, 70", "NaN, 70"), "NaN is not allowed"),
    ("coco", "a.json", _coco("v3"), "must be 0, 1 or 2"),
    ("coco", "a.json", _coco("image"), "missing image"),
    ("coco", "a.json", _coco("frame"), "out of range"),
    ("coco", "a.json", _coco("dup"), "not unique"),
    ("coco", "a.json", _coco("nocat"), "no keypoint category"),
    ("cvat-video", "a.xml", "<annotations><track", "not well-formed"),
    ("cvat-video", "a.xml", '<!DOCTYPE x [<!ENTITY a "b">]><annotations/>', "DOCTYPE"),
    ("cvat-video", "a.xml", '<annotations><image id="0"/></annotations>', "CVAT for images"),
    ("cvat-video", "a.xml", "<annotations><version>1.1</version></annotations>", "no skeleton"),
    ("cvat-video", "a.xml", CVAT.replace('points="100.50,40.25"', 'points="a,b"'), "not a number"),
    (
        "cvat-video",
        "a.xml",
        CVAT.replace('label="hip" keyframe="1"', 'label="x" keyframe="1"'),
        "unknown joint",
    ),
    (
        "cvat-video",
        "a.xml",
        CVAT.replace(
            'outside="1" occluded="0" points="120.00,230.00"',
            'outside="2" occluded="0" points="1,2"',
            1,
        ),
        "must be 0 or 1",
    ),
    (
        "cvat-video",
        "a.xml",
        CVAT.replace('skeleton frame="4"', 'skeleton frame="-4"'),
        "must not be negative",
    ),
    ("dlc-csv", "a.csv", DLC.replace("scorer,", "who,", 1), "first cell is not 'scorer'"),
    ("dlc-csv", "a.csv", DLC.replace("202.0,629.0,", "202.0,", 1), "fields, expected"),
    ("dlc-csv", "a.csv", DLC.replace("202.0", "abc"), "'abc' is not a number"),
    ("dlc-csv", "a.csv", DLC.replace("202.0", "inf"), "not a finite number"),
    ("dlc-csv", "a.csv", DLC.replace("img33.png", "img0.png"), "same frame"),
    ("dlc-csv", "a.csv", DLC.replace("img33.png", "imgX.png"), "frame number"),
    (
        "dlc-csv",
        "a.csv",
        DLC.replace("bodyparts,hand,hand", "bodyparts,hand,hond"),
        "lacks an x or y",
    ),
    ("csv", "a.csv", TABLE.replace("frame,", "frames,"), "first row must be"),
    ("csv", "a.csv", TABLE.replace("visible,manual", "seen,manual", 1), "unknown visibility"),
    ("csv", "a.csv", TABLE.replace("10.000", ""), "'' is not a number"),
    ("csv", "a.csv", TABLE.replace(",,absent", ",5,absent"), "must have no position"),
    ("csv", "a.csv", TABLE.replace("hpim", "magic"), "unknown source"),
    (
        "csv",
        "a.csv",
        TABLE.replace("2,0.066667,0,head", "-2,0.066667,0,head"),
        "must not be negative",
    ),
    ("csv", "a.csv", TABLE + "9,0.1,0\n", "3 fields, expected 8"),
    ("csv", "a.csv", TABLE + "0,0.0,0,head,1,2,visible,manual\n", "two rows for 'head'"),
    (
        "cvat-video",
        "a.xml",
        CVAT.replace('skeleton frame="4"', 'skeleton frame="1"'),
        "two shapes on one frame",
    ),
    ("npz", "a.npz", "not a zip", "not a readable NumPy"),
    ("penn-mat", "a.mat", "not a mat file", "not a readable MATLAB"),
]


@pytest.mark.parametrize(("name", "file", "text", "message"), BAD)
def test_malformed_input(name: str, file: str, text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / file
    path.write_text(text)
    with pytest.raises(FormatError, match=message) as err:
        registry.get(name).read(path)
    assert "\n" not in str(err.value)


def _npz(path: Path, **arrays: object) -> None:
    np.savez(path, **arrays)


def test_malformed_npz(tmp_path: Path) -> None:
    good = np.zeros((3, 13, 3), np.float32)
    good[:, :, 2] = 1
    cases: list[tuple[dict[str, object], str]] = [
        ({"poses": np.zeros((3, 13))}, "must be \\(frames, joints, 3\\)"),
        ({"poses": np.full((3, 13, 3), 5.0)}, "visibility codes"),
        ({"poses": np.where(np.arange(3)[:, None, None] == 0, np.nan, good)}, "visibility codes"),
        ({"poses": np.concatenate([np.full((3, 13, 2), np.nan), good[:, :, 2:]], 2)}, "NaN"),
        ({"poses": np.concatenate([np.full((3, 13, 2), np.inf), good[:, :, 2:]], 2)}, "infinite"),
        ({"poses": good, "source": np.zeros((3, 12), np.int8)}, "'source' has shape"),
        ({"poses": good, "source": np.full((3, 13), 42, np.int8)}, "outside 'source_names'"),
        ({"poses": np.zeros((3, 11, 3))}, "does not name its 11 joints"),
        ({"poses": np.array([{"a": 1}], dtype=object)}, "holds Python objects"),
        ({"poses": good, "joint_names": np.array(["a"] * 13)}, "duplicate joint names"),
    ]
    for arrays, message in cases:
        path = tmp_path / "a.npz"
        np.savez(path, **arrays)
        with pytest.raises(FormatError, match=message):
            registry.get("npz").read(path)


def test_npz_arrays_checked_before_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from annotator.core import safeio

    path = tmp_path / "a.npz"
    np.savez_compressed(path, poses=np.zeros((1000, 13, 3), np.float32))  # 156 kB unpacked
    monkeypatch.setattr(safeio, "MAX_ARRAY_BYTES", 100_000)
    with pytest.raises(FormatError, match=r"array 'poses' \(1000, 13, 3\) declares 156,000"):
        registry.get("npz").read(path)


def test_penn_wrong_shape_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "0001.mat"
    vis = np.ones((4, 12))
    savemat(str(path), {"x": np.zeros((4, 12)), "y": np.zeros((4, 12)), "visibility": vis})
    with pytest.raises(FormatError, match=r"\(frames, 13\)"):
        registry.get("penn-mat").read(path)
    x = np.zeros((4, 13))
    x[1, 2] = np.nan
    savemat(str(path), {"x": x, "y": np.zeros((4, 13)), "visibility": np.ones((4, 13))})
    with pytest.raises(FormatError, match="finite"):
        registry.get("penn-mat").read(path)


def test_huge_file_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "MAX_FILE_BYTES", 1000)
    with pytest.raises(FormatError, match="is too large"):
        registry.get("coco").read(SAMPLES / "coco_person_keypoints.json")


class BrokenVideo(FakeVideo):
    def frame(self, i: int) -> np.ndarray:
        if i >= 5:
            raise RuntimeError("decoder failed")
        return super().frame(i)


@pytest.mark.parametrize(
    ("name", "out", "options"),
    [
        ("coco", "set.json", {"images": "png"}),
        ("dlc", "dlc", {}),
    ],
)
def test_failed_write_leaves_nothing(
    pose_set: PoseSet, tmp_path: Path, name: str, out: str, options: dict[str, object]
) -> None:
    with pytest.raises(FormatError, match="cannot read frame 5"):
        registry.get(name).write(pose_set, tmp_path / out, video=BrokenVideo(), **options)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_old_file(pose_set: PoseSet, tmp_path: Path) -> None:
    out = tmp_path / "set.json"
    out.write_text("old")
    with pytest.raises(FormatError):
        registry.get("coco").write(pose_set, out, images="png", video=BrokenVideo())
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["set.json"]


@pytest.mark.parametrize("name", ["coco", "cvat-video", "csv", "npz", "dlc-csv"])
def test_bad_target_or_option(pose_set: PoseSet, tmp_path: Path, name: str) -> None:
    adaptor = registry.get(name)
    with pytest.raises(FormatError, match="folder does not exist"):
        adaptor.write(pose_set, tmp_path / "nowhere" / f"x{adaptor.extensions[0]}")
    if name != "npz" and name != "csv":
        with pytest.raises(FormatError, match="'manual' or 'all'"):
            adaptor.write(pose_set, tmp_path / f"x{adaptor.extensions[0]}", frames="some")
    assert list(tmp_path.iterdir()) == []
