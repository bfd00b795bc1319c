"""Identify a video file cheaply and robustly: its size plus a hash of its first megabyte.

Used to key per-video caches (packet index, motion fields, backbone features) and to check
that a project's video is the one it was labelled on (CONTRACTS.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

HEAD_BYTES = 1 << 20


def video_fingerprint(path: str | Path) -> str:
    """``"<size>-<sha256 of the first MiB, 16 hex digits>"``; raises ``OSError`` if unreadable."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    return f"{size}-{hashlib.sha256(head).hexdigest()[:16]}"
