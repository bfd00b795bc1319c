"""The video's walks from the labels, kept current as labels change: what ``N`` compares a
labels-only fill with (``dynamics.ranking.video_disagreement``).

A video fill (``LiveFill``) keeps its own walks; a labels-only fill (``hpim``) has none, so
``LiveWalks`` keeps them beside it. The first full propagation is the costly part (every gap,
about 65 µs per frame on the rendered clips): ``compute`` is pure and runs in a worker on a
copy of the labels, ``adopt`` takes its result, and every label change since (``mark``) is
brought in gap by gap when the walks are next asked for (``current``), as ``LiveFill.update``
does for its own: only the gaps an edit touched are walked again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.dynamics.base import Observations
from annotator.propagation.fuse import clear_around
from annotator.propagation.registry import Propagator, VideoSource, get


class LiveWalks:
    """One track's walks along ``source`` (``propagator``, default ``mv``), brought up to date
    lazily: ``mark`` records which frames' labels changed, ``current`` walks those gaps again."""

    def __init__(self, source: VideoSource, propagator: str | Propagator = "mv") -> None:
        self.source = source
        self._method = get(propagator) if isinstance(propagator, str) else propagator
        self._obs: Observations | None = None
        self._pending: list[tuple[int, int]] = []
        self._stale = False

    def compute(self, manual: NDArray[Any]) -> Observations:
        """Every gap of ``manual`` walked (pure: safe in a worker on a copy of the labels)."""
        return self._method.propagate(np.asarray(manual), self.source)

    def begin(self) -> None:
        """A copy of the labels is being walked (``compute``): record changes from now on."""
        self._pending.clear()
        self._stale = False

    def adopt(self, observations: Observations) -> None:
        """Take ``compute``'s result on the labels copied at ``begin``; the changes marked
        since are walked on the next ``current``."""
        self._obs = observations

    def mark(self, frames: tuple[int, int] | None) -> None:
        """The labels changed on ``frames`` (inclusive), or everywhere (None: walk all again,
        ``ready`` is then False until the next ``adopt``)."""
        if frames is None:
            self._stale = True
        else:
            self._pending.append((int(min(frames)), int(max(frames))))

    @property
    def ready(self) -> bool:
        """Whether ``current`` can answer (a full walk was adopted and is not stale)."""
        return self._obs is not None and not self._stale

    def current(self, manual: NDArray[Any]) -> Observations | None:
        """The walks of ``manual``, the marked gaps walked again; None when not ``ready``
        or ``manual`` is not the track the walks were computed for (another frame count)."""
        if self._obs is None or self._stale:
            return None
        man = np.asarray(manual)
        if self._obs.xy.shape[:2] != man.shape[:2]:
            return None
        # each span with the current labels: the cleared frames cover every gap, old or new,
        # that an edit there can have changed (``fuse.clear_around``)
        for lo, hi in sorted(set(self._pending)):  # a drag marks the same frame many times
            clear_around(self._obs, man, lo, hi)
            self._method.propagate(man, self.source, only=[(lo, hi)], into=self._obs)
        self._pending.clear()
        return self._obs
