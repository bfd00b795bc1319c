"""DYAN dictionaries (K-FPN, section 3.1) and the paper's two fills, ``eq17`` and ``fista``.

A dictionary of ``T`` rows holds a constant column and, for each pole p = r·e^{iθ}, the
impulse responses r^t cos(tθ), (−r)^t cos(tθ), r^t sin(tθ), (−r)^t sin(tθ) for t = 0..T−1,
every column of unit L2 norm (1 + 4·poles columns). Because (−r)^t cos(tθ) = r^t cos(t(θ+π)),
each column is Re or Im of a pole's powers, which is what makes the frame-rate change exact:
at another rate the poles become p^(f_train / f_video).

``eq17`` is the paper's interpolation H = (D Dᵀ) P_rᵀ [P_r (D Dᵀ) P_rᵀ]⁻¹ H_r, ``fista`` its
released code's sparse coding of z-scored labels. Both run on a window of ``T`` frames around
each gap (longer when the gap is), using at most ``reach`` labels on each side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.codes import Source
from annotator.core.paths import model_path
from annotator.core.safeio import load_mat, load_npz
from annotator.dynamics.base import FloatArray, IntArray
from annotator.errors import FormatError

PENN_FPS = 30.0  # Penn Action's frame rate: the rate our and the published dictionaries fit
DEFAULT_DICTIONARY = "dyan_penn.npz"  # ours: ``annotator train dictionary`` (model card beside)
REFERENCE_ROWS = 40  # the reference code uses the first 40 rows of the Penn dictionary
PUBLISHED_RIDGE = 1e-9  # the published dictionaries carry no ridge: eq. 17 interpolates exactly


@dataclass(frozen=True)
class Poles:
    """Pole magnitudes ``r`` and angles ``theta`` (radians per frame at ``fps``).

    The second family's poles sit at angle ``theta + flip``: ``flip`` is π at the learned rate
    (the (−r)^t columns) and scales with the rate like every other angle.
    """

    r: FloatArray
    theta: FloatArray
    fps: float = PENN_FPS
    flip: float = float(np.pi)
    mirrored: bool = True  # the (−r)^t columns are part of the dictionary

    def at_rate(self, fps: float | None) -> Poles:
        """The same dynamics sampled at ``fps``: p -> p^(self.fps / fps)."""
        if fps is None or fps <= 0 or abs(fps - self.fps) < 1e-9:
            return self
        e = self.fps / fps
        return Poles(self.r**e, self.theta * e, fps, self.flip * e, self.mirrored)


def dyan_dictionary(poles: Poles, rows: int) -> FloatArray:
    """(rows, 1 + 4 n) dictionary with unit-norm columns (an all-zero column stays zero);
    (rows, 1 + 2 n) without the (−r)^t columns when ``poles.mirrored`` is False."""
    t = np.arange(rows, dtype=np.float64)[:, None]
    mag = poles.r[None, :] ** t
    if not poles.mirrored:
        cols = [np.ones((rows, 1)), mag * np.cos(t * poles.theta), mag * np.sin(t * poles.theta)]
        d = np.concatenate(cols, axis=1)
        norm = np.linalg.norm(d, axis=0)
        return np.asarray(d / np.where(norm > 0, norm, 1.0), dtype=np.float64)
    cols = [
        np.ones((rows, 1)),
        mag * np.cos(t * poles.theta),
        mag * np.cos(t * (poles.theta + poles.flip)),
        mag * np.sin(t * poles.theta),
        mag * np.sin(t * (poles.theta + poles.flip)),
    ]
    d = np.concatenate(cols, axis=1)
    norm = np.linalg.norm(d, axis=0)
    return np.asarray(d / np.where(norm > 0, norm, 1.0), dtype=np.float64)


def poles_from_dictionary(d: FloatArray, fps: float = PENN_FPS) -> Poles:
    """Recover the poles of a dictionary in the layout above (from its first three rows)."""
    if d.ndim != 2 or d.shape[0] < 3 or (d.shape[1] - 1) % 4 != 0:
        raise FormatError(f"a DYAN dictionary has 1 + 4·poles columns, not shape {d.shape}")
    n = (d.shape[1] - 1) // 4
    c = d[:, 1 : 1 + n]
    s = d[:, 1 + 2 * n : 1 + 3 * n]
    with np.errstate(divide="ignore", invalid="ignore"):
        rc = c[1] / c[0]  # r cos θ
        r = np.sqrt(np.abs(2 * rc**2 - c[2] / c[0]))  # r² = 2(r cos θ)² − r² cos 2θ
        theta = np.arccos(np.clip(rc / np.where(r > 0, r, 1.0), -1.0, 1.0))
    theta = np.where(s[1] < 0, -theta, theta)  # the sine column carries θ's sign
    return Poles(np.nan_to_num(r), np.nan_to_num(theta), fps)


@dataclass(frozen=True)
class DyanModel:
    """A dictionary ready for the fills: its matrix at ``rows`` rows, poles and ridge."""

    matrix: FloatArray
    poles: Poles
    ridge: float = PUBLISHED_RIDGE
    rows: int = REFERENCE_ROWS


def load_dyan_model(path: str | Path) -> DyanModel:
    """A ``.mat`` (published layout, ``Dictionary``) or ``.npz`` (``r``, ``theta``, optional
    ``fps``, ``ridge``, ``rows``: ours) dictionary file, validated before use."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        z = load_npz(path, FormatError, file_limit=64 << 20, max_array=64 << 20)
        if "r" not in z or "theta" not in z:
            raise FormatError(f"{path.name} has no 'r' and 'theta' pole arrays")
        r, th = _real(z["r"], "r", path), _real(z["theta"], "theta", path)
        if r.size == 0 or r.size != th.size or r.size > MAX_POLES:
            raise FormatError(f"{path.name}: r and theta must hold 1 to {MAX_POLES} poles each")
        if not (np.isfinite(r).all() and np.isfinite(th).all()) or (r <= 0).any():
            raise FormatError(f"{path.name}: poles must be finite with a positive radius")
        fps = _one(z, "fps", PENN_FPS, path, 1e-3, 1e4)
        ridge = _one(z, "ridge", PUBLISHED_RIDGE, path, 0.0, 1e9)
        rows_f = _one(z, "rows", REFERENCE_ROWS, path, 2, 100_000)
        if not rows_f.is_integer():
            raise FormatError(f"{path.name}: rows must be an integer")
        mirrored = bool(_one(z, "mirrored", 1.0, path, 0, 1)) if "mirrored" in z else True
        poles = Poles(r.ravel(), th.ravel(), fps, mirrored=mirrored)
        rows = int(rows_f)
        return DyanModel(dyan_dictionary(poles, rows), poles, ridge, rows)
    matrix, poles = load_dictionary(path)
    return DyanModel(matrix, poles)


MAX_POLES = 10_000


def _real(a: Any, key: str, path: Path) -> FloatArray:
    arr = np.asarray(a)
    if np.iscomplexobj(arr) or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise FormatError(f"{path.name}: {key} must hold real numbers")
    return np.asarray(arr, dtype=np.float64)


def _one(z: dict[str, Any], key: str, default: float, path: Path, lo: float, hi: float) -> float:
    if key not in z:
        return float(default)
    a = _real(z[key], key, path)
    if a.size != 1:
        raise FormatError(f"{path.name}: {key} must be one number, not {a.size} values")
    value = float(a.ravel()[0])
    if not (np.isfinite(value) and lo <= value <= hi):
        raise FormatError(f"{path.name}: {key} = {value!r} is out of range ({lo:g} to {hi:g})")
    return value


def load_dictionary(path: str | Path) -> tuple[FloatArray, Poles]:
    """A dictionary matrix and its poles from a ``.mat`` (``Dictionary``) or ``.npz``
    (``r``, ``theta``, optional ``fps``) file."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        model = load_dyan_model(path)
        return model.matrix, model.poles
    m = load_mat(path, FormatError, file_limit=64 << 20, max_total=256 << 20)
    if "Dictionary" not in m:
        raise FormatError(f"{path.name} holds no 'Dictionary' matrix")
    d = _real(m["Dictionary"], "Dictionary", path)
    if d.ndim != 2 or 0 in d.shape or d.shape[0] > 100_000 or d.shape[1] > MAX_POLES:
        raise FormatError(f"{path.name}: Dictionary must be a non-empty (rows, poles) matrix")
    if not np.isfinite(d).all():
        raise FormatError(f"{path.name}: Dictionary holds NaN or infinite values")
    return d, poles_from_dictionary(d)


def eq17(d: FloatArray, rows: IntArray, values: FloatArray, ridge: float = 0.0) -> FloatArray:
    """Eq. 17 on one window: all ``d.shape[0]`` rows from labels at ``rows`` (n, K).

    With ``ridge`` = 0 the labelled rows are reproduced exactly (up to rounding).
    """
    k = d @ d.T
    krr = k[np.ix_(rows, rows)] + ridge * np.eye(len(rows))
    return np.asarray(k[:, rows] @ np.linalg.solve(krr, values), dtype=np.float64)


def fista(
    d: FloatArray, rows: IntArray, values: FloatArray, lam: float = 0.1, iters: int = 200
) -> FloatArray:
    """Sparse code c minimising ½‖P D c − h‖² + λ‖c‖₁ (FISTA), returned as D c (all rows)."""
    a = d[rows]
    step = 1.0 / max(float(np.linalg.norm(a, 2)) ** 2, 1e-12)
    c = np.zeros((d.shape[1], values.shape[1]))
    y, tk = c.copy(), 1.0
    for _ in range(iters):
        g = y - step * (a.T @ (a @ y - values))
        c_new = np.sign(g) * np.maximum(np.abs(g) - step * lam, 0.0)
        t_new = (1.0 + np.sqrt(1.0 + 4.0 * tk * tk)) / 2.0
        y = c_new + ((tk - 1.0) / t_new) * (c_new - c)
        c, tk = c_new, t_new
    return np.asarray(d @ c, dtype=np.float64)


class DyanFiller:
    """``eq17`` or ``fista`` on label-centred windows of ``rows`` frames.

    At another frame rate than the dictionary's, the poles become p^(f_train / f_video) and
    the window keeps its length in seconds (``rows`` scaled by the same ratio).
    """

    def __init__(
        self,
        method: str,
        matrix: FloatArray,
        poles: Poles,
        fps: float | None = None,
        rows: int = REFERENCE_ROWS,
        reach: int = 3,
        ridge: float = PUBLISHED_RIDGE,
    ) -> None:
        self.method = method
        self.source = Source.EQ17 if method == "eq17" else Source.FISTA
        self.reach = reach
        self._poles = poles.at_rate(fps)
        if self._poles is not poles:
            # unit-norm columns over more rows have smaller entries: the ridge follows D Dᵀ
            new_rows = max(4, round(rows * self._poles.fps / poles.fps))
            ridge, rows = ridge * rows / new_rows, new_rows
        self.ridge = ridge
        self._rows = rows
        exact = self._poles is poles and matrix.shape[0] >= rows
        self._base = matrix[:rows] if exact else dyan_dictionary(self._poles, rows)
        self._dicts: dict[int, FloatArray] = {rows: self._base}

    def _dictionary(self, rows: int) -> FloatArray:
        if rows not in self._dicts:
            self._dicts[rows] = dyan_dictionary(self._poles, rows)
        return self._dicts[rows]

    def fill_run(
        self, frames: IntArray, values: FloatArray
    ) -> tuple[FloatArray, FloatArray | None]:
        a0 = int(frames[0])
        out = np.empty((int(frames[-1]) - a0 + 1, values.shape[1]))
        out[frames - a0] = values
        for i in range(len(frames) - 1):
            a, b = int(frames[i]), int(frames[i + 1])
            if b - a < 2:
                continue
            w = max(self._rows, b - a + 1)
            start = a - (w - (b - a + 1)) // 2
            ctx = frames[max(0, i - self.reach + 1) : i + self.reach + 1]
            ctx = ctx[(ctx >= start) & (ctx < start + w)]
            vals = values[np.searchsorted(frames, ctx)]
            mu = vals.mean(axis=0)
            d = self._dictionary(w)
            if self.method == "eq17":
                h = eq17(d, ctx - start, vals - mu, ridge=self.ridge) + mu
            else:
                sd = np.maximum(vals.std(axis=0), 1.0)  # z-score; 1 px floor for still joints
                h = fista(d, ctx - start, (vals - mu) / sd) * sd + mu
            out[a + 1 - a0 : b - a0] = h[a + 1 - start : b - start]
        return out, None


def make_dyan_filler(
    method: str, *, fps: float | None = None, dictionary: Any = None
) -> DyanFiller:
    """``eq17``/``fista`` with ``dictionary`` (a ``DyanModel``, a path, or None for ours)."""
    if isinstance(dictionary, DyanModel):
        model = dictionary
    else:
        path = Path(dictionary) if dictionary is not None else model_path(DEFAULT_DICTIONARY)
        model = load_dyan_model(path)
    return DyanFiller(method, model.matrix, model.poles, fps, model.rows, ridge=model.ridge)
