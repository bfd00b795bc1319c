"""Learning our own DYAN dictionary: poles (radius, angle) trained through the fill itself.

The dictionary's job here is ``eq17``: fill the frames of a gap from a few labels around it
(``dyan.DyanFiller``). So the training sample is exactly what the filler sees: a window of
``rows`` frames centred on a gap, up to ``reach`` labels on each side inside it, their mean
removed, and the loss is the error on the gap's frames (mean Euclidean distance per joint,
in units of body size, like the benchmark). Gradients flow through the dictionary's
construction from its poles and through the eq. 17 solve; a ridge (label jitter) is learned
with them. Label sets are random: uniform key frames at a random budget, or a random subset.

``--objective sparse-coding`` trains instead with DYAN's own loss (eq. 2:
½‖y − D c‖² + λ‖c‖₁ over whole windows, c from unrolled FISTA), for comparison only.

Only the contract's training part is read (Penn Action's first 1000 files; JHMDB split 1's
train list). Poses are divided by the sequence's median body size, so one dictionary serves
any image size, and the dictionary acts per coordinate, so it serves any skeleton. Every 5th
Penn training file is held out of the gradient steps to choose the epoch and report figures.

``import torch`` happens inside the functions that need it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.datasets import load_jhmdb_pickle, load_penn_action
from annotator.core.framespec import uniform_count, uniform_frames
from annotator.core.metrics import body_size
from annotator.core.progress import Report
from annotator.core.safeio import atomic_savez
from annotator.core.split import jhmdb_split, penn_action_split
from annotator.dynamics.base import FloatArray, IntArray, LinearFiller
from annotator.dynamics.dyan import DyanFiller, Poles, dyan_dictionary
from annotator.errors import FormatError

log = logging.getLogger(__name__)

EPS = 0.003  # body sizes: floor of linear's error when weighting a gap (label jitter)
MAX_CTX = 6  # labels in a window: ``reach`` (3) on each side of the gap
TUNE_BUDGETS = (0.05, 0.1, 0.2, 0.3)


@dataclass
class Motion:
    """One training sequence: (F, joints, 2) positions in units of its median body size."""

    xy: FloatArray
    source: str


@dataclass
class DyanTraining:
    """Settings of one training run."""

    poles: int = 40
    rows: int = 96  # window length (frames at the training rate); the published one is 40
    reach: int = 3
    epochs: int = 15
    steps_per_epoch: int = 100
    batch: int = 256
    lr: float = 0.02
    objective: str = "fill"  # or "sparse-coding" (DYAN eq. 2, for comparison)
    mirrored: bool = False  # True: the published layout's (−r)^t columns too
    sparsity: float = 0.1  # λ of eq. 2
    seed: int = 0
    device: str = "cpu"
    history: list[dict[str, float]] = field(default_factory=list)


@dataclass
class DyanResult:
    """A trained dictionary and how it was made."""

    poles: Poles
    ridge: float
    settings: DyanTraining
    tune_rel: dict[str, float]  # eq17 vs linear on the held-out training files, per budget
    seconds: float
    train_files: int
    tune_files: int
    epochs_run: int

    def save(self, path: str | Path, **meta: Any) -> None:
        arrays = {
            "r": self.poles.r,
            "theta": self.poles.theta,
            "fps": self.poles.fps,
            "ridge": self.ridge,
            "rows": self.settings.rows,
            "mirrored": self.poles.mirrored,
            **{f"meta_{k}": v for k, v in meta.items()},
        }
        atomic_savez(path, arrays, False, FormatError)


def _normalise(xy: FloatArray, body: FloatArray) -> FloatArray:
    scale = float(np.nanmedian(body))
    if not np.isfinite(scale) or scale <= 0:
        scale = 1.0
    return np.asarray(xy / scale, dtype=np.float64)


def load_motions(
    penn_labels: Path | None, jhmdb_dir: Path | None, stride: int = 1
) -> tuple[list[Motion], list[Motion]]:
    """(gradient-step motions, held-out tuning motions) from the training parts only
    (``stride`` > 1: every stride-th of them, for smoke runs)."""
    train: list[Motion] = []
    tune: list[Motion] = []
    if penn_labels is not None:
        files, _ = penn_action_split(penn_labels)
        for i, p in enumerate(files):
            if (i // 5) % stride:
                continue
            s = load_penn_action(p)
            m = Motion(_normalise(s.xy, body_size(s.xy, s.visible, s.bbox)), f"penn:{p.name}")
            (tune if i % 5 == 4 else train).append(m)
    if jhmdb_dir is not None:
        train_pkl, _ = jhmdb_split(jhmdb_dir)
        for _, xy in load_jhmdb_pickle(train_pkl)[::stride]:
            train.append(Motion(_normalise(xy, body_size(xy)), "jhmdb"))
    return train, tune


def _label_set(rng: np.random.Generator, n: int) -> IntArray:
    """Random labelled frames of a sequence of ``n``: uniform at a random budget (half the
    time) or a random subset with first and last frame (the other half)."""
    frac = float(rng.uniform(0.04, 0.35))
    count = uniform_count(n, frac)
    if rng.random() < 0.5:
        return uniform_frames(n, count)
    inner = rng.choice(np.arange(1, n - 1), size=max(0, min(n - 2, count - 2)), replace=False)
    return np.unique(np.concatenate([[0, n - 1], inner])).astype(np.int64)


@dataclass
class _Pool:
    ctx: IntArray  # (N, MAX_CTX) rows of the context labels in the window, -1 = none
    ctx_val: FloatArray  # (N, MAX_CTX, C)
    target: FloatArray  # (N, rows, C) ground truth inside the gap (0 elsewhere)
    mask: FloatArray  # (N, rows) on the gap's frames: 1 / (gap frames x linear's error there)


def gap_samples(motions: Sequence[Motion], rows: int, reach: int, draws: int, seed: int) -> _Pool:
    """Every gap of ``draws`` random label sets per motion, as the filler's windows.

    Gaps longer than the window (rarer than 1 in 100 at 30% budgets and below) are skipped.
    Joints and axes are separate columns; windows are stacked per joint pair so one sample
    has C = 2 columns and any skeleton gives samples of the same shape.
    """
    rng = np.random.default_rng(seed)
    ctx_l, val_l, tgt_l, mask_l = [], [], [], []
    for m in motions:
        f = m.xy.shape[0]
        flat = m.xy.reshape(f, -1, 2)
        if f < 3 or not np.isfinite(flat).all():
            continue
        for _ in range(draws):
            frames = _label_set(rng, f)
            for i in np.flatnonzero(np.diff(frames) >= 2):
                a, b = int(frames[i]), int(frames[i + 1])
                if b - a + 1 > rows:
                    continue
                start = a - (rows - (b - a + 1)) // 2
                ctx = frames[max(0, i - reach + 1) : i + reach + 1]
                ctx = ctx[(ctx >= start) & (ctx < start + rows)]
                idx = np.full(MAX_CTX, -1, dtype=np.int64)
                idx[: len(ctx)] = ctx - start
                val = np.zeros((MAX_CTX, flat.shape[1], 2))
                val[: len(ctx)] = flat[ctx]
                tgt = np.zeros((rows, flat.shape[1], 2))
                tgt[a + 1 - start : b - start] = flat[a + 1 : b]
                w = (np.arange(a + 1, b) - a) / (b - a)
                lin = flat[a][None] + w[:, None, None] * (flat[b] - flat[a])[None]
                lin_err = np.sqrt(((lin - flat[a + 1 : b]) ** 2).sum(axis=2)).mean(axis=0)
                # one sample per joint: (MAX_CTX, 2) and (rows, 2); each gap weighs by its
                # error relative to linear's, so short gaps (high budgets) count as much as
                # long ones, as in the benchmark's "vs linear"
                for j in range(flat.shape[1]):
                    mask = np.zeros(rows)
                    mask[a + 1 - start : b - start] = 1.0 / ((b - a - 1) * (lin_err[j] + EPS))
                    ctx_l.append(idx)
                    val_l.append(val[:, j])
                    tgt_l.append(tgt[:, j])
                    mask_l.append(mask)
    return _Pool(
        np.asarray(ctx_l, dtype=np.int64),
        np.asarray(val_l, dtype=np.float32),
        np.asarray(tgt_l, dtype=np.float32),
        np.asarray(mask_l, dtype=np.float32),
    )


def window_samples(motions: Sequence[Motion], rows: int, step: int) -> np.ndarray:
    """(N, rows, 2) complete windows (mean removed) per joint, for the eq. 2 objective."""
    out: list[FloatArray] = []
    for m in motions:
        f = m.xy.shape[0]
        flat = m.xy.reshape(f, -1, 2)
        for s in range(0, f - rows + 1, step):
            w = flat[s : s + rows]
            w = w - w.mean(axis=0, keepdims=True)
            out.extend(w[:, j] for j in range(flat.shape[1]))
    return np.asarray(out, dtype=np.float32)


def fill_predict(torch: Any, d: Any, ridge: Any, ctx: Any, val: Any) -> Any:
    """(B, rows, C) eq. 17 fills of a batch of windows, as ``DyanFiller`` computes them:
    context labels at rows ``ctx`` (−1 = none) with values ``val``, their mean removed."""
    k = d @ d.T
    have = ctx >= 0
    safe = ctx.clamp_min(0)
    krr = k[safe[:, :, None], safe[:, None, :]]  # (B, n, n)
    hm = have[:, :, None] & have[:, None, :]
    eye = torch.eye(ctx.shape[1], dtype=k.dtype, device=k.device)
    krr = torch.where(hm, krr, eye) + ridge * eye
    cnt = have.sum(dim=1, keepdim=True).clamp_min(1).to(k.dtype)
    mu = (val * have[:, :, None]).sum(dim=1, keepdim=True) / cnt[:, :, None]
    rhs = torch.where(have[:, :, None], val - mu, torch.zeros_like(val))
    alpha = torch.linalg.solve(krr, rhs)  # padded rows solve to 0
    kxr = k[:, safe].permute(1, 0, 2) * have[:, None, :]  # (B, rows, n)
    return kxr @ alpha + mu


def _fill_loss(torch: Any, d: Any, ridge: Any, batch: tuple[Any, ...]) -> Any:
    """Mean over a batch of windows of the eq. 17 fill's error on the gap relative to
    linear interpolation's (the weights are in ``mask``)."""
    ctx, val, tgt, mask = batch
    pred = fill_predict(torch, d, ridge, ctx, val)
    dist = torch.sqrt(((pred - tgt) ** 2).sum(dim=2) + 1e-10)
    return (dist * mask).sum() / mask.shape[0]


def _sparse_loss(torch: Any, d: Any, y: Any, lam: float, iters: int = 30) -> Any:
    """DYAN eq. 2, ½‖y − D c‖² + λ‖c‖₁, with c from unrolled FISTA (per window column)."""
    b, rows, c2 = y.shape
    yy = y.permute(1, 0, 2).reshape(rows, b * c2)
    step = 1.0 / torch.linalg.matrix_norm(d, ord=2).detach() ** 2
    c = torch.zeros(d.shape[1], yy.shape[1], dtype=d.dtype, device=d.device)
    z, tk = c, 1.0
    dtd, dty = d.T @ d, d.T @ yy
    for _ in range(iters):
        g = z - step * (dtd @ z - dty)
        c_new = torch.sign(g) * torch.clamp(g.abs() - step * lam, min=0.0)
        t_new = (1.0 + math.sqrt(1.0 + 4.0 * tk * tk)) / 2.0
        z = c_new + ((tk - 1.0) / t_new) * (c_new - c)
        c, tk = c_new, t_new
    res = yy - d @ c
    return (0.5 * (res**2).sum() + lam * c.abs().sum()) / yy.shape[1]


def _tensors(torch: Any, pool: _Pool, dev: Any) -> list[Any]:
    out = [torch.as_tensor(pool.ctx).to(dev)]
    out += [torch.as_tensor(a).double().to(dev) for a in (pool.ctx_val, pool.target, pool.mask)]
    return out


def _initial_poles(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray]:
    """A ring of slow poles: radii 0.85-1.02, angles spread over 0.01-1.2 rad per frame."""
    r = rng.uniform(0.85, 1.02, n)
    theta = np.sort(rng.uniform(0.01, 1.2, n))
    return r, theta


R_MIN, R_MAX = 0.6, 1.15  # radius range of the (sigmoid) parametrisation
PUBLISHED_RIDGE_TRAINING = 1e-6  # eq. 2 learns no ridge: a tiny one keeps the solve stable


def _to_param(x: FloatArray, lo: float, hi: float) -> FloatArray:
    p = np.clip((x - lo) / (hi - lo), 1e-4, 1 - 1e-4)
    return np.asarray(np.log(p / (1 - p)), dtype=np.float64)


def eq17_relative_errors(
    motions: Sequence[Motion],
    poles: Poles,
    ridge: float,
    rows: int,
    budgets: Sequence[float] = TUNE_BUDGETS,
) -> dict[str, float]:
    """Mean error of the real numpy ``eq17`` fill relative to linear (%), per uniform budget."""
    from annotator.dynamics.fill import fill_track
    from annotator.dynamics.training import label_manual

    filler = DyanFiller("eq17", dyan_dictionary(poles, rows), poles, rows=rows, ridge=ridge)
    out = {}
    for b in budgets:
        err = {"eq17": 0.0, "linear": 0.0}
        for m in motions:
            f = m.xy.shape[0]
            frames = uniform_frames(f, uniform_count(f, b))
            man = label_manual(m.xy, frames)
            keep = np.ones(f, dtype=bool)
            keep[frames] = False
            for name, fl in (("eq17", filler), ("linear", LinearFiller())):
                pred = fill_track(man, fl).poses[:, :, :2].astype(np.float64)
                e = np.sqrt(((pred - m.xy) ** 2).sum(axis=2))[keep]
                err[name] += float(np.nansum(e))
        out[f"{b:g}"] = 100.0 * (err["eq17"] / max(err["linear"], 1e-12) - 1.0)
    return out


def train_dyan(
    train: Sequence[Motion],
    tune: Sequence[Motion],
    settings: DyanTraining,
    report: Report = log.info,
) -> DyanResult:
    """Learn poles (and the fill's ridge) by gradient descent; keep the epoch whose eq17 fill
    is best on ``tune`` (mean relative error to linear over the budgets)."""
    import torch

    from annotator.dynamics.dyan_torch import dictionary

    torch.set_num_threads(2)
    t0 = time.time()
    rng = np.random.default_rng(settings.seed)
    torch.manual_seed(settings.seed)
    dev = torch.device(settings.device)
    r0, th0 = _initial_poles(rng, settings.poles)
    rho = torch.tensor(_to_param(r0, R_MIN, R_MAX), dtype=torch.float64, device=dev)
    phi = torch.tensor(_to_param(th0, 0.0, math.pi), dtype=torch.float64, device=dev)
    log_ridge = torch.tensor(math.log(1e-2), dtype=torch.float64, device=dev)
    params = [rho.requires_grad_(), phi.requires_grad_()]
    if settings.objective == "fill":
        params.append(log_ridge.requires_grad_())
    opt = torch.optim.Adam(params, lr=settings.lr)

    def current() -> tuple[Poles, float]:
        r = R_MIN + (R_MAX - R_MIN) * torch.sigmoid(rho)
        th = math.pi * torch.sigmoid(phi)
        p = Poles(
            r.detach().cpu().numpy().astype(np.float64),
            th.detach().cpu().numpy(),
            mirrored=settings.mirrored,
        )
        return p, float(torch.exp(log_ridge).detach())

    if settings.objective == "fill":
        pool = gap_samples(train, settings.rows, settings.reach, draws=2, seed=settings.seed)
        tensors = _tensors(torch, pool, dev)
        n = len(pool.ctx)
        report(f"{n} gap windows (one joint each) from {len(train)} motions")
    else:
        windows = torch.as_tensor(window_samples(train, settings.rows, 10)).double().to(dev)
        n = len(windows)
        report(f"{n} complete windows (one joint each) from {len(train)} motions")
    # the epoch is chosen by the fill loss on gaps of the held-out files (whatever the
    # objective: the fill is the job)
    held = tuple(_tensors(torch, gap_samples(tune, settings.rows, settings.reach, 1, 1), dev))
    best: tuple[float, Poles, float, int] | None = None
    for epoch in range(0, settings.epochs + 1):  # epoch 0: the initial poles
        total = 0.0
        for _ in range(settings.steps_per_epoch if epoch > 0 else 0):
            idx = torch.as_tensor(rng.integers(0, n, settings.batch), device=dev)
            r = R_MIN + (R_MAX - R_MIN) * torch.sigmoid(rho)
            th = math.pi * torch.sigmoid(phi)
            d = dictionary(r, th, settings.rows, settings.mirrored)
            if settings.objective == "fill":
                loss = _fill_loss(torch, d, torch.exp(log_ridge), tuple(t[idx] for t in tensors))
            else:
                loss = _sparse_loss(torch, d, windows[idx], settings.sparsity)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach())
        poles, ridge = current()
        eval_ridge = ridge if settings.objective == "fill" else PUBLISHED_RIDGE_TRAINING
        with torch.no_grad():
            d = torch.as_tensor(dyan_dictionary(poles, settings.rows), device=dev)
            score = float(_fill_loss(torch, d, torch.tensor(eval_ridge, device=dev), held))
        mean_loss = total / settings.steps_per_epoch if epoch > 0 else float("nan")
        settings.history.append({"epoch": epoch, "loss": mean_loss, "held_out": score})
        report(
            f"epoch {epoch}: loss {mean_loss:.5f}, held-out fill error {score:.5f} body, "
            f"ridge {eval_ridge:.2e} ({time.time() - t0:.0f} s)"
        )
        if best is None or score < best[0]:
            best = (score, poles, eval_ridge, epoch)
    assert best is not None
    _, poles, ridge, ep = best
    report(f"kept epoch {ep}; eq17 vs linear on the held-out files:")
    rel = eq17_relative_errors(tune, poles, ridge, settings.rows)
    report(", ".join(f"{float(k) * 100:g}%: {v:+.1f}%" for k, v in rel.items()))
    return DyanResult(poles, ridge, settings, rel, time.time() - t0, len(train), len(tune), ep)
