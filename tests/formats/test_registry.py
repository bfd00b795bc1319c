"""The registry: contract names, lookups, guessing and file-dialog filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.errors import FormatError
from annotator.formats import registry
from tests.formats.helpers import SAMPLES

CONTRACT = ("coco", "cvat-video", "dlc", "dlc-csv", "csv", "npz", "penn-mat", "jhmdb-mat")


def test_contract_names() -> None:
    assert sorted(a.name for a in registry.all_formats()) == sorted(CONTRACT)
    assert set(registry.names("write")) == {"coco", "cvat-video", "dlc", "dlc-csv", "csv", "npz"}
    assert set(registry.names("read")) == set(CONTRACT)
    assert registry.get("dlc").is_folder


def test_unknown_name() -> None:
    with pytest.raises(FormatError, match="unknown format 'yolo'"):
        registry.get("yolo")


def test_dialog_filters() -> None:
    read = registry.dialog_filters("read")
    assert read[0].startswith("All supported labels (") and "*.mat" in read[0]
    assert "COCO keypoints (*.json)" in read
    assert "Penn Action labels (*.mat)" in read
    write = registry.dialog_filters("write")
    assert "CVAT for video 1.1 (*.xml)" in write
    assert not any("Penn" in f for f in write)
    assert not any("labeled-data" in f for f in read + write)  # folders use a folder dialog
    assert registry.for_filter("COCO keypoints (*.json)").name == "coco"
    with pytest.raises(FormatError, match="no format matches"):
        registry.for_filter(read[0])


@pytest.mark.parametrize(
    ("sample", "name"),
    [
        ("coco_person_keypoints.json", "coco"),
        ("cvat_video_skeleton.xml", "cvat-video"),
        ("dlc_single_CollectedData_Mackenzie.csv", "dlc-csv"),
        ("dlc_multi_CollectedData_dlc_team.csv", "dlc-csv"),
        ("plain_table.csv", "csv"),
    ],
)
def test_guess_samples(sample: str, name: str) -> None:
    assert registry.guess(SAMPLES / sample).name == name


def test_guess_refuses_unknown(tmp_path: Path) -> None:
    odd = tmp_path / "notes.csv"
    odd.write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match=r"cannot tell the format of notes\.csv"):
        registry.guess(odd)
    with pytest.raises(FormatError, match="not found"):
        registry.guess(tmp_path / "missing.json")
