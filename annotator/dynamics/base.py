"""What a fill method is to the engine: something that completes one run of labels.

A *run* is a maximal stretch of one joint's labels that have a position and are not separated
by an ``absent`` label or a scene cut. The engine (``fill.py``) splits every track into runs
and asks the method for the frames from the run's first label to its last; everything else
(held ends, absent spans, cuts, visibility codes, sources) is the engine's job, so each method
only does interpolation.

Incremental fills rely on one promise: the values a method returns inside the gap between
labels ``i`` and ``i + 1`` depend only on the labels ``i - reach + 1 .. i + reach`` of the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Observations:
    """Noisy positions of joints on some frames, for a fill to weigh against its own prior.

    ``xy`` (F, J, 2) px and ``variance`` (F, J): the expected squared error of each coordinate
    in px² (the fill's own unit). NaN (or an infinite variance) where there is no observation;
    an observation never moves a label. Motion-vector propagation and pose estimators supply
    them; the fill engine hands each run its slice (``fill.py``).
    """

    xy: NDArray[np.float64]
    variance: NDArray[np.float64]

    def __post_init__(self) -> None:
        if self.xy.ndim != 3 or self.xy.shape[2] != 2 or self.variance.shape != self.xy.shape[:2]:
            raise ValueError(
                f"observations must be xy (F, J, 2) and variance (F, J), not "
                f"{self.xy.shape} and {self.variance.shape}"
            )


class RunFiller(Protocol):
    """One fill method, configured (frame rate, dictionary) and ready to use."""

    source: Source
    reach: int  # labels on each side of a gap that may influence it

    def fill_run(
        self, frames: IntArray, values: FloatArray
    ) -> tuple[FloatArray, FloatArray | None]:
        """Fill frames ``frames[0] .. frames[-1]`` from labels at ``frames`` (sorted, unique,
        at least 2) with ``values`` (n, K): the x, y columns of K / 2 joints, in pairs.

        Returns (span, K) values (equal to ``values`` on the label frames) and a (span, K)
        variance, or None when the method has no uncertainty.
        """
        ...


def linear_weights(frames: IntArray, span_frames: IntArray) -> tuple[IntArray, FloatArray]:
    """For each frame of ``span_frames``: the index i of the label gap it lies in and its
    fraction w in [0, 1] between labels i and i + 1."""
    i = np.clip(np.searchsorted(frames, span_frames, side="right") - 1, 0, len(frames) - 2)
    a = frames[i]
    b = frames[i + 1]
    w = (span_frames - a) / (b - a)
    return i.astype(np.int64), np.asarray(w, dtype=np.float64)


class LinearFiller:
    """Straight lines between consecutive labels: the baseline every method must beat."""

    source = Source.LINEAR
    reach = 1

    def fill_run(
        self, frames: IntArray, values: FloatArray
    ) -> tuple[FloatArray, FloatArray | None]:
        t = np.arange(frames[0], frames[-1] + 1, dtype=np.int64)
        i, w = linear_weights(frames, t)
        out = values[i] * (1.0 - w)[:, None] + values[i + 1] * w[:, None]
        return out, None


class PchipFiller:
    """Shape-preserving piecewise cubic (Fritsch-Carlson slopes): no overshoot at turns."""

    source = Source.PCHIP
    reach = 2  # a slope at a label uses its neighbours on both sides

    def fill_run(
        self, frames: IntArray, values: FloatArray
    ) -> tuple[FloatArray, FloatArray | None]:
        if len(frames) < 3:
            return LinearFiller().fill_run(frames, values)
        from scipy.interpolate import PchipInterpolator

        t = np.arange(frames[0], frames[-1] + 1, dtype=np.float64)
        out = PchipInterpolator(frames.astype(np.float64), values, axis=0)(t)
        return np.asarray(out, dtype=np.float64), None
