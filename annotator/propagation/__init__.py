"""Filling between labels from the video: joints propagated along its motion.

Labels-only fills (``dynamics``) guess the motion between two labels; the video has seen it.
This package walks every labelled joint along a motion field of the video (``walk.py``; DIS
optical flow by default, ``FILL_FIELD``, or the codec's vectors), forward from the label before a gap and backward from the
one after it, and blends the two walks into positions with a variance in px² (``mv.py``: the
``mv`` fill). ``fuse.py`` hands those positions to HPIM as noisy observations (``hpim+mv``,
the default fill whenever fields exist) and keeps a fill live under edits (``LiveFill``).
``registry.py`` keeps the propagation methods by name so that another tracker can be added.
See ``docs/propagation.md``. The residual-driven gate (MAPN: ``gate.py``, ``gate_train.py``,
``gate_data.py``, ``gate_select.py``, ``gate_propose.py``; ``docs/gate.md``) decides which
frames a person labels.
"""

from annotator.propagation.fuse import (
    AUTO_FILL,
    FILL_FIELD,
    FILL_METHODS,
    LiveFill,
    fill_with,
    resolve_fill,
    video_fill,
)
from annotator.propagation.registry import VideoSource

__all__ = [
    "AUTO_FILL",
    "FILL_FIELD",
    "FILL_METHODS",
    "LiveFill",
    "VideoSource",
    "fill_with",
    "resolve_fill",
    "video_fill",
]
