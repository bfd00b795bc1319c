"""Unsupervised K-FPN training on any videos (paper section 3.4).

Features of every video are extracted once (and cached, see ``features.py``); training then
runs on the cached features only, so the tiny network trains in minutes on a CPU. Windows of
T grid positions at the model's frame rate are drawn at random starts each epoch; the loss is
eq. 16 (``loss.py``) with α of ``σ(αx)`` raised linearly from 1 to ``alpha_max`` over all
steps. A checkpoint (``<out>.ckpt``) is written after every epoch; ``resume`` continues from
it with the same settings.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from annotator.core.progress import Report
from annotator.core.safeio import atomic_output
from annotator.errors import UsageError
from annotator.proposal import windows as win
from annotator.proposal.features import reading, video_features
from annotator.proposal.kfpn import save_model
from annotator.proposal.loss import kfpn_loss, loss_features, recovery_residual
from annotator.proposal.network import Kfpn, KfpnConfig
from annotator.proposal.select import THRESHOLD, RecoveryObjective, reduce_window

log = logging.getLogger(__name__)
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


@dataclass
class TrainSettings:
    epochs: int = 30
    batch: int = 16
    windows_per_epoch: int = 256
    lr: float = 0.01
    momentum: float = 0.9
    optimizer: str = "sgd"
    w_sparse: float = 2.5
    w_rec: float = 4.5
    rho: float = 0.1
    alpha_max: float = 20.0
    pole_warmup: int = 150  # steps fitting the poles alone before the network trains
    warmup_density: float = 0.25  # share of frames in the random key frame masks of warm-up
    mode: str = "target"  # "target": distil eq. 16's binary minimiser; "direct": descend eq. 16
    # target mode: whose minimiser is learnt, "eq16" (DYAN recovery) or "linear" (linear
    # interpolation recovery, the proposals' search; docs/kfpn.md, "Placing the frames")
    target: str = "eq16"
    relaxed: bool = False  # direct mode: relaxed Bernoulli samples of s (see Kfpn.forward)
    straight_through: bool = False  # direct mode: binary s in the loss, soft gradient
    seed: int = 0
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class Clip:
    name: str
    feats: np.ndarray  # float16 (frames, C, 7, 7)
    positions: np.ndarray  # grid positions at the model's frame rate


def find_videos(paths: Sequence[str | Path]) -> list[Path]:
    """Video files named directly or found (recursively) in the given folders, sorted."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += [f for f in sorted(p.rglob("*")) if f.suffix.lower() in VIDEO_EXTENSIONS]
        elif p.is_file():
            found.append(p)
        else:
            raise UsageError(f"no such video or folder: {p}")
    if not found:
        raise UsageError("no videos found in " + ", ".join(map(str, paths)))
    return found


def load_clips(
    videos: Sequence[Path],
    config: KfpnConfig,
    device: str,
    backbone_weights: str | Path | None = None,
    report: Report = print,
) -> list[Clip]:
    """Cached features of each video on its training-rate grid."""
    clips = []
    for i, path in enumerate(videos):
        with reading(path) as source:
            feats = video_features(
                source, config.backbone, backbone_weights=backbone_weights, device=device
            )
            fps = source.fps
        positions = win.resample_positions(len(feats), fps, config.fps)
        clips.append(Clip(path.name, feats.astype(np.float16), positions))
        report(f"features {i + 1}/{len(videos)}: {path.name} ({len(feats)} frames)")
    return clips


def sample_windows(
    clips: Sequence[Clip], count: int, window: int, rng: np.random.Generator
) -> list[tuple[int, np.ndarray]]:
    """``count`` windows (frame indices into each clip), clips weighted by their length."""
    lengths = np.array([len(c.positions) for c in clips], dtype=np.float64)
    picks = rng.choice(len(clips), size=count, p=lengths / lengths.sum())
    out = []
    for c in picks:
        n = len(clips[c].positions)
        start = int(rng.integers(0, max(1, n - window + 1)))
        rows = np.minimum(np.arange(start, start + window), n - 1)
        out.append((int(c), clips[c].positions[rows]))
    return out


def batch_tensor(clips: Sequence[Clip], items: Sequence[tuple[int, np.ndarray]]) -> torch.Tensor:
    return torch.from_numpy(np.stack([clips[c].feats[rows] for c, rows in items])).float()


def evaluate(net: Kfpn, clips: Sequence[Clip], settings: TrainSettings) -> dict[str, float]:
    """Mean loss terms and natural key frame share over all windows of ``clips``; in target
    mode also the target's key frame share and how well s predicts the target (binary
    cross-entropy, and the share of frames where s > 0.5 agrees with it)."""
    net.eval()
    totals = {"loss": 0.0, "recovery": 0.0, "sparsity": 0.0, "key_share": 0.0}
    if settings.mode == "target":
        totals.update(target_share=0.0, target_bce=0.0, target_agree=0.0)
    count = 0
    with torch.no_grad():
        d = net.dictionary()
        for ci, clip in enumerate(clips):
            idx = win.window_indices(len(clip.positions), net.config.window)
            x = batch_tensor(clips, [(ci, clip.positions[r]) for r in idx])
            s = net(x)
            y = loss_features(x, net.config.loss_pool)
            total, rec, spars = kfpn_loss(
                d, s, y, rho=settings.rho, w_sparse=settings.w_sparse, w_rec=settings.w_rec
            )
            n = len(idx)
            totals["loss"] += float(total) * n
            totals["recovery"] += float(rec) * n
            totals["sparsity"] += float(spars) * n
            totals["key_share"] += float((s >= THRESHOLD).float().mean()) * n
            if settings.mode == "target":
                target = search_targets(d, y, settings)
                bce = torch.nn.functional.binary_cross_entropy(s.clamp(1e-6, 1 - 1e-6), target)
                totals["target_share"] += float(target.mean()) * n
                totals["target_bce"] += float(bce) * n
                totals["target_agree"] += float(((s > 0.5).float() == target).float().mean()) * n
            count += n
    return {k: v / max(count, 1) for k, v in totals.items()}


def train(
    clips: Sequence[Clip],
    out: Path,
    settings: TrainSettings,
    *,
    val_clips: Sequence[Clip] = (),
    device: str = "cpu",
    resume: bool = False,
    meta: dict[str, Any] | None = None,
    report: Report = print,
) -> dict[str, Any]:
    """Train, checkpoint every epoch, write the model file ``out``; returns its meta."""
    ckpt_path = out.with_suffix(out.suffix + ".ckpt")
    config = KfpnConfig(**settings.config)
    torch.manual_seed(settings.seed)
    net = Kfpn(config, seed=settings.seed).to(device)
    if settings.optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=settings.lr, momentum=settings.momentum)
    first_epoch, history, seconds = 0, [], 0.0
    if resume and ckpt_path.is_file():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)
        if ckpt["settings"] != asdict(settings):
            raise UsageError(f"{ckpt_path} was made with other settings; drop --resume")
        net.load_state_dict(ckpt["net"])
        opt.load_state_dict(ckpt["opt"])
        first_epoch, history, seconds = ckpt["epoch"] + 1, ckpt["history"], ckpt["seconds"]
        report(f"resuming after epoch {first_epoch} of {settings.epochs}")
    if first_epoch == 0 and settings.pole_warmup > 0:
        warm_up_poles(net, clips, settings, device, report)
    steps_per_epoch = math.ceil(settings.windows_per_epoch / settings.batch)
    total_steps = max(1, settings.epochs * steps_per_epoch - 1)
    for epoch in range(first_epoch, settings.epochs):
        started = time.perf_counter()
        rng = np.random.default_rng([settings.seed, epoch])
        items = sample_windows(clips, settings.windows_per_epoch, config.window, rng)
        net.train()
        sums = np.zeros(3)
        for step in range(steps_per_epoch):
            done = epoch * steps_per_epoch + step
            net.alpha.fill_(1.0 + (settings.alpha_max - 1.0) * done / total_steps)
            chunk = items[step * settings.batch : (step + 1) * settings.batch]
            x = batch_tensor(clips, chunk).to(device)
            noise = None
            if settings.relaxed:
                u = torch.rand(len(chunk), config.window, device=device).clamp(1e-6, 1 - 1e-6)
                noise = torch.log(u) - torch.log1p(-u)
            y = loss_features(x, net.config.loss_pool)
            if settings.mode == "direct":
                s = net(x, noise)
                if settings.straight_through:
                    # The loss sees a binary mask; its gradient is that of the soft s.
                    s = (s > 0.5).float() + s - s.detach()
                total, rec, spars = kfpn_loss(
                    net.dictionary(),
                    s,
                    y,
                    rho=settings.rho,
                    w_sparse=settings.w_sparse,
                    w_rec=settings.w_rec,
                )
            else:
                total, rec, spars = _target_step(net, x, y, settings)
            opt.zero_grad()
            total.backward()  # type: ignore[no-untyped-call]
            opt.step()
            with torch.no_grad():
                net.poles.radius.clamp_(0.5, 1.2)  # keep r^t finite over a window
            sums += (total.item(), rec.item(), spars.item())
        seconds += time.perf_counter() - started
        row: dict[str, Any] = {"epoch": epoch + 1, "alpha": float(net.alpha)}
        row.update(
            zip(("loss", "recovery", "sparsity"), (sums / steps_per_epoch).tolist(), strict=True)
        )
        if val_clips:
            row["val"] = evaluate(net, val_clips, settings)
        history.append(row)
        report(_progress_line(row, settings.epochs, seconds))
        with atomic_output(ckpt_path) as tmp:
            torch.save(
                {
                    "net": net.state_dict(),
                    "opt": opt.state_dict(),
                    "epoch": epoch,
                    "history": history,
                    "seconds": seconds,
                    "settings": asdict(settings),
                },
                tmp,
            )
    info = dict(meta or {})
    info.update(
        settings=asdict(settings),
        history=history,
        train_seconds=round(seconds, 1),
        date=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        train_clips=[c.name for c in clips],
        val_clips=[c.name for c in val_clips],
    )
    save_model(out, net.cpu().eval(), rho=settings.rho, meta=info)
    return info


def eq16_targets(
    dictionary: torch.Tensor, y: torch.Tensor, settings: TrainSettings
) -> torch.Tensor:
    """Binary s minimising eq. 16 on each window (greedy), for the current poles."""
    d = dictionary.detach().double().cpu().numpy()
    t = d.shape[0]
    cost = settings.w_sparse / (settings.w_rec * t)  # eq. 16 divided by w_rec, per frame
    masks = torch.zeros(y.shape[0], t)
    for b in range(y.shape[0]):
        window = reduce_window(y[b].detach().double().cpu().numpy())
        chosen = RecoveryObjective(d, [window], np.arange(t)[None], settings.rho).minimise(cost)
        masks[b, chosen] = 1.0
    return masks.to(y.device)


def linear_targets(y: torch.Tensor, settings: TrainSettings) -> torch.Tensor:
    """Binary s minimising ``linear recovery error + cost x |s|`` on each window, exactly
    (``select._penalised``), with eq. 16's per-frame cost ``w_sparse / (w_rec T)``."""
    from annotator.proposal.select import _penalised, banded_linear_costs

    t = y.shape[1]
    cost = settings.w_sparse / (settings.w_rec * t)
    masks = torch.zeros(y.shape[0], t)
    for b in range(y.shape[0]):
        band, head, tail = banded_linear_costs(y[b].detach().double().cpu().numpy(), t - 1)
        masks[b, _penalised(band, head, tail, cost)] = 1.0
    return masks.to(y.device)


def search_targets(
    dictionary: torch.Tensor, y: torch.Tensor, settings: TrainSettings
) -> torch.Tensor:
    """The binary s the network learns in target mode: the minimiser of ``settings.target``'s
    recovery (``"linear"`` or ``"eq16"``) on each window."""
    if settings.target == "linear":
        return linear_targets(y, settings)
    return eq16_targets(dictionary, y, settings)


def _target_step(
    net: Kfpn, x: torch.Tensor, y: torch.Tensor, settings: TrainSettings
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step of the "target" mode; returns (training loss, eq. 16 recovery and sparsity
    of the network's own s, for the progress line).

    Gradient descent on eq. 16 itself collapsed in our runs (every frame or none: a soft s
    on all frames rebuilds Y almost for free, so the network never learns to tell frames
    apart). So eq. 16 is minimised over binary s directly, per window, by a greedy search
    (``RecoveryObjective.minimise``); the network learns to predict that minimiser (binary
    cross-entropy on σ(αx)), and the poles keep descending eq. 16's recovery term on it.
    """
    dictionary = net.dictionary()
    target = search_targets(dictionary, y, settings)
    s = net(x)
    bce = torch.nn.functional.binary_cross_entropy(s.clamp(1e-6, 1 - 1e-6), target)
    rec_target = recovery_residual(dictionary, target, y, settings.rho).pow(2).sum((1, 2)).mean()
    with torch.no_grad():
        _, rec, spars = kfpn_loss(dictionary, s, y, rho=settings.rho)
    return bce + settings.w_rec * rec_target, rec, spars


def warm_up_poles(
    net: Kfpn,
    clips: Sequence[Clip],
    settings: TrainSettings,
    device: str,
    report: Report,
) -> None:
    """Fit the DYAN poles alone to rebuild windows from random key frame masks.

    Random poles interpolate poorly, so at first every key frame buys about the same small
    drop in recovery error; the sparsity term then wins everywhere and the indicator collapses
    to "no key frames" (or, with a light sparsity weight, to "all"), where σ(αx) has no
    gradient left. Poles that already model the features' dynamics make a few well-placed
    frames worth much more than the rest, which is what the network has to learn.
    """
    t = net.config.window
    opt = torch.optim.Adam(net.poles.parameters(), lr=0.02)
    rng = np.random.default_rng([settings.seed, 1_000_003])
    gen = torch.Generator().manual_seed(settings.seed)
    for step in range(settings.pole_warmup):
        items = sample_windows(clips, settings.batch, t, rng)
        x = batch_tensor(clips, items).to(device)
        mask = (torch.rand(len(items), t, generator=gen) < settings.warmup_density).float()
        mask[:, 0] = mask[:, -1] = 1.0
        y = loss_features(x, net.config.loss_pool)
        rec = recovery_residual(net.dictionary(), mask.to(device), y, settings.rho)
        value = rec.pow(2).sum(dim=(1, 2)).mean()
        opt.zero_grad()
        value.backward()  # type: ignore[no-untyped-call]
        opt.step()
        with torch.no_grad():
            net.poles.radius.clamp_(0.5, 1.2)
        if step % 50 == 0 or step == settings.pole_warmup - 1:
            report(f"pole warm-up {step + 1}/{settings.pole_warmup}: recovery {value.item():.4f}")


def _progress_line(row: dict[str, Any], epochs: int, seconds: float) -> str:
    line = (
        f"epoch {row['epoch']}/{epochs}  alpha {row['alpha']:.1f}  loss {row['loss']:.4f}  "
        f"recovery {row['recovery']:.4f}  sparsity {row['sparsity']:.3f}  [{seconds:.0f} s]"
    )
    if "val" in row:
        v = row["val"]
        line += f"  val loss {v['loss']:.4f} key share {v['key_share']:.3f}"
        if "target_bce" in v:
            line += (
                f" mean s {v['sparsity']:.3f} target share {v['target_share']:.3f}"
                f" bce {v['target_bce']:.3f} agree {v['target_agree']:.3f}"
            )
    return line
