"""Per-user directories, and where the files the app ships (``resources/``, ``models/``) are.
Nothing is ever written next to the user's video.

The shipped folders are found in three layouts: a source checkout (the top-level folders), a
wheel (``<prefix>/share/annotator/``) and the one-folder desktop build that
``packaging/annotator.spec`` makes (``<bundle>/models``, ``<bundle>/resources``, where
``<bundle>`` is PyInstaller's ``sys._MEIPASS``).

``ANNOTATOR_CACHE_DIR`` overrides the cache location (tests point it at a temporary folder);
``ANNOTATOR_MODELS_DIR`` the folder model files are looked up in.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

from annotator.errors import FormatError


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


SHIPPED = ("resources", "models")


def frozen_bundle() -> Path | None:
    """The data folder of the frozen desktop build (PyInstaller's ``sys._MEIPASS``), or
    ``None`` when running from Python."""
    if not getattr(sys, "frozen", False):
        return None
    return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))


def prepare_frozen_runtime() -> None:
    """In the frozen build, point numba's on-disk cache at the per-user cache folder.

    numba caches compiled kernels next to their source by default; the bundle may be
    read-only (a system-wide install), so it gets ``cache_dir("numba")`` unless the user set
    ``NUMBA_CACHE_DIR``. Must run before numba is imported. Does nothing outside the build.
    """
    if frozen_bundle() is not None:
        os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir("numba")))


def shipped_dir(kind: str) -> Path:
    """The folder of shipped ``resources`` or ``models``: inside the bundle in the frozen
    desktop build, the project's top-level folder in a source checkout (and an editable
    install), ``<prefix>/share/annotator/<kind>`` where a wheel installed them (pyproject's
    data-files)."""
    if kind not in SHIPPED:
        raise ValueError(f"no shipped folder {kind!r}; expected one of {', '.join(SHIPPED)}")
    bundle = frozen_bundle()
    if bundle is not None:
        return bundle / kind
    source = Path(__file__).resolve().parents[2] / kind
    if source.is_dir():
        return source
    return Path(sys.prefix, "share", "annotator", kind)


def models_dir() -> Path:
    """Where the model files live: ``ANNOTATOR_MODELS_DIR``, else the shipped ``models``."""
    env = os.environ.get("ANNOTATOR_MODELS_DIR")
    return Path(env) if env else shipped_dir("models")


def model_path(name: str) -> Path:
    """The path of a shipped model file; ``FormatError`` when it is missing."""
    path = models_dir() / name
    if not path.is_file():
        raise FormatError(f"model file {name} not found in {path.parent}")
    return path
