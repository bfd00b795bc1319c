"""``annotator bench gui`` times drags, frame steps and the timeline in the real window."""

from __future__ import annotations

import re

import pytest

from annotator.cli import main


def test_drags_are_timed_on_a_prefilled_generated_video(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    status = main(["bench", "gui", "--frames", "40", "--size", "320x240", "--moves", "4",
                   "--steps", "4", "--timeline-frames", "500", "--methods", "linear,hpim",
                   "--predicted-every", "10"])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0, out
    assert "320x240, 40 frames" in out and "4 frames predicted" in out
    # opening waits for the background work: the video fills walk the optical flow, as in use
    assert "the video fills walk the optical flow" in out, out
    for method in ("linear", "hpim"):
        row = re.search(rf"drag -> {method} fill -> redraw\s+median\s+[\d.]+ ms.*\d+ fps", out)
        assert row is not None, out
    assert re.search(r"cached frame step \(with redraw\)\s+median", out), out
    assert "timeline repaint, 500 frames" in out
