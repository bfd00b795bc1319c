"""HPIM, the product's fill: eq. 17 made robust for real annotation work.

Eq. 17 is the best linear prediction of the unlabelled frames under the covariance D Dᵀ of a
dynamics dictionary. HPIM keeps that idea and fixes what made it lose to linear
interpolation on real labels:

- the prior is *stationary* and learned from the training motions: a variogram
  γ(τ) = ½ E[(x(t+τ) − x(t))²] of every joint coordinate (``training.py``), in place of
  D Dᵀ, whose impulse responses pin the variance to the start of a fixed 40-frame block;
- one window per gap, anchored on its labels (``reach`` labels on each side), any gap length;
- the unknown level (and optionally slope) of the motion is left to the labels: the
  prediction is the labels' own base plus a correction, with weights that reproduce a
  constant (``trend`` 0) or a straight line (``trend`` 1) exactly;
- a nugget (label jitter) regularises the solve, and a joint whose two labels differ by less
  than ``hold_below`` pixels keeps the nearer label (annotators leave a still joint in place);
- on short gaps, where label jitter rivals the motion, a learned share (``pchip_mix``, per
  gap-length bin) of the shape-preserving cubic through the same labels is mixed in;
- time runs in seconds: at another frame rate the lag axis is rescaled (the stationary form of
  p -> p^(f_train / f_video)).
- gaps longer than ``VALID_TABLE_GAP`` frames of the model (or whose labels lie further apart
  than the table reaches) take a valid variogram fit to the table (``variogram_model.py``):
  the empirical table is not one, and there its covariances were not positive semi-definite.
- gaps longer than the table's range (the lag where it stops growing: 44 frames of the
  shipped model, ``line_gap``) fill along the straight line between their own two labels:
  universal kriging with a linear drift on those two labels. Past the range the learned prior
  says the middle of the gap is uncorrelated with the labels, so kriging returns its estimate of
  the drift: with a constant drift (``trend`` 0) a weighted mean of the context labels, which
  pulled a long gap's middle off the line (the real clips with 2 key frames or 2 % labelled:
  10-40 points of PCK below linear, ``docs/propagation.md``); a linear drift over the model's
  reach of labels fits one line across the whole window (measured worse than the gap's own
  line on a curved track). The variance and the fusion's covariance keep the variogram (the
  valid one on long gaps).

Weights depend only on where the labels are, so they are cached per label pattern and shared
by every joint and coordinate labelled on the same frames.

Noisy observations between the labels (``fill_track(..., observations=...)``: joints propagated
along the video, an estimator's predictions) are folded in gap by gap by a Gaussian update:
HPIM's fill is the prior mean, the covariance of its error given the labels (from the
variogram, scaled to its calibrated variance) the prior covariance (``_condition``).

The returned variance is an uncertainty that follows the data, not only where the labels are:
the kriging variance scaled by how fast the joint moves between its labels, plus a bridge
(largest mid-gap) scaled by the leave-one-label-out residuals of the gap's two labels (how
much the motion bends there), plus the squared disagreement between HPIM and ``pchip``;
the two weights and an overall scale are fit on training motions.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Source
from annotator.core.paths import model_path
from annotator.core.safeio import atomic_savez, load_npz
from annotator.dynamics.base import FloatArray, IntArray, PchipFiller
from annotator.dynamics.condition import block_gains, condition, one_blas_thread, whiten
from annotator.dynamics.variogram_model import ValidVariogram
from annotator.errors import FormatError

DEFAULT_MODEL = "hpim_penn.npz"
GAP_BINS = (4.0, 7.0, 12.0, 20.0)  # upper edges of the gap-length bins of ``pchip_mix``


@dataclass(frozen=True)
class HpimModel:
    """A learned HPIM prior and its tuned settings."""

    variogram: FloatArray  # γ at lags 0, 1, 2, ... frames of ``fps``; any scale
    fps: float = 30.0
    reach: int = 2
    trend: int = 0
    nugget: float = 0.0  # added to γ at every non-zero lag, in units of γ(1)
    hold_below: float = 0.0  # pixels
    # share of the pchip fill mixed in, per gap length bin (``GAP_BINS``, in model frames)
    pchip_mix: tuple[float, ...] = (0.0,) * 5
    # the uncertainty (``HpimFiller.fill_run``'s variance): weights of its data terms and an
    # overall scale that makes it a mean squared error (fit by ``training.fit_uncertainty``)
    unc_loo: float = 0.0  # leave-one-label-out residuals at the gap's two labels
    unc_disagree: float = 0.0  # (hpim − pchip)²
    unc_scale: float = 1.0

    def save(self, path: str | Path, **meta: Any) -> None:
        self.validate(str(path))
        fields: dict[str, Any] = asdict(self)
        fields["pchip_mix"] = np.asarray(self.pchip_mix, dtype=np.float64)
        atomic_savez(
            path, {**fields, **{f"meta_{k}": v for k, v in meta.items()}}, False, FormatError
        )

    def validate(self, name: str) -> None:
        """Refuse NaN, empty or out-of-range parameters (a corrupt or hostile model file)."""
        g = np.asarray(self.variogram, dtype=np.float64)
        if g.ndim != 1 or not 2 <= g.size <= MAX_VARIOGRAM:
            raise FormatError(f"{name}: the variogram must hold 2 to {MAX_VARIOGRAM} values")
        if not np.isfinite(g).all() or (g < 0).any():
            raise FormatError(f"{name}: the variogram must hold finite values >= 0")
        checks = (
            ("fps", self.fps, 1e-3, 1e4),
            ("reach", self.reach, 0, 1000),
            ("trend", self.trend, 0, 1),
            ("nugget", self.nugget, 0.0, 1e6),
            ("hold_below", self.hold_below, 0.0, 1e6),
            ("unc_loo", self.unc_loo, -1e6, 1e6),
            ("unc_disagree", self.unc_disagree, -1e6, 1e6),
            ("unc_scale", self.unc_scale, 0.0, 1e9),
        )
        for key, value, lo, hi in checks:
            if not (math.isfinite(value) and lo <= value <= hi):
                raise FormatError(f"{name}: {key} = {value!r} is out of range ({lo:g} to {hi:g})")
        bins = len(GAP_BINS) + 1
        if len(self.pchip_mix) != bins or not all(
            math.isfinite(v) and 0.0 <= v <= 1.0 for v in self.pchip_mix
        ):
            raise FormatError(f"{name}: pchip_mix must hold {bins} shares in 0..1")

    @classmethod
    def load(cls, path: str | Path) -> HpimModel:
        path = Path(path)
        z = load_npz(path, FormatError, file_limit=64 << 20, max_array=16 << 20)
        try:
            model = cls(
                variogram=_floats(z, "variogram"),
                fps=_scalar(z, "fps"),
                reach=_integer(z, "reach"),
                trend=_integer(z, "trend"),
                nugget=_scalar(z, "nugget"),
                hold_below=_scalar(z, "hold_below"),
                pchip_mix=tuple(float(v) for v in _floats(z, "pchip_mix")),
                unc_loo=_scalar(z, "unc_loo", 0.0),
                unc_disagree=_scalar(z, "unc_disagree", 0.0),
                unc_scale=_scalar(z, "unc_scale", 1.0),
            )
        except KeyError as err:
            raise FormatError(f"{path.name} is not an HPIM model file (no {err})") from None
        model.validate(path.name)
        return model


MAX_VARIOGRAM = 100_000
CONDITION_BATCH = 1 << 20  # matrix elements per batch of the observation update (8 MB each)
MAX_DENSE_GAP = 640  # frames inside a gap up to which observations are weighed exactly
SHORT_GAP = 512  # gaps up to this many frames keep their weights and covariance in plain caches
LONG_CACHE = 16  # weights of this many longer gaps kept, least recently used out (a few MB each)
LONG_BLOCK = 128  # longer gaps: blocks of this many frames, each with this much context
LONG_BATCH = 1 << 22  # longer gaps: matrix elements of the blocks solved in one batch (32 MB)
BATCH_ROWS = 64  # longer gaps: blocks with at most this many observed frames are batched
VALID_TABLE_GAP = 100.0
"""Gaps up to this many frames of the model keep the learned table: the error covariances it
gives them are positive semi-definite (an ad-hoc check of the shipped model, labels every gap
frames: smallest eigenvalue over largest 1e-5 or more at 100 frames; slightly negative from
about 120, -0.05 at 300 and -0.1 past the table's 400). Longer gaps take :class:`~annotator.dynamics.variogram_model.ValidVariogram`."""


def line_gap(table: FloatArray) -> float:
    """The table's range, in model frames: the first lag at which it stops growing (the lags
    past it are no closer to a label than to the rest of the motion), never below the last
    ``GAP_BINS`` edge (the short gaps whose share of pchip was tuned); infinite for a table
    that keeps growing. Gaps longer than this fill along their labels' line."""
    g = np.asarray(table, dtype=np.float64)
    stops = np.flatnonzero(np.diff(g[1:]) <= 0)
    return max(float(stops[0] + 1), GAP_BINS[-1]) if stops.size else math.inf


def _floats(z: dict[str, NDArray[Any]], key: str) -> FloatArray:
    a = z[key]
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) or np.iscomplexobj(a):
        raise FormatError(f"{key} must hold real numbers")
    return np.asarray(a, dtype=np.float64).ravel()


def _scalar(z: dict[str, NDArray[Any]], key: str, default: float | None = None) -> float:
    if key not in z and default is not None:
        return default
    a = _floats(z, key)
    if a.size != 1:
        raise FormatError(f"{key} must be one number, not an array of {a.size}")
    return float(a[0])


def _integer(z: dict[str, NDArray[Any]], key: str) -> int:
    value = _scalar(z, key)
    if not (math.isfinite(value) and value.is_integer() and abs(value) < 2**31):
        raise FormatError(f"{key} must be an integer, not {value!r}")
    return int(value)


def kriging_weights(cov: FloatArray, t: FloatArray, s: FloatArray, trend: int) -> FloatArray:
    """Weights (len(s), len(t)) that predict times ``s`` from labels at ``t``.

    ``cov`` is a (generalised) covariance of the stacked times ``[t, s]`` (here −γ). The
    weights reproduce a constant (``trend`` 0) or a straight line (``trend`` 1) exactly.
    """
    n = len(t)
    basis_t = [np.ones(n)] + ([t - t.mean()] if trend >= 1 else [])
    basis_s = [np.ones(len(s))] + ([s - t.mean()] if trend >= 1 else [])
    f_t = np.stack(basis_t, axis=1)
    m = f_t.shape[1]
    a = np.zeros((n + m, n + m))
    a[:n, :n] = cov[:n, :n]
    a[:n, n:] = f_t
    a[n:, :n] = f_t.T
    rhs = np.concatenate([cov[:n, n:], np.stack(basis_s, axis=0)], axis=0)
    sol = np.linalg.lstsq(a, rhs, rcond=None)[0]
    return np.asarray(sol[:n].T, dtype=np.float64)


@dataclass(frozen=True)
class HpimParts:
    """Per-frame pieces of an HPIM fill over one run (span rows, K columns)."""

    kriged: FloatArray
    variance: FloatArray
    pchip: FloatArray | None
    gap_bin: IntArray  # (span,) index into ``pchip_mix``
    still: NDArray[np.bool_]  # joint's two labels within ``hold_below`` pixels
    nearest: FloatArray  # the nearer label's value


class HpimFiller:
    """HPIM for the fill engine (``base.RunFiller``); columns come in (x, y) pairs."""

    source = Source.HPIM

    def __init__(self, model: HpimModel, fps: float | None = None) -> None:
        self.model = model
        # the pchip share and the variance's motion scale also look at a gap's neighbours
        self.reach = max(2, int(model.reach))
        # frames of this video -> lags of the model's table
        self._lag_scale = model.fps / fps if fps and fps > 0 else 1.0
        g = np.asarray(model.variogram, dtype=np.float64)
        self._gamma_table = g / g[1] if len(g) > 1 and g[1] > 0 else g
        # long gaps (``is_long``) take a valid variogram fit to the table
        # (``variogram_model.py``): the table is not one, and there it shows
        self._table_end = float(len(self._gamma_table) - 1)
        self._valid = ValidVariogram(self._gamma_table)
        self._long_lags = np.zeros(0)  # the valid variogram at 0, 1, 2, ... video frames
        # gaps longer than the table's range fill along their own labels' line
        self._line_gap = line_gap(self._gamma_table)
        self._cache: dict[tuple[tuple[int, ...], int], tuple[FloatArray, FloatArray]] = {}
        self._cov_cache: dict[tuple[str, tuple[int, ...], int], FloatArray] = {}
        self._long_cache: OrderedDict[tuple[tuple[int, ...], int], tuple[FloatArray, FloatArray]]
        self._long_cache = OrderedDict()

    def gamma(self, lag: FloatArray, long: bool = False) -> FloatArray:
        """γ at lags in this video's frames (normalised to γ(1 frame of the model) = 1);
        ``long``: the valid variogram that replaces the table on long gaps (:meth:`is_long`)."""
        if long:
            return self._gamma_long(lag)
        x = np.abs(lag) * self._lag_scale
        table = self._gamma_table
        v = np.interp(x, np.arange(len(table)), table)  # constant beyond the table
        return np.asarray(np.where(x > 0, v + self.model.nugget, 0.0), dtype=np.float64)

    def _gamma_long(self, lag: FloatArray) -> FloatArray:
        """The valid variogram (plus the nugget) at lags in this video's frames. Lags are whole
        frames: read from a table of whole lags, grown on demand (a gap's covariance holds
        gap² lags but only gap distinct ones)."""
        x = np.abs(np.asarray(lag, dtype=np.float64))
        whole = np.rint(x)
        if x.size == 0 or not np.array_equal(whole, x):
            v = self._valid(x * self._lag_scale)
            return np.asarray(np.where(x > 0, v + self.model.nugget, 0.0), dtype=np.float64)
        top = int(whole.max())
        if top >= len(self._long_lags):
            lags = np.arange(max(top + 1, 2 * len(self._long_lags)), dtype=np.float64)
            v = self._valid(lags * self._lag_scale) + self.model.nugget
            v[0] = 0.0
            self._long_lags = v
        return np.asarray(self._long_lags[whole.astype(np.int64)], dtype=np.float64)

    def is_long(self, rel: tuple[int, ...], gap: int) -> bool:
        """Whether a gap takes the valid variogram: longer than ``VALID_TABLE_GAP`` frames of
        the model, or with labels (offsets ``rel``, the gap's own at 0 and ``gap``) further
        apart than the table reaches."""
        return (
            gap * self._lag_scale > VALID_TABLE_GAP
            or (max(rel) - min(rel)) * self._lag_scale > self._table_end
        )

    def takes_line(self, gap: int) -> bool:
        """Whether a gap of ``gap`` video frames is longer than the table's range
        (:func:`line_gap`): it is filled from its own two labels with a linear drift."""
        return gap * self._lag_scale > self._line_gap

    def weights(self, rel: tuple[int, ...], gap: int) -> tuple[FloatArray, FloatArray]:
        """Weights (gap − 1, len(rel)) and variance for the frames strictly inside a gap of
        ``gap`` frames starting at 0, from labels at offsets ``rel``."""
        key = (rel, gap)
        hit = self._cache.get(key) if gap <= SHORT_GAP else self._long_cache.get(key)
        if hit is None:
            t = np.asarray(rel, dtype=np.float64)
            s = np.arange(1, gap, dtype=np.float64)
            allt = np.concatenate([t, s])
            # only the labels' rows are used: (labels, labels + gap − 1), never gap x gap
            g = self.gamma(t[:, None] - allt[None, :], self.is_long(rel, gap))
            # the system uses −γ as a (generalised) covariance
            trend = 1 if self.takes_line(gap) else self.model.trend
            w = kriging_weights(-g, t, s, trend)
            hit = (w, np.maximum(_variance(g, w, t, s), 0.0))
            if len(self._cache) > 2048:  # irregular labels on a long video: stay bounded
                self._cache.clear()
            if gap <= SHORT_GAP:
                self._cache[key] = hit
            else:  # the few long gaps an edit touches again and again (a drag's steps)
                self._long_cache[key] = hit
                while len(self._long_cache) > LONG_CACHE:
                    self._long_cache.popitem(last=False)
        elif gap > SHORT_GAP:
            self._long_cache.move_to_end(key)
        return hit

    accepts_observations = True

    def fill_run(
        self,
        frames: IntArray,
        values: FloatArray,
        observed: tuple[FloatArray, FloatArray] | None = None,
    ) -> tuple[FloatArray, FloatArray | None]:
        """The live path: the combination of ``components`` computed gap group by gap group,
        without full-size temporaries (a test checks the two agree).

        ``observed``: (span, K) noisy positions and their variance in px² (NaN where none),
        folded in gap by gap by :meth:`_condition` (columns come in (x, y) pairs sharing one
        variance). Without observations the result is plain HPIM, bit for bit."""
        out, var = self._fill_plain(frames, values)
        if observed is not None:
            self._condition(frames, out, var, observed[0], observed[1])
        return out, var

    def _fill_plain(self, frames: IntArray, values: FloatArray) -> tuple[FloatArray, FloatArray]:
        a0 = int(frames[0])
        span = int(frames[-1]) - a0 + 1
        out = np.empty((span, values.shape[1]))
        var = np.zeros_like(out)
        out[frames - a0] = values
        scale = self._motion_scale(frames, values)
        loo = self._loo_amplitude(frames, values) * self.model.unc_loo
        mixes = np.asarray(self.model.pchip_mix, dtype=np.float64)
        pchip: FloatArray | None = None
        if self.model.unc_disagree > 0 and len(frames) >= 3:
            pchip = PchipFiller().fill_run(frames, values)[0]
        for (rel, gap), idx, ctx, rows in self._gap_groups(frames):
            w, v = self.weights(rel, gap)
            fill = np.einsum("sn,gnk->gsk", w, values[ctx])
            mix = float(mixes[int(np.searchsorted(GAP_BINS, gap * self._lag_scale, "right"))])
            if mix > 0:
                if pchip is None:
                    pchip = PchipFiller().fill_run(frames, values)[0]
                fill = (1.0 - mix) * fill + mix * pchip[rows]
            va, vb = values[idx], values[idx + 1]
            d = (vb - va).reshape(len(idx), -1, 2)
            still = np.repeat(np.hypot(d[..., 0], d[..., 1]) <= self.model.hold_below, 2, axis=1)
            if still.any():
                first_half = (np.arange(1, gap) <= gap / 2)[None, :, None]
                nearest = np.where(first_half, va[:, None, :], vb[:, None, :])
                fill = np.where(still[:, None, :], nearest, fill)
            out[rows] = fill
            u = np.arange(1, gap, dtype=np.float64)
            bridge = (4.0 * u * (gap - u) / (gap * gap))[None, :, None]
            var[rows] = v[None, :, None] * scale[idx][:, None, :] + bridge * loo[idx][:, None, :]
        if pchip is not None:
            var += self.model.unc_disagree * (out - pchip) ** 2  # zero on the labels
        var *= self.model.unc_scale
        return out, var

    def _gap_covariance(self, rel: tuple[int, ...], gap: int) -> FloatArray:
        """(gap − 1, gap − 1) covariance, in γ units, of HPIM's error on the frames inside a gap
        given its labels: Cov(x_s − Σ w_s,i x_i, x_s' − Σ w_s',j x_j) written with the variogram
        (valid because each row of weights sums to one)."""
        key = ("cov", rel, gap)
        hit = self._cov_cache.get(key)
        if hit is None:
            w, _ = self.weights(rel, gap)
            inside = np.arange(gap - 1)
            hit = _GapCovariance(self, rel, gap, w).at(inside, inside)
            hit = 0.5 * (hit + hit.T)
            if len(self._cov_cache) > 256:
                self._cov_cache.clear()
            if gap <= SHORT_GAP:
                self._cov_cache[key] = hit
        return hit

    def _condition(
        self,
        frames: IntArray,
        out: FloatArray,
        var: FloatArray,
        obs: FloatArray,
        obs_var: FloatArray,
    ) -> None:
        """Condition the HPIM fill (prior mean ``out``, its error covariance the shape of
        :meth:`_gap_covariance` scaled to HPIM's calibrated variance) on noisy observations inside
        each gap: the Gaussian update ``out + P (P + R)⁻¹ (obs − out)``, in place. ``var`` is
        scaled by the share of the prior variance the observations leave (so it stays in HPIM's
        calibrated units). Gaps, like the prior, stay independent: an edit's reach is unchanged."""
        with one_blas_thread():
            self._condition_groups(frames, out, var, obs, obs_var)

    def _condition_groups(
        self,
        frames: IntArray,
        out: FloatArray,
        var: FloatArray,
        obs: FloatArray,
        obs_var: FloatArray,
    ) -> None:
        for (rel, gap), _idx, _ctx, rows in self._gap_groups(frames):
            # x and y share one variance per joint; an observation needs both coordinates
            v = 0.5 * (obs_var[rows, 0::2] + obs_var[rows, 1::2])  # (G, gap − 1, J)
            have = np.isfinite(v) & np.isfinite(obs[rows, 0::2] + obs[rows, 1::2])
            pairs = np.nonzero(have.any(axis=1))  # (gap, joint) pairs with an observation
            if len(pairs[0]) == 0:
                continue
            if gap - 1 > MAX_DENSE_GAP:
                for k in range(0, len(pairs[0]), 64):
                    gi, ji = pairs[0][k : k + 64], pairs[1][k : k + 64]
                    self._condition_long(rel, gap, rows, gi, ji, out, var, obs, v, have)
                continue
            p_gamma = self._gap_covariance(rel, gap)
            # a bounded batch at a time: a long video's thousands of gaps would otherwise hold
            # several (M, n, n) temporaries of hundreds of MB at once
            step = max(1, CONDITION_BATCH // max(1, (gap - 1) ** 2))
            for k in range(0, len(pairs[0]), step):
                gi, ji = pairs[0][k : k + step], pairs[1][k : k + step]
                self._condition_pairs(rows, gi, ji, p_gamma, out, var, obs, v, have)

    def _condition_long(
        self,
        rel: tuple[int, ...],
        gap: int,
        rows: IntArray,
        gi: IntArray,
        ji: IntArray,
        out: FloatArray,
        var: FloatArray,
        obs: FloatArray,
        v: FloatArray,
        have: NDArray[np.bool_],
    ) -> None:
        """:meth:`_condition_pairs` for a gap longer than ``MAX_DENSE_GAP``: by blocks of
        ``LONG_BLOCK`` frames, each updated from the observations within ``LONG_BLOCK`` frames
        around it. An approximation (the whole solve would hold a gap x gap matrix: 80 GB for
        a 100,000-frame gap), bounded in memory and linear in the gap's length.

        Each block is solved on its observed frames alone (``S``), exactly:
        ``P_bS (P_SS + R_S)⁻¹ innov_S`` and ``diag(P_bb) − diag(P_bS (P_SS + R_S)⁻¹ P_Sb)``,
        with only those covariance entries computed. A window observed on every frame (the
        video's walks) costs what a solve of the whole window costs; sparse observations (an
        estimator's predicted frames, every tenth frame or so) cost a small fraction of it.
        Blocks with few observed frames are solved in batches (:func:`_block_updates`): a
        drag beside an estimator's predictions touches about a hundred such blocks, whose
        solves one at a time cost more in Python than in arithmetic. Past ``BATCH_ROWS``
        observed frames the arithmetic dominates and a Cholesky factor per block is cheaper
        than the batch's explicit inverses."""
        n = gap - 1
        w, _ = self.weights(rel, gap)
        cov = _GapCovariance(self, rel, gap, w)
        cols = np.stack([2 * ji, 2 * ji + 1], axis=1)
        r = rows[gi]
        where = (r[:, :, None], cols[:, None, :])
        prior, seen, h = out[where], obs[where], have[gi, :, ji]
        diagonal = cov.diagonal  # γ units
        s_px = var[where].mean(axis=(1, 2)) / max(float(diagonal.mean()), 1e-12)
        noise = v[gi, :, ji]
        fused = prior.copy()
        share = np.ones(h.shape)
        # Per (pair, block) with an observation in the block's window: a few observed frames
        # (an estimator's predictions) make small solves, batched; many (the video's walks:
        # every frame) make large ones, factorised one by one, the covariance entries shared
        # by the pairs observed on the same frames.
        small: list[tuple[int, int, int, IntArray]] = []
        large: dict[tuple[int, bytes], tuple[IntArray, list[int]]] = {}
        for b0 in range(0, n, LONG_BLOCK):
            w0, w1 = max(0, b0 - LONG_BLOCK), min(n, b0 + 2 * LONG_BLOCK)
            for m in np.flatnonzero(h[:, w0:w1].any(axis=1)).tolist():
                at = w0 + np.flatnonzero(h[m, w0:w1])
                if len(at) <= BATCH_ROWS:
                    small.append((m, b0, min(n, b0 + LONG_BLOCK), at))
                else:
                    large.setdefault((b0, at.tobytes()), (at, []))[1].append(m)

        def put(m: int, b0: int, gain: FloatArray, explained: FloatArray) -> None:
            b1 = b0 + len(gain)
            fused[m, b0:b1] = prior[m, b0:b1] + gain
            prior_var = diagonal[b0:b1] * s_px[m]
            post = prior_var - explained
            share[m, b0:b1] = np.clip(post / np.maximum(prior_var, 1e-12), 0.0, 1.0)

        # as many blocks at a time as LONG_BATCH matrix elements hold, similar sizes together
        small.sort(key=lambda task: len(task[3]))
        first = 0
        while first < len(small):
            last = first + 1
            while last < len(small):
                size = len(small[last][3])
                if (last + 1 - first) * size * (size + LONG_BLOCK) > LONG_BATCH:
                    break
                last += 1
            batch, first = small[first:last], last
            gains, explained = _block_updates(cov, batch, s_px, noise, seen, prior)
            for (m, b0, _b1, _at), g, e in zip(batch, gains, explained, strict=True):
                put(m, b0, g, e)
        for (b0, _key), (at, members) in large.items():
            p_bs = cov.at(np.arange(b0, min(n, b0 + LONG_BLOCK)), at)  # (block, S)
            p_ss = cov.at(at, at)  # (S, S)
            for m in members:
                a = p_ss * s_px[m]
                a[np.diag_indices_from(a)] += noise[m, at]
                put(m, b0, *_one_block(a, p_bs * s_px[m], seen[m, at] - prior[m, at]))
        out[where] = fused
        var[where] *= share[..., None]

    @staticmethod
    def _condition_pairs(
        rows: IntArray,
        gi: IntArray,
        ji: IntArray,
        p_gamma: FloatArray,
        out: FloatArray,
        var: FloatArray,
        obs: FloatArray,
        v: FloatArray,
        have: NDArray[np.bool_],
    ) -> None:
        """The update of the (gap ``gi``, joint ``ji``) pairs of one label pattern, in place."""
        cols = np.stack([2 * ji, 2 * ji + 1], axis=1)  # (M, 2)
        r = rows[gi]  # (M, gap − 1)
        prior = out[r[:, :, None], cols[:, None, :]]  # (M, gap − 1, 2)
        seen = obs[r[:, :, None], cols[:, None, :]]  # (M, gap − 1, 2)
        h = have[gi, :, ji]  # (M, gap − 1)
        # px² per γ unit: HPIM's own calibrated variance over this gap (motion, bend and
        # disagreement terms included) against the bare kriging variance
        s_px = var[r[:, :, None], cols[:, None, :]].mean(axis=(1, 2)) / max(
            float(np.mean(np.diag(p_gamma))), 1e-12
        )
        p = p_gamma[None] * s_px[:, None, None]  # (M, n, n) prior error covariance, px²
        noise = np.where(h, v[gi, :, ji], 0.0)
        big = 1e6 * (1.0 + p.max(axis=(1, 2)))[:, None]
        innov = np.where(h[..., None], seen - prior, 0.0)
        # ``condition.py``: a third of a plain solve's work on long gaps (a drag stays live)
        update, post = condition(p, np.where(h, noise, big), innov)
        out[r[:, :, None], cols[:, None, :]] = prior + update
        share = np.clip(post / np.maximum(np.einsum("mnn->mn", p), 1e-12), 0.0, 1.0)
        var[r[:, :, None], cols[:, None, :]] *= share[..., None]

    def _gap_groups(
        self, frames: IntArray
    ) -> list[tuple[tuple[tuple[int, ...], int], IntArray, IntArray, IntArray]]:
        """Gaps of two frames or more, grouped by label pattern (which fixes their weights):
        (key, gap indices, context label indices (gaps, n), run rows inside (gaps, gap − 1)).
        A gap past the table's range (:meth:`takes_line`) has only its own two labels."""
        groups: dict[tuple[tuple[int, ...], int], list[int]] = {}
        reach = max(1, int(self.model.reach))  # kriging context: the model's own reach
        n = len(frames)
        rel_all = frames - frames[0]
        for i in np.flatnonzero(np.diff(frames) >= 2):
            r = 1 if self.takes_line(int(rel_all[i + 1] - rel_all[i])) else reach
            lo, hi = max(0, i - r + 1), min(n, i + r + 1)
            a = rel_all[i]
            key = (tuple((rel_all[lo:hi] - a).tolist()), int(rel_all[i + 1] - a))
            groups.setdefault(key, []).append(int(i))
        out = []
        for (rel, gap), members in groups.items():
            idx = np.asarray(members, dtype=np.int64)
            first = idx - sum(1 for x in rel if x < 0)  # each gap's first context label
            ctx = first[:, None] + np.arange(len(rel))[None, :]
            rows = rel_all[idx][:, None] + np.arange(1, gap)[None, :]
            out.append(((rel, gap), idx, ctx, rows))
        return out

    def components(self, frames: IntArray, values: FloatArray) -> HpimParts:
        """The pieces HPIM combines over one run (also used to tune the combination)."""
        a0 = int(frames[0])
        span = int(frames[-1]) - a0 + 1
        k = values.shape[1]
        kriged = np.empty((span, k))
        var = np.zeros((span, k))
        kriged[frames - a0] = values
        scale = self._motion_scale(frames, values)
        # gaps with the same label pattern share their weights: solve once, apply in bulk
        for (rel, gap), idx, ctx, rows in self._gap_groups(frames):
            w, v = self.weights(rel, gap)
            kriged[rows] = np.einsum("sn,gnk->gsk", w, values[ctx])
            var[rows] = v[None, :, None] * scale[idx][:, None, :]
        t = np.arange(a0, a0 + span)
        gi = np.clip(np.searchsorted(frames, t, side="right") - 1, 0, len(frames) - 2)
        gap_len = (frames[gi + 1] - frames[gi]).astype(np.float64) * self._lag_scale
        gap_bin = np.asarray(np.searchsorted(GAP_BINS, gap_len, side="right"), dtype=np.int64)
        pchip = None
        if any(m > 0 for m in self.model.pchip_mix):
            pchip = PchipFiller().fill_run(frames, values)[0]
        # a joint whose two labels (almost) coincide keeps the nearer one: no drift
        va, vb = values[gi], values[gi + 1]
        d = (vb - va).reshape(span, -1, 2)
        still = np.repeat(np.hypot(d[..., 0], d[..., 1]) <= self.model.hold_below, 2, axis=1)
        nearer_a = (t - frames[gi]) <= (frames[gi + 1] - t)
        nearest = np.where(nearer_a[:, None], va, vb)
        return HpimParts(kriged, var, pchip, gap_bin, still, nearest)

    @staticmethod
    def _loo_amplitude(frames: IntArray, values: FloatArray) -> FloatArray:
        """(gaps, K) mean of the squared leave-one-out residuals at each gap's two labels:
        how far a label lies from the line through its neighbours (the motion's bend here).
        An end label copies its neighbour's residual."""
        n = len(frames)
        if n < 3:
            return np.zeros((n - 1, values.shape[1]))
        t = frames.astype(np.float64)
        w = ((t[1:-1] - t[:-2]) / (t[2:] - t[:-2]))[:, None]
        e = values[1:-1] - ((1.0 - w) * values[:-2] + w * values[2:])
        e2 = np.concatenate([e[:1], e, e[-1:]], axis=0) ** 2
        return np.asarray(0.5 * (e2[:-1] + e2[1:]), dtype=np.float64)

    def _motion_scale(self, frames: IntArray, values: FloatArray) -> FloatArray:
        """(gaps, K) pixels² per unit of γ, from the labels on each side of every gap, so the
        variance follows how fast this joint moves here."""
        dt = np.diff(frames).astype(np.float64)
        # a long gap: the valid variogram, as its weights use (the table's flat tail would
        # call a long gap's motion as fast as a 400-lag one)
        beyond = dt * self._lag_scale > VALID_TABLE_GAP
        g = self.gamma(dt)
        if beyond.any():
            g = np.where(beyond, self.gamma(dt, long=True), g)
        inc = 0.5 * np.diff(values, axis=0) ** 2 / np.maximum(g, 1e-12)[:, None]
        # average each gap's estimate with its neighbours' (still local: within reach)
        padded = np.concatenate([inc[:1], inc, inc[-1:]], axis=0)
        return np.asarray((padded[:-2] + padded[1:-1] + padded[2:]) / 3.0, dtype=np.float64)


def _variance(g: FloatArray, w: FloatArray, t: FloatArray, s: FloatArray) -> FloatArray:
    """Prediction variance in γ units: Var(x_s − Σ w_i x_i) written with the variogram
    (valid because the weights sum to one)."""
    n = len(t)
    g_ts = g[:n, n:]  # γ(t_i − s)
    g_tt = g[:n, :n]
    return np.asarray(
        2.0 * np.einsum("sn,ns->s", w, g_ts) - np.einsum("sn,nm,sm->s", w, g_tt, w),
        dtype=np.float64,
    )


def make_hpim_filler(*, fps: float | None = None, model: Any = None) -> HpimFiller:
    """HPIM with ``model`` (an ``HpimModel``, a path, or None for the shipped one)."""
    if isinstance(model, HpimModel):
        return HpimFiller(model, fps)
    path = Path(model) if model is not None else model_path(DEFAULT_MODEL)
    return HpimFiller(HpimModel.load(path), fps)


class _GapCovariance:
    """Entries of one gap's kriging error covariance (:meth:`HpimFiller._gap_covariance`, γ units)
    without the whole (gap x gap) matrix: with ``W`` the gap's weights, ``G`` = γ(frame − label)
    and ``γ_TT`` among the labels, entry (a, b) is
    ``−γ(a − b) + W_a·G_b + G_a·W_b − W_a γ_TT W_bᵀ``. The per-frame rows (gap x labels) and
    γ at every whole lag up to the gap's length are computed once, so an entry costs a table
    lookup and two short dot products."""

    def __init__(self, hpim: HpimFiller, rel: tuple[int, ...], gap: int, w: FloatArray) -> None:
        t = np.asarray(rel, dtype=np.float64)
        long = hpim.is_long(rel, gap)
        s = np.arange(1, gap, dtype=np.float64)
        g = hpim.gamma(s[:, None] - t[None, :], long)  # (gap − 1, labels)
        self._w = w
        self._g = g
        self._g_less = g - w @ hpim.gamma(t[:, None] - t[None, :], long)
        self._lags = hpim.gamma(np.arange(gap, dtype=np.float64), long)  # γ(0) = 0
        self.diagonal: FloatArray = np.einsum("nr,nr->n", w, g + self._g_less)

    def at(self, a: IntArray, b: IntArray) -> FloatArray:
        """Entries (``a``, ``b``): indices of frames inside the gap, 0 for its first."""
        part = self._w[a] @ self._g[b].T + self._g_less[a] @ self._w[b].T
        part -= self._lags[np.abs(a[:, None] - b[None, :])]
        return np.asarray(part, dtype=np.float64)

    def at_many(self, a: IntArray, b: IntArray) -> FloatArray:
        """:meth:`at` for a batch: ``a`` (k, p) and ``b`` (k, q) give (k, p, q)."""
        part = self._w[a] @ self._g[b].transpose(0, 2, 1)
        part += self._g_less[a] @ self._w[b].transpose(0, 2, 1)
        part -= self._lags[np.abs(a[:, :, None] - b[:, None, :])]
        return np.asarray(part, dtype=np.float64)


def _block_updates(
    cov: _GapCovariance,
    tasks: list[tuple[int, int, int, IntArray]],
    s_px: FloatArray,
    noise: FloatArray,
    seen: FloatArray,
    prior: FloatArray,
) -> tuple[list[FloatArray], list[FloatArray]]:
    """Each task (pair m, block b0 .. b1, its window's observed frames S) of a long gap:
    the update ``P_bS (P_SS + R_S)⁻¹ innov_S`` (b1 − b0, 2) and ``diag(P_bS (P_SS + R_S)⁻¹
    P_Sb)`` (b1 − b0,), px² (``s_px[m]`` px² per γ unit), all tasks at once: padded to the
    largest S with rows that change nothing (identity in the matrix, zero on the right), then
    batched LAPACK and matrix products (``condition.block_gains``). A batch with a singular
    matrix is solved task by task, by the plain solve where a factor fails."""
    k, width = len(tasks), max(len(task[3]) for task in tasks)
    at = np.zeros((k, width), dtype=np.int64)
    used = np.zeros((k, width), dtype=bool)
    block = np.zeros((k, LONG_BLOCK), dtype=np.int64)
    for i, (_m, b0, b1, frames) in enumerate(tasks):
        at[i, : len(frames)] = frames
        used[i, : len(frames)] = True
        block[i, : b1 - b0] = np.arange(b0, b1)
        block[i, b1 - b0 :] = b0  # a short last block: rows computed, then dropped
    ms = np.asarray([task[0] for task in tasks], dtype=np.int64)
    scale = s_px[ms][:, None, None]
    pair = used[:, :, None] & used[:, None, :]
    a = np.where(pair, cov.at_many(at, at) * scale, 0.0)
    diag = np.arange(width)
    a[:, diag, diag] += np.where(used, noise[ms[:, None], at], 1.0)
    k_bs = np.where(used[:, None, :], cov.at_many(block, at) * scale, 0.0)
    # padded rows: zero (the frame they point at may have no observation: NaN, which a zero
    # column of P_bS would not cancel)
    innov = np.where(used[..., None], seen[ms[:, None], at] - prior[ms[:, None], at], 0.0)
    solved = block_gains(a, k_bs, innov)
    if solved is None:
        gains, explained = [], []
        for i, (_m, _b0, _b1, frames) in enumerate(tasks):
            s = len(frames)
            g, e = _one_block(a[i, :s, :s], k_bs[i, :, :s], innov[i, :s])
            gains.append(g)
            explained.append(e)
    else:
        gains, explained = list(solved[0]), list(solved[1])
    sizes = [b1 - b0 for _m, b0, b1, _f in tasks]
    return [g[:n] for g, n in zip(gains, sizes, strict=True)], [
        e[:n] for e, n in zip(explained, sizes, strict=True)
    ]


def _one_block(a: FloatArray, k_bs: FloatArray, innov: FloatArray) -> tuple[FloatArray, FloatArray]:
    """One block's update and explained variance: a Cholesky factor and one triangular solve
    (``condition.whiten``), the plain solve where ``a`` is not positive definite."""
    rhs = np.concatenate([innov, k_bs.T], axis=1)
    y = whiten(a, rhs)  # (S, 2 + block): L⁻¹ rhs, a = L Lᵀ
    if y is not None:
        return y[:, 2:].T @ y[:, :2], np.einsum("sb,sb->b", y[:, 2:], y[:, 2:])
    x = np.linalg.solve(a, rhs)
    return k_bs @ x[:, :2], np.einsum("bs,sb->b", k_bs, x[:, 2:])
