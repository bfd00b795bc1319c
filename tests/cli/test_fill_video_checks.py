"""``annotator fill`` checks the video and the proposals it is given against the labels, and
fills a project along its own video: a clip of another length (whose frame rate then retimed
the fill), a proposals file made for another video, a project saved under a plain ``.json``
name and a project's own video were all taken or left silently."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.core.codes import Source
from annotator.core.commands import PlaceJoint
from annotator.core.document import Document, VideoRef
from annotator.core.history import History
from annotator.core.skeleton import PENN_ACTION
from annotator.core.store import save_project
from tests.video.videomaker import make_video

FRAMES = 40


def _labels(folder: Path, frames: int = FRAMES) -> Path:
    """A Penn Action label file: every joint labelled on every frame."""
    from scipy.io import savemat

    t = np.arange(frames, dtype=float)[:, None]
    x, y = 20.0 + t + np.arange(13), 10.0 + 0.5 * t + 3 * np.arange(13)
    path = folder / "labels.mat"
    labels = {"x": x, "y": y, "visibility": np.ones((frames, 13), dtype=np.uint8)}
    savemat(str(path), {**labels, "dimensions": np.array([64, 96, frames]), "nframes": frames})
    return path


def _project(folder: Path, name: str = "p.annot.json", video: bool = True) -> Path:
    clip = folder / "clip.mp4"
    if video and not clip.exists():
        make_video(clip, n=FRAMES)
    doc = Document.new(VideoRef(str(clip), None, FRAMES, 25.0, 96, 64), PENN_ACTION)
    history = History(doc)
    for frame in (0, FRAMES - 1):
        for j in range(13):
            history.push(PlaceJoint(frame, j, 20.0 + frame + j, 10.0 + 3 * j))
    path = folder / name
    save_project(doc, path)
    return path


def _fill(*argv: str) -> int:
    return main(["fill", *argv])


def _middle_sources(out: Path) -> set[Source]:
    with np.load(out) as data:
        return {Source(int(c)) for c in np.unique(data["source"][1 : FRAMES - 1])}


@pytest.mark.parametrize("method", ["linear", "hpim", "hpim+mv"])
def test_a_video_of_another_length_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], method: str
) -> None:
    labels = _labels(tmp_path)
    short = make_video(tmp_path / "short.mp4", n=24)
    out = tmp_path / "f.npz"
    argv = [str(labels), "--keep-frames", "0,39", "--method", method, "--video", str(short)]
    assert _fill(*argv, "--out", str(out)) == 2
    assert f"{short} has 24 frames but the labels have {FRAMES}" in capsys.readouterr().err
    assert not out.exists()


def _cut_short(path: Path, frames: int) -> Path:
    """A faststart MP4 of ``frames`` frames whose data stops at 60 % (its header is whole)."""
    import av

    from tests.video.videomaker import pattern

    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(pattern(i, 96, 64), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) * 6 // 10])
    return path


def test_a_truncated_video_is_checked_before_hpim_mv_falls_back_to_hpim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A damaged copy of another clip is refused; a damaged copy of the labels' clip (its
    header declares their frame count) fills as hpim and says so, as the app does."""
    labels = _labels(tmp_path)
    out = tmp_path / "f.npz"
    argv = [str(labels), "--keep-frames", "0,39", "--method", "hpim+mv", "--field", "mv"]
    other = _cut_short(tmp_path / "other.mp4", 30)
    assert _fill(*argv, "--video", str(other), "--out", str(out)) == 2
    assert "frames but the labels have 40" in capsys.readouterr().err
    assert not out.exists()
    own = _cut_short(tmp_path / "own.mp4", FRAMES)
    assert _fill(*argv, "--video", str(own), "--out", str(out)) == 0
    assert "no motion fields" in capsys.readouterr().err
    assert _middle_sources(out) == {Source.HPIM}


def test_a_video_of_the_labels_length_gives_its_frame_rate(tmp_path: Path) -> None:
    labels = _labels(tmp_path)
    clip = make_video(tmp_path / "clip.mp4", n=FRAMES)
    out = tmp_path / "f.npz"
    argv = [str(labels), "--keep-frames", "0,39", "--method", "linear", "--video", str(clip)]
    assert _fill(*argv, "--out", str(out)) == 0
    assert _middle_sources(out) == {Source.LINEAR}


def test_proposals_of_another_video_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _labels(tmp_path)
    other = make_video(tmp_path / "other.mp4", n=24)
    proposals = tmp_path / "p.json"
    assert main(["propose", str(other), "--method", "uniform", "--out", str(proposals)]) == 0
    capsys.readouterr()
    argv = [str(labels), "--keep-frames", f"@{proposals}", "--method", "linear"]
    assert _fill(*argv, "--out", str(tmp_path / "f.npz")) == 2
    err = capsys.readouterr().err
    assert f"{proposals} was proposed for a video of 24 frames but the labels have 40" in err


def test_proposals_of_a_video_with_another_fingerprint_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _labels(tmp_path)
    clip = make_video(tmp_path / "clip.mp4", n=FRAMES)
    proposals = tmp_path / "p.json"
    assert main(["propose", str(clip), "--method", "uniform", "--out", str(proposals)]) == 0
    same_length = make_video(tmp_path / "twin.mp4", n=FRAMES, size=(128, 96))
    argv = [str(labels), "--keep-frames", f"@{proposals}", "--method", "linear"]
    out = tmp_path / "f.npz"
    assert _fill(*argv, "--video", str(same_length), "--out", str(out)) == 2
    assert "was proposed for another video than" in capsys.readouterr().err
    assert _fill(*argv, "--video", str(clip), "--out", str(out)) == 0  # its own video
    assert _fill(*argv, "--out", str(out)) == 0  # no video: the frame count agrees


def test_a_project_fills_along_its_own_video(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    out = tmp_path / "f.npz"
    for method, expected in (("hpim+mv", Source.HPIM_MV), ("mv", Source.MV)):
        argv = [str(project), "--keep-frames", "0,39", "--method", method, "--field", "mv"]
        assert _fill(*argv, "--out", str(out)) == 0
        assert _middle_sources(out) == {expected}
    # by default too, as with --video
    assert _fill(str(project), "--keep-frames", "0,39", "--field", "mv", "--out", str(out)) == 0
    assert _middle_sources(out) == {Source.HPIM_MV}
    assert capsys.readouterr().err == ""


def test_a_project_without_its_video_fills_as_hpim_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, video=False)
    out = tmp_path / "f.npz"
    argv = [str(project), "--keep-frames", "0,39"]
    assert _fill(*argv, "--method", "hpim+mv", "--out", str(out)) == 0
    assert _middle_sources(out) == {Source.HPIM}
    assert "was not found; filling with hpim" in capsys.readouterr().err
    assert _fill(*argv, "--method", "mv", "--out", str(out)) == 2
    assert "--method mv follows the video's motion" in capsys.readouterr().err


def test_a_project_saved_as_plain_json_is_read_as_a_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, "p.json", video=False)
    assert json.loads(project.read_text())["schema"].startswith("annotator.project/")
    out = tmp_path / "f.npz"
    argv = [str(project), "--keep-frames", "0,39", "--method", "linear"]
    assert _fill(*argv, "--out", str(out)) == 0, capsys.readouterr().err
    assert _middle_sources(out) == {Source.LINEAR}


def test_import_to_plain_json_then_fill(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = _labels(tmp_path)
    clip = make_video(tmp_path / "clip.mp4", n=FRAMES)
    project = tmp_path / "imported.json"
    assert main(["import", str(labels), "--video", str(clip), "--out", str(project)]) == 0
    out = tmp_path / "f.npz"
    argv = [str(project), "--keep-frames", "0,20,39", "--method", "linear"]
    assert _fill(*argv, "--out", str(out)) == 0, capsys.readouterr().err
    with np.load(out) as data:
        assert (data["source"][[0, 20, 39]] == Source.MANUAL).all()


@pytest.mark.parametrize("fps", ["0", "-5", "nan", "inf", "-inf"])
def test_a_frame_rate_that_is_not_positive_and_finite_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fps: str
) -> None:
    labels = _labels(tmp_path)
    out = tmp_path / "f.npz"
    argv = [str(labels), "--keep-frames", "0,39", "--method", "hpim", f"--fps={fps}"]
    assert _fill(*argv, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "--fps must be a positive frame rate" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_a_copied_video_keeps_the_proposals_valid(tmp_path: Path) -> None:
    """The fingerprint is the file's content, not its name: a copy is the same video."""
    labels = _labels(tmp_path)
    clip = make_video(tmp_path / "clip.mp4", n=FRAMES)
    proposals = tmp_path / "p.json"
    assert main(["propose", str(clip), "--method", "uniform", "--out", str(proposals)]) == 0
    copy = shutil.copy(clip, tmp_path / "copy.mp4")
    argv = [str(labels), "--keep-frames", f"@{proposals}", "--method", "linear"]
    assert _fill(*argv, "--video", str(copy), "--out", str(tmp_path / "f.npz")) == 0
