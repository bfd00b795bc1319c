"""Small documents for the core tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from annotator.core.document import Document, VideoRef
from annotator.core.schema import document_to_dict
from annotator.core.skeleton import PENN_ACTION, Skeleton


def make_doc(
    frames: int = 60, skeleton: Skeleton = PENN_ACTION, path: str = "/videos/clip.mp4"
) -> Document:
    video = VideoRef(path, "1234-abcdef0123456789", frames, 30.0, 320, 240)
    return Document.new(video, skeleton)


def content(doc: Document) -> dict[str, Any]:
    """Everything a project file holds, for equality checks."""
    return document_to_dict(doc, None)


def same_labels(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))
