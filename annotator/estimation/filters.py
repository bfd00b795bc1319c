"""The one-euro filter that steadies the tracked ROI, as MediaPipe's landmark smoothing does.

A one-euro filter is a low-pass filter whose cut-off rises with the signal's speed: still
points are smoothed hard, fast ones follow with little lag. MediaPipe applies it to the two
auxiliary alignment landmarks in pixels, with min cut-off 0.01 Hz, beta 10 and derivative
cut-off 1 Hz, and with the speed measured in object sizes per second, where the object size
is the side of the ROI that the *unfiltered* alignment points of the same frame give (matched
to the golden reference to 1e-4 px; the mean side of the points' bounding box, the generic
choice, is the default when no scale is given).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

MIN_CUTOFF = 0.01
BETA = 10.0
DERIVATE_CUTOFF = 1.0
MIN_OBJECT_SCALE = 1e-6


def _alpha(cutoff: float, rate: float) -> float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau * rate)


class OneEuroPoints:
    """Filters a fixed set of points (N, 2) frame by frame; ``reset`` forgets the past."""

    def __init__(
        self,
        min_cutoff: float = MIN_CUTOFF,
        beta: float = BETA,
        derivate_cutoff: float = DERIVATE_CUTOFF,
    ) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivate_cutoff = derivate_cutoff
        self.reset()

    def reset(self) -> None:
        self._time: float | None = None
        self._raw: NDArray[np.float64] | None = None
        self._value: NDArray[np.float64] | None = None
        self._speed: NDArray[np.float64] | None = None

    def __call__(
        self, points: NDArray[np.floating], time: float, scale: float | None = None
    ) -> NDArray[np.float64]:
        """The filtered ``points`` at ``time`` seconds (strictly after the previous call);
        ``scale``: the object's size in the points' units."""
        pts: NDArray[np.float64] = np.asarray(points, dtype=np.float64)
        if scale is None:
            scale = float((pts.max(axis=0) - pts.min(axis=0)).mean())
        if scale < MIN_OBJECT_SCALE:
            return np.array(pts)  # too small to measure speed relative to its size
        if self._time is None or self._raw is None or self._value is None:
            self._time, self._raw, self._value = time, pts, pts.copy()
            self._speed = np.zeros_like(pts)
            return np.array(pts)
        if time <= self._time:
            return np.array(pts)
        rate = 1.0 / (time - self._time)
        self._time = time
        speed = (pts - self._raw) / scale * rate
        a_d = _alpha(self.derivate_cutoff, rate)
        assert self._speed is not None
        self._speed = a_d * speed + (1 - a_d) * self._speed
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        tau = 1.0 / (2 * math.pi * cutoff)
        a = 1.0 / (1.0 + tau * rate)
        self._value = a * pts + (1 - a) * self._value
        self._raw = pts
        return np.array(self._value)
