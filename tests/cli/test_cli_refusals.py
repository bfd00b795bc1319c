"""Clearly wrong command lines are refused with one line before any work: an output that is one
of the command's inputs (``propose clip.mp4 --out clip.mp4`` wrote JSON over the video), a
label file without a label, a budget or device that would be ignored; and the help and
``info`` say what the commands do."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.cli.info import codec_name
from annotator.core.safeio import refuse_replacing
from annotator.errors import UsageError, VideoError
from tests.video.videomaker import make_video

FRAMES = 30


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return make_video(tmp_path / "clip.mp4", n=FRAMES)


def _labels(folder: Path, visible: bool = True) -> Path:
    """An npz in the contract layout: every joint labelled (or none, ``visible=False``)."""
    poses = np.zeros((FRAMES, 13, 3), dtype=np.float32)
    poses[:, :, :2] = 20.0 + np.arange(FRAMES, dtype=np.float32)[:, None, None]
    if visible:
        poses[:, :, 2] = 1
    else:
        poses[:, :, :2] = np.nan
    path = folder / "labels.npz"
    np.savez(path, poses=poses)
    return path


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], what: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"the output would replace the input {what}" in err and len(err.splitlines()) == 1


def test_propose_does_not_write_over_its_video(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(clip)
    _refused(["propose", str(clip), "--method", "uniform", "--out", str(clip)], capsys, "video")
    # another spelling of the same file, and a link to it
    other = tmp_path / "sub" / ".." / "clip.mp4"
    (tmp_path / "sub").mkdir()
    _refused(["propose", str(clip), "--method", "uniform", "--out", str(other)], capsys, "video")
    link = tmp_path / "link.json"
    link.symlink_to(clip)
    _refused(["propose", str(clip), "--method", "uniform", "--out", str(link)], capsys, "video")
    assert _digest(clip) == before


def test_fill_does_not_write_over_its_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "first.npz"
    base = ["fill", str(_labels(tmp_path)), "--keep-frames", "0,29", "--method", "linear"]
    assert main([*base, "--out", str(first)]) == 0
    before = _digest(first)
    argv = ["fill", str(first), "--keep-frames", "0,29", "--method", "linear", "--out"]
    _refused([*argv, str(first)], capsys, "labels")
    assert _digest(first) == before


def test_import_and_export_do_not_write_over_their_inputs(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _labels(tmp_path)
    project = tmp_path / "p.annot.json"
    assert main(["import", str(labels), "--video", str(clip), "--out", str(project)]) == 0
    capsys.readouterr()
    argv = ["import", str(labels), "--video", str(clip), "--force", "--out"]
    _refused([*argv, str(labels)], capsys, "label file")
    _refused([*argv, str(clip)], capsys, "video")
    _refused([*argv[:-2], "--out", str(labels)], capsys, "label file")  # not "pass --force"
    before = _digest(project)
    argv = ["export", str(project), "--format", "coco", "--force", "--out"]
    _refused([*argv, str(project)], capsys, "project")  # even with --force
    _refused([*argv, str(clip)], capsys, "video")
    _refused([*argv[:-2], "--out", str(project)], capsys, "project")  # not "pass --force"
    assert _digest(project) == before
    assert main([*argv, str(tmp_path / "out.json")]) == 0  # a new file is fine


def test_estimate_does_not_write_over_its_video(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.npz"
    out.symlink_to(clip)
    before = _digest(clip)
    _refused(["estimate", str(clip), "--keyframes", "uniform", "--out", str(out)], capsys, "video")
    assert _digest(clip) == before


def test_a_proxy_never_replaces_its_video(clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from annotator.video import proxy

    monkeypatch.setattr(proxy, "proxy_path", lambda path, single_reference=False: Path(path))
    before = _digest(clip)
    with pytest.raises(VideoError, match="the output would replace the input video"):
        proxy.make_proxy(clip, force=True)
    assert _digest(clip) == before


def test_refuse_replacing_skips_outputs_that_do_not_exist(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    refuse_replacing(tmp_path / "new.json", {"video": video, "model": None})
    hard = tmp_path / "hard.json"
    hard.hardlink_to(video)
    with pytest.raises(UsageError, match=f"replace the input video {video}"):
        refuse_replacing(hard, {"video": video}, UsageError)


def test_import_counts_labelled_frames_and_refuses_a_file_without_labels(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = _labels(tmp_path, visible=False)
    out = tmp_path / "p.annot.json"
    assert main(["import", str(empty), "--video", str(clip), "--out", str(out)]) == 2
    assert "labels.npz holds no labels" in capsys.readouterr().err
    assert not out.exists()
    poses = np.load(empty)["poses"]
    poses[[3, 7], 2] = [40.0, 30.0, 1.0]  # one joint on two frames
    np.savez(empty, poses=poses)
    assert main(["import", str(empty), "--video", str(clip), "--out", str(out)]) == 0
    assert "imported 2 labelled frames of 1 person" in capsys.readouterr().out


def test_estimate_refuses_a_budget_with_every_frame(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["estimate", str(clip), "--keyframes", "all", "--budget", "0.1"]
    assert main([*argv, "--out", str(tmp_path / "e.npz")]) == 2
    assert "--budget chooses key frames; --keyframes all" in capsys.readouterr().err


@pytest.mark.parametrize("device", ["tpu", "gpu", "cudax", "cuda:"])
def test_an_unknown_device_is_refused_whatever_the_method(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], device: str
) -> None:
    out = tmp_path / "p.json"
    argv = ["propose", str(clip), "--method", "uniform", "--device", device, "--out", str(out)]
    assert main(argv) == 2
    assert f"unknown device {device!r}" in capsys.readouterr().err
    assert not out.exists()
    argv = ["estimate", str(clip), "--keyframes", "uniform", "--device", device]
    assert main([*argv, "--out", str(tmp_path / "e.npz")]) == 2
    assert f"unknown device {device!r}" in capsys.readouterr().err


@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_known_devices_are_accepted(clip: Path, tmp_path: Path, device: str) -> None:
    out = tmp_path / "p.json"
    argv = ["propose", str(clip), "--method", "uniform", "--device", device, "--out", str(out)]
    assert main(argv) == 0
    assert json.loads(out.read_text())["frame_count"] == FRAMES


def test_info_names_the_codec_not_its_decoder() -> None:
    assert codec_name("libdav1d") == "av1"
    assert codec_name("libvpx-vp9") == "vp9"
    assert codec_name("h264") == "h264"
    assert codec_name("no-such-decoder") == "no-such-decoder"


def test_info_json_has_the_codec_and_its_decoder(
    clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", str(clip), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["codec"] == "h264" and info["decoder"]


def test_help_says_presentation_order_and_lists_every_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["frame", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "presentation order" in text and "decode order" not in text
    with pytest.raises(SystemExit):
        main(["--help"])
    line = next(s for s in capsys.readouterr().out.splitlines() if s.strip().startswith("train"))
    assert all(name in line for name in ("dictionary", "K-FPN", "gate", "online"))
