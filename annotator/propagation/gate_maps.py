"""The gate's input maps in one compiled pass per frame (numba): what ``gate.frame_maps``
computes, without its full-size temporaries.

``gate.frame_maps`` builds its three channels (residual, motion magnitude, motion relative to
the frame's median motion) with whole-video array operations: about ten temporaries of
(frames x cells) float32, then adaptive average pooling. On a 720p video that is most of the
gate's time (about 0.8 ms a frame of CPU on the loaded development machine, 1,200 frames/s
for the whole gate). Here each frame is done in one loop: the medians of its valid vectors
(every third cell, as there), the three values of each cell, and their sums per output bin
(the bins of ``torch.nn.functional.adaptive_avg_pool2d``: rows ``floor(i H / G)`` to
``ceil((i + 1) H / G)``). Same numbers up to float rounding (``tests/propagation/
test_gate_maps.py`` compares the two).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]
F = TypeVar("F", bound=Callable[..., Any])


def _compiled(function: F) -> F:
    return cast(F, numba.njit(cache=True, nogil=True)(function))


@_compiled
def _median_of_finite(values: Any, buf: Any) -> float:
    n = 0
    for k in range(len(values)):
        v = values[k]
        if np.isfinite(v):
            buf[n] = v
            n += 1
    if n == 0:
        return 0.0
    return float(np.median(buf[:n]))  # quickselect: linear, unlike a sort


@_compiled
def _maps_kernel(
    dx: Any, dy: Any, valid: Any, residual: Any, scale: float, grid: int, out: Any, energy: Any
) -> None:
    f, h, w = dx.shape
    sample = np.empty(((h * w + 2) // 3,), dtype=np.float32)
    buf = np.empty_like(sample)
    cells = np.empty((3, h, w), dtype=np.float32)
    s = np.float32(scale)
    for t in range(f):
        # the frame's median motion: every third cell (flattened), valid cells only
        for axis in range(2):
            src = dx if axis == 0 else dy
            k = 0
            for idx in range(0, h * w, 3):
                i, j = idx // w, idx % w
                sample[k] = src[t, i, j] if valid[t, i, j] else np.nan
                k += 1
            med = _median_of_finite(sample[:k], buf)
            if axis == 0:
                mx = np.float32(med)
            else:
                my = np.float32(med)
        r_sum, r_count = 0.0, 0
        for i in range(h):
            for j in range(w):
                r = residual[t, i, j]
                if np.isfinite(r):
                    cells[0, i, j] = r
                    r_sum += r
                    r_count += 1
                else:
                    cells[0, i, j] = np.float32(0.0)
                a, b = dx[t, i, j], dy[t, i, j]
                if valid[t, i, j] and np.isfinite(a) and np.isfinite(b):
                    cells[1, i, j] = np.float32(np.hypot(a, b)) * s
                    cells[2, i, j] = np.float32(np.hypot(a - mx, b - my)) * s
                else:
                    cells[1, i, j] = np.float32(0.0)
                    cells[2, i, j] = np.float32(0.0)
        energy[t] = r_sum / r_count if r_count > 0 else 0.0
        for gi in range(grid):
            i0, i1 = (gi * h) // grid, ((gi + 1) * h + grid - 1) // grid
            for gj in range(grid):
                j0, j1 = (gj * w) // grid, ((gj + 1) * w + grid - 1) // grid
                count = (i1 - i0) * (j1 - j0)
                for c in range(3):
                    total = 0.0
                    for i in range(i0, i1):
                        for j in range(j0, j1):
                            total += cells[c, i, j]
                    out[t, c, gi, gj] = total / count


def frame_maps_compiled(
    dx: FloatArray,
    dy: FloatArray,
    valid: NDArray[np.bool_],
    residual: FloatArray,
    scale: float,
    grid: int,
) -> tuple[FloatArray, FloatArray]:
    """(F, 3, grid, grid) maps of fields (F, H, W) (``scale``: % of the frame per px), and
    each frame's mean finite residual (0.0 where none: ``gate.residual_energy``)."""
    f = dx.shape[0]
    out = np.empty((f, 3, grid, grid), dtype=np.float32)
    energy = np.zeros(f, dtype=np.float32)
    if f:
        _maps_kernel(
            np.ascontiguousarray(dx, dtype=np.float32),
            np.ascontiguousarray(dy, dtype=np.float32),
            np.ascontiguousarray(valid, dtype=np.bool_),
            np.ascontiguousarray(residual, dtype=np.float32),
            float(scale),
            int(grid),
            out,
            energy,
        )
    return out, energy
