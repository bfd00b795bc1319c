"""What the timeline's residual and score rows draw, so that neither row misleads (no Qt).

The document keeps the codec's residual energy and the proposer's scores as they are (the gate
reads the same energy; ``annotator propose`` writes the same scores); these functions only
decide what the rows show:

- ``residual_row``: a key (intra) frame has no prediction, so its residual measures the
  codec's refresh of the picture, not motion. On a short GOP (an MPEG-4 key frame every 12
  frames) that made the row spike on every key frame. Key frames get no value of their own:
  the row shows the value interpolated from the predicted frames around them.
- ``score_row``: a score with no per-frame information (only its lowest and highest value,
  e.g. K-FPN's saturated network output, 1.0 at fixed places of its windows) draws evenly
  spaced peaks unrelated to the proposed frames; the row is left out and a note says why
  (so is a score that is the same on every frame).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

KEY_FRAME_NOTE = (
    "key (intra) frames have no prediction, so their residual measures the codec's refresh, "
    "not motion: the row shows them interpolated from the frames around them"
)
SATURATED_SHARE = 0.01
"""A score with fewer frames than this share strictly between its lowest and highest value
(beyond ``_EDGE`` of the range) is taken as saturated: it carries no per-frame information."""
_EDGE = 0.01


def residual_row(
    energy: NDArray[np.floating], picture_types: Sequence[str] | None
) -> tuple[NDArray[np.float64], int]:
    """(values, key frames replaced): ``energy`` with every key frame's value interpolated
    from the nearest predicted frames with a value (NaN stays NaN). Left as it is when the
    picture types are unknown or of another length, or when key frames are not a minority
    (an intra-only stream: its flow residual is all the row has)."""
    values = np.array(energy, dtype=np.float64)
    if picture_types is None or len(picture_types) != len(values):
        return values, 0
    key = np.fromiter((t == "I" for t in picture_types), dtype=bool, count=len(values))
    finite = np.isfinite(values)
    known = np.flatnonzero(finite & ~key)
    replace = key & finite
    if not replace.any() or 2 * int(key.sum()) >= len(values) or len(known) == 0:
        return values, 0
    at = np.flatnonzero(replace)
    values[at] = np.interp(at, known, values[known])
    return values, len(at)


def score_row(
    scores: NDArray[np.floating] | None, method: str = ""
) -> tuple[NDArray[np.float64] | None, str]:
    """(scores to draw or None, a note for the row's tooltip). None with a note saying why
    when the score is the same on every frame or saturated (``SATURATED_SHARE``); None and
    no note without scores. ``method``: the proposer's name, for the note."""
    if scores is None or len(scores) == 0:
        return None, ""
    values = np.asarray(scores, dtype=np.float64)
    lo, hi = float(values.min()), float(values.max())
    who = f"the {method} score" if method else "the score"
    if not hi > lo:
        return None, f"score row not drawn: {who} is {lo:g} on every frame"
    scaled = (values - lo) / (hi - lo)
    between = float(np.mean((scaled > _EDGE) & (scaled < 1.0 - _EDGE)))
    if between >= SATURATED_SHARE:
        return values, ""
    why = (
        f"score row not drawn: {who} is saturated (about {lo:g} or {hi:g} on every frame), "
        "so it says nothing about single frames"
    )
    if method.startswith("kfpn"):
        why += (
            "; K-FPN's network saturates at fixed places of its windows, and its proposed "
            "frames come from its search, not from this score"
        )
    return None, why
