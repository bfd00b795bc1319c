"""``annotator export --frames all`` fills as the app shows the project: the method chosen in
the app and saved with it, else ``hpim+mv`` along the video's motion (it defaulted to
``hpim`` and refused the video fills, so its file differed from the app's export)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator.cli import main
from annotator.core.codes import Source
from annotator.core.commands import PlaceJoint, SetSetting
from annotator.core.document import FILL_METHOD_SETTING, Document, VideoRef
from annotator.core.history import History
from annotator.core.skeleton import PENN_ACTION
from annotator.core.store import save_project
from annotator.formats import registry
from tests.video.videomaker import make_video

FRAMES = 40


def _project(tmp_path: Path, method: str | None = None, video: bool = True) -> Path:
    clip = tmp_path / "clip.mp4"
    if video:
        make_video(clip, n=FRAMES)
    doc = Document.new(VideoRef(str(clip), None, FRAMES, 25.0, 96, 64), PENN_ACTION)
    history = History(doc)
    for frame in (0, FRAMES - 1):
        for j in range(13):
            history.push(PlaceJoint(frame, j, 20.0 + frame + j, 10.0 + 3 * j))
    if method is not None:  # what choosing a fill in the app saves
        history.push(SetSetting(FILL_METHOD_SETTING, method))
    path = tmp_path / "p.annot.json"
    save_project(doc, path)
    return path


def _sources(tmp_path: Path, project: Path, *extra: str) -> set[Source]:
    out = tmp_path / "all.npz"
    argv = ["export", str(project), "--format", "npz", "--frames", "all", "--force"]
    assert main([*argv, "--out", str(out), *extra]) == 0
    source = registry.get("npz").read(out).instances[0].source
    return {Source(int(c)) for c in np.unique(source[1 : FRAMES - 1])}


def test_every_frame_is_filled_as_the_app_fills_it(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _sources(tmp_path, _project(tmp_path)) == {Source.HPIM_MV}
    assert _sources(tmp_path, _project(tmp_path, "linear")) == {Source.LINEAR}
    project = _project(tmp_path, "linear")
    assert _sources(tmp_path, project, "--method", "hpim+mv") == {Source.HPIM_MV}
    assert _sources(tmp_path, project, "--method", "mv") == {Source.MV}
    assert capsys.readouterr().err == ""


def test_without_its_video_hpim_mv_fills_as_hpim_and_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, video=False)
    assert _sources(tmp_path, project) == {Source.HPIM}
    assert "was not found; filling with hpim" in capsys.readouterr().err
    argv = ["export", str(project), "--format", "npz", "--frames", "all", "--method", "mv"]
    assert main([*argv, "--out", str(tmp_path / "mv.npz")]) == 2
    assert "--method mv follows the video's motion" in capsys.readouterr().err


def test_a_damaged_video_fills_as_hpim_and_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A download cut short (faststart MP4: the index says every frame, the data stops at
    60 %): the motion cannot be read, so hpim+mv fills as hpim, as the app does (the export
    failed with 'cannot be decoded past frame N')."""
    project = _project(tmp_path, video=False)
    _cut_short(tmp_path / "clip.mp4")
    assert _sources(tmp_path, project) == {Source.HPIM}
    assert "no motion fields" in capsys.readouterr().err
    # annotator fill --video the same: hpim+mv fills as hpim (it failed too)
    argv = ["fill", str(project), "--keep-frames", "0,39", "--video", str(tmp_path / "clip.mp4")]
    assert main([*argv, "--out", str(tmp_path / "f.npz")]) == 0
    assert "no motion fields" in capsys.readouterr().err


def _cut_short(path: Path) -> None:
    """A faststart MP4 of ``FRAMES`` frames whose data stops at 60 % (its index is whole)."""
    import av

    from tests.video.videomaker import pattern

    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(pattern(i, 96, 64), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) * 6 // 10])
