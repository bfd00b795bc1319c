"""``annotator bench proposal-speed``: the long-stream memory check runs on features on disk,
a GPU asked for where there is none is a clear error (the suite never needs a GPU), and the
speed table prints its stages and runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.bench import proposal_speed
from annotator.errors import UsageError


def test_long_stream_runs_proposals_on_memory_mapped_features() -> None:
    from annotator.proposal.kfpn import LONG_GRID

    frames = LONG_GRID + 500  # past the streamed-descriptor threshold
    r = proposal_speed.long_stream(frames)
    assert r["frames"] == frames
    assert r["proposed"] == frames // 10
    assert 0 < r["peak_mib"] < 1024


def test_cuda_without_a_gpu_is_a_usage_error() -> None:
    import torch

    if torch.cuda.is_available():
        assert proposal_speed.devices("auto") == ["cpu", "cuda"]
        return
    assert proposal_speed.devices("auto") == ["cpu"]
    with pytest.raises(UsageError, match="no CUDA GPU"):
        proposal_speed.devices("cuda")


def test_speed_table_prints_the_stages_and_the_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from annotator.proposal.backbones import INPUT_SIZE
    from annotator.proposal.features import backbone_threads
    from tests.video.videomaker import make_video

    video = make_video(tmp_path / "clip.mp4", n=12, size=(96, 64), rate=30)
    frames = proposal_speed.speed_table(video, 0.25, ["cpu"], input_size=160, profile_frames=4)
    out = capsys.readouterr().out
    threads = backbone_threads(overlap=True)
    assert "backbone input 160 px, every 2 frames and the last;" in out  # the app's step
    assert "load average" in out
    for stage in (
        "| decode with RGB | 4 |",
        f"| resize to {INPUT_SIZE} px | 4 |",
        "| resize to 160 px | 4 |",
        f"| backbone {INPUT_SIZE} px, reference, {threads} torch threads | 4 |",
        f"| backbone {INPUT_SIZE} px, batch norm folded, {threads} torch threads | 4 |",
        f"| backbone 160 px, batch norm folded, {threads} torch threads | 4 |",
        "| K-FPN windows | 12 |",
    ):
        assert stage in out
    assert "| cpu | decode with RGB only |" in out
    assert "| cpu | cold cache, sequential, " in out
    assert "torch threads (default) |" in out
    assert "| cpu | features cached |" in out
    assert len(frames["cpu"]) == 3  # 25 % of 12 frames
    assert "N's reading" not in out  # the app's N reads the default input's features only


def test_speed_table_times_a_feature_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from annotator.proposal import features
    from tests.video.videomaker import make_video

    steps: list[object] = []
    real = features.video_features

    def spy(*args: object, **kwargs: object) -> object:
        steps.append(kwargs.get("step"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(features, "video_features", spy)
    video = make_video(tmp_path / "clip.mp4", n=12, size=(96, 64), rate=30)
    frames = proposal_speed.speed_table(video, 0.25, ["cpu"], input_size=160, step=2)
    out = capsys.readouterr().out
    assert "backbone input 160 px, every 2 frames and the last;" in out
    assert steps and set(steps) == {2}  # every cold run and the cached one
    assert len(frames["cpu"]) == 3


def test_at_the_apps_defaults_the_table_times_the_reading_for_n_after_the_proposals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from annotator.proposal import features
    from tests.video.videomaker import make_video

    computed: list[int] = []
    real = features.decoded_batches

    def spy(*args: object, **kwargs: object) -> object:
        for index, frames in real(*args, **kwargs):  # type: ignore[arg-type]
            computed.extend(index.tolist())
            yield index, frames

    monkeypatch.setattr(features, "decoded_batches", spy)
    video = make_video(tmp_path / "clip.mp4", n=12, size=(96, 64), rate=30)
    proposal_speed.speed_table(video, 0.25, ["cpu"])
    out = capsys.readouterr().out
    assert "backbone input 224 px, every 2 frames and the last;" in out
    assert "| cpu | then N's reading (completes the features) |" in out
    # The last cold run computed every other frame and the last, N's reading the rest.
    assert computed[-12:] == [0, 2, 4, 6, 8, 10, 11, 1, 3, 5, 7, 9]
