"""Project files: exact round trip, atomic save with backup, video checks, versions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from annotator.core.codes import Source, Visibility
from annotator.core.commands import (
    AcceptProposals,
    AddInstance,
    MarkReviewed,
    PlaceJoint,
    SetFlag,
    SetGate,
    SetSceneCut,
    SetSetting,
)
from annotator.core.document import Document, Proposals, VideoRef
from annotator.core.fingerprint import video_fingerprint
from annotator.core.history import History
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.schema import CURRENT_VERSION, document_to_dict
from annotator.core.skeleton import COCO, PENN_ACTION
from annotator.core.store import (
    atomic_write,
    backup_path,
    check_video,
    load_project,
    open_project,
    relocate_video,
    save_project,
)
from annotator.errors import ProjectError

from .helpers import content


def _video(tmp_path: Path, name: str = "clip.mp4", payload: bytes = b"video bytes") -> Path:
    path = tmp_path / "videos" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return path


def _rich_doc(video: Path) -> Document:
    ref = VideoRef(str(video), video_fingerprint(video), 90, 29.97, 640, 480)
    ts = np.arange(90) * 0.0333667 + 0.0125  # non-uniform-looking real timestamps
    ts[40:] += 0.001
    doc = Document.new(ref, PENN_ACTION, ts)
    h = History(doc)
    h.push(PlaceJoint(0, 0, 0.1, 1 / 3))
    h.push(PlaceJoint(0, 5, 639.99, 0.0001, Visibility.OCCLUDED))
    h.push(PlaceJoint(89, 12, 1e-8, 3e6))
    h.push(AddInstance(track_id=4, skeleton=COCO))
    h.push(PlaceJoint(10, 16, 5.0, 6.0, instance=1))
    h.push(AcceptProposals(Proposals((0, 44, 89), tuple(f / 90 for f in range(90)), "kfpn")))
    h.push(MarkReviewed(3, 6, "rév", at="2026-11-23T10:00:00+00:00"))
    h.push(SetFlag(7, 'left/right "swap"?'))
    h.push(SetSceneCut(50))
    h.push(SetGate(60, [1, 0, 1]))
    h.push(SetSetting("fill", {"method": "hpim", "lambda": 0.1, "ok": [True, None]}))
    return doc


def test_round_trip_is_exact(tmp_path: Path) -> None:
    video = _video(tmp_path)
    doc = _rich_doc(video)
    project = tmp_path / "work" / "p.annot.json"
    project.parent.mkdir()
    save_project(doc, project)
    loaded = load_project(project)
    assert content(loaded) == content(doc)
    assert np.array_equal(loaded.manual(0), doc.manual(0), equal_nan=True)
    assert np.array_equal(loaded.timestamps, doc.timestamps)
    assert loaded.instances[1].skeleton == COCO
    data = json.loads(project.read_text(encoding="utf-8"))
    assert data["schema"] == f"annotator.project/{CURRENT_VERSION}"
    assert data["video"]["path"] == os.path.join("..", "videos", "clip.mp4")  # relative
    for entry in data["instances"][0]["labels"]:
        assert entry["time"] == pytest.approx(doc.time(entry["frame"]))
    assert data["instances"][0]["labels"][0]["joints"][0] == [0.1, 0.333, 1]  # 1/1000 px
    assert data == json.loads(json.dumps(document_to_dict(doc, project.parent.resolve())))


def test_a_project_saved_by_an_editor_with_a_byte_order_mark_opens(tmp_path: Path) -> None:
    video = _video(tmp_path)
    doc = _rich_doc(video)
    project = tmp_path / "p.annot.json"
    save_project(doc, project)
    project.write_bytes(b"\xef\xbb\xbf" + project.read_bytes())  # as some editors save
    assert content(load_project(project)) == content(doc)


def test_a_damaged_project_points_to_its_backup(tmp_path: Path) -> None:
    video = _video(tmp_path)
    doc = _rich_doc(video)
    project = tmp_path / "p.annot.json"
    save_project(doc, project)
    save_project(doc, project)  # the first save becomes the backup
    project.write_bytes(project.read_bytes()[:100])  # cut short
    with pytest.raises(ProjectError, match=r"previous save is kept as p\.annot\.json\.bak"):
        load_project(project)
    assert content(load_project(backup_path(project))) == content(doc)


def test_uniform_timestamps_are_stored_compactly(tmp_path: Path) -> None:
    doc = Document.new(VideoRef("v.mp4", None, 100_000, 30.0, 1, 1), COCO)
    save_project(doc, tmp_path / "p.annot.json")
    data = json.loads((tmp_path / "p.annot.json").read_text(encoding="utf-8"))
    assert data["timestamps"] == {"start": 0.0, "fps": 30.0}
    assert np.array_equal(load_project(tmp_path / "p.annot.json").timestamps, doc.timestamps)


def test_save_is_atomic_and_keeps_a_backup(tmp_path: Path) -> None:
    video = _video(tmp_path)
    doc = _rich_doc(video)
    project = tmp_path / "p.annot.json"
    save_project(doc, project)
    first = project.read_bytes()
    assert not backup_path(project).exists()
    History(doc).push(PlaceJoint(30, 1, 2.0, 2.0))
    save_project(doc, project)
    assert backup_path(project).read_bytes() == first
    assert load_project(project).label(0, 30, 1)[0] == 2.0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "p.annot.json",
        "p.annot.json.bak",
        "videos",
    ]


def test_failed_save_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "p.annot.json"
    atomic_write(project, b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(ProjectError, match="No space left"):
        atomic_write(project, b"new")
    assert project.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["p.annot.json"]


def test_stale_temp_files_are_cleaned(tmp_path: Path) -> None:
    project = tmp_path / "p.annot.json"
    stale = tmp_path / ".p.annot.json.999999999.deadbeef.tmp"  # no such process
    stale.write_bytes(b"half a proj")
    atomic_write(project, b"{}")
    assert not stale.exists()


def test_video_checks(tmp_path: Path) -> None:
    video = _video(tmp_path)
    doc = _rich_doc(video)
    project = tmp_path / "p.annot.json"
    save_project(doc, project)
    opened = open_project(project, recovery_dir=tmp_path / "rec")
    assert opened.video.status == "ok" and opened.recovery is None

    video.write_bytes(b"another video!")  # same place, different content
    check = check_video(load_project(project), project)
    assert check.status == "mismatch" and not check.ok
    assert "not the video" in check.message

    video.unlink()
    doc = load_project(project)
    assert check_video(doc, project).status == "missing"
    moved = _video(tmp_path, "moved.mp4")  # the original bytes, elsewhere
    wrong = _video(tmp_path, "wrong.mp4", b"nope")
    assert relocate_video(doc, wrong).status == "mismatch"
    assert doc.video.path != str(wrong)  # unchanged until the user accepts
    assert relocate_video(doc, moved).ok
    assert doc.video.path == str(moved)
    save_project(doc, project)
    assert check_video(load_project(project), project).status == "ok"


def test_moved_project_finds_video_by_absolute_path(tmp_path: Path) -> None:
    video = _video(tmp_path)
    project = tmp_path / "a" / "p.annot.json"
    project.parent.mkdir()
    save_project(_rich_doc(video), project)
    elsewhere = tmp_path / "b" / "c" / "p.annot.json"
    elsewhere.parent.mkdir(parents=True)
    project.rename(elsewhere)
    assert check_video(load_project(elsewhere), elsewhere).status == "ok"


def test_video_beside_the_project_is_found(tmp_path: Path) -> None:
    video = _video(tmp_path)
    project = tmp_path / "p.annot.json"
    save_project(_rich_doc(video), project)
    data = json.loads(project.read_text(encoding="utf-8"))
    data["video"]["path"] = "gone/clip.mp4"
    data["video"]["absolute_path"] = None
    project.write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "clip.mp4").write_bytes(video.read_bytes())
    assert check_video(load_project(project), project).status == "ok"


def test_v0_projects_are_migrated(tmp_path: Path) -> None:
    video = _video(tmp_path)
    v0 = {
        "schema": "annotator.project/0",
        "video": "videos/clip.mp4",
        "fingerprint": video_fingerprint(video),
        "frame_count": 40,
        "fps": 25.0,
        "width": 320,
        "height": 240,
        "skeleton": "penn_action",
        "labels": {
            "3": [[10, 20, True], [11, 21, False]] + [[None, None, None]] * 11,
            "12": [[5.5, 6.5, True]] * 13,
        },
        "keyframes": [12, 3],
    }
    project = tmp_path / "old.annot.json"
    project.write_text(json.dumps(v0), encoding="utf-8")
    before = project.read_bytes()
    doc = load_project(project)
    assert project.read_bytes() == before  # migration never rewrites the file
    assert doc.labelled_frames().tolist() == [3, 12]
    assert doc.label(0, 3, 0) == (10.0, 20.0, Visibility.VISIBLE)
    assert doc.label(0, 3, 1) == (11.0, 21.0, Visibility.OCCLUDED)
    assert doc.label(0, 3, 2)[2] == Visibility.UNLABELLED
    assert doc.proposals is not None and doc.proposals.frames == (3, 12)
    assert doc.time(12) == pytest.approx(12 / 25)
    assert check_video(doc, project).status == "ok"
    assert [i.track_id for i in doc.instances] == [0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"schema": "annotator.project/99"}', "newer version"),
        ('{"schema": "something/1"}', "not an annotator project"),
        ("[1, 2]", "not an annotator project"),
        ('{"schema": "annotator.project/1", "video": {"frame_count": NaN}}', "invalid number"),
        ('{"schema": "annotator.project/1", "video": {"frame_count": 1e999}}', "integer"),
        (
            '{"schema": "annotator.project/1", "video": {"frame_count": 1' + "0" * 5000 + "}}",
            "invalid number",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"schema": "annotator.project/1"', "not valid JSON"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    project = tmp_path / "p.annot.json"
    project.write_text(text, encoding="utf-8")
    with pytest.raises(ProjectError, match=message) as err:
        load_project(project)
    assert "\n" not in str(err.value)


def test_gigantic_document_is_refused_before_allocating(tmp_path: Path) -> None:
    doc = Document.new(VideoRef("v.mp4", None, 100, 30.0, 1, 1), COCO)
    save_project(doc, tmp_path / "p.annot.json")
    data = json.loads((tmp_path / "p.annot.json").read_text(encoding="utf-8"))
    data["video"]["frame_count"] = 9_000_000
    data["instances"] = [{"track_id": k, "skeleton": 0, "labels": []} for k in range(100)]
    (tmp_path / "p.annot.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match="more than this app can hold"):
        load_project(tmp_path / "p.annot.json")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="not found"):
        load_project(tmp_path / "nope.annot.json")
    with pytest.raises(ProjectError, match="folder"):
        load_project(tmp_path)


def test_pose_set_round_trip() -> None:
    poses = np.full((30, 13, 3), np.nan, np.float32)
    poses[:, :, 2] = Visibility.UNLABELLED
    poses[4] = (1.0, 2.0, Visibility.VISIBLE)
    poses[5, :, 2] = Visibility.ABSENT
    poses[6] = (3.0, 4.0, Visibility.VISIBLE)
    source = np.full((30, 13), Source.NONE, np.int8)
    source[4:6] = Source.MANUAL
    source[6] = Source.HPIM  # filled: not a manual label
    ps = PoseSet(PENN_ACTION, 30, [PoseInstance(3, poses, source)], fps=30.0)
    doc = Document.from_pose_set(ps)
    assert doc.labelled_frames().tolist() == [4, 5]
    assert doc.instances[0].track_id == 3
    out = doc.to_pose_set()
    assert out.instances[0].manual_frames().tolist() == [4, 5]
    assert np.array_equal(out.instances[0].poses[4:6], poses[4:6], equal_nan=True)
    assert (out.instances[0].source[6] == Source.NONE).all()
    assert np.isnan(out.instances[0].poses[6, :, :2]).all()


def test_gigantic_integer_time_is_refused(tmp_path: Path) -> None:
    """Found by the fuzzer: a 400-digit integer where a label's time belongs."""
    doc = Document.new(VideoRef("v.mp4", None, 10, 30.0, 1, 1), COCO)
    History(doc).push(PlaceJoint(2, 0, 1.0, 1.0))
    project = tmp_path / "p.annot.json"
    save_project(doc, project)
    data = json.loads(project.read_text(encoding="utf-8"))
    data["instances"][0]["labels"][0]["time"] = 10**400
    project.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match=r"labels\[0\]\.time is out of range"):
        load_project(project)
