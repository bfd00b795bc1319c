"""Propagation methods by name, like the proposal methods: each turns labels and a video into
observations of the joints between the labels (``Observations``: positions and variances in
px²) for the fill engine to weigh.

``mv`` (the codec's motion field, ``mv.py``) is built in. A user with a point-tracking model
installed adds it as one more method::

    from annotator.propagation.registry import register

    class MyTracker:
        name = "tracker"
        needs_fields = False          # reads the video itself
        def propagate(self, manual, source, only=None, into=None):
            ...                        # -> Observations, NaN outside the gaps
    register(MyTracker())

and fills with it through ``fill_with(manual, source, propagator="tracker")`` (``fuse.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from numpy.typing import NDArray

from annotator.dynamics.base import Observations
from annotator.errors import UsageError
from annotator.propagation.mv import DEFAULT_SETTINGS, WalkSettings, propagate
from annotator.video.motion import MotionFields
from annotator.video.motion_store import MotionStore


@dataclass(frozen=True)
class VideoSource:
    """What a propagation method may read: the video file, its motion fields (when extracted;
    in memory or a memory-mapped store) and the scene cuts (first frames of new shots; never
    crossed)."""

    video: Path | None = None
    fields: MotionFields | MotionStore | None = None
    cuts: tuple[int, ...] = ()


class Propagator(Protocol):
    """One propagation method."""

    name: str
    needs_fields: bool  # True: needs ``VideoSource.fields``

    def propagate(
        self,
        manual: NDArray[Any],
        source: VideoSource,
        only: Sequence[tuple[int, int]] | None = None,
        into: Observations | None = None,
    ) -> Observations:
        """Observations (F, J) of ``manual`` (F, J, 3)'s gaps; ``only``: just the gaps that
        overlap these inclusive frame spans, written ``into`` an earlier result."""
        ...


class MotionVectorPropagator:
    """The codec's (or optical flow's) motion field: ``mv.py``."""

    name = "mv"
    needs_fields = True
    accepts_joints = True  # ``propagate(..., joints=...)``: only these joints (a drag)

    def __init__(self, settings: WalkSettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings

    def propagate(
        self,
        manual: NDArray[Any],
        source: VideoSource,
        only: Sequence[tuple[int, int]] | None = None,
        into: Observations | None = None,
        joints: Sequence[int] | None = None,
    ) -> Observations:
        if source.fields is None:
            raise UsageError("mv propagation needs the video's motion fields")
        return propagate(manual, source.fields, source.cuts, self.settings, only, into, joints)


_METHODS: dict[str, Propagator] = {}


def register(method: Propagator) -> None:
    """Add (or replace) a method under its ``name``."""
    _METHODS[method.name] = method


def get(name: str) -> Propagator:
    try:
        return _METHODS[name]
    except KeyError:
        raise UsageError(
            f"unknown propagation method {name!r}; expected one of {', '.join(names())}"
        ) from None


def names() -> tuple[str, ...]:
    return tuple(_METHODS)


register(MotionVectorPropagator())
