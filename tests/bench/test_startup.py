"""``annotator bench startup`` times a real start of the program up to its first frame."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from annotator.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "taiji.mp4"


def test_startup_is_timed_to_the_first_frame(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "startup", str(SAMPLE), "--runs", "1", "--warmup", "0"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"run 1: ([0-9.]+) s to the first frame", out)
    assert match is not None, out
    assert 0.0 < float(match.group(1)) < 120.0
    assert "median of 1:" in out


def test_a_program_that_never_shows_a_frame_is_an_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["bench", "startup", str(SAMPLE), "--runs", "1", "--warmup", "0",
                   "--program", "true"])  # fmt: skip
    assert status == 2
    assert "without showing a frame" in capsys.readouterr().err
