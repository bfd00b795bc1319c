"""The blend of a gap's two walks (``mv.blend``) as one compiled pass (numba).

The same arithmetic, in the same order, as the NumPy expression it replaces (kept as the
reference in ``tests/propagation/test_walk_equal.py``): each walk's variance accumulated from
its start, its miss at the far label spread over its steps by their variance, the two
corrected walks weighed by the inverse of that variance, and the variance of two Brownian
bridges plus their disagreement. One pass over the walks with no temporaries: the NumPy form
built about twenty arrays of every walk's every frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
TINY = 1e-12

F = TypeVar("F", bound=Callable[..., Any])


def _compiled(function: F) -> F:
    return cast(F, numba.njit(cache=True, nogil=True)(function))


@_compiled
def _floor(v: float) -> float:
    """``np.maximum(v, TINY)``, NaN included."""
    return v if (v > TINY or v != v) else TINY


@_compiled
def _blend_kernel(
    path_f: Any,
    step_f: Any,
    path_b: Any,
    step_b: Any,
    disagree: float,
    xy: Any,
    var: Any,
    cf: Any,
    cb: Any,
) -> None:
    n, m = step_f.shape
    last = m - 1
    for i in range(n):
        acc = 0.0
        for k in range(m):
            acc += step_f[i, k]
            cf[k] = acc
        acc = 0.0
        for k in range(last, -1, -1):
            acc += step_b[i, k]
            cb[k] = acc
        tf = _floor(cf[last])
        tb = _floor(cb[0])
        sx, sy = path_f[i, 0, 0], path_f[i, 0, 1]
        ex, ey = path_b[i, last, 0], path_b[i, last, 1]
        miss_fx, miss_fy = ex - path_f[i, last, 0], ey - path_f[i, last, 1]
        miss_bx, miss_by = sx - path_b[i, 0, 0], sy - path_b[i, 0, 1]
        for k in range(m):
            share_f = cf[k] / tf
            share_b = cb[k] / tb
            ffx = path_f[i, k, 0] + share_f * miss_fx
            ffy = path_f[i, k, 1] + share_f * miss_fy
            fbx = path_b[i, k, 0] + share_b * miss_bx
            fby = path_b[i, k, 1] + share_b * miss_by
            wf = 1.0 / _floor(cf[k])
            wb = 1.0 / _floor(cb[k])
            xy[i, k, 0] = (wf * ffx + wb * fbx) / (wf + wb)
            xy[i, k, 1] = (wf * ffy + wb * fby) / (wf + wb)
            bridge_f = _floor(cf[k] * (tf - cf[k]) / tf)
            bridge_b = _floor(cb[k] * (tb - cb[k]) / tb)
            v = 1.0 / (1.0 / bridge_f + 1.0 / bridge_b)
            dx = ffx - fbx
            dy = ffy - fby
            var[i, k] = v + disagree * (dx * dx + dy * dy) / 2.0
        xy[i, 0, 0], xy[i, 0, 1] = sx, sy
        xy[i, last, 0], xy[i, last, 1] = ex, ey
        var[i, 0] = 0.0
        var[i, last] = 0.0


def blend_walks(
    path_f: FloatArray,
    step_f: FloatArray,
    path_b: FloatArray,
    step_b: FloatArray,
    disagree: float,
) -> tuple[FloatArray, FloatArray]:
    """``mv.blend``'s result (see there for the arguments) from the compiled pass."""
    path_f = np.ascontiguousarray(path_f, dtype=np.float64)
    path_b = np.ascontiguousarray(path_b, dtype=np.float64)
    step_f = np.ascontiguousarray(step_f, dtype=np.float64)
    step_b = np.ascontiguousarray(step_b, dtype=np.float64)
    n, m = step_f.shape
    xy = np.empty((n, m, 2))
    var = np.empty((n, m))
    _blend_kernel(
        path_f, step_f, path_b, step_b, float(disagree), xy, var, np.empty(m), np.empty(m)
    )
    return xy, var
