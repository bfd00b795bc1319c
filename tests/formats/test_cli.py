"""``annotator import`` and ``annotator export``: projects in, files out, bad input refused."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from annotator.cli import main
from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.store import load_project
from annotator.errors import FormatError
from annotator.formats import registry
from tests.formats.helpers import FRAMES, manual_only


def make_video(path: Path, frames: int = FRAMES, width: int = 64, height: int = 48) -> Path:
    """A tiny MPEG-4 video whose frame i is a flat colour with red = 10 * i."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            img = np.zeros((height, width, 3), np.uint8)
            img[:, :, 0] = (10 * i) % 256
            img[:, :, 2] = 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNOTATOR_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return make_video(tmp_path / "walk.mp4")


@pytest.fixture
def project(pose_set: PoseSet, tmp_path: Path, video: Path) -> Path:
    labels = tmp_path / "labels.npz"
    registry.get("npz").write(pose_set, labels)
    out = tmp_path / "walk.annot.json"
    assert main(["import", str(labels), "--video", str(video), "--out", str(out)]) == 0
    return out


def test_import_keeps_manual_labels(project: Path, pose_set: PoseSet, video: Path) -> None:
    doc = load_project(project)
    assert doc.frame_count == FRAMES
    assert Path(doc.video.path) == video.resolve()
    assert (doc.video.width, doc.video.height) == (64, 48)
    got = doc.to_pose_set().instances[0]
    want = manual_only(pose_set)[0]
    np.testing.assert_allclose(got.poses, want.poses, atol=1e-4, equal_nan=True)


def test_import_pads_short_labels(tmp_path: Path, video: Path) -> None:
    out = tmp_path / "p.annot.json"
    sample = Path(__file__).parent / "samples" / "cvat_video_skeleton.xml"
    assert main(["import", str(sample), "--video", str(video), "--out", str(out)]) == 0
    doc = load_project(out)
    assert doc.frame_count == FRAMES  # 10 frames of labels on a 12-frame video
    assert doc.skeleton.joints == ("head", "hip", "foot")
    assert doc.label(0, 0, 2)[2] == Visibility.ABSENT


def test_import_penn_action(data_dir: Path, tmp_path: Path) -> None:
    mat = sorted((data_dir / "penn_action" / "labels").glob("*.mat"))[0]
    frames = registry.get("penn-mat").read(mat).frame_count
    video = make_video(tmp_path / "penn.mp4", frames=frames, width=96, height=64)
    out = tmp_path / "penn.annot.json"
    assert main(["import", str(mat), "--video", str(video), "--out", str(out)]) == 0
    doc = load_project(out)
    assert doc.skeleton.name == "penn_action"
    assert len(doc.labelled_frames()) == frames


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_import_refuses_bad_input(
    tmp_path: Path, video: Path, pose_set: PoseSet, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.annot.json"
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    _refused(capsys, ["import", str(bad), "--video", str(video), "--out", str(out)], "JSON")
    odd = tmp_path / "notes.txt"
    odd.write_text("hello")
    _refused(capsys, ["import", str(odd), "--video", str(video), "--out", str(out)], "--format")
    long = tmp_path / "long.npz"
    registry.get("npz").write(PoseSet(pose_set.skeleton, 40, [_stretch(pose_set, 40)]), long)
    _refused(
        capsys, ["import", str(long), "--video", str(video), "--out", str(out)], "reach frame 39"
    )
    labels = tmp_path / "ok.npz"
    registry.get("npz").write(pose_set, labels)
    novideo = tmp_path / "none.mp4"
    _refused(
        capsys, ["import", str(labels), "--video", str(novideo), "--out", str(out)], "none.mp4"
    )
    assert not out.exists()
    out.write_text("keep")
    _refused(capsys, ["import", str(labels), "--video", str(video), "--out", str(out)], "--force")
    assert out.read_text() == "keep"


def _stretch(ps: PoseSet, frames: int) -> PoseInstance:
    """The first frame's labels moved to the last of ``frames`` frames."""
    inst = ps.instances[0]
    out = PoseInstance.empty(0, frames, ps.skeleton.num_joints)
    out.poses[-1], out.source[-1] = inst.poses[0], inst.source[0]
    return out


@pytest.mark.parametrize("fmt", ["coco", "cvat-video", "csv", "npz", "dlc-csv"])
def test_export_reads_back(project: Path, tmp_path: Path, fmt: str, pose_set: PoseSet) -> None:
    adaptor = registry.get(fmt)
    out = tmp_path / f"export{adaptor.extensions[0]}"
    assert main(["export", str(project), "--format", fmt, "--out", str(out)]) == 0
    back = adaptor.read(out)
    assert back.instances[0].manual_frames().tolist() == [0, 5, 11]


def test_export_coco_with_images_from_the_video(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "set.json"
    argv = ["export", str(project), "--format", "coco", "--out", str(out), "--images", "jpg"]
    assert main(argv) == 0
    coco = COCO(str(out))
    for img in coco.loadImgs(coco.getImgIds()):
        bgr = cv2.imread(str(out.parent / img["file_name"]))
        assert bgr is not None and bgr.shape == (48, 64, 3)
        assert abs(int(bgr[24, 32, 2]) - 10 * img["frame_index"]) <= 8  # lossy codecs


def test_export_dlc_folder(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "dlc"
    assert main(["export", str(project), "--format", "dlc", "--out", str(out)]) == 0
    folder = out / "labeled-data" / "walk"
    assert sorted(p.name for p in folder.glob("*.png")) == ["img00.png", "img05.png", "img11.png"]


def test_export_all_frames_runs_the_fill(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.npz"
    argv = ["export", str(project), "--format", "npz", "--out", str(out), "--frames", "all"]
    assert main([*argv, "--method", "linear"]) == 0
    inst = registry.get("npz").read(out).instances[0]
    assert (inst.source[1:5] == Source.LINEAR).any()
    assert (inst.source[[0, 5, 11]] != Source.LINEAR).all()


def test_export_refuses_bad_input(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.json"
    _refused(
        capsys,
        ["export", str(tmp_path / "nope.annot.json"), "--format", "coco", "--out", str(out)],
        "not found",
    )
    broken = tmp_path / "broken.annot.json"
    broken.write_text("{}")
    _refused(capsys, ["export", str(broken), "--format", "coco", "--out", str(out)], "broken")
    _refused(
        capsys,
        ["export", str(project), "--format", "csv", "--out", str(out), "--images", "png"],
        "--images",
    )
    with pytest.raises(SystemExit) as exit_info:  # argparse refuses an import-only format
        main(["export", str(project), "--format", "penn-mat", "--out", str(out)])
    assert exit_info.value.code == 2
    assert "invalid choice: 'penn-mat'" in capsys.readouterr().err
    assert not out.exists()


def test_import_with_a_custom_skeleton(tmp_path: Path, video: Path, pose_set: PoseSet) -> None:
    # A bare fill output (poses and source only) names no joints: --skeleton gives them.
    bare = tmp_path / "fill.npz"
    np.savez(bare, poses=pose_set.instances[0].poses, source=pose_set.instances[0].source)
    template = tmp_path / "body.json"
    joints = [f"j{i}" for i in range(13)]
    template.write_text(
        f'{{"name": "body", "joints": {joints!r}, "edges": [[0, 1]]}}'.replace("'", '"')
    )
    out = tmp_path / "p.annot.json"
    argv = ["import", str(bare), "--video", str(video), "--out", str(out)]
    assert main([*argv, "--skeleton", str(template)]) == 0
    doc = load_project(out)
    assert doc.skeleton.name == "body" and doc.skeleton.edges == ((0, 1),)
    assert len(doc.labelled_frames()) == 3


def test_frame_images_need_a_video_from_the_caller(
    pose_set: PoseSet, tmp_path: Path, video: Path
) -> None:
    # Formats never open a video (they sit beside the video package): whoever writes frame
    # images opens the reader, asking the adaptor whether its options need one.
    coco, dlc = registry.get("coco"), registry.get("dlc")
    assert coco.needs_video(images="png") and not coco.needs_video()
    assert dlc.needs_video() and not dlc.needs_video(images=False)
    assert not registry.get("csv").needs_video(images=True)
    pose_set.video_path = str(video)
    with pytest.raises(FormatError, match="needs the video"):
        coco.write(pose_set, tmp_path / "set.json", images="png")
    with pytest.raises(FormatError, match="needs the video"):
        dlc.write(pose_set, tmp_path / "dlc")
    assert not (tmp_path / "set.json").exists() and not (tmp_path / "dlc").exists()
