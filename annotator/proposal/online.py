"""Online key frame detection (K-FPN paper, section 3.5): one decision per incoming frame.

The first ``Tb`` grid steps are a batch: the K-FPN model proposes their key frames (natural
count, ``kfpn.propose_from_features``). From then on every step ``t`` is judged as it arrives:

1. **Prediction.** The newest ``fit_keys`` key frames inside the current window are fitted
   with the K-FPN model's DYAN dictionary (its learned poles), and the fit is extrapolated to
   ``t``: the dictionary evaluated on the window's steps plus one more row, ``t``'s. With ``D``
   those rows, the ridge fit from the key rows ``S`` gives
   ``ŷ_t = μ + D_t D_Sᵀ (D_S D_Sᵀ + λ I)⁻¹ (Y_S − μ)`` (μ: the key frames' mean), a weighted
   sum of the key frames' backbone maps. The default, one key frame, makes ``ŷ_t`` the newest
   key frame's map (μ is that map): fitting every key frame of the window (``fit_keys = 0``)
   gives a prediction close to their mean, which after a scene change stays with the old
   scene until its key frames leave the window, so on a long video of short scenes most
   frames became key frames (``docs/kfpn.md``, "10,000 frames in one stream").
2. **Decision.** The ``Discriminator`` (four Conv2D+BN+ReLU blocks and a logit) sees the
   actual map and the predicted one; a positive logit makes ``t`` a key frame.

**Window (long videos).** The dictionary grows by one row per incoming frame as in the paper,
up to ``Tb + To`` rows; after that the window slides one step per frame, so it always holds
the last ``Tb + To`` steps and at most ``fit_keys`` key frames among them. The newest key
frame is kept even when it is older than the window, at the window's first row: a scene that
has not changed since then is still predicted (by that frame) and needs no new key frame. Per
frame, time and memory are bounded by the window: at most ``Tb + To`` key maps, one
dictionary of at most ``Tb + To`` rows (cached per row count), and the features are read in
chunks.

**Budget.** With a budget of B frames the batch part keeps its share (``B x Tb / steps``,
at least one frame) and the discriminator's decision threshold is found by bisection so the
whole video gets B frames; when no threshold hits B exactly, the surplus detections with the
weakest logits are dropped, or the middles of the largest gaps are added.

What the discriminator was trained on, and the model file, are in ``online_train.py`` and
``models/kfpn_online.md``.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from annotator.core.paths import models_dir
from annotator.core.progress import Progress, ShouldStop, check_stop
from annotator.core.safeio import atomic_output, not_weights_error, read_bytes
from annotator.dynamics.dyan_torch import dictionary as dyan_dictionary
from annotator.errors import UsageError
from annotator.proposal.kfpn import frames_of_steps

FORMAT = "annotator.kfpn-online/1"
DEFAULT_MODEL = "kfpn_online.pt"
MAX_MODEL_BYTES = 64 * 1024 * 1024
# Steps judged in one discriminator batch (decisions stay sequential: after a key frame the
# rest of the batch is judged again). The batch starts small after a key frame and doubles
# while none is found, so frequent key frames waste little.
FIRST_CHUNK = 4
CHUNK = 32
BISECTION_STEPS = 16


@dataclass(frozen=True)
class OnlineConfig:
    in_channels: int = 320  # backbone feature channels
    hidden: int = 32  # channels of the discriminator's blocks
    batch_steps: int = 30  # Tb: the first steps, proposed in batch by K-FPN
    online_rows: int = 10  # To: rows the dictionary grows past Tb before the window slides
    ridge: float = 0.1  # λ of the key frames' dictionary fit
    fit_keys: int = 1  # the newest key frames in the window the prediction fits (0: all)
    fps: float = 30.0
    backbone: str = "efficientnet-lite0"

    @property
    def window(self) -> int:
        return self.batch_steps + self.online_rows

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _block(cin: int, cout: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, padding=kernel // 2),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Discriminator(nn.Module):
    """(actual, predicted) backbone maps, each (B, C, 7, 7) -> one logit per pair (B,).

    The two maps and their absolute difference are stacked as 3C channels (the difference
    spares the first block from learning |a − p| out of ReLUs); a 1 x 1 block mixes them,
    three 3 x 3 blocks look at the layout, then a global average and a linear layer give the
    logit: positive = "the prediction is bad, a new key frame"."""

    def __init__(self, channels: int, hidden: int = 32) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            _block(3 * channels, hidden, 1),
            _block(hidden, hidden, 3),
            _block(hidden, hidden, 3),
            _block(hidden, hidden, 3),
        )
        self.head = nn.Linear(hidden, 1)

    def forward(self, actual: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        x = self.blocks(torch.cat([actual, predicted, (actual - predicted).abs()], dim=1))
        out: torch.Tensor = self.head(x.mean(dim=(2, 3))).squeeze(1)
        return out


@dataclass
class OnlineModel:
    net: Discriminator
    config: OnlineConfig
    radius: np.ndarray  # the K-FPN model's poles the predictor uses
    theta: np.ndarray
    path: Path | None = None
    sha256: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def default_model_path() -> Path:
    env = os.environ.get("ANNOTATOR_KFPN_ONLINE_MODEL")
    return Path(env) if env else models_dir() / DEFAULT_MODEL


def save_model(path: str | Path, model: OnlineModel) -> None:
    state = {
        k: (v.half() if v.is_floating_point() else v) for k, v in model.net.state_dict().items()
    }
    blob = {
        "format": FORMAT,
        "config": model.config.to_dict(),
        "state": state,
        "radius": torch.from_numpy(np.asarray(model.radius, dtype=np.float64)),
        "theta": torch.from_numpy(np.asarray(model.theta, dtype=np.float64)),
        "meta": model.meta,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, UsageError) as tmp:
        torch.save(blob, tmp)


def load_model(path: str | Path | None = None) -> OnlineModel:
    path = Path(path) if path is not None else default_model_path()
    if not path.exists():
        raise UsageError(
            f"online K-FPN model not found: {path} (train one: annotator train online)"
        )
    raw = read_bytes(path, MAX_MODEL_BYTES, UsageError)
    try:
        blob = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception:
        raise not_weights_error(path, "an online K-FPN model") from None
    try:
        if not isinstance(blob, dict) or blob.get("format") != FORMAT:
            raise ValueError("no 'format' marker")
        config = OnlineConfig(**blob["config"])
        net = Discriminator(config.in_channels, config.hidden)
        net.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in blob["state"].items()}
        )
        radius = blob["radius"].double().numpy()
        theta = blob["theta"].double().numpy()
    except Exception as err:  # any unreadable file is the user's to fix
        raise UsageError(f"{path} is not an online K-FPN model file ({str(err)[:120]})") from None
    if not (np.isfinite(radius).all() and np.isfinite(theta).all()):
        raise UsageError(f"{path.name}: the poles hold NaN or infinite values")
    digest = hashlib.sha256(raw).hexdigest()
    return OnlineModel(net.eval(), config, radius, theta, path, digest, dict(blob.get("meta", {})))


class Predictor:
    """Fits key frames with the DYAN dictionary and extrapolates one row (see the module
    docstring); dictionaries are cached per row count, at most ``window`` of them."""

    def __init__(self, radius: np.ndarray, theta: np.ndarray, window: int, ridge: float) -> None:
        self.radius = torch.from_numpy(np.asarray(radius, dtype=np.float64))
        self.theta = torch.from_numpy(np.asarray(theta, dtype=np.float64))
        self.window = window
        self.ridge = ridge
        self._dicts: dict[int, np.ndarray] = {}

    def dictionary(self, rows: int) -> np.ndarray:
        if rows not in self._dicts:
            d = dyan_dictionary(self.radius, self.theta, rows).numpy()
            self._dicts[rows] = d
        return self._dicts[rows]

    def weights(self, key_rows: np.ndarray, new_row: int) -> np.ndarray:
        """w (len(key_rows),): the prediction of row ``new_row`` is μ + w · (Y_S − μ)."""
        d = self.dictionary(new_row + 1)  # the window's rows plus the new one
        ds = d[key_rows]
        gram = ds @ ds.T + self.ridge * np.eye(len(key_rows))
        return np.asarray(np.linalg.solve(gram, ds @ d[new_row]), dtype=np.float64)

    def predict(self, keys: np.ndarray, key_rows: np.ndarray, new_row: int) -> np.ndarray:
        """``keys`` (K, ...) key frame maps at window rows ``key_rows`` -> map at ``new_row``."""
        flat = np.asarray(keys, dtype=np.float32).reshape(len(keys), -1)
        return self.predict_flat(flat, flat.mean(axis=0), key_rows, new_row).reshape(keys.shape[1:])

    def predict_flat(
        self, flat: np.ndarray, mean: np.ndarray, key_rows: np.ndarray, new_row: int
    ) -> np.ndarray:
        """As ``predict`` on flattened maps (K, M) with their mean: μ + w · (Y − μ) written
        as w · Y + (1 − Σ w) μ, so no centred copy of the key frames is made per frame."""
        w = self.weights(key_rows, new_row).astype(np.float32)
        return np.asarray(w @ flat + (1.0 - w.sum()) * mean, dtype=np.float32)


class Stream:
    """The online state over a grid of steps: the key frames inside the sliding window.

    ``keys`` holds (step, map) for at most ``fit_keys`` key frames (0: ``window``), the newest
    ones: those inside the window of the last step predicted, and the newest one always."""

    def __init__(self, predictor: Predictor, fit_keys: int = 0) -> None:
        self.predictor = predictor
        self.limit = min(fit_keys, predictor.window) if fit_keys > 0 else predictor.window
        self.keys: deque[tuple[int, np.ndarray]] = deque()
        self._stacked: tuple[np.ndarray, np.ndarray] | None = None  # (flat maps, their mean)

    def add(self, step: int, feature: np.ndarray) -> None:
        self.keys.append((step, np.asarray(feature, dtype=np.float32)))
        while len(self.keys) > self.limit:
            self.keys.popleft()
        self._stacked = None

    def origin(self, step: int) -> int:
        return max(0, step - self.predictor.window + 1)

    def predict(self, step: int) -> np.ndarray | None:
        origin = self.origin(step)
        while len(self.keys) > 1 and self.keys[0][0] < origin:
            self.keys.popleft()
            self._stacked = None
        if not self.keys:
            return None
        if self._stacked is None:
            flat = np.stack([m.reshape(-1) for _, m in self.keys])
            self._stacked = (flat, flat.mean(axis=0))
        rows = np.array([max(0, s - origin) for s, _ in self.keys])
        shape = self.keys[0][1].shape
        flat, mean = self._stacked
        return self.predictor.predict_flat(flat, mean, rows, step - origin).reshape(shape)


@dataclass(frozen=True)
class OnlinePass:
    key_steps: list[int]  # grid steps that are key frames (batch part included)
    logits: np.ndarray  # per step: the discriminator's logit (NaN in the batch part)
    forced: list[int]  # steps made key frames because there was no key frame to predict from
    batch_keys: list[int]


def run_stream(
    model: OnlineModel,
    feats: np.ndarray,
    batch_keys: list[int],
    threshold: float = 0.0,
    should_stop: ShouldStop | None = None,
    progress: Progress | None = None,
) -> OnlinePass:
    """One online pass over ``feats`` (steps, C, 7, 7), the grid's maps in order (an array or
    anything that slices like one), after the batch part's key steps ``batch_keys``."""
    cfg = model.config
    steps = len(feats)
    stream = Stream(Predictor(model.radius, model.theta, cfg.window, cfg.ridge), cfg.fit_keys)
    tb = min(cfg.batch_steps, steps)
    for s in sorted(batch_keys):
        if s < tb:
            stream.add(s, np.asarray(feats[s : s + 1], dtype=np.float32)[0])
    keys = sorted(k for k in batch_keys if k < tb)
    forced: list[int] = []
    net = model.net.eval()
    threads = torch.get_num_threads()
    # The batches are a few frames of 7 x 7 maps: more threads only add synchronisation
    # (several times slower with two threads on a busy 2-core machine).
    torch.set_num_threads(1)
    try:
        return _judge(net, stream, feats, tb, threshold, keys, forced, should_stop, progress)
    finally:
        torch.set_num_threads(threads)


def _judge(
    net: Discriminator,
    stream: Stream,
    feats: np.ndarray,
    tb: int,
    threshold: float,
    keys: list[int],
    forced: list[int],
    should_stop: ShouldStop | None,
    progress: Progress | None,
) -> OnlinePass:
    steps = len(feats)
    logits = np.full(steps, np.nan)
    batch_keys = list(keys)
    t, chunk = tb, FIRST_CHUNK
    with torch.inference_mode():
        while t < steps:
            check_stop(should_stop, "online K-FPN")
            actual = np.asarray(feats[t : min(steps, t + chunk)], dtype=np.float32)
            preds, upto = [], len(actual)
            for i in range(len(actual)):
                p = stream.predict(t + i)
                if p is None:  # the window lost its last key frame
                    upto = i
                    break
                preds.append(p)
            if preds:
                out = net(torch.from_numpy(actual[: len(preds)]), torch.from_numpy(np.stack(preds)))
                logits[t : t + len(preds)] = out.double().numpy()
                hits = np.flatnonzero(out.numpy() > threshold)
                if hits.size:
                    upto = int(hits[0])
            if upto < len(actual):  # step t + upto is the next key frame
                s = t + upto
                if upto >= len(preds):
                    forced.append(s)
                keys.append(s)
                stream.add(s, actual[upto])
                t, chunk = s + 1, FIRST_CHUNK
            else:
                t, chunk = t + len(actual), min(2 * chunk, CHUNK)
            if progress is not None:
                progress(t / steps)
    return OnlinePass(keys, logits, forced, batch_keys)


def batch_part(kfpn_model: Any, feats: np.ndarray, steps: int, budget: int | None) -> list[int]:
    """Key steps of the first ``steps`` grid steps by batch K-FPN (already on the grid)."""
    from annotator.proposal.kfpn import propose_from_features

    head = np.asarray(feats[:steps], dtype=np.float32)
    fps = kfpn_model.config.fps  # the features are on the model's grid already
    return list(propose_from_features(kfpn_model, head, fps, budget).frames)


def _exact(result: OnlinePass, budget: int, steps: int) -> list[int]:
    """Make the count exactly ``budget``: drop the weakest online detections, or add the
    middles of the largest gaps."""
    keys = sorted(set(result.key_steps))
    if len(keys) > budget:
        online = [k for k in keys if k not in set(result.batch_keys)]
        strength = {
            k: result.logits[k] if np.isfinite(result.logits[k]) else np.inf for k in online
        }
        drop = sorted(online, key=lambda k: strength[k])[: len(keys) - budget]
        keys = sorted(set(keys) - set(drop))
        keys = keys[:budget]
    return frames_of_steps(keys, np.arange(steps), steps, budget)


def detect(
    model: OnlineModel,
    kfpn_model: Any,
    feats: np.ndarray,
    budget: int | None = None,
    should_stop: ShouldStop | None = None,
    progress: Progress | None = None,
) -> OnlinePass:
    """Online key steps of a feature sequence on the model's grid (see the module docstring
    for the budget)."""
    steps = len(feats)
    tb = min(model.config.batch_steps, steps)
    if budget is None:
        return run_stream(
            model, feats, batch_part(kfpn_model, feats, tb, None), 0.0, should_stop, progress
        )
    if budget < 1:
        raise UsageError("a budget needs at least one frame")
    head_budget = max(1, min(tb, round(budget * tb / steps)))
    head = batch_part(kfpn_model, feats, tb, head_budget)
    lo, hi = -50.0, 50.0  # thresholds on the logit: lower -> more key frames
    best = run_stream(model, feats, head, 0.0, should_stop)
    for _ in range(BISECTION_STEPS):
        n = len(best.key_steps)
        if n == budget:
            break
        mid = (lo + hi) / 2
        best = run_stream(model, feats, head, mid, should_stop)
        if len(best.key_steps) > budget:
            lo = mid
        elif len(best.key_steps) < budget:
            hi = mid
    if progress is not None:
        progress(1.0)
    keys = _exact(best, budget, steps)
    return OnlinePass(keys, best.logits, best.forced, best.batch_keys)


def propose_online(
    model: OnlineModel,
    kfpn_model: Any,
    feats: np.ndarray,
    fps: float,
    budget: int | None = None,
    should_stop: ShouldStop | None = None,
    progress: Progress | None = None,
) -> tuple[list[int], list[float], list[int]]:
    """(frames, per-frame score, per-frame 0/1 decision) for a video's features (frames, C, 7,
    7) at ``fps``. Scores: σ(logit) of the discriminator, K-FPN's s in the batch part."""
    from annotator.proposal import windows as win

    count = len(feats)
    if feats.ndim != 4 or feats.shape[1] != model.config.in_channels:
        raise UsageError(
            f"the online model expects {model.config.in_channels}-channel "
            f"{model.config.backbone} features, got shape {feats.shape}"
        )
    positions = win.resample_positions(count, fps, model.config.fps)
    grid = _GridView(feats, positions)
    result = detect(model, kfpn_model, grid, budget, should_stop, progress)  # type: ignore[arg-type]
    want = len(result.key_steps) if budget is None else budget
    frames = frames_of_steps(result.key_steps, positions, count, want)
    prob = 1.0 / (1.0 + np.exp(-np.clip(np.nan_to_num(result.logits, nan=0.0), -50, 50)))
    prob[np.isnan(result.logits)] = 0.0
    prob[result.key_steps] = np.maximum(prob[result.key_steps], 0.5)
    scores = win.frame_scores(positions, prob, count)
    gate = np.zeros(count, dtype=np.int64)
    gate[frames] = 1
    return frames, [round(float(v), 4) for v in scores], [int(v) for v in gate]


class _GridView:
    """The features of a video read on the model's time grid, slice by slice."""

    def __init__(self, feats: np.ndarray, positions: np.ndarray) -> None:
        self.feats = feats
        self.positions = positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, key: slice) -> np.ndarray:
        return np.asarray(self.feats[self.positions[key]], dtype=np.float32)
