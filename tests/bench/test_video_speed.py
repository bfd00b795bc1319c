"""The video benchmark runs end to end on a tiny folder and prints its table (no timing checks)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from annotator.bench import video_speed
from tests.video.videomaker import make_video


def test_bench_video_prints_a_row_per_video(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    make_video(folder / "small.mp4", n=40, options={"g": "10"})
    parser = argparse.ArgumentParser()
    video_speed.add_arguments(parser)
    out = tmp_path / "figures.json"
    flags = ["--quick", "--no-long", "--seeks", "3", "--cache-frames", "8"]
    args = parser.parse_args(["--data", str(folder), *flags, "--json", str(out)])
    assert video_speed.run(args) == 0
    table = capsys.readouterr().out
    assert "| small.mp4 | 96x64 | 40 | 10 |" in table
    assert "| video | decode fps | fields + residual fps | ratio (wall) |" in table
    figures = json.loads(out.read_text())
    (row,) = figures["reader"]
    assert row["frames"] == 40 and row["seek_frames_p95"] <= 10
    assert row["cache_bound_mb"] > 0 and row["fps_reader"] > 0 and row["cpu_ms_reader"] > 0
    (motion,) = figures["motion"]
    assert motion["video"] == "small.mp4"
    assert motion["fps_motion"] > 0 and motion["ratio"] == pytest.approx(
        motion["fps_motion"] / motion["fps_decode"]
    )
