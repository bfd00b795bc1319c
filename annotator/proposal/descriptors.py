"""Per-frame descriptor sequences for the recovery objective, by kind, cached per video.

K-FPN's objective (eq. 16) asks how well a DYAN dictionary rebuilds a window of per-frame
features from a few key frames. Which features it sees decides which frames it buys. On whole
image features (``effnet``) the unpredictable change is mostly the scene's (cuts, pans, light
steps, occluders), not the person's pose. The other kinds here describe the person's motion:

- ``effnet``: the EfficientNet-Lite0 7 x 7 maps average-pooled to 3 x 3 (the shipped model's
  loss target), ``(F, 320 * 9)``.
- ``fgmotion``: foreground motion from the codec's motion vectors
  (``annotator.video.motion.extract_motion``): the camera's motion (an affine field fitted
  robustly to every valid cell) is subtracted, what is left is average-pooled onto a
  ``FG_GRID x FG_GRID`` grid and accumulated over time, so each grid cell's (x, y) is a
  displacement that rises and falls as the limbs in it move and turn back, like a joint
  trajectory. ``(F, 2 * FG_GRID²)``, in pixels divided by the frame's longer side.
- ``effnet-fg``: the EfficientNet 7 x 7 maps weighted per spatial cell by foreground-motion
  saliency (|field - camera|, smoothed over a few frames, normalised to sum 1 per frame) and
  pooled to 3 x 3, so appearance changes count where something moves against the camera.

Frames without motion information (I-frames, scene cuts, frame 0: most cells invalid) take
the foreground motion of their neighbours in time (``fgmotion``) or a flat weight
(``effnet-fg``), so a cut or an intra frame does not look like a burst of movement.

Each kind is cached as float16 in ``cache_dir("features")/<fingerprint>-<kind>-v<N>.npy``,
its own key beside the backbone maps (``features.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from annotator.core.paths import cache_dir
from annotator.errors import UsageError
from annotator.proposal.backbones import feature_key
from annotator.proposal.features import load_cached, reading, save_cached, video_features
from annotator.video.base import VideoReader

FloatArray = NDArray[np.float64]

KINDS = ("effnet", "fgmotion", "effnet-fg")
VERSION = 1
MOTION_CELL = 8  # px per motion cell
FG_GRID = 4  # foreground motion pooled onto FG_GRID x FG_GRID
MIN_VALID = 0.5  # a frame with fewer valid motion cells carries no motion information
SALIENCY_FRAMES = 5  # frames the saliency is smoothed over (centred)
SALIENCY_FLOOR = 0.05  # share of the weight spread evenly, so no cell is ignored entirely
BACKBONE = "efficientnet-lite0"


def camera_motion(
    dx: FloatArray, dy: FloatArray, valid: NDArray[np.bool_], iterations: int = 3
) -> tuple[FloatArray, FloatArray]:
    """The camera's share of one frame's field: an affine field fitted to the valid cells,
    refitted on the cells it explains (the background) so moving limbs do not pull it.

    Returns the fitted (dx, dy) on the whole grid; zeros when too few cells are valid.
    """
    gh, gw = dx.shape
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float64)
    xx = (xx - (gw - 1) / 2) / max(gw, 1)
    yy = (yy - (gh - 1) / 2) / max(gh, 1)
    design = np.stack([np.ones_like(xx), xx, yy], axis=-1).reshape(-1, 3)
    target = np.stack([dx, dy], axis=-1).reshape(-1, 2)
    use = valid.reshape(-1) & np.isfinite(target).all(axis=1)
    if use.sum() < 6:
        return np.zeros_like(dx), np.zeros_like(dy)
    coef = np.zeros((3, 2))
    for _ in range(iterations):
        coef, *_ = np.linalg.lstsq(design[use], target[use], rcond=None)
        err = np.linalg.norm(target - design @ coef, axis=1)
        # Keep the cells within 1 px or twice the median misfit: the background.
        limit = max(1.0, 2.0 * float(np.median(err[use])))
        keep = use & (err <= limit)
        if keep.sum() < 6 or (keep == use).all():
            break
        use = keep
    fit = (design @ coef).reshape(gh, gw, 2)
    return fit[..., 0], fit[..., 1]


def foreground_motion(
    dx: FloatArray, dy: FloatArray, valid: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """(F, gh, gw) field minus camera motion per frame (0 where invalid), and per frame
    whether it carries motion information (enough valid cells)."""
    fx = np.zeros(dx.shape, dtype=np.float64)
    fy = np.zeros(dy.shape, dtype=np.float64)
    informative = valid.reshape(len(valid), -1).mean(axis=1) >= MIN_VALID
    for t in range(len(dx)):
        if not informative[t]:
            continue
        ok = valid[t] & np.isfinite(dx[t]) & np.isfinite(dy[t])
        cx, cy = camera_motion(dx[t], dy[t], ok)
        fx[t] = np.where(ok, dx[t] - cx, 0.0)
        fy[t] = np.where(ok, dy[t] - cy, 0.0)
    return fx, fy, informative


def _pool(a: FloatArray, grid: int) -> FloatArray:
    """(F, gh, gw) -> (F, grid, grid) block means (cells split as evenly as possible)."""
    f, gh, gw = a.shape
    rows = np.linspace(0, gh, grid + 1).round().astype(int)
    cols = np.linspace(0, gw, grid + 1).round().astype(int)
    out = np.zeros((f, grid, grid))
    for i in range(grid):
        for j in range(grid):
            block = a[
                :, rows[i] : max(rows[i + 1], rows[i] + 1), cols[j] : max(cols[j + 1], cols[j] + 1)
            ]
            out[:, i, j] = block.mean(axis=(1, 2))
    return out


def _fill_uninformative(x: FloatArray, informative: NDArray[np.bool_]) -> FloatArray:
    """Rows of frames without motion information replaced by the mean of the nearest
    informative frames before and after (zero when there are none)."""
    good = np.flatnonzero(informative)
    out: FloatArray = x.copy()
    if len(good) == 0:
        return np.zeros_like(x)
    for t in np.flatnonzero(~informative):
        before, after = good[good < t], good[good > t]
        near = [v[-1] for v in (before,) if len(v)] + [v[0] for v in (after,) if len(v)]
        out[t] = x[near].mean(axis=0)
    return out


def fgmotion_descriptor(
    dx: FloatArray, dy: FloatArray, valid: NDArray[np.bool_], scale: float, grid: int = FG_GRID
) -> FloatArray:
    """(F, 2 * grid²): foreground motion pooled on the grid, accumulated over time, in
    units of ``scale`` px (the frame's longer side)."""
    fx, fy, informative = foreground_motion(dx, dy, valid)
    per_frame = np.concatenate(
        [_pool(fx, grid).reshape(len(fx), -1), _pool(fy, grid).reshape(len(fy), -1)], axis=1
    )
    per_frame = _fill_uninformative(per_frame, informative)
    per_frame[0] = 0.0  # frame 0 has no predecessor: positions start at zero
    return np.cumsum(per_frame, axis=0) / max(scale, 1.0)


def saliency(dx: FloatArray, dy: FloatArray, valid: NDArray[np.bool_], size: int = 7) -> FloatArray:
    """(F, size, size) foreground-motion weights per frame, each summing to 1."""
    fx, fy, informative = foreground_motion(dx, dy, valid)
    mag = np.hypot(fx, fy)
    pooled = _pool(mag, size).reshape(len(mag), -1)
    pooled = _fill_uninformative(pooled, informative)
    if len(pooled) > 1:
        half = SALIENCY_FRAMES // 2
        padded = np.pad(pooled, ((half, half), (0, 0)), mode="edge")
        kernel = np.ones(SALIENCY_FRAMES) / SALIENCY_FRAMES
        pooled = np.stack(
            [np.convolve(padded[:, k], kernel, mode="valid") for k in range(pooled.shape[1])],
            axis=1,
        )
    total = pooled.sum(axis=1, keepdims=True)
    even = np.full_like(pooled, 1.0 / pooled.shape[1])
    w = np.where(total > 1e-9, pooled / np.where(total > 1e-9, total, 1.0), even)
    w = (1 - SALIENCY_FLOOR) * w + SALIENCY_FLOOR * even
    return w.reshape(len(w), size, size)


def weighted_maps(maps: FloatArray, weights: FloatArray, pool: int = 3) -> FloatArray:
    """(F, C, 7, 7) maps x (F, 7, 7) weights -> (F, C * pool²) weighted sums per pool block."""
    f, c, h, w = maps.shape
    x = maps * weights[:, None] * (h * w)  # an even weight leaves the maps as they are
    rows = np.linspace(0, h, pool + 1).round().astype(int)
    cols = np.linspace(0, w, pool + 1).round().astype(int)
    out = np.zeros((f, c, pool, pool))
    for i in range(pool):
        for j in range(pool):
            out[:, :, i, j] = x[:, :, rows[i] : rows[i + 1], cols[j] : cols[j + 1]].mean(
                axis=(2, 3)
            )
    return out.reshape(f, -1)


def _motion(path: Path) -> tuple[FloatArray, FloatArray, NDArray[np.bool_], float]:
    from annotator.video.motion import extract_motion

    m = extract_motion(path, cell=MOTION_CELL)
    dx = np.asarray(m.dx, dtype=np.float64)
    dy = np.asarray(m.dy, dtype=np.float64)
    return dx, dy, np.asarray(m.valid, dtype=bool), float(max(m.width, m.height))


def _compute(kind: str, source: VideoReader, path: Path, device: str) -> FloatArray:
    if kind == "fgmotion":
        dx, dy, valid, scale = _motion(path)
        return fgmotion_descriptor(dx, dy, valid, scale)
    maps = np.asarray(video_features(source, BACKBONE, device=device), dtype=np.float64)
    if kind == "effnet":
        return weighted_maps(maps, np.full((len(maps), 7, 7), 1.0 / 49))
    dx, dy, valid, _ = _motion(path)
    n = min(len(maps), len(dx))
    w = np.full((len(maps), 7, 7), 1.0 / 49)
    w[:n] = saliency(dx[:n], dy[:n], valid[:n])
    return weighted_maps(maps, w)


def cache_path(fingerprint: str, kind: str) -> Path:
    # descriptors built on the backbone's maps name its input and step (``feature_key``)
    if kind.startswith("effnet"):
        kind = feature_key(kind)
    return cache_dir("features") / f"{fingerprint}-{kind}-v{VERSION}.npy"


def descriptors(
    video: str | Path | VideoReader,
    kind: str,
    *,
    device: str = "cpu",
    use_cache: bool = True,
    compute: Callable[[str, VideoReader, Path, str], FloatArray] = _compute,
) -> FloatArray:
    """float64 ``(frames, M)`` descriptors of ``kind`` for every frame of ``video``."""
    if kind not in KINDS:
        raise UsageError(f"unknown descriptor kind {kind!r}; choose one of: {', '.join(KINDS)}")
    with reading(video) as source:
        path = Path(video) if isinstance(video, (str, Path)) else Path(getattr(source, "path", ""))
        target = cache_path(source.fingerprint, kind)
        cached = load_cached(target, 2) if use_cache else None
        if cached is not None:
            return np.asarray(cached, dtype=np.float64)
        out = np.asarray(compute(kind, source, path, device), dtype=np.float64)
    if use_cache:
        save_cached(target, out)
    return out
