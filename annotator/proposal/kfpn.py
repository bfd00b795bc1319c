"""K-FPN proposals for a whole video: saved models, and features -> key frames.

A model file (``torch.save``, loaded with ``weights_only=True``) holds ``format``, the
network ``config``, its ``state`` (float16 to keep the file small), the loss settings and
free-form ``meta`` (training data, epochs, time). The shipped default is ``models/kfpn.pt``
at the repository root; ``ANNOTATOR_KFPN_MODEL`` or ``--model`` point elsewhere.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from annotator.core.paths import models_dir
from annotator.core.progress import ShouldStop, check_stop
from annotator.core.safeio import atomic_output, not_weights_error, read_bytes
from annotator.dynamics.condition import one_blas_thread
from annotator.errors import UsageError
from annotator.proposal import loss as kloss
from annotator.proposal import windows as win
from annotator.proposal.network import Kfpn, KfpnConfig
from annotator.proposal.select import (
    RecoveryObjective,
    reduce_window,
    select_linear_recovery,
    threshold_frames,
)

FORMAT = "annotator.kfpn/1"
DEFAULT_MODEL = "kfpn.pt"
WINDOW_BATCH = 8


@dataclass
class LoadedModel:
    net: Kfpn
    rho: float
    path: Path | None = None
    sha256: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> KfpnConfig:
        return self.net.config


def default_model_path() -> Path:
    env = os.environ.get("ANNOTATOR_KFPN_MODEL")
    return Path(env) if env else models_dir() / DEFAULT_MODEL


def save_model(
    path: str | Path, net: Kfpn, *, rho: float, meta: dict[str, Any] | None = None
) -> None:
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    blob = {
        "format": FORMAT,
        "config": net.config.to_dict(),
        "state": state,
        "rho": rho,
        "meta": meta or {},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, UsageError) as tmp:
        torch.save(blob, tmp)


def load_model(path: str | Path | None = None) -> LoadedModel:
    path = Path(path) if path is not None else default_model_path()
    if not path.exists():
        raise UsageError(f"K-FPN model file not found: {path} (train one: annotator train kfpn)")
    raw = read_bytes(path, MAX_MODEL_BYTES, UsageError)
    try:
        blob = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception:
        raise not_weights_error(path, "a K-FPN model") from None
    try:
        if not isinstance(blob, dict) or blob.get("format") != FORMAT:
            raise ValueError("no 'format' marker")
        net = Kfpn(KfpnConfig(**blob["config"]))
        state = {k: v.float() if v.is_floating_point() else v for k, v in blob["state"].items()}
        net.load_state_dict(state)
        rho = float(blob["rho"])
        meta = dict(blob.get("meta", {}))
    except Exception as err:  # any unreadable file is the user's to fix
        reason = (str(err).splitlines() or [type(err).__name__])[0][:120]
        raise UsageError(f"{path} is not a K-FPN model file ({reason})") from None
    if not all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point()):
        raise UsageError(f"{path.name}: the K-FPN weights hold NaN or infinite values")
    if not math.isfinite(rho):
        raise UsageError(f"{path.name}: rho = {rho!r} is not a finite number")
    digest = hashlib.sha256(raw).hexdigest()
    return LoadedModel(net.eval(), rho, path, digest, meta)


MAX_MODEL_BYTES = 512 * 1024 * 1024


def _check_features(model: LoadedModel, feats: np.ndarray) -> None:
    cfg = model.config
    if feats.ndim != 4 or feats.shape[1] != cfg.in_channels:
        raise UsageError(
            f"the K-FPN model expects {cfg.in_channels}-channel {cfg.backbone} features, "
            f"got shape {feats.shape}"
        )


def window_scores(
    model: LoadedModel,
    feats: np.ndarray,
    positions: np.ndarray,
    device: str = "cpu",
    should_stop: ShouldStop | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(window position indices (W, T), indicator s per window (W, T)) on the time grid."""
    _check_features(model, feats)
    idx = win.window_indices(len(positions), model.config.window)
    net = model.net.to(device).eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(idx), WINDOW_BATCH):
            check_stop(should_stop, "K-FPN")
            frames = positions[idx[start : start + WINDOW_BATCH]]  # (b, T) real frames
            x = torch.from_numpy(feats[frames]).float().to(device)
            out.append(net(x).float().cpu().numpy())
    return idx, np.concatenate(out).astype(np.float64)


def objective(
    model: LoadedModel, feats: np.ndarray, positions: np.ndarray, idx: np.ndarray
) -> RecoveryObjective:
    """The recovery objective over the windows ``idx`` of grid ``positions``."""
    with torch.no_grad():
        dictionary = model.net.dictionary().double().cpu().numpy()
    ys = []
    for row in idx:
        x = torch.from_numpy(feats[positions[row]]).double()[None]
        ys.append(reduce_window(kloss.loss_features(x, model.config.loss_pool)[0].numpy()))
    return RecoveryObjective(dictionary, ys, positions[idx], model.rho)


# Picks of the eq. 16 search keep at least this share of the uniform spacing apart: on image
# features the objective otherwise spends frames in adjacent pairs on appearance events (cuts,
# pans, light steps) and leaves gaps the pose fill cannot bridge (models/kfpn.md).
MIN_GAP_SHARE = 0.75
# How frames are placed: "linear" (default), the frames whose linear interpolation rebuilds
# the feature sequence best (exact search); "eq16", the greedy search on the DYAN recovery
# objective the network is trained on. docs/kfpn.md, "Placing the frames", says why.
SEARCHES = ("linear", "eq16")
DEFAULT_SEARCH = "linear"
POOL_CHUNK = 512  # frames pooled at once (bounded memory on long videos)
# Past this many grid steps the linear search reads descriptors rotated onto their first
# LONG_DIMS principal axes as it streams the features (short videos keep up to 256,
# ``select.reduce_dims``): the search's prefix sums and per-gap temporaries are several
# (steps x axes) float64 arrays, over 1 GiB at 100,000 frames with 256 axes.
LONG_GRID = 4_000
LONG_DIMS = 64


def _gap(count: int, budget: int) -> int:
    return round(MIN_GAP_SHARE * count / max(budget, 1))


def grid_descriptors(model: LoadedModel, feats: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(grid steps, C x pool²): the backbone maps of each grid step average-pooled to the
    loss's ``loss_pool`` x ``loss_pool`` (the layout eq. 16 sees, without its per-window
    scaling)."""
    pool = model.config.loss_pool
    out = []
    for start in range(0, len(positions), POOL_CHUNK):
        x = torch.from_numpy(np.asarray(feats[positions[start : start + POOL_CHUNK]])).float()
        pooled = torch.nn.functional.adaptive_avg_pool2d(x, pool)
        out.append(pooled.reshape(len(x), -1).double().numpy())
    return np.concatenate(out)


def frames_of_steps(picked: list[int], positions: np.ndarray, count: int, want: int) -> list[int]:
    """Real frames of picked grid steps; when two steps share a frame (a video slower than
    the grid), the middles of the largest gaps make up the count."""
    frames = sorted({int(positions[i]) for i in picked})
    while len(frames) < min(want, count):
        edges = [-1, *frames, count]
        gaps = np.diff(edges)
        at = int(np.argmax(gaps))
        frames = sorted({*frames, min(count - 1, max(0, edges[at] + int(gaps[at]) // 2))})
    return frames


def _place(
    model: LoadedModel,
    feats: np.ndarray,
    positions: np.ndarray,
    idx: np.ndarray,
    seed: set[int],
    want: int,
    ends: set[int],
    search: str,
) -> list[int]:
    # A short video's search is many small products and one small eigendecomposition, which
    # OpenBLAS's threads slow down many times over when they wait for the CPU (a loaded
    # machine, or torch's threads just done with the windows): 240 frames took 4.6 s of CPU
    # so, 0.1 s on one thread (``annotator bench proposal-speed``). A long video's large
    # products keep BLAS's threads, which pay there.
    long = len(positions) > LONG_GRID
    threads: AbstractContextManager[object] = nullcontext() if long else one_blas_thread()
    with threads:
        count = feats.shape[0]
        if search == "eq16":
            scored = objective(model, feats, positions, idx)
            return scored.greedy(seed, want, ends, _gap(count, want))
        if search != "linear":
            names = ", ".join(SEARCHES)
            raise UsageError(f"unknown K-FPN search {search!r}; choose one of: {names}")
        if long and model.config.loss_pool == 3:
            # long videos: pooled and rotated in chunks, never (steps x C x 9) float64 at once
            from annotator.proposal.ranking_video import descriptors_from_features

            y = descriptors_from_features(feats, LONG_DIMS, rows=positions)
        else:
            y = grid_descriptors(model, feats, positions)
        grid_want = min(want, len(positions))
        picked = select_linear_recovery(y, grid_want, anchor_ends=bool(ends))
        return frames_of_steps(picked, positions, count, want)


@dataclass(frozen=True)
class KfpnResult:
    frames: list[int]
    scores: list[float]


def propose_from_features(
    model: LoadedModel,
    feats: np.ndarray,
    fps: float,
    budget: int | None = None,
    device: str = "cpu",
    should_stop: ShouldStop | None = None,
    anchor_ends: bool | None = None,
    natural: str = "expected",
    search: str = DEFAULT_SEARCH,
) -> KfpnResult:
    """Key frames of a video given its per-frame features (frames, C, 7, 7).

    ``anchor_ends`` adds the first and last frame (within the budget): a fill can only
    interpolate between labels, never past the first or last one. The default (None) is
    True for the eq. 16 search, whose objective does not see that, and for the natural
    count, which starts an interactive session whose next-frame ranking (the fill's
    uncertainty) only looks between labels; with a budget the linear search prices holding
    the first and last label to the ends itself and is left free (on the training renders
    it placed frames better so: docs/kfpn.md).

    ``natural`` (no budget): ``"threshold"`` is the paper's rule, the frames with s ≥ 0.99;
    ``"expected"`` (default) places the expected count Σ s (at least those frames) by the
    search. The shipped network is trained to predict a search's binary minimiser, so its s
    is a probability that rarely reaches 0.99 on ambiguous frames; Σ s still says how many
    key frames the video needs.

    ``search`` places the frames: ``"linear"`` (default) picks the frames whose linear
    interpolation rebuilds the pooled feature sequence best (``select_linear_recovery``,
    exact; the network's s ≥ 0.99 frames only raise the natural count, as its saturated
    outputs sit at fixed places in its windows and would make the set uniform spacing);
    ``"eq16"`` grows the network's natural set greedily on the DYAN recovery objective, picks
    ``MIN_GAP_SHARE`` x the uniform spacing apart.
    """
    count = feats.shape[0]
    positions = win.resample_positions(count, fps, model.config.fps)
    idx, s = window_scores(model, feats, positions, device, should_stop)
    pos_scores = win.merge_scores(s, len(positions))
    frames = threshold_frames(positions, pos_scores)
    if anchor_ends is None:
        anchor_ends = search == "eq16" or budget is None
    ends = {0, count - 1} if anchor_ends else set()
    if budget is None and natural == "threshold":
        frames = sorted(set(frames) | ends)
    elif budget is None:
        # s is a calibrated probability of being a key frame of eq. 16's minimiser, so Σ s
        # is the expected key frame count; the objective places that many frames.
        expected = round(float(pos_scores.sum()))
        want = max(len(set(frames) | ends), expected)
        frames = _place(model, feats, positions, idx, set(frames), want, ends, search)
    else:
        if budget < 1:
            raise UsageError("a budget needs at least one frame")
        # With a budget the linear search is exact on its own; the network's set only
        # seeds the eq. 16 greedy search.
        frames = _place(model, feats, positions, idx, set(frames), budget, ends, search)
    scores = win.frame_scores(positions, pos_scores, count)
    return KfpnResult(frames, [float(v) for v in scores])
