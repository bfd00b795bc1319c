"""Where the shipped model files live: the top-level ``models/`` folder of the project.

``ANNOTATOR_MODELS_DIR`` overrides it (an installed app points it at its data folder).
"""

from __future__ import annotations

import os
from pathlib import Path

from annotator.errors import FormatError


def models_dir() -> Path:
    env = os.environ.get("ANNOTATOR_MODELS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "models"


def model_path(name: str) -> Path:
    """The path of a shipped model file; ``FormatError`` when it is missing."""
    path = models_dir() / name
    if not path.is_file():
        raise FormatError(f"model file {name} not found in {path.parent}")
    return path
