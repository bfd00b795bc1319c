"""Per-user directories. Nothing is ever written next to the user's video.

``ANNOTATOR_CACHE_DIR`` overrides the cache location (tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir


def cache_dir(*parts: str) -> Path:
    """A per-user cache folder (created), e.g. ``cache_dir("index")``."""
    root = os.environ.get("ANNOTATOR_CACHE_DIR") or user_cache_dir("annotator", appauthor=False)
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir(*parts: str) -> Path:
    """A per-user data folder (created) for recovery journals and settings."""
    root = os.environ.get("ANNOTATOR_DATA_HOME") or user_data_dir("annotator", appauthor=False)
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
