"""propose(): the registry, the contract's proposals file, the feature cache, the command."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.core.progress import Cancelled
from annotator.errors import UsageError
from annotator.proposal import backbones
from annotator.proposal.registry import parse_budget, propose, resolve_budget
from annotator.video import open_video

from .helpers import ArrayVideo, moving_square, tiny_model_file


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANNOTATOR_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_budget_syntax() -> None:
    assert parse_budget("0.1") == 0.1 and isinstance(parse_budget("12"), int)
    for bad in ("0", "-3", "abc", "1.5", "nan"):
        with pytest.raises(UsageError):
            parse_budget(bad)
    assert resolve_budget(0.1, 45) == 5  # rounded up
    assert resolve_budget(12, 8) == 8 and resolve_budget(None, 8) is None


def test_kfpn_proposals_respect_the_budget_and_reuse_cached_features(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tiny_model_file(tmp_path / "tiny.pt", window=8)
    video = ArrayVideo(moving_square(20), fingerprint="square-20")
    fractions: list[float] = []
    result = propose(video, "kfpn", 5, "cpu", fractions.append, model=model)
    assert len(result.frames) == 5 and result.frames == sorted(result.frames)
    assert result.frames[0] >= 0 and result.frames[-1] <= 19
    assert result.scores is not None and len(result.scores) == 20
    # Features fill the first 90 % of the bar, the search the rest.
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [f for f in fractions if f < 1.0] and max(f for f in fractions if f < 1.0) <= 0.9
    # The backbone on every other frame by default (the proposals' step), cached as such.
    key = backbones.feature_key(backbones.DEFAULT_BACKBONE, step=backbones.PROPOSAL_STEP)
    assert [p.name for p in cache.glob("features/square-20-*.npy")] == [f"square-20-{key}.npy"]

    def no_backbone(*args: object, **kwargs: object) -> None:
        raise AssertionError("features should have come from the cache")

    monkeypatch.setattr(backbones, "Backbone", no_backbone)
    again = propose(video, "kfpn", 0.25, "cpu", model=model)
    assert again.frames == result.frames  # 0.25 of 20 frames is the same budget of 5
    for search in ("linear", "eq16"):
        natural = propose(video, "kfpn", None, "cpu", model=model, search=search)
        assert {0, 19} <= set(natural.frames)  # the natural count always holds the ends
    eq16 = propose(video, "kfpn", 5, "cpu", model=model, search="eq16")
    assert len(eq16.frames) == 5 and {0, 19} <= set(eq16.frames)


def test_proposals_file_follows_the_contract(cache: Path, tmp_path: Path) -> None:
    model = tiny_model_file(tmp_path / "tiny.pt", window=8)
    video = ArrayVideo(moving_square(12), fingerprint="square-12")
    result = propose(video, "kfpn", 4, "cpu", model=model)
    out = tmp_path / "p.json"
    result.write(out, "clip.mp4")
    data = json.loads(out.read_text())
    assert data["schema"] == "annotator.proposals/1"
    assert data["video"] == "clip.mp4" and data["video_fingerprint"] == "square-12"
    assert data["frame_count"] == 12 and data["gate"] is None and data["budget"] == 4
    assert data["method"] == "kfpn" and data["device"] == "cpu" and data["seconds"] >= 0
    assert data["model"]["name"] == "tiny.pt" and len(data["model"]["sha256"]) == 64
    assert len(data["frames"]) == 4 and len(data["scores"]) == 12


def test_baselines_and_cancel(cache: Path, tmp_path: Path) -> None:
    video = ArrayVideo(moving_square(30))
    uniform = propose(video, "uniform", 4)
    assert uniform.frames[0] == 0 and uniform.frames[-1] == 29 and len(uniform.frames) == 4
    assert uniform.scores is None and uniform.model is None
    assert len(propose(video, "kmeans", 0.2).frames) == 6
    model = tiny_model_file(tmp_path / "tiny.pt", window=8)
    with pytest.raises(Cancelled):
        propose(video, "kfpn", 4, "cpu", should_stop=lambda: True, model=model)
    with pytest.raises(UsageError, match="unknown proposal method"):
        propose(video, "magic")


def _write_video(path: Path, frames: np.ndarray, fps: int = 30) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_propose_command(cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = tmp_path / "square.mp4"
    _write_video(video, moving_square(16, (48, 64)))
    model = tiny_model_file(tmp_path / "tiny.pt", window=8)
    out = tmp_path / "p.json"
    args = ["propose", str(video), "--out", str(out), "--budget", "3", "--model", str(model)]
    assert main([*args, "--device", "cpu"]) == 0
    data = json.loads(out.read_text())
    assert data["frame_count"] == 16 and len(data["frames"]) == 3
    capsys.readouterr()
    assert main(["propose", str(tmp_path / "none.mp4"), "--out", str(out)]) == 2
    assert main([*args[:4], "--model", str(tmp_path / "missing.pt")]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "Traceback" not in err


def test_propose_command_with_a_feature_step(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "square.mp4"
    _write_video(video, moving_square(16, (48, 64)))
    model = tiny_model_file(tmp_path / "tiny.pt", window=8)
    out = tmp_path / "p.json"
    args = ["propose", str(video), "--out", str(out), "--budget", "3", "--model", str(model)]
    assert main([*args, "--feature-step", "2"]) == 0
    data = json.loads(out.read_text())
    assert data["frame_count"] == 16 and len(data["frames"]) == 3
    # the backbone ran on every other frame only: that step's own cache, not the default's
    key = backbones.feature_key(backbones.DEFAULT_BACKBONE, step=2)
    assert [p.name for p in (cache / "features").glob("*.npy")] == [
        f"{data['video_fingerprint']}-{key}.npy"
    ]
    capsys.readouterr()
    assert main([*args, "--feature-step", "0"]) == 2
    assert main([*args[:4], "--method", "uniform", "--feature-step", "2"]) == 2
    err = capsys.readouterr().err
    assert "--feature-step is at least 1" in err and "kfpn only" in err
    assert "Traceback" not in err


def _reader_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("video-")]


@pytest.mark.parametrize("method", ["uniform", "kfpn"])
def test_a_run_on_a_path_closes_the_reader_it_opened(
    cache: Path, tmp_path: Path, method: str
) -> None:
    video = tmp_path / "square.mp4"
    _write_video(video, moving_square(16, (48, 64)))
    model = tiny_model_file(tmp_path / "tiny.pt", window=8)
    before = _reader_threads()
    options = {"model": model} if method == "kfpn" else {}
    assert len(propose(video, method, 3, "cpu", **options).frames) == 3
    if method == "kfpn":  # the baselines read the video in one pass and do not poll
        with pytest.raises(Cancelled):
            propose(video, method, 3, "cpu", should_stop=lambda: True, **options)
    assert _reader_threads() == before
    with open_video(video) as reader:  # a reader handed in stays open for its owner
        propose(reader, "uniform", 3)
        assert reader.frame(0).shape == (48, 64, 3)


def test_uniform_needs_only_the_frame_count_and_decodes_nothing(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clip.mp4"
    _write_video(path, moving_square(40))
    reader = open_video(path, build_index=False, decode_ahead=0)

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("uniform frames decoded the video")

    try:
        monkeypatch.setattr(reader, "iter_frames", no_decoding)
        monkeypatch.setattr(reader, "frame", no_decoding)
        run = propose(reader, "uniform", 5)
        assert run.frames == [0, 10, 20, 29, 39]
    finally:
        reader.close()
