"""Turning K-FPN scores into key frames, with or without a budget.

Without a budget the paper's natural count is used: the frames whose indicator s ≥ 0.99.
With a budget the answer is the set of that many frames that (greedily) minimises the same
recovery objective the network was trained on, ``Σ_windows ‖(I + ρ⁻¹ D Dᵀ diag(s))⁻¹ Y‖²_F``
with a binary s, starting from the network's natural set and adding (or removing) one frame
at a time, each time the one that helps most (hurts least). Unlike a top-k of the scores, this
does not pile frames into one burst of motion: a frame is worth adding only for what the
frames already chosen cannot rebuild.

Each window's Y is replaced by ``U Σ`` from its SVD (T x rank): ``‖A Y‖_F = ‖A U Σ‖_F``
exactly, so the objective costs T x T solves whatever the feature size.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 0.99


def reduce_window(y: np.ndarray) -> np.ndarray:
    """(T, M) -> (T, rank) with the same ``‖A ·‖_F`` for every T x T matrix A."""
    u, sv, _ = np.linalg.svd(y.astype(np.float64), full_matrices=False)
    keep = sv > sv.max(initial=0.0) * 1e-9
    return np.asarray(u[:, keep] * sv[keep])


class RecoveryObjective:
    """The binary-s recovery error over overlapping windows of grid positions."""

    def __init__(
        self,
        dictionary: np.ndarray,
        windows_y: list[np.ndarray],
        windows_frames: np.ndarray,
        rho: float,
    ) -> None:
        self.ddt = dictionary @ dictionary.T / rho  # (T, T)
        self.ys = windows_y  # per window (T, rank)
        self.frames = windows_frames  # (W, T) real frame index of each window slot
        self.eye = np.eye(self.ddt.shape[0])

    def window_errors(self, w: int, masks: np.ndarray) -> np.ndarray:
        """Recovery error of window w for each binary mask row (n, T)."""
        a = self.eye[None] + self.ddt[None] * masks[:, None, :]
        y = np.broadcast_to(self.ys[w], (masks.shape[0], *self.ys[w].shape))
        r = np.linalg.solve(a, y)
        return np.asarray((r * r).sum(axis=(1, 2)))

    def mask(self, w: int, chosen: set[int]) -> np.ndarray:
        return np.isin(self.frames[w], list(chosen)).astype(np.float64)

    def total(self, chosen: set[int]) -> float:
        return float(
            sum(self.window_errors(w, self.mask(w, chosen)[None])[0] for w in range(len(self.ys)))
        )

    def _window_deltas(self, w: int, chosen: set[int], adding: bool) -> dict[int, float]:
        """Change in window w's error for flipping each of its frames in/out of ``chosen``."""
        in_window = {int(f) for f in self.frames[w]}
        cands = sorted(f for f in in_window if (f in chosen) != adding)
        if not cands:
            return {}
        masks = np.repeat(self.mask(w, chosen)[None], len(cands) + 1, axis=0)
        for i, f in enumerate(cands):
            masks[i + 1, self.frames[w] == f] = 1.0 if adding else 0.0
        errs = self.window_errors(w, masks)
        return {f: float(errs[i + 1] - errs[0]) for i, f in enumerate(cands)}

    def _step(
        self,
        chosen: set[int],
        adding: bool,
        cache: dict[int, dict[int, float]],
        keep: set[int] = frozenset(),  # type: ignore[assignment]
        min_gap: int = 0,
    ) -> int:
        total: dict[int, float] = {}
        for w in range(len(self.ys)):
            if w not in cache:
                cache[w] = self._window_deltas(w, chosen, adding)
            for f, d in cache[w].items():
                if f not in keep:
                    total[f] = total.get(f, 0.0) + d
        if adding and min_gap > 0 and chosen:
            near = np.asarray(sorted(chosen))
            far = {f: d for f, d in total.items() if np.abs(near - f).min() >= min_gap}
            total = far or total  # relax the spacing when nothing is far enough
        best = min(total, key=lambda f: (total[f], f))
        # Only the windows holding the flipped frame change; the others keep their deltas.
        for changed in np.flatnonzero((self.frames == best).any(axis=1)).tolist():
            cache.pop(changed, None)
        return best

    def minimise(self, cost: float) -> list[int]:
        """Greedy minimiser of ``error + cost × |chosen|`` (eq. 16 with a binary s): add the
        most useful frame while it lowers the error by more than ``cost``."""
        chosen: set[int] = set()
        cache: dict[int, dict[int, float]] = {}
        total = len(np.unique(self.frames))
        while len(chosen) < total:
            deltas: dict[int, float] = {}
            for w in range(len(self.ys)):
                if w not in cache:
                    cache[w] = self._window_deltas(w, chosen, True)
                for f, d in cache[w].items():
                    deltas[f] = deltas.get(f, 0.0) + d
            best = min(deltas, key=lambda f: (deltas[f], f))
            if -deltas[best] <= cost:
                break
            chosen.add(best)
            for changed in np.flatnonzero((self.frames == best).any(axis=1)).tolist():
                cache.pop(changed, None)
        return sorted(chosen)

    def greedy(
        self,
        seed: set[int],
        budget: int,
        keep: set[int] = frozenset(),  # type: ignore[assignment]
        min_gap: int = 0,
    ) -> list[int]:
        """Grow or shrink ``seed`` one frame at a time to ``budget`` frames; frames in
        ``keep`` (if they fit the budget) are added first and never removed. Added frames
        keep ``min_gap`` frames from the chosen ones while any candidate can."""
        budget = min(budget, len(np.unique(self.frames)))
        keep = set(keep) if len(keep) <= budget else set()
        chosen = set(seed) | keep
        cache: dict[int, dict[int, float]] = {}
        while len(chosen) > budget:
            chosen.remove(self._step(chosen, False, cache, keep))
        cache = {}
        while len(chosen) < budget:
            chosen.add(self._step(chosen, True, cache, min_gap=min_gap))
        return sorted(chosen)


def threshold_frames(positions: np.ndarray, pos_scores: np.ndarray) -> list[int]:
    """The natural count: real frames of grid positions with s ≥ 0.99."""
    return sorted({int(f) for f in positions[pos_scores >= THRESHOLD]})


def normalise_sequence_windows(y: np.ndarray, rows: np.ndarray, scale: str) -> list[np.ndarray]:
    """Each window ``y[rows[w]]`` centred over time and scaled, reduced by ``reduce_window``.

    ``scale``: ``"window"`` gives every window unit Frobenius norm (the K-FPN loss's scaling:
    each window asks for its share of key frames whatever its motion); ``"video"`` divides all
    windows by one factor (the whole video's centred norm over its windows), so windows with
    more change weigh more.
    """
    centred = [y[r] - y[r].mean(axis=0, keepdims=True) for r in rows]
    norms = [float(np.linalg.norm(c)) for c in centred]
    if scale == "window":
        scaled = [c / max(n, 1e-12) for c, n in zip(centred, norms, strict=True)]
    elif scale == "video":
        total = float(np.sqrt(np.mean(np.square(norms)))) if norms else 1.0
        scaled = [c / max(total, 1e-12) for c in centred]
    else:
        raise ValueError(f"unknown window scaling {scale!r}")
    return [reduce_window(s) for s in scaled]


def select_on_sequence(
    y: np.ndarray,
    budget: int,
    dictionary: np.ndarray,
    rho: float,
    *,
    anchor_ends: bool = True,
    min_gap: int = 0,
    scale: str = "window",
) -> list[int]:
    """``budget`` frames of a per-frame descriptor sequence ``y`` (F, M) chosen greedily by
    the recovery objective over windows of ``dictionary.shape[0]`` frames overlapping by
    half (the search the K-FPN network is trained to imitate, run on any descriptors).

    The first and last frame come first when ``anchor_ends`` (and the budget allows);
    added frames keep ``min_gap`` frames from the chosen ones while any candidate can.
    """
    from annotator.proposal.windows import window_indices

    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    count = len(y)
    if budget < 1:
        raise ValueError("a budget needs at least one frame")
    rows = window_indices(count, dictionary.shape[0])
    objective = RecoveryObjective(dictionary, normalise_sequence_windows(y, rows, scale), rows, rho)
    ends = {0, count - 1} if anchor_ends else set()
    return objective.greedy(set(), budget, ends, min_gap)


def linear_recovery_costs(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Squared errors of rebuilding ``y`` (F, M) by linear interpolation between key frames.

    ``seg[i, j]``: the frames strictly between key frames i < j; ``head[j]``: the frames
    before a first key frame j (held at its value); ``tail[i]``: after a last key frame i.
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    f = len(y)
    seg = np.zeros((f, f))
    for i in range(f - 1):
        for j in range(i + 2, f):
            w = (np.arange(i + 1, j) - i) / (j - i)
            pred = y[i] + w[:, None] * (y[j] - y[i])
            seg[i, j] = float(np.square(pred - y[i + 1 : j]).sum())
    head = np.array([float(np.square(y[:j] - y[j]).sum()) for j in range(f)])
    tail = np.array([float(np.square(y[i + 1 :] - y[i]).sum()) for i in range(f)])
    return seg, head, tail


def select_linear_recovery(y: np.ndarray, budget: int) -> list[int]:
    """The ``budget`` key frames whose linear interpolation rebuilds ``y`` (F, M) with the
    least squared error (held before the first and after the last), exact by dynamic
    programming."""
    f = len(y)
    k = max(1, min(int(budget), f))
    seg, head, tail = linear_recovery_costs(y)
    seg = np.where(np.triu(np.ones((f, f), dtype=bool), 1), seg, np.inf)
    best = head.copy()  # best[j]: least cost up to frame j with the last key frame at j
    back: list[np.ndarray] = []
    for _ in range(1, k):
        total = best[:, None] + seg
        arg = np.argmin(total, axis=0)
        best = total[arg, np.arange(f)]
        back.append(arg)
    j = int(np.argmin(best + tail))
    frames = [j]
    for arg in reversed(back):
        j = int(arg[j])
        frames.append(j)
    return sorted(frames)
