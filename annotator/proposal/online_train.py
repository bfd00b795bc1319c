"""Training the online discriminator (``annotator train online``) from cached backbone features.

**What it learns to tell apart.** For a frame t arriving after the key frames so far, the pair
(actual map of t, map predicted for t from those key frames, the newest ``fit_keys`` of the
window, through the DYAN dictionary, ``online.Predictor``) is *positive* when the prediction is bad: the mean squared error between
the two maps average-pooled to 3 x 3 (the layout K-FPN's loss sees) exceeds a threshold τ;
*negative* when t is well predicted. The key frames "so far" are the ones the same rule would
have made: on each training clip the batch K-FPN proposes the first Tb steps, then every step
is labelled in order and a positive one becomes a key frame (a frame the window can no longer
predict from is a key frame too, and makes no pair). So the pairs are those a perfect
discriminator meets at inference. τ is set by bisection so the rule makes ``share`` of the
online steps key frames (default 0.155, the batch model's target key frame share on the
validation windows, ``models/kfpn.md``). Several Tb per clip (``batch_steps``) vary where the
windows start. No labels are used.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from annotator.core.progress import Report
from annotator.errors import UsageError
from annotator.proposal.online import (
    Discriminator,
    OnlineConfig,
    OnlineModel,
    Predictor,
    Stream,
    batch_part,
)
from annotator.proposal.train import Clip

CALIBRATION_STEPS = 20


@dataclass
class Pairs:
    actual: np.ndarray  # float16 (N, C, 7, 7)
    predicted: np.ndarray  # float16 (N, C, 7, 7)
    label: np.ndarray  # (N,) 0/1
    error: np.ndarray  # (N,) pooled mean squared error


def pool3(maps: np.ndarray) -> np.ndarray:
    """(N, C, 7, 7) -> (N, C * 9): 3 x 3 average pooling, as the K-FPN loss sees the maps."""
    x = torch.from_numpy(np.asarray(maps, dtype=np.float32))
    return torch.nn.functional.adaptive_avg_pool2d(x, 3).reshape(len(x), -1).numpy()


def _oracle(
    predictor: Predictor,
    maps: np.ndarray,
    head: list[int],
    tb: int,
    tau: float,
    fit_keys: int,
    keep: bool = False,
) -> tuple[int, int, list[tuple[int, np.ndarray, int, float]]]:
    """The labelling rule on one clip's grid maps (pooled when only counting): (key frames
    after the batch part, online steps, pairs (step, prediction, label, error) with ``keep``)."""
    stream = Stream(predictor, fit_keys)
    for s in head:
        stream.add(s, maps[s])
    made, pairs = 0, []
    for t in range(tb, len(maps)):
        pred = stream.predict(t)
        if pred is None:
            stream.add(t, maps[t])
            made += 1
            continue
        a, p = maps[t], pred
        if keep:
            a, p = pool3(a[None])[0], pool3(p[None])[0]
        err = float(np.mean((a - p) ** 2))
        label = int(err > tau)
        if keep:
            pairs.append((t, pred, label, err))
        if label:
            stream.add(t, maps[t])
            made += 1
    return made, max(0, len(maps) - tb), pairs


def calibrate(
    runs: Sequence[tuple[np.ndarray, list[int], int, Predictor]], share: float, fit_keys: int
) -> float:
    """τ such that the rule makes ``share`` of the online steps key frames (bisection on a
    log scale over the pooled maps)."""
    pooled = [(pool3(m), head, tb, predictor) for m, head, tb, predictor in runs]

    def rate(tau: float) -> float:
        made = total = 0
        for maps, head, tb, predictor in pooled:
            m, n, _ = _oracle(predictor, maps, head, tb, tau, fit_keys)
            made, total = made + m, total + n
        return made / max(total, 1)

    lo, hi = -12.0, 6.0  # log10 τ
    for _ in range(CALIBRATION_STEPS):
        mid = (lo + hi) / 2
        if rate(10**mid) > share:
            lo = mid
        else:
            hi = mid
    return float(10 ** ((lo + hi) / 2))


def make_pairs(
    model_kfpn: object,
    clips: Sequence[Clip],
    batch_steps: Sequence[int],
    config: OnlineConfig,
    radius: np.ndarray,
    theta: np.ndarray,
    share: float,
    tau: float | None = None,
) -> tuple[Pairs, float]:
    """Labelled pairs from every clip at every Tb, and τ (calibrated unless given)."""
    runs = []
    for clip in clips:
        maps = np.asarray(clip.feats[clip.positions], dtype=np.float32)
        for tb in batch_steps:
            tb = min(tb, len(maps))
            window = Predictor(radius, theta, tb + config.online_rows, config.ridge)
            runs.append((maps, batch_part(model_kfpn, maps, tb, None), tb, window))
    if tau is None:
        tau = calibrate(runs, share, config.fit_keys)
    actual, predicted, labels, errors = [], [], [], []
    for maps, head, tb, window in runs:
        _, _, pairs = _oracle(window, maps, head, tb, tau, config.fit_keys, keep=True)
        for t, pred, label, err in pairs:
            actual.append(maps[t].astype(np.float16))
            predicted.append(pred.astype(np.float16))
            labels.append(label)
            errors.append(err)
    if not actual:
        raise UsageError(
            "the videos are too short to give training pairs: the discriminator learns from "
            f"the frames after the first batch (Tb up to {max(batch_steps)}); give longer videos"
        )
    pairs_out = Pairs(np.stack(actual), np.stack(predicted), np.asarray(labels), np.asarray(errors))
    return pairs_out, tau


def evaluate(net: Discriminator, pairs: Pairs) -> dict[str, float]:
    """Accuracy, balanced accuracy, precision and recall of logit > 0 against the labels."""
    net.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(pairs.label), 256):
            a = torch.from_numpy(pairs.actual[i : i + 256].astype(np.float32))
            p = torch.from_numpy(pairs.predicted[i : i + 256].astype(np.float32))
            out.append(net(a, p).numpy() > 0)
    pred = np.concatenate(out)
    y = pairs.label.astype(bool)
    tp, tn = float((pred & y).sum()), float((~pred & ~y).sum())
    pos, neg = max(float(y.sum()), 1.0), max(float((~y).sum()), 1.0)
    return {
        "accuracy": round(float((pred == y).mean()), 4),
        "balanced_accuracy": round(0.5 * (tp / pos + tn / neg), 4),
        "precision": round(tp / max(float(pred.sum()), 1.0), 4),
        "recall": round(tp / pos, 4),
        "positive_share": round(float(y.mean()), 4),
    }


def train_discriminator(
    pairs: Pairs,
    config: OnlineConfig,
    epochs: int,
    batch: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    val: Pairs | None = None,
    report: Report = print,
) -> tuple[Discriminator, dict[str, float]]:
    """Binary cross-entropy on the pairs, positives weighted by the class ratio."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = Discriminator(config.in_channels, config.hidden)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    pos = max(float(pairs.label.sum()), 1.0)
    weight = torch.tensor((len(pairs.label) - pos) / pos)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=weight)
    started = time.perf_counter()
    metrics: dict[str, float] = {}
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(len(pairs.label))
        total = 0.0
        for i in range(0, len(order), batch):
            rows = np.sort(order[i : i + batch])
            a = torch.from_numpy(pairs.actual[rows].astype(np.float32))
            p = torch.from_numpy(pairs.predicted[rows].astype(np.float32))
            y = torch.from_numpy(pairs.label[rows].astype(np.float32))
            loss = loss_fn(net(a, p), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(rows)
        metrics = evaluate(net, val if val is not None else pairs)
        report(
            f"epoch {epoch + 1}/{epochs}: loss {total / len(order):.4f}, "
            f"{'val' if val is not None else 'train'} {metrics} "
            f"({time.perf_counter() - started:.0f} s)"
        )
    return net.eval(), metrics


def build_model(
    net: Discriminator,
    config: OnlineConfig,
    radius: np.ndarray,
    theta: np.ndarray,
    meta: dict[str, object],
) -> OnlineModel:
    return OnlineModel(net, config, radius, theta, meta=dict(meta))
