"""``annotator bench open-long`` opens a video in the real window and reports its memory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from annotator.bench import open_long
from annotator.cli import main
from annotator.synth.figure import render_figure_video


@pytest.fixture
def video(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A short generated video, opened offscreen."""
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    path = tmp_path / "figure.mp4"
    render_figure_video(path, frames=48, width=160, height=120)
    return path


def test_opening_reports_frames_idle_time_memory_and_the_tasks_that_ran(
    video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["bench", "open-long", str(video), "--timeout", "600"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "video: figure.mp4, 48 frames, 160x120" in out
    assert re.search(r"^idle after \d+\.\d s$", out, re.MULTILINE), out
    memory = re.search(
        r"resident memory, MiB: before opening (\d+), peak (\d+) .*after the tasks (\d+)", out
    )
    assert memory is not None, out
    before, peak, after = (int(g) for g in memory.groups())
    assert 0 < before <= peak and 0 < after <= peak
    tasks = re.search(r"^tasks: (.*)$", out, re.MULTILINE)
    assert tasks is not None, out
    assert "Extracting motion" in tasks.group(1) and "still running" not in tasks.group(1)


def test_memory_figures_come_from_proc_status() -> None:
    rss = open_long.status_mib("VmRSS")
    assert rss is None or rss > 0
    assert open_long.status_mib("NoSuchField") is None


def test_a_bad_timeout_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "open-long", "video.mp4", "--timeout", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err


def test_a_kept_cache_makes_the_second_run_read_back_the_work(
    video: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    for _ in range(2):
        assert main(["bench", "open-long", str(video), "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert out.count("video: figure.mp4, 48 frames") == 2, out
    stores = list((cache / "motion").glob("*.mvs"))
    features = list((cache / "features").glob("*.npy"))
    assert stores and features  # written by the first run, kept for the second
