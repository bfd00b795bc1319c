"""Training the gate as MAPN does: the loss is differentiable in the gate g.

The propagation runs forward with the gate as its input switch, exactly as MAPN feeds its
ConvLSTM: ``state_t = g_t label_t + (1 - g_t) (state_{t-1} moved along field_t)``, where
"moved" samples the codec's per-cell displacement at the joint (bilinear on the cell grid,
invalid cells 0) and adds it. A second pass runs backward from the window's last frame
(``state_t = g_t label_t + (1 - g_t) (state_{t+1} - field_{t+1})``), and the two are blended
by the (soft) number of frames since and until a label, as the app's fill blends both
neighbouring labels: a forward-only loss would overstate the error late in a gap and ask for
labels the fill does not need. Windows of ``WINDOW`` frames start and end with g = 1.

Loss = mean over visible joints of ``log(1 + error / body size)`` + lambda mean(g), lambda
drawn per window (log-uniform) and shown to the network, so one model serves every price. The
logarithm keeps a gradient where propagation fails outright (a scene cut: error of several
body sizes), which a cap at one body size would cut off.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as tnf

from annotator.propagation.gate import GateModel, hash_gate, step_logits
from annotator.propagation.gate_data import GateClip

EPS = 1e-3
PCK_ALPHA = 0.05


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 600
    batch: int = 16
    lr: float = 3e-3
    seed: int = 0
    threads: int = 1


@dataclass
class Batch:
    maps: torch.Tensor  # (B, W, C, G, G)
    gt: torch.Tensor  # (B, W, J, 2), 0 where absent
    present: torch.Tensor  # (B, W, J) bool
    visible: torch.Tensor  # (B, W, J) bool
    body: torch.Tensor  # (B, W)
    dx: torch.Tensor  # (B, W, GH, GW)
    dy: torch.Tensor
    cell: torch.Tensor  # (B,)


def make_batch(clips: Sequence[GateClip], items: Sequence[tuple[int, int, int]]) -> Batch:
    """``items``: (clip index, first frame, length), all of one length; fields padded to the
    batch's largest grid."""
    gh = max(clips[i].dx.shape[1] for i, _, _ in items)
    gw = max(clips[i].dx.shape[2] for i, _, _ in items)
    maps, gt, present, visible, body, dx, dy, cell = [], [], [], [], [], [], [], []
    for i, s, n in items:
        c = clips[i]
        sl = slice(s, s + n)
        xy = c.gt[sl]
        maps.append(c.maps[sl])
        gt.append(np.nan_to_num(xy))
        present.append(np.isfinite(xy).all(axis=-1))
        visible.append(c.visible[sl] & np.isfinite(xy).all(axis=-1))
        b = c.body[sl]
        body.append(np.where(np.isfinite(b) & (b > 0), b, np.inf))
        pad = ((0, 0), (0, gh - c.dx.shape[1]), (0, gw - c.dx.shape[2]))
        dx.append(np.pad(c.dx[sl], pad))
        dy.append(np.pad(c.dy[sl], pad))
        cell.append(c.cell)

    def t(a: list[Any], dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.from_numpy(np.stack(a)).to(dtype)

    return Batch(
        t(maps),
        t(gt),
        t(present, torch.bool),
        t(visible, torch.bool),
        t(body),
        t(dx),
        t(dy),
        torch.tensor(cell, dtype=torch.float32),
    )


def sample_field(
    dx: torch.Tensor, dy: torch.Tensor, pos: torch.Tensor, cell: torch.Tensor
) -> torch.Tensor:
    """Displacement (B, J, 2) at joint positions ``pos`` (B, J, 2, px) on fields (B, GH, GW):
    bilinear between cell centres (cell j spans [j cell, (j + 1) cell)), borders repeated."""
    _, gh, gw = dx.shape
    field = torch.stack([dx, dy], dim=1)
    u = 2.0 * pos[..., 0] / cell[:, None] / gw - 1.0
    v = 2.0 * pos[..., 1] / cell[:, None] / gh - 1.0
    # NaN coordinates make grid_sample read out of bounds (a crash, not an error)
    grid = torch.stack([u, v], dim=-1).nan_to_num(0.0, 2.0, -2.0)[:, :, None, :]
    out = tnf.grid_sample(field, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out[..., 0].transpose(1, 2)


def propagate(g: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Blended forward/backward propagation (B, W, J, 2) with gate ``g`` (B, W) as the switch
    between the label and the moved state; g at both ends should be 1."""
    b, w = g.shape
    gt, present = batch.gt, batch.present[..., None]
    fwd: list[torch.Tensor] = [gt[:, 0]]
    since: list[torch.Tensor] = [torch.zeros(b)]
    state = gt[:, 0]
    for t in range(1, w):
        moved = state + sample_field(batch.dx[:, t], batch.dy[:, t], state, batch.cell)
        label = torch.where(present[:, t], gt[:, t], moved)
        gate = g[:, t, None, None]
        state = gate * label + (1.0 - gate) * moved
        fwd.append(state)
        since.append((1.0 - g[:, t]) * (since[-1] + 1.0))
    bwd: list[torch.Tensor] = [gt[:, w - 1]]
    until: list[torch.Tensor] = [torch.zeros(b)]
    state = gt[:, w - 1]
    for t in range(w - 2, -1, -1):
        moved = state - sample_field(batch.dx[:, t + 1], batch.dy[:, t + 1], state, batch.cell)
        label = torch.where(present[:, t], gt[:, t], moved)
        gate = g[:, t, None, None]
        state = gate * label + (1.0 - gate) * moved
        bwd.append(state)
        until.append((1.0 - g[:, t]) * (until[-1] + 1.0))
    f_ = torch.stack(fwd, dim=1)
    b_ = torch.stack(bwd[::-1], dim=1)
    a = torch.stack(since, dim=1)[..., None, None]
    z = torch.stack(until[::-1], dim=1)[..., None, None]
    fused: torch.Tensor = ((z + EPS) * f_ + (a + EPS) * b_) / (a + z + 2 * EPS)
    return fused


def joint_errors(pred: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Error / body size (B, W, J); only meaningful where ``batch.visible``."""
    err: torch.Tensor = torch.linalg.vector_norm(pred - batch.gt, dim=-1) / batch.body[..., None]
    return err


def loss_terms(
    model: GateModel, batch: Batch, lam: torch.Tensor, training: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, mean log-error, mean g of the free frames) on one batch of windows; ``lam``
    (B,): each window's price of a label, which the network also sees."""
    logits = model.net(batch.maps, lam)
    g = hash_gate(logits, training)
    forced = torch.zeros_like(g, dtype=torch.bool)
    forced[:, 0] = forced[:, -1] = True
    g = torch.where(forced, torch.ones_like(g), g)
    err = torch.log1p(joint_errors(propagate(g, batch), batch))
    vis = batch.visible
    per_window = torch.where(vis, err, torch.zeros_like(err)).sum(dim=(1, 2))
    per_window = per_window / vis.sum(dim=(1, 2)).clamp(min=1)
    share = g[:, 1:-1].mean(dim=1)
    loss = (per_window + lam * share).mean()
    return loss, per_window.mean(), share.mean()


def sample_prices(count: int, low: float, high: float, rng: np.random.Generator) -> torch.Tensor:
    """Prices of a label for ``count`` windows, log-uniform in [low, high]: one network for
    every trade-off, so a budget can pick its price (``gate_fields(budget=...)``)."""
    values = np.exp(rng.uniform(math.log(low), math.log(high), size=count))
    return torch.from_numpy(values.astype(np.float32))


def sample_items(
    clips: Sequence[GateClip], count: int, window: int, rng: np.random.Generator
) -> list[tuple[int, int, int]]:
    """Random windows, clips weighted by how many windows they hold."""
    sizes = np.array([max(c.frame_count - window + 1, 0) for c in clips], dtype=np.float64)
    if sizes.sum() == 0:
        raise ValueError(f"no clip has {window} frames")
    picks = rng.choice(len(clips), size=count, p=sizes / sizes.sum())
    return [(int(i), int(rng.integers(0, sizes[i])), window) for i in picks]


@dataclass(frozen=True)
class Evaluation:
    share: float  # labelled frames / frames, gate decisions without a budget
    pck: float  # PCK@0.05 of the blended propagation from the gate's labels
    error: float  # mean error / body size (capped at 1)
    uniform_pck: float  # the same propagation from as many evenly spaced labels

    def line(self) -> str:
        return (
            f"labelled {100 * self.share:.1f}% of frames, propagation PCK@0.05 "
            f"{100 * self.pck:.1f}% (evenly spaced at that share: {100 * self.uniform_pck:.1f}%), "
            f"mean error {100 * self.error:.2f}% of body size"
        )


def _clip_scores(clip: GateClip, index: int, g: np.ndarray) -> tuple[int, int, float, int]:
    batch = make_batch([clip], [(0, 0, clip.frame_count)])
    with torch.no_grad():
        err = joint_errors(propagate(torch.from_numpy(g[None].astype(np.float32)), batch), batch)
    vis = batch.visible[0]
    e = err[0][vis].numpy()
    e = np.where(np.isfinite(e), e, math.inf)
    return int((e <= PCK_ALPHA).sum()), int(vis.sum()), float(np.minimum(e, 1.0).sum()), index


def evaluate(model: GateModel, clips: Sequence[GateClip], lam: float | None = None) -> Evaluation:
    """The gate's own decisions on whole clips (hard, no noise, at price ``lam``, default the
    model's), scored by the propagation."""
    from annotator.core.framespec import uniform_frames

    model.net.eval()
    hits = total = u_hits = labels = frames = 0
    err = 0.0
    for k, clip in enumerate(clips):
        logits = step_logits(model, clip.maps, lam)
        g = (logits > 0).astype(np.float32)
        h, n, e, _ = _clip_scores(clip, k, g)
        u = np.zeros(clip.frame_count, dtype=np.float32)
        u[uniform_frames(clip.frame_count, max(2, int(g.sum())))] = 1.0
        uh, _, _, _ = _clip_scores(clip, k, u)
        hits, total, err, u_hits = hits + h, total + n, err + e, u_hits + uh
        labels, frames = labels + int(g.sum()), frames + clip.frame_count
    total = max(total, 1)
    return Evaluation(labels / max(frames, 1), hits / total, err / total, u_hits / total)


def train_gate(
    model: GateModel,
    clips: Sequence[GateClip],
    settings: TrainSettings,
    report: Callable[[str], None] = print,
) -> dict[str, float]:
    """Train ``model`` in place on random windows of ``clips``; returns the last figures."""
    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    window = model.config.window
    usable = [c for c in clips if c.frame_count >= window]
    if not usable:
        raise ValueError(f"no training clip has the {window} frames of a window")
    opt = torch.optim.Adam(model.net.parameters(), lr=settings.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(settings.steps, 1))
    start = time.perf_counter()
    running = {"loss": 0.0, "error": 0.0, "share": 0.0}
    last: dict[str, float] = {}
    model.net.train()
    for step in range(1, settings.steps + 1):
        batch = make_batch(usable, sample_items(usable, settings.batch, window, rng))
        prices = sample_prices(settings.batch, model.config.lam_min, model.config.lam_max, rng)
        loss, err, share = loss_terms(model, batch, prices, training=True)
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        sched.step()
        for key, value in (("loss", loss), ("error", err), ("share", share)):
            running[key] += float(value.detach())
        if step % 50 == 0 or step == settings.steps:
            n = 50 if step % 50 == 0 else step % 50
            last = {k: v / n for k, v in running.items()}
            report(
                f"step {step}/{settings.steps}: loss {last['loss']:.4f}, log-error "
                f"{last['error']:.4f}, g share {last['share']:.3f} "
                f"({time.perf_counter() - start:.0f} s)"
            )
            running = dict.fromkeys(running, 0.0)
    model.net.eval()
    last["seconds"] = time.perf_counter() - start
    return last
