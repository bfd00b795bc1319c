"""Learning HPIM's prior from training motions and tuning its settings (no video needed).

Only the contract's *training* part of Penn Action is used (the first 1000 files by name).
Penn Action numbers its videos by action, so a contiguous block would hold a few actions only:
every 5th training file (200, all actions) chooses the settings by the mean error of uniform
key frame fills at 5, 10, 20 and 30% (relative to linear interpolation, so no budget
dominates), the other 800 estimate the variogram; the shipped variogram is then re-estimated
on all 1000.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from annotator.core.datasets import PennSequence, load_penn_action
from annotator.core.framespec import uniform_count, uniform_frames
from annotator.core.metrics import body_size
from annotator.core.progress import Report
from annotator.core.split import penn_action_split
from annotator.dynamics.base import FloatArray, IntArray, LinearFiller, RunFiller
from annotator.dynamics.fill import fill_track
from annotator.dynamics.hpim import GAP_BINS, HpimFiller, HpimModel

log = logging.getLogger(__name__)

BUDGETS = (0.05, 0.1, 0.2, 0.3)
MAX_LAG = 400


def load_training(labels_dir: str | Path, limit: int | None = None) -> list[PennSequence]:
    """The contract's training files (never the validation ones)."""
    train, _ = penn_action_split(labels_dir)
    return [load_penn_action(p) for p in train[:limit]]


def estimate_variogram(seqs: Sequence[PennSequence], max_lag: int = MAX_LAG) -> FloatArray:
    """γ(τ) = ½ E[(x(t+τ) − x(t))²] pooled over joints, axes and sequences, in units of
    each sequence's median body size (so big and small people weigh alike)."""
    acc = np.zeros(max_lag)
    cnt = np.zeros(max_lag)
    for s in seqs:
        body = float(np.nanmedian(body_size(s.xy, s.visible, s.bbox)))
        x = (s.xy / body).reshape(s.frame_count, -1)
        for tau in range(1, min(s.frame_count, max_lag)):
            d = x[tau:] - x[:-tau]
            acc[tau] += 0.5 * float((d * d).sum())
            cnt[tau] += d.size
    gamma = acc / np.maximum(cnt, 1)
    # lags no sequence reaches keep the last estimated value (the sill)
    last = int(np.flatnonzero(cnt > 0).max())
    gamma[last + 1 :] = gamma[last]
    return gamma


@dataclass
class _Case:
    seq: PennSequence
    frames: IntArray
    body: FloatArray
    counted: np.ndarray  # (F, J) visible joints on frames that were not labelled


def _cases(seqs: Sequence[PennSequence], fraction: float) -> list[_Case]:
    out = []
    for s in seqs:
        frames = uniform_frames(s.frame_count, uniform_count(s.frame_count, fraction))
        counted = s.visible.copy()
        counted[frames] = False
        out.append(_Case(s, frames, body_size(s.xy, s.visible, s.bbox), counted))
    return out


def label_manual(xy: FloatArray, frames: IntArray) -> FloatArray:
    """Manual labels: ground truth on ``frames``, unlabelled elsewhere."""
    m = np.full((*xy.shape[:2], 3), np.nan)
    m[:, :, 2] = 0
    m[frames, :, :2] = xy[frames]
    m[frames, :, 2] = 1
    return m


def _error_sum(case: _Case, pred: FloatArray) -> tuple[float, int]:
    e = np.sqrt(((pred - case.seq.xy) ** 2).sum(axis=2)) / case.body[:, None]
    return float(e[case.counted].sum()), int(case.counted.sum())


def mean_error(cases: Sequence[_Case], filler: RunFiller) -> float:
    """Mean error (% of body size) over the unlabelled visible joints."""
    tot, n = 0.0, 0
    for c in cases:
        pred = fill_track(label_manual(c.seq.xy, c.frames), filler).poses[:, :, :2]
        e, k = _error_sum(c, pred.astype(np.float64))
        tot, n = tot + e, n + k
    return 100.0 * tot / max(n, 1)


def tune_hpim(
    variogram: FloatArray,
    seqs: Sequence[PennSequence],
    budgets: Sequence[float] = BUDGETS,
    report: Report = log.info,
) -> tuple[HpimModel, dict[str, float]]:
    """Choose reach, trend, nugget, hold_below and pchip_mix on ``seqs``; returns the model
    and its relative error to linear (per budget) on them."""
    cases = {b: _cases(seqs, b) for b in budgets}
    linear = {b: mean_error(cases[b], LinearFiller()) for b in budgets}

    def score(model: HpimModel) -> tuple[float, dict[float, float]]:
        rel = {b: mean_error(cases[b], HpimFiller(model)) / linear[b] for b in budgets}
        return float(np.mean(list(rel.values()))), rel

    best: tuple[float, HpimModel] | None = None
    for reach in (2, 3):
        for trend in (0, 1):
            for nugget in (0.0, 0.2, 0.4, 0.8, 1.6):
                m = HpimModel(variogram, 30.0, reach, trend, nugget)
                s, rel = score(m)
                report(f"reach {reach} trend {trend} nugget {nugget}: {_fmt(rel)}")
                if best is None or s < best[0]:
                    best = (s, m)
    assert best is not None
    for hold in (0.75, 1.5):
        m = replace(best[1], hold_below=hold)
        s, rel = score(m)
        report(f"hold_below {hold}: {_fmt(rel)}")
        if s < best[0]:
            best = (s, m)
    model = replace(best[1], pchip_mix=_tune_mix(best[1], cases, linear))
    _, rel = score(model)
    report(f"pchip_mix {model.pchip_mix}: {_fmt(rel)}")
    return model, {f"{b:g}": 100.0 * (r - 1.0) for b, r in rel.items()}


def _tune_mix(
    model: HpimModel, cases: dict[float, list[_Case]], linear: dict[float, float]
) -> tuple[float, ...]:
    """Per gap-length bin, the share of pchip (0, 0.25, 0.5, 0.75, 1) minimising the summed
    relative error; the bins are independent, so one pass over the data suffices."""
    shares = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    nbins = len(GAP_BINS) + 1
    err = np.zeros((nbins, len(shares)))
    probe = HpimFiller(replace(model, pchip_mix=(1.0,) * nbins))
    for b, cs in cases.items():
        n_total = 0
        sums = np.zeros((nbins, len(shares)))
        for c in cs:
            xy = c.seq.xy
            fr = c.frames
            n_total += int(c.counted.sum())
            if len(fr) < 2:
                continue
            parts = probe.components(fr, xy[fr].reshape(len(fr), -1))
            assert parts.pchip is not None
            a0, a1 = int(fr[0]), int(fr[-1]) + 1
            gt = xy[a0:a1]
            for k, share in enumerate(shares):
                p = (1 - share) * parts.kriged + share * parts.pchip
                p = np.where(parts.still, parts.nearest, p).reshape(gt.shape)
                e = np.sqrt(((p - gt) ** 2).sum(axis=2)) / c.body[a0:a1, None]
                e = np.where(c.counted[a0:a1], e, 0.0).sum(axis=1)
                sums[:, k] += np.bincount(parts.gap_bin, weights=e, minlength=nbins)
        err += 100.0 * sums / max(n_total, 1) / linear[b]
    return tuple(float(shares[int(np.argmin(row))]) for row in err)


def _fmt(rel: dict[float, float]) -> str:
    return ", ".join(f"{100 * b:g}%: {100 * (r - 1):+.1f}%" for b, r in rel.items())


def train_hpim(
    labels_dir: str | Path,
    quick: bool = False,
    report: Report = log.info,
) -> tuple[HpimModel, dict[str, float]]:
    """Estimate and tune HPIM on the training part of a Penn Action ``labels`` folder."""
    seqs = load_training(labels_dir)
    tune = seqs[4::5]
    est = [s for i, s in enumerate(seqs) if i % 5 != 4]
    if quick:  # a smoke run: a fraction of each part
        est, tune = est[:: max(1, math.ceil(len(est) / 100))], tune[::5]
    report(f"variogram from {len(est)} files, tuning on {len(tune)}")
    model, rel = tune_hpim(estimate_variogram(est), tune, report=report)
    model = replace(model, variogram=estimate_variogram(seqs if not quick else est))
    return model, rel


def uncertainty_features(
    model: HpimModel, seqs: Sequence[PennSequence], budgets: Sequence[float] = BUDGETS
) -> tuple[FloatArray, FloatArray]:
    """(N, 3) terms of the uncertainty (kriging x motion, leave-one-out bridge, hpim − pchip
    disagreement) and (N,) squared error per coordinate, over the unlabelled visible joints
    of uniform key frame fills of ``seqs``."""
    feats, errs = [], []
    for unit in ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)):
        m = replace(model, unc_loo=unit[1], unc_disagree=unit[2], unc_scale=1.0)
        filler = _KrigingOff(m) if unit[0] == 0.0 else HpimFiller(m)
        col = []
        for b in budgets:
            for c in _cases(seqs, b):
                res = fill_track(label_manual(c.seq.xy, c.frames), filler)
                assert res.variance is not None
                col.append(res.variance[c.counted].astype(np.float64))
                if unit[0] == 1.0:
                    d2 = ((res.poses[:, :, :2] - c.seq.xy) ** 2).sum(axis=2) / 2.0
                    errs.append(d2[c.counted])
        feats.append(np.concatenate(col))
    return np.stack(feats, axis=1), np.concatenate(errs)


class _KrigingOff(HpimFiller):
    """HPIM whose uncertainty leaves out the kriging term (to isolate the data terms)."""

    def _motion_scale(self, frames: IntArray, values: FloatArray) -> FloatArray:
        return np.zeros((len(frames) - 1, values.shape[1]))


def fit_uncertainty(
    model: HpimModel,
    seqs: Sequence[PennSequence],
    report: Report = log.info,
) -> tuple[HpimModel, float]:
    """Weights of the uncertainty's data terms maximising the rank correlation with the
    squared error on ``seqs``, then a scale making its mean the mean squared error."""
    from scipy.stats import spearmanr

    x, y = uncertainty_features(model, seqs)
    best: tuple[float, float, float] | None = None
    for w_loo in (0.0, 0.1, 0.3, 1.0, 3.0):
        for w_dis in (0.0, 0.3, 1.0, 3.0, 10.0):
            u = x[:, 0] + w_loo * x[:, 1] + w_dis * x[:, 2]
            rho = float(spearmanr(u, y)[0])
            report(f"uncertainty weights loo {w_loo:g}, disagreement {w_dis:g}: {rho:.3f}")
            if best is None or rho > best[0]:
                best = (rho, w_loo, w_dis)
    assert best is not None
    rho, w_loo, w_dis = best
    u = x[:, 0] + w_loo * x[:, 1] + w_dis * x[:, 2]
    scale = float(y.mean() / max(u.mean(), 1e-12))
    return replace(model, unc_loo=w_loo, unc_disagree=w_dis, unc_scale=scale), rho
