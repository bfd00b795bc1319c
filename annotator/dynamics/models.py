"""Where the shipped model files live: the top-level ``models/`` folder of the project, or
where an installed wheel put it (``core.paths.shipped_dir``).

``ANNOTATOR_MODELS_DIR`` overrides it.
"""

from __future__ import annotations

import os
from pathlib import Path

from annotator.core.paths import shipped_dir
from annotator.errors import FormatError


def models_dir() -> Path:
    env = os.environ.get("ANNOTATOR_MODELS_DIR")
    return Path(env) if env else shipped_dir("models")


def model_path(name: str) -> Path:
    """The path of a shipped model file; ``FormatError`` when it is missing."""
    path = models_dir() / name
    if not path.is_file():
        raise FormatError(f"model file {name} not found in {path.parent}")
    return path
