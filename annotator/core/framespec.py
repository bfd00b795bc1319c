"""Key frame lists as written on the command line (CONTRACTS.md, ``--keep-frames``).

``0,5,9-12`` explicit (ranges inclusive) · ``uniform:0.1`` a fraction of frames (rounded up, at
least 2, first and last included, evenly spaced) · ``uniform:N`` an integer count N >= 2 ·
``@proposals.json`` the ``frames`` of a proposals file.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from annotator.core.safeio import parse_json, read_bytes
from annotator.errors import UsageError


def uniform_frames(frame_count: int, count: int) -> NDArray[np.int64]:
    """``count`` evenly spaced frames, first and last included (fewer if frames run out)."""
    if frame_count <= 0:
        return np.zeros(0, dtype=np.int64)
    count = max(1, min(int(count), frame_count))
    if count == 1:
        return np.zeros(1, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, frame_count - 1, count)).astype(np.int64))


def uniform_count(frame_count: int, fraction: float) -> int:
    """The contract's count for ``uniform:FRACTION``: rounded up, at least 2."""
    return max(2, math.ceil(fraction * frame_count - 1e-9))


def parse_keep_frames(spec: str, frame_count: int) -> NDArray[np.int64]:
    """Parse a key frame list into sorted unique 0-based indices within ``frame_count``."""
    spec = spec.strip()
    if not spec:
        raise UsageError("empty key frame list")
    frames: list[int] | NDArray[np.int64]
    if spec.startswith("@"):
        frames = _frames_from_proposals(Path(spec[1:]))
    elif spec.startswith("uniform:"):
        frames = _uniform(spec[len("uniform:") :], frame_count)
    else:
        frames = _explicit(spec)
    out = np.unique(np.asarray(frames, dtype=np.int64))
    bad = out[(out < 0) | (out >= frame_count)]
    if bad.size:
        raise UsageError(
            f"key frame {int(bad[0])} is outside the video's frames 0..{frame_count - 1}"
        )
    return out


def _uniform(value: str, frame_count: int) -> NDArray[np.int64]:
    try:
        if value.isdigit():
            count = int(value)
            if count < 2:
                raise UsageError(
                    f"uniform:{value}: a count must be at least 2 (or a fraction like 0.1)"
                )
        else:
            fraction = float(value)
            if not (0.0 < fraction <= 1.0) or not math.isfinite(fraction):
                raise UsageError(f"uniform:{value}: a fraction must be in (0, 1]")
            count = uniform_count(frame_count, fraction)
    except ValueError:
        raise UsageError(f"uniform:{value}: expected a fraction (0.1) or a count (12)") from None
    return uniform_frames(frame_count, count)


def _explicit(spec: str) -> list[int]:
    frames: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                lo_s, hi_s = part.split("-", 1)
                lo, hi = int(lo_s), int(hi_s)
                if hi < lo:
                    raise UsageError(f"range {part!r} runs backwards")
                frames.extend(range(lo, hi + 1))
            else:
                frames.append(int(part))
        except ValueError:
            raise UsageError(f"cannot read {part!r} in the key frame list {spec!r}") from None
    return frames


MAX_PROPOSALS_BYTES = 256 * 1024 * 1024  # a score per frame of a very long video


def _frames_from_proposals(path: Path) -> list[int]:
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"proposals file not found: {path}")
    data = parse_json(read_bytes(path, MAX_PROPOSALS_BYTES, UsageError), path.name, UsageError)
    frames = data.get("frames") if isinstance(data, dict) else None
    if not isinstance(frames, list) or not all(
        isinstance(f, int) and not isinstance(f, bool) for f in frames
    ):
        raise UsageError(f"{path} has no 'frames' list of integers")
    return frames
