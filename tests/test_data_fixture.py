"""The ``data_dir`` fixture without the shared data: one clear skip in a user's clone, a
failure under ``ANNOTATOR_REQUIRE_DATA=1`` (CI)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import DATA_SKIP_REASON
from tests.helpers import run_python

A_DATA_TEST = "tests/formats/test_matlab.py::test_penn_action_file"


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_python(
        *("-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", A_DATA_TEST),
        drop=lambda name: name.startswith("ANNOTATOR_"),
        ANNOTATOR_DATA=str(tmp_path / "no-data"),
        **env,
    )


def test_missing_data_skips_with_one_reason(tmp_path: Path) -> None:
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert DATA_SKIP_REASON in result.stdout


def test_missing_data_fails_when_required(tmp_path: Path) -> None:
    result = _pytest(tmp_path, ANNOTATOR_REQUIRE_DATA="1")
    assert result.returncode == 1
    assert "1 error" in result.stdout
    assert "ANNOTATOR_REQUIRE_DATA=1" in result.stdout
