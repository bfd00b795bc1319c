"""A video's key frames by minimising eq. 16 directly (``direct.py``): the reference for K-FPN.

The objective is the shipped K-FPN model's, on its time grid and windows
(``kfpn.objective``: backbone maps pooled to 3 x 3, each window centred and scaled to unit
norm, the model's 40 learned poles, ρ), so it measures exactly what the network was trained
towards. With a budget no network runs (``direct.direct_search``: 1-exchange descent from
several starts). Without a budget the count is ``kfpn``'s natural count (Σ s of the network,
the first and last frame forced), so the network runs once for that. Not a registered
proposal method: on protocol A its frames fill far worse than ``kfpn``'s (docs/kfpn.md,
"Per-video optimisation").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator.core.progress import ShouldStop
from annotator.errors import UsageError
from annotator.proposal import kfpn
from annotator.proposal import windows as win
from annotator.proposal.direct import WindowedObjective, direct_search
from annotator.proposal.select import threshold_frames

POOL_CHUNK = 512  # grid steps pooled at once


def video_objective(
    model: kfpn.LoadedModel, feats: np.ndarray, fps: float
) -> tuple[WindowedObjective, np.ndarray, np.ndarray]:
    """(eq. 16 over the model's windows, grid positions, window position indices).

    The same windows as ``kfpn.objective`` (``loss.loss_features``: maps pooled to
    ``loss_pool`` x ``loss_pool``, each window centred over time and scaled to unit norm),
    kept as Gram matrices (T x T) instead of reduced by an SVD per window."""
    import torch

    kfpn._check_features(model, feats)
    positions = win.resample_positions(feats.shape[0], fps, model.config.fps)
    idx = win.window_indices(len(positions), model.config.window)
    pool = model.config.loss_pool
    pooled = []
    for start in range(0, len(positions), POOL_CHUNK):
        x = torch.from_numpy(np.asarray(feats[positions[start : start + POOL_CHUNK]])).double()
        pooled.append(torch.nn.functional.adaptive_avg_pool2d(x, pool).flatten(1).numpy())
    y = np.concatenate(pooled)
    grams = []
    for row in idx:
        c = y[row] - y[row].mean(axis=0, keepdims=True)
        grams.append(c @ c.T / max(float(np.square(c).sum()), 1e-16))
    with torch.no_grad():
        d = model.net.dictionary().double().cpu().numpy()
    obj = WindowedObjective.from_dictionary(d, [], positions[idx], model.rho, grams=grams)
    return obj, positions, idx


def propose_direct(
    model: kfpn.LoadedModel,
    feats: np.ndarray,
    fps: float,
    budget: int | None = None,
    device: str = "cpu",
    should_stop: ShouldStop | None = None,
    anchor_ends: bool | None = None,
) -> kfpn.KfpnResult:
    """Key frames of a video (features (frames, C, 7, 7)) by the direct search.

    ``anchor_ends`` (default: False with a budget, as ``kfpn``'s budget mode; True for the
    natural count, which starts an interactive session) forces the first and last frame.
    ``scores`` are the network's s per frame for the natural count, else empty.
    """
    count = feats.shape[0]
    obj, positions, _ = video_objective(model, feats, fps)
    scores: list[float] = []
    if budget is None:
        _, s = kfpn.window_scores(model, feats, positions, device, should_stop)
        pos_scores = win.merge_scores(s, len(positions))
        natural = set(threshold_frames(positions, pos_scores)) | {0, count - 1}
        want = max(len(natural), round(float(pos_scores.sum())))
        scores = [float(v) for v in win.frame_scores(positions, pos_scores, count)]
        ends = True if anchor_ends is None else anchor_ends
    else:
        if budget < 1:
            raise UsageError("a budget needs at least one frame")
        want = budget
        ends = False if anchor_ends is None else anchor_ends
    want = min(want, count)
    picked = direct_search(obj, want, ends, should_stop=should_stop)
    # a video slower than the grid has fewer grid frames than the budget: fill the gaps
    frames = kfpn.frames_of_steps(picked, np.arange(count), count, want)
    return kfpn.KfpnResult(frames, scores)


def propose_direct_video(
    video: str | Path,
    budget: int | None,
    model_path: str | Path | None = None,
    anchor_ends: bool | None = None,
) -> list[int]:
    """``propose_direct`` on a video file: the shipped (or given) K-FPN model's objective on
    its backbone features (computed once, then read from the feature cache)."""
    from annotator.proposal.features import reading, video_features

    model = kfpn.load_model(model_path)
    with reading(video) as source:
        feats = video_features(source, model.config.backbone)
        fps = source.fps
    return propose_direct(model, feats, fps, budget, anchor_ends=anchor_ends).frames
