"""Shared fixtures: where the real data lives, private per-user folders, headless Qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real per-user cache, recovery journals or settings."""
    monkeypatch.setenv("ANNOTATOR_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setenv("ANNOTATOR_DATA_HOME", str(tmp_path / "user-data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real data (``$ANNOTATOR_DATA``, default ``../shared/data``).

    Tests that need it fail with a clear message rather than skip: CI has the data.
    """
    path = Path(os.environ.get("ANNOTATOR_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not (path / "penn_action").is_dir():
        pytest.fail(
            f"shared data not found at {path}: set ANNOTATOR_DATA to the folder holding "
            "penn_action/, jhmdb/, kfpn_reference/ and videos/"
        )
    return path
