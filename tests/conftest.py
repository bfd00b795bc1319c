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


DATA_SKIP_REASON = (
    "needs the shared data (penn_action/, jhmdb/, kfpn_reference/, videos/) in $ANNOTATOR_DATA "
    "or ../shared/data, absent here"
)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real data (``$ANNOTATOR_DATA``, default ``../shared/data``).

    A user's clone has no such folder: the tests that need it skip, all with the one reason
    above. ``ANNOTATOR_REQUIRE_DATA=1`` (set by ``.ci/run``) makes them fail instead, so CI
    never skips them silently.
    """
    path = Path(os.environ.get("ANNOTATOR_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not (path / "penn_action").is_dir():
        if os.environ.get("ANNOTATOR_REQUIRE_DATA") == "1":
            pytest.fail(
                f"shared data not found at {path} and ANNOTATOR_REQUIRE_DATA=1: set "
                "ANNOTATOR_DATA to the folder holding penn_action/, jhmdb/, kfpn_reference/ "
                "and videos/"
            )
        pytest.skip(DATA_SKIP_REASON)
    return path
