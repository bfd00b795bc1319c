"""The residual-driven gate of MAPN (Fan et al., ICCV 2021, sections 3.4-3.5), for annotation.

For every frame the gate answers "does a person label this frame?" (g = 1) or "is the pose
carried along the codec's motion field from its neighbours?" (g = 0). Its input is the
compressed-domain evidence of ``video.motion``: the residual per cell (how badly the motion
field explains the frame; the cell grid is already the paper's 1/8 downsampling) and the
field's magnitude per cell (how far things move; the residual alone is near zero on flat
regions that move, see docs/motion-vectors.md). The network is the paper's light one: two
convolutions over the per-frame maps, global pooling concatenated with the pooled raw maps, a
sinusoidal position encoding, temporal convolutions across a window of ``WINDOW`` frames,
one logit per frame; ``1(logit > 0)`` at inference (``hash_gate``).

Windows and forced frames. The paper's GOP starts with an I-frame that always gets the full
estimate; here a window of ``WINDOW`` steps starts and ends on a label (training forces g = 1
there: the propagation needs a pose to start from, and the backward pass one to end on).
At inference windows tile the video sharing their boundary frames, so the boundaries are
labels by construction; their logits are fixed (``FORCED_END`` for the first and last frame,
``FORCED_BOUNDARY`` inside) so that ``1(logit > 0)`` and the top-B of a budget both take them.

Frame rate (CONTRACTS.md). The network was trained at ``TRAIN_FPS`` (Penn Action renders,
30 fps). Per-frame maps are turned into rates per second (a 60 fps frame carries half the
motion and about half the new content of a 30 fps one), resampled linearly onto a 30 fps
timeline and turned back into amounts per step; decisions are made on that timeline and
placed on the nearest video frame. ``tests/propagation/test_gate_fps.py`` shows 60 and 30 fps
of one motion decide alike.

torch is imported inside the functions that run the network, so importing this module (for
``residual_energy``, say) stays cheap.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.safeio import not_weights_error
from annotator.errors import UsageError

if TYPE_CHECKING:
    import torch

    from annotator.video.motion import MotionFields
    from annotator.video.motion_store import MotionStore

__all__ = [
    "FORCED_BOUNDARY",
    "FORCED_END",
    "TRAIN_FPS",
    "WINDOW",
    "GateConfig",
    "GateModel",
    "GateResult",
    "default_model_path",
    "frame_maps",
    "gate_fields",
    "hash_gate",
    "load_gate",
    "resample_steps",
    "residual_energy",
    "save_gate",
    "window_starts",
]

FORMAT = "annotator.gate/1"
DEFAULT_MODEL = "gate.pt"
TRAIN_FPS = 30.0
WINDOW = 32
"""Steps (at ``TRAIN_FPS``) per window, boundaries included: about 1.07 s. See docs/gate.md."""
GRID = 16
CHANNELS = 3  # residual, motion magnitude, motion relative to the frame's median
FORCED_END = 12.0
FORCED_BOUNDARY = 10.0

FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class GateConfig:
    window: int = WINDOW
    grid: int = GRID
    channels: int = CHANNELS
    hidden: int = 16
    temporal: int = 32
    position: int = 16  # sinusoidal position encoding size (2 x len(PERIODS))
    train_fps: float = TRAIN_FPS
    lam: float = 0.03  # the price of a label the decisions use without a budget
    lam_min: float = 0.005  # training draws lambda log-uniformly from this range
    lam_max: float = 0.2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateConfig:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


# --- inputs ---------------------------------------------------------------------------------


def residual_energy(fields: MotionFields) -> FloatArray:
    """Mean residual per frame (grey levels, 0..255): the document's per-frame energy.

    Frame 0 has no previous frame (its residual is NaN): 0.0 there, so the row draws flat.
    """
    res = np.asarray(fields.residual, dtype=np.float32)
    flat = res.reshape(len(res), -1)
    with np.errstate(invalid="ignore"):
        counts = np.isfinite(flat).sum(axis=1)
        sums = np.nansum(flat, axis=1)
    out = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    return np.asarray(out, dtype=np.float32)


def _row_medians(values: FloatArray) -> FloatArray:
    """Median of the finite values of each row (0 where none): one sort, NaN sorted last."""
    ordered = np.sort(values, axis=1)
    count = np.isfinite(values).sum(axis=1)
    rows = np.arange(len(values))
    lo = ordered[rows, np.maximum((count - 1) // 2, 0)]
    hi = ordered[rows, np.maximum(count // 2, 0)]
    return np.asarray(np.where(count > 0, (lo + hi) / 2, 0.0), dtype=np.float32)


def frame_maps(fields: MotionFields, grid: int = GRID) -> FloatArray:
    """Per video frame (F, 3, grid, grid), amounts from the previous frame: the residual
    (grey levels), the motion magnitude and the magnitude of the motion relative to the
    frame's median motion (both in % of the frame's longer side). The last one is what a
    panning camera does not explain: a person's limbs rather than the whole picture. Invalid
    cells count no motion (an intra block's content is new: the residual already says so).
    Pooled to ``grid`` x ``grid`` by adaptive average pooling. Computed frame by frame in
    one compiled pass (``gate_maps.py``); :func:`frame_maps_reference` is the definition."""
    return _compiled_maps(fields, grid)[0]


def _compiled_maps(fields: MotionFields, grid: int) -> tuple[FloatArray, FloatArray]:
    from annotator.propagation.gate_maps import frame_maps_compiled

    scale = 100.0 / max(fields.width, fields.height, 1)
    return frame_maps_compiled(fields.dx, fields.dy, fields.valid, fields.residual, scale, grid)


def frame_maps_reference(fields: MotionFields, grid: int = GRID) -> FloatArray:
    """:func:`frame_maps` with whole-video torch operations (the tests' reference)."""
    import torch
    from torch.nn.functional import adaptive_avg_pool2d

    f = len(fields)
    valid = torch.from_numpy(np.asarray(fields.valid, dtype=bool))
    dx = torch.from_numpy(np.asarray(fields.dx, dtype=np.float32)).masked_fill(~valid, np.nan)
    dy = torch.from_numpy(np.asarray(fields.dy, dtype=np.float32)).masked_fill(~valid, np.nan)
    # every third cell is plenty for the median (the camera's motion)
    mx = torch.from_numpy(_row_medians(dx.reshape(f, -1)[:, ::3].numpy()))
    my = torch.from_numpy(_row_medians(dy.reshape(f, -1)[:, ::3].numpy()))
    scale = 100.0 / max(fields.width, fields.height, 1)
    moved = torch.hypot(dx, dy).mul_(scale).nan_to_num_(0.0)
    local = torch.hypot(dx - mx[:, None, None], dy - my[:, None, None])
    local = local.mul_(scale).nan_to_num_(0.0)
    residual = torch.from_numpy(np.asarray(fields.residual, dtype=np.float32)).nan_to_num(0.0)
    stacked = torch.stack([residual, moved, local], dim=1)
    return np.ascontiguousarray(adaptive_avg_pool2d(stacked, grid).numpy(), dtype=np.float32)


def frame_times(
    fields: MotionFields | MotionStore, fps: float | None = None
) -> NDArray[np.float64]:
    """Presentation times (s) from the fields, or ``index / fps`` when they are unusable."""
    times = np.asarray(fields.times, dtype=np.float64)
    if len(times) == len(fields) and np.all(np.isfinite(times)) and np.all(np.diff(times) > 0):
        return np.asarray(times - times[0], dtype=np.float64)
    rate = fps or TRAIN_FPS
    return np.asarray(np.arange(len(fields), dtype=np.float64) / rate, dtype=np.float64)


def resample_steps(
    per_frame: FloatArray, times: NDArray[np.float64], rate: float = TRAIN_FPS
) -> tuple[FloatArray, NDArray[np.float64]]:
    """Per-frame amounts (F, ...) onto a ``rate`` timeline: (T, ...) amounts per step, and the
    step times. Each frame's amount is divided by the time since the previous frame (a rate
    per second), the rates interpolated linearly at the step times, then multiplied by the
    step length, so a 60 fps video's half-size steps add up like a 30 fps video's."""
    f = len(times)
    if f == 0:
        return per_frame[:0].copy(), times[:0].copy()
    if f == 1:
        return per_frame.copy(), times.copy()
    dt = np.diff(times)
    dt = np.concatenate([[dt[0]], dt])  # frame 0 holds nothing anyway
    rates = per_frame / dt.reshape(-1, *([1] * (per_frame.ndim - 1)))
    steps = max(1, round(times[-1] * rate) + 1)
    step_times = np.arange(steps, dtype=np.float64) / rate
    pos = np.interp(step_times, times, np.arange(f, dtype=np.float64))
    lo = np.clip(np.floor(pos).astype(np.int64), 0, f - 1)
    hi = np.minimum(lo + 1, f - 1)
    w = (pos - lo).reshape(-1, *([1] * (per_frame.ndim - 1)))
    out = (1.0 - w) * rates[lo] + w * rates[hi]
    return np.asarray(out / rate, dtype=np.float32), step_times


def normalise(maps: FloatArray) -> FloatArray:
    """The network's input scale: log(1 + amount), so a cut and a slow arm fit one range."""
    return np.asarray(np.log1p(np.maximum(maps, 0.0)), dtype=np.float32)


def window_starts(steps: int, window: int = WINDOW) -> list[int]:
    """First steps of the windows tiling ``steps`` steps, consecutive windows sharing their
    boundary step (stride ``window - 1``); the last window may be shorter."""
    if steps <= window:
        return [0]
    stride = window - 1
    return list(range(0, steps - 1, stride))


# --- the network ----------------------------------------------------------------------------


PERIODS = (4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 64.0)
"""Position encoding periods in steps of the training rate (4 steps = 0.13 s, 64 = 2.1 s)."""


def lam_feature(lam: torch.Tensor) -> torch.Tensor:
    """The network's view of the price of a label: log lambda, centred on 0.03."""
    import torch

    return (torch.log(lam.float().clamp(min=1e-6)) - math.log(0.03)) / 2.0


def position_encoding(length: int, size: int) -> torch.Tensor:
    """Sinusoids of the position inside the window, (size, length), in steps of the training
    rate (so in seconds times ``TRAIN_FPS``: frame-rate aware). Periods run from 4 steps to
    twice the window: short periods let the network place labels on a regular comb inside a
    stretch of hard motion (a regular comb leaves shorter worst gaps than labels scattered at
    random, which is what a gate that cannot express one learns: logits near 0, half-open)."""
    import torch

    pos = torch.arange(length, dtype=torch.float32)
    periods = torch.tensor(PERIODS[: size // 2], dtype=torch.float32)
    angles = 2 * math.pi * pos[None, :] / periods[:, None]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=0)


def _build_net(config: GateConfig) -> Any:
    import torch
    from torch import nn

    class GateNet(nn.Module):
        """(B, L, C, G, G) normalised maps -> (B, L) logits."""

        def __init__(self, cfg: GateConfig) -> None:
            super().__init__()
            self.config = cfg
            h = cfg.hidden
            self.spatial = nn.Sequential(
                nn.Conv2d(cfg.channels, h, 3, stride=2, padding=1),
                nn.ReLU(),
                nn.Conv2d(h, 2 * h, 3, stride=2, padding=1),
                nn.ReLU(),
            )
            width = 2 * h + cfg.channels + cfg.position + 1  # + the price of a label
            t = cfg.temporal
            # Receptive field 1 + 4 + 8 + 16 = 29 steps: about the whole window, so every
            # frame sees both labelled ends of the gap it sits in.
            self.temporal = nn.Sequential(
                nn.Conv1d(width, t, 5, padding=2),
                nn.ReLU(),
                nn.Conv1d(t, t, 5, padding=4, dilation=2),
                nn.ReLU(),
                nn.Conv1d(t, t, 5, padding=8, dilation=4),
                nn.ReLU(),
                nn.Conv1d(t, 1, 1),
            )

        def forward(self, maps: torch.Tensor, lam: torch.Tensor | None = None) -> torch.Tensor:
            return self.decide(self.encode(maps), lam)

        def encode(self, maps: torch.Tensor) -> torch.Tensor:
            """(B, L, C, G, G) maps -> (B, features, L): the per-frame part, which does not
            depend on the price (so a search over prices computes it once)."""
            b, length, c, g, _ = maps.shape
            flat = maps.reshape(b * length, c, g, g)
            deep = self.spatial(flat).mean(dim=(2, 3))
            raw = flat.mean(dim=(2, 3))  # the pooled raw residual and motion
            return torch.cat([deep, raw], dim=1).reshape(b, length, -1).transpose(1, 2)

        def decide(self, per_frame: torch.Tensor, lam: torch.Tensor | None = None) -> torch.Tensor:
            """``encode``'s output and the price of a label -> (B, L) logits."""
            b, _, length = per_frame.shape
            device = per_frame.device
            pos = position_encoding(length, self.config.position)
            pos = pos.to(device)[None].expand(b, -1, -1)
            if lam is None:
                lam = torch.full((b,), self.config.lam)
            price = lam_feature(lam.to(device))[:, None, None].expand(b, 1, length)
            out: torch.Tensor = self.temporal(torch.cat([per_frame, pos, price], dim=1))
            return out[:, 0]

    return GateNet(config)


def hash_gate(logits: torch.Tensor, training: bool) -> torch.Tensor:
    """Improved semantic hashing (Kaiser and Bengio 2018), as MAPN trains its gate.

    Training: Gaussian noise (sigma 1) on the logits, the saturating sigmoid
    ``max(0, min(1, 1.2 sigmoid(x) - 0.1))``, and per element with probability 1/2 either that
    continuous value or the hard ``1(x > 0)`` passing the continuous value's gradient
    (straight-through). Inference: ``1(logit > 0)``, no noise.
    """
    import torch

    if not training:
        return (logits > 0).to(logits.dtype)
    noisy = logits + torch.randn_like(logits)
    soft = torch.clamp(1.2 * torch.sigmoid(noisy) - 0.1, 0.0, 1.0)
    hard = (noisy > 0).to(logits.dtype)
    straight = soft + (hard - soft).detach()
    use_hard = torch.rand_like(logits) < 0.5
    return torch.where(use_hard, straight, soft)


# --- model files ----------------------------------------------------------------------------


@dataclass
class GateModel:
    net: Any  # GateNet (built lazily: torch)
    config: GateConfig
    path: Path | None = None
    sha256: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def new_gate(config: GateConfig | None = None, seed: int = 0) -> GateModel:
    import torch

    torch.manual_seed(seed)
    cfg = config or GateConfig()
    return GateModel(_build_net(cfg), cfg)


def default_model_path() -> Path:
    from annotator.core.paths import models_dir

    env = os.environ.get("ANNOTATOR_GATE_MODEL")
    return Path(env) if env else models_dir() / DEFAULT_MODEL


def save_gate(path: str | Path, model: GateModel, meta: dict[str, Any] | None = None) -> str:
    """Write the model atomically (temp file, fsync, rename); returns its sha256."""
    import torch

    from annotator.core.store import atomic_write

    blob = {
        "format": FORMAT,
        "config": model.config.to_dict(),
        "state": {k: v.detach().cpu() for k, v in model.net.state_dict().items()},
        "meta": meta or {},
    }
    buffer = io.BytesIO()
    torch.save(blob, buffer)
    data = buffer.getvalue()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data, keep_backup=False)
    return hashlib.sha256(data).hexdigest()


def load_gate(path: str | Path | None = None) -> GateModel:
    import torch

    path = Path(path) if path is not None else default_model_path()
    if not path.is_file():
        raise UsageError(f"gate model file not found: {path} (train one: annotator train gate)")
    data = path.read_bytes()
    try:
        blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception:
        raise not_weights_error(path, "a gate model") from None
    try:
        if not isinstance(blob, dict) or blob.get("format") != FORMAT:
            raise ValueError(f"format {blob.get('format')!r}, expected {FORMAT}")
        config = GateConfig.from_dict(blob["config"])
        net = _build_net(config)
        net.load_state_dict({k: v.float() for k, v in blob["state"].items()})
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path} is not a gate model file: {exc}") from None
    net.eval()
    return GateModel(net, config, path, hashlib.sha256(data).hexdigest(), blob.get("meta", {}))


# --- inference ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateResult:
    """Per video frame: ``logits``, ``gate`` (0/1) and ``energy`` (mean residual)."""

    logits: FloatArray
    gate: NDArray[np.uint8]
    energy: FloatArray
    representatives: NDArray[np.int64]  # the video frame standing for each training-rate step
    lam: float = 0.0  # the price of a label the decisions were made at

    def top(self, count: int) -> list[int]:
        """The ``count`` frames with the largest logits, at most one per training-rate step
        while there are steps left (a 60 fps video does not spend two labels on one step)."""
        count = max(1, min(count, len(self.logits)))
        reps = np.unique(self.representatives)
        order = reps[np.argsort(-self.logits[reps], kind="stable")]
        chosen = list(order[:count])
        if len(chosen) < count:
            rest = np.setdiff1d(np.arange(len(self.logits)), reps)
            rest = rest[np.argsort(-self.logits[rest], kind="stable")]
            chosen.extend(rest[: count - len(chosen)])
        return sorted(int(f) for f in chosen)

    @property
    def frames(self) -> list[int]:
        return [int(f) for f in np.flatnonzero(self.gate)]


@dataclass(frozen=True)
class Encoded:
    """A video's steps through the price-free part of the network (``GateNet.encode``), per
    window: what a search over prices reuses."""

    length: int
    starts: list[int]
    full: Any  # (windows, features, window) tensor for the full windows, or None
    last: Any  # (1, features, rest) for a shorter last window, or None


def encode_steps(model: GateModel, steps: FloatArray) -> Encoded:
    """Normalised maps (T, C, G, G) on the training-rate timeline, windows tiled with shared
    boundaries, through ``GateNet.encode``."""
    import torch

    t = len(steps)
    window = model.config.window
    starts = window_starts(t, window)
    x = torch.from_numpy(np.ascontiguousarray(steps))
    full = [s for s in starts if s + window <= t]
    last = [s for s in starts if s + window > t]
    with torch.inference_mode():
        enc_full = (
            model.net.encode(torch.stack([x[s : s + window] for s in full])) if full else None
        )
        enc_last = model.net.encode(x[last[0] : t][None]) if last else None
    return Encoded(t, starts, enc_full, enc_last)


def step_logits(
    model: GateModel, steps: FloatArray | Encoded, lam: float | None = None
) -> FloatArray:
    """Logits (T,) for normalised maps (T, C, G, G) on the training-rate timeline (or their
    ``encode_steps``), windows tiled with shared boundaries, boundary logits forced; ``lam``:
    the price of a label (default the model's own)."""
    import torch

    price = model.config.lam if lam is None else lam
    enc = steps if isinstance(steps, Encoded) else encode_steps(model, steps)
    t = enc.length
    window = model.config.window
    starts = enc.starts
    out = np.zeros(t, dtype=np.float32)
    full = [s for s in starts if s + window <= t]
    with torch.inference_mode():
        if enc.full is not None:
            logits = model.net.decide(enc.full, torch.full((len(full),), price)).numpy()
            for s, row in zip(full, logits, strict=True):
                out[s : s + window] = row
        if enc.last is not None:  # the shorter last window
            s = next(s for s in starts if s + window > t)
            out[s:t] = model.net.decide(enc.last, torch.full((1,), price)).numpy()[0]
    for s in starts:
        out[s] = FORCED_BOUNDARY
        out[min(s + window - 1, t - 1)] = FORCED_BOUNDARY
    out[0] = out[t - 1] = FORCED_END
    return out


@dataclass(frozen=True)
class _Prepared:
    """A video's inputs on the training timeline and how its steps map to video frames."""

    steps: FloatArray  # (T, C, G, G) normalised
    encoded: Encoded  # the steps through the price-free part of the network
    step_times: NDArray[np.float64]
    times: NDArray[np.float64]
    reps: NDArray[np.int64]  # (T,) the video frame nearest to each step
    energy: FloatArray


MAPS_SPAN = 2048  # frames of a motion store read at once for the input maps


def _maps_and_energy(
    fields: MotionFields | MotionStore, grid: int
) -> tuple[FloatArray, FloatArray]:
    """The input maps and residual energy of every frame; a store's window by window (each
    frame's maps are its own, so the result is the same; memory stays bounded)."""
    from annotator.video.motion import MotionFields

    if isinstance(fields, MotionFields):
        return _compiled_maps(fields, grid)  # the energy comes with the maps
    parts = [
        frame_maps(fields.window(a, min(a + MAPS_SPAN, len(fields)) - 1), grid)
        for a in range(0, len(fields), MAPS_SPAN)
    ]
    energy = np.nan_to_num(np.asarray(fields.energy, dtype=np.float32), nan=0.0)
    return np.concatenate(parts), energy


def _prepare(model: GateModel, fields: MotionFields | MotionStore, fps: float | None) -> _Prepared:
    times = frame_times(fields, fps)
    maps, energy = _maps_and_energy(fields, model.config.grid)
    steps, step_times = resample_steps(maps, times, model.config.train_fps)
    f = len(times)
    reps = np.clip(np.searchsorted(times, step_times), 0, f - 1)
    left = np.clip(reps - 1, 0, f - 1)
    reps = np.where(
        np.abs(times[left] - step_times) <= np.abs(times[reps] - step_times), left, reps
    ).astype(np.int64)
    normalised = normalise(steps)
    encoded = encode_steps(model, normalised)
    return _Prepared(normalised, encoded, step_times, times, reps, energy)


def _decide(model: GateModel, prep: _Prepared, lam: float) -> GateResult:
    return _result(prep, step_logits(model, prep.encoded, lam), lam)


def _result(prep: _Prepared, logits_steps: FloatArray, lam: float) -> GateResult:
    """Step logits placed on the video's frames (``GateResult``), 1(logit > 0) on
    representatives."""
    f = len(prep.times)
    # each frame's score is the step logits at its time; a representative frame carries its
    # step's own logit (the largest, when a video slower than the training rate maps two
    # steps to one frame), and only representatives decide
    logits = np.interp(prep.times, prep.step_times, logits_steps).astype(np.float32)
    own = np.full(f, -np.inf, dtype=np.float32)
    np.maximum.at(own, prep.reps, logits_steps)
    is_rep = np.isfinite(own)
    logits[is_rep] = own[is_rep]
    gate = (is_rep & (logits > 0)).astype(np.uint8)
    return GateResult(logits, gate, prep.energy, prep.reps, lam)


def gate_fields(
    model: GateModel,
    fields: MotionFields | MotionStore,
    fps: float | None = None,
    lam: float | None = None,
    budget: int | None = None,
) -> GateResult:
    """The gate on a video's motion fields (``extract_motion``): per-frame logits, 0/1
    decisions and residual energy. ``lam``: the price of a label (default the model's).
    ``budget``: instead, the price at which the gate opens about ``budget`` frames (the
    largest price that opens at least that many; ``GateResult.top(budget)`` then takes its
    top-B logits). ``fps`` is used only when the fields' times are unusable."""
    prep = _prepare(model, fields, fps)
    if budget is None:
        return _decide(model, prep, model.config.lam if lam is None else lam)
    return budget_price(lambda price: _decide(model, prep, price), model.config, budget)


def budget_price(
    decide: Callable[[float], GateResult], config: GateConfig, budget: int
) -> GateResult:
    """``decide(lam)`` at the dearest price of a label that still opens ``budget`` frames.
    Opened frames fall as the price rises (learnt, so only nearly monotone): bisection on log
    lambda over a range wider than training's."""
    lo, hi = math.log(config.lam_min / 10), math.log(config.lam_max * 10)
    best = decide(math.exp(lo))
    for _ in range(14):
        mid = (lo + hi) / 2
        res = decide(math.exp(mid))
        if int(res.gate.sum()) >= budget:
            lo, best = mid, res
        else:
            hi = mid
    return best
