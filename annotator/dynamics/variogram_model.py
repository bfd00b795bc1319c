"""A valid variogram fit to HPIM's learned table, for gaps that reach past the table's end.

HPIM's variogram is an empirical table of lags 0 .. L − 1 (400 at the model's 30 fps), held
flat past its end. An empirical table is not a valid variogram (it dips where the training
motions repeat, and the flat tail is not one either), so on a gap whose labels lie further
apart than the table reaches, the covariance that HPIM's kriging and its fusion with observed
positions build from it is not positive semi-definite: the fusion's update ``P (P + R)⁻¹``
can then amplify an observation's disagreement instead of shrinking it.

:class:`ValidVariogram` is a non-negative combination of variograms that are valid on their
own, so it is valid too (conditionally negative definite: every covariance built from it, as
HPIM builds them, is positive semi-definite):

- ``|h|``, the Brownian motion's: it keeps growing, so in the middle of a long gap the fill
  leans on the two labels around it (kriging with it alone is linear interpolation), not on a
  mean of labels far away;
- ``1 − exp(−(h / r)²)`` and ``1 − exp(−h / r)`` for ranges ``r`` of 2 to 128 frames: the
  table's shape at short and middle lags.

The weights are a non-negative least-squares fit to the table, relative to its size (so the
short lags, where the table is small and best estimated, count). ``HpimFiller`` uses it only
for gaps whose labels reach past the table; shorter gaps keep the table, bit for bit.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from annotator.dynamics.base import FloatArray

RANGES = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)  # model frames


def _basis(lag: FloatArray) -> FloatArray:
    """(len(lag), 1 + 2 × len(RANGES)) valid variograms at ``lag`` (model frames, ≥ 0)."""
    cols = [lag]
    for r in RANGES:
        cols.append(1.0 - np.exp(-((lag / r) ** 2)))
        cols.append(1.0 - np.exp(-lag / r))
    return np.stack(cols, axis=-1)


class ValidVariogram:
    """γ(h) = Σ c_k b_k(|h|) with c_k ≥ 0 fit to ``table`` (γ at lags 0, 1, 2, ...)."""

    def __init__(self, table: FloatArray) -> None:
        g = np.asarray(table, dtype=np.float64)
        lag = np.arange(1, len(g), dtype=np.float64)
        scale = 1.0 / np.sqrt(np.maximum(g[1:], 1e-12 * max(float(g.max()), 1e-300)))
        coef, _ = nnls(_basis(lag) * scale[:, None], g[1:] * scale)
        if not coef.any():  # a flat-zero table: a still joint; keep a tiny Brownian term
            coef[0] = 1e-9
        self.coef: FloatArray = np.asarray(coef, dtype=np.float64)

    def __call__(self, lag: FloatArray) -> FloatArray:
        """γ at ``lag`` (model frames, any shape; symmetric in the sign)."""
        x = np.abs(np.asarray(lag, dtype=np.float64))
        return np.asarray(_basis(x.ravel()) @ self.coef, dtype=np.float64).reshape(x.shape)
