"""``annotator bench seek-while-busy`` times seeks in the real window while the app works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from annotator.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "taiji.mp4"


def test_seeks_are_timed_while_the_background_work_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    status = main(["bench", "seek-while-busy", str(SAMPLE), "--seconds", "3",
                   "--background-nice", "7"])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0, out
    assert "240 frames" in out
    assert "background work: nice +7" in out
    requests = re.search(
        r"seek requests: (\d+) .* frames shown: (\d+); overtaken before shown: (\d+)", out
    )
    assert requests is not None, out
    asked, shown, overtaken = (int(g) for g in requests.groups())
    assert asked >= 5 and shown >= 1 and shown + overtaken == asked
    assert re.search(r"median \d+, p90 \d+, max \d+", out), out


def test_a_bad_interval_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "seek-while-busy", str(SAMPLE), "--interval", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err
