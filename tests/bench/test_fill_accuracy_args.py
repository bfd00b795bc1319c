"""``annotator bench fill`` refuses a bootstrap without resamples with one line, before any
work (it crashed inside the interval computation at the end of the run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_zero_bootstrap_resamples_is_a_one_line_error(tmp_path: Path) -> None:
    command = ["bench", "fill", "--labels", str(tmp_path), "--bootstrap", "0"]
    out = subprocess.run(
        [sys.executable, "-m", "annotator", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "--bootstrap" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
