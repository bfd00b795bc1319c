"""DeepLabCut: the labeled-data folder as DeepLabCut reads it, and its CSV layouts on import."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseSet
from annotator.errors import FormatError
from annotator.formats import registry
from annotator.formats.dlc import image_name
from tests.formats.helpers import SAMPLES, FakeVideo


def test_image_names_follow_deeplabcut() -> None:
    # DeepLabCut's frame extraction pads the index to ceil(log10(number of frames)) digits.
    assert image_name(5, 12) == "img05.png"
    assert image_name(33, 412) == "img033.png"
    assert image_name(0, 1000) == "img000.png"
    assert image_name(7, 1) == "img7.png"


def test_labeled_data_folder(pose_set: PoseSet, tmp_path: Path, fake_video: FakeVideo) -> None:
    out = tmp_path / "dlc"
    registry.get("dlc").write(pose_set, out, scorer="alice", video=fake_video)
    folder = out / "labeled-data" / "walk"
    table = pd.read_csv(folder / "CollectedData_alice.csv", header=[0, 1, 2], index_col=0)
    assert list(table.columns.names) == ["scorer", "bodyparts", "coords"]
    assert list(table.index) == [f"labeled-data/walk/img{f:02d}.png" for f in (0, 5, 11)]
    joints = pose_set.skeleton.joints
    assert list(table.columns.get_level_values(1)[::2]) == list(joints)
    inst = pose_set.instances[0]
    got = table.loc["labeled-data/walk/img05.png", ("alice", joints[3], "x")]
    assert got == pytest.approx(inst.poses[5, 3, 0], abs=0.01)
    assert np.isnan(table.loc["labeled-data/walk/img11.png", ("alice", joints[4], "x")])
    h5 = pd.read_hdf(folder / "CollectedData_alice.h5", key="df_with_missing")
    pd.testing.assert_frame_equal(h5, table, check_names=False)
    for f in (0, 5, 11):
        bgr = cv2.imread(str(folder / f"img{f:02d}.png"))
        assert bgr is not None and int(bgr[0, 0, 2]) == 10 * f
    config = yaml.safe_load((out / "config_labels.yaml").read_text())
    assert config["bodyparts"] == list(joints)
    assert config["skeleton"][0] == [joints[a] for a in pose_set.skeleton.edges[0]]
    assert config["scorer"] == "alice"


def test_folder_export_refuses_existing_files(
    pose_set: PoseSet, tmp_path: Path, fake_video: FakeVideo
) -> None:
    out = tmp_path / "dlc"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(FormatError, match="already exists"):
        registry.get("dlc").write(pose_set, out, video=fake_video)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_multi_animal_config(two_people: PoseSet, tmp_path: Path, fake_video: FakeVideo) -> None:
    out = tmp_path / "dlc"
    registry.get("dlc").write(two_people, out, video=fake_video)
    config = yaml.safe_load((out / "config_labels.yaml").read_text())
    assert config["multianimalproject"] is True
    assert config["individuals"] == ["individual0", "individual4"]
    assert config["multianimalbodyparts"] == list(two_people.skeleton.joints)
    assert config["bodyparts"] == "MULTI!"
    h5 = pd.read_hdf(out / "labeled-data" / "video" / "CollectedData_annotator.h5")
    assert list(h5.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]


def test_multi_animal_header(two_people: PoseSet, tmp_path: Path) -> None:
    out = tmp_path / "CollectedData_x.csv"
    registry.get("dlc-csv").write(two_people, out, scorer="x")
    table = pd.read_csv(out, header=[0, 1, 2, 3], index_col=0)
    assert list(table.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert sorted(set(table.columns.get_level_values(1))) == ["individual0", "individual4"]


def test_reads_single_animal_example() -> None:
    # Layout of DeepLabCut's examples/Reaching-Mackenzie-2018-08-30/labeled-data/reachingvideo1/
    # CollectedData_Mackenzie.csv (https://github.com/DeepLabCut/DeepLabCut): one index column,
    # unpadded image names; values shortened and one cell emptied.
    path = SAMPLES / "dlc_single_CollectedData_Mackenzie.csv"
    assert registry.guess(path).name == "dlc-csv"
    ps = registry.get("dlc-csv").read(path)
    assert ps.skeleton.joints == ("hand", "Finger1", "Finger2", "Joystick")
    assert ps.frame_count == 117
    (inst,) = ps.instances
    assert inst.manual_frames().tolist() == [0, 33, 116]
    assert inst.poses[0, 0].tolist() == [202, 629, Visibility.VISIBLE]
    assert inst.visibility[33, 1] == Visibility.UNLABELLED
    assert inst.source[33, 1] == Source.NONE
    assert inst.poses[116, 3].tolist() == [185, 195, Visibility.VISIBLE]


def test_reads_multi_animal_example() -> None:
    # Layout of DeepLabCut's examples/multi_mouse-dlc_team-2022-04-12/labeled-data/m3v1mp4short/
    # CollectedData_dlc_team.csv: four header rows, three index columns, a "single" individual
    # for unique (scene) points, padded image names.
    ps = registry.get("dlc-csv").read(SAMPLES / "dlc_multi_CollectedData_dlc_team.csv")
    assert ps.skeleton.joints == ("snout", "tail")
    assert ps.frame_count == 12
    assert len(ps.instances) == 2
    a, b = ps.instances
    assert a.poses[5, 0].tolist() == pytest.approx([104.6, 99.9, 1], abs=1e-4)
    assert b.poses[11, 0, 2] == Visibility.UNLABELLED
    assert b.poses[5, 1, 2] == Visibility.UNLABELLED


def test_reads_a_project_folder(tmp_path: Path) -> None:
    folder = tmp_path / "proj" / "labeled-data" / "reachingvideo1"
    folder.mkdir(parents=True)
    sample = SAMPLES / "dlc_single_CollectedData_Mackenzie.csv"
    (folder / sample.name.replace("dlc_single_", "")).write_bytes(sample.read_bytes())
    for where in (tmp_path / "proj", folder.parent, folder):
        assert registry.guess(where).name == "dlc"
        assert registry.get("dlc").read(where).frame_count == 117


def test_without_pytables_the_csv_is_written_and_the_missing_h5_is_said(
    pose_set: PoseSet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "tables", None)  # makes `import tables` fail
    out = tmp_path / "dlc"
    registry.get("dlc").write(pose_set, out, scorer="alice", images=False)
    folder = out / "labeled-data" / "walk"
    assert (folder / "CollectedData_alice.csv").is_file()
    assert not (folder / "CollectedData_alice.h5").exists()
    assert "CollectedData_alice.h5 not written" in caplog.text
    assert "PyTables" in caplog.text


def test_table_of_headers_only_says_it_holds_no_frames(pose_set: PoseSet, tmp_path: Path) -> None:
    """A table with its three header rows and no frame (what an export of no label wrote)."""
    pose_set.instances[0].source[:] = Source.HPIM  # nothing manual: no row to write
    out = tmp_path / "CollectedData_me.csv"
    registry.get("dlc-csv").write(pose_set, out)
    assert len(out.read_text().splitlines()) == 3
    with pytest.raises(FormatError, match="holds no labelled frames"):
        registry.get("dlc-csv").read(out)


def test_one_person_with_a_track_id_keeps_it(
    pose_set: PoseSet, tmp_path: Path, fake_video: FakeVideo
) -> None:
    # The single-animal header has no place for a track id: person 3 came back as person 0,
    # and importing into the project it came from added a duplicate person.
    alone = replace(pose_set, instances=[replace(pose_set.instances[0], track_id=3)])
    table = tmp_path / "CollectedData_x.csv"
    registry.get("dlc-csv").write(alone, table, scorer="x")
    header = pd.read_csv(table, header=[0, 1, 2, 3], index_col=0).columns
    assert list(header.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert [i.track_id for i in registry.get("dlc-csv").read(table).instances] == [3]
    out = tmp_path / "dlc"
    registry.get("dlc").write(alone, out, video=fake_video)
    config = yaml.safe_load((out / "config_labels.yaml").read_text())
    assert config["individuals"] == ["individual3"]
    back = registry.get("dlc").read(out)
    assert [i.track_id for i in back.instances] == [3]
    assert back.instances[0].manual_frames().tolist() == [0, 5, 11]
    # person 0 alone keeps the single-animal layout DeepLabCut's plain projects use
    registry.get("dlc-csv").write(pose_set, table, scorer="x")
    assert table.read_text().splitlines()[1].startswith("bodyparts,")
