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


# Exact search while budget x frames x longest gap (its work) stays below this; beyond it
# (videos over about 5 000 frames), a Lagrangian search whose work is frames x longest gap.
EXACT_LIMIT = 100_000_000
# Longest gap between key frames the search considers, in multiples of the even spacing.
MAX_GAP_SHARE = 4.0
BAND_CHUNK = 8192  # gaps whose costs are computed at a time (rows of each temporary)


def _prefix_sums(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f = len(y)
    t = np.arange(f, dtype=np.float64)[:, None]
    zero = np.zeros((1, y.shape[1]))
    p0 = np.concatenate([zero, np.cumsum(y, axis=0)])
    p1 = np.concatenate([zero, np.cumsum(t * y, axis=0)])
    q = np.concatenate([[0.0], np.cumsum(np.square(y).sum(axis=1))])
    return p0, p1, q


def banded_linear_costs(y: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``linear_recovery_costs`` for gaps up to ``max_gap`` frames, from prefix sums:
    ``band[j, g]`` is ``seg[j - g, j]`` (inf where ``j - g < 0`` or ``g = 0``); memory and
    time grow with frames x ``max_gap``, not frames²."""
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    y = y - y.mean(axis=0, keepdims=True)  # smaller sums, same costs
    f = len(y)
    p0, p1, q = _prefix_sums(y)
    sq = np.square(y).sum(axis=1)
    band = np.full((f, max_gap + 1), np.inf)
    for g in range(1, max_gap + 1):
        n, sw, sw2 = g - 1, (g - 1) / 2, (g - 1) * (2 * g - 1) / (6 * g)
        # the gaps ending at j in chunks of BAND_CHUNK: each temporary is (chunk, M), not
        # (frames, M) (six of those at 100,000 frames and 64 axes: over 300 MB at once)
        for lo in range(g, f, BAND_CHUNK):
            j = np.arange(lo, min(f, lo + BAND_CHUNK))
            i = j - g
            yi, yj = y[i], y[j]
            d = yj - yi
            s0 = p0[j] - p0[i + 1]
            s1 = p1[j] - p1[i + 1]
            swy = (s1 - i[:, None] * s0) / g
            cost = (
                (q[j] - q[i + 1])
                - 2 * (s0 * yi).sum(axis=1)
                - 2 * (swy * d).sum(axis=1)
                + n * sq[i]
                + 2 * sw * (yi * d).sum(axis=1)
                + sw2 * np.square(d).sum(axis=1)
            )
            band[j, g] = np.maximum(cost, 0.0)
    head = np.maximum(q[:f] - 2 * (p0[:f] * y).sum(axis=1) + np.arange(f) * sq, 0.0)
    after = np.arange(f - 1, -1, -1)
    tail = q[f] - q[1:] - 2 * ((p0[f] - p0[1:]) * y).sum(axis=1) + after * sq
    return band, head, np.maximum(tail, 0.0)


def _shifted(best: np.ndarray, max_gap: int) -> np.ndarray:
    """``out[j, g] = best[j - g]`` (inf where out of range)."""
    f = len(best)
    out = np.full((f, max_gap + 1), np.inf)
    for g in range(1, min(max_gap, f - 1) + 1):
        out[g:, g] = best[: f - g]
    return out


def _exact(band: np.ndarray, head: np.ndarray, tail: np.ndarray, k: int) -> list[int]:
    f, width = band.shape
    best = head.copy()
    back: list[np.ndarray] = []
    for _ in range(1, k):
        total = _shifted(best, width - 1) + band
        arg = np.argmin(total, axis=1)
        best = total[np.arange(f), arg]
        back.append(arg.astype(np.int32))
    j = int(np.argmin(best + tail))
    frames = [j]
    for arg in reversed(back):
        j -= int(arg[j])
        frames.append(j)
    return sorted(frames)


def _penalised(band: np.ndarray, head: np.ndarray, tail: np.ndarray, lam: float) -> list[int]:
    """Least ``cost + lam x key frames`` (no count constraint), one pass over the frames."""
    f, width = band.shape
    best = np.empty(f)
    prev = np.full(f, -1, dtype=np.int64)
    for j in range(f):
        lo = max(0, j - width + 1)
        cands = best[lo:j][::-1] + band[j, 1 : j - lo + 1]  # gaps 1..j-lo
        start = head[j]
        if len(cands) and cands.min() < start:
            g = int(np.argmin(cands)) + 1
            best[j], prev[j] = cands[g - 1] + lam, j - g
        else:
            best[j] = start + lam
    j = int(np.argmin(best + tail))
    frames = [j]
    while prev[j] >= 0:
        j = int(prev[j])
        frames.append(j)
    return sorted(frames)


def _lagrangian(band: np.ndarray, head: np.ndarray, tail: np.ndarray, k: int) -> list[int]:
    """A penalty that gives about ``k`` key frames (bisection), then the count made exact by
    merging the cheapest pair of gaps or splitting a gap in the middle."""
    lo, hi = 0.0, float(head.max() + tail.max() + 1.0)
    frames = _penalised(band, head, tail, lo)
    for _ in range(40):
        if len(frames) == k:
            break
        mid = (lo + hi) / 2
        frames = _penalised(band, head, tail, mid)
        if len(frames) > k:
            lo = mid
        else:
            hi = mid
    width = band.shape[1] - 1
    chosen = sorted(set(frames))
    while len(chosen) > k:
        merge = [
            band[c, c - a] if c - a <= width else np.inf
            for a, c in zip(chosen[:-2], chosen[2:], strict=True)
        ]
        chosen.pop(int(np.argmin(merge)) + 1 if merge else len(chosen) - 1)
    while len(chosen) < k:
        gaps = np.diff([0, *chosen, len(head) - 1])
        at = int(np.argmax(gaps))
        left = 0 if at == 0 else chosen[at - 1]
        new = left + int(gaps[at]) // 2
        if new in chosen:
            break
        chosen = sorted({*chosen, new})
    return chosen


def reduce_dims(y: np.ndarray, max_dims: int = 256, energy: float = 0.9999) -> np.ndarray:
    """(F, M) -> (F, r): the centred rows in their principal axes, keeping ``energy`` of the
    variance (at most ``max_dims`` axes). Linear-recovery costs only depend on distances
    between rows, which a full rotation keeps exactly; the axes are found by a randomized
    range finder (one power iteration), so the cost grows like F x M x ``max_dims``."""
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    y = y - y.mean(axis=0, keepdims=True)
    if y.shape[1] <= max_dims:
        return y
    if len(y) <= max_dims:
        # The rows' Gram matrix (F x F) holds y's left singular vectors and squared singular
        # values; its eigendecomposition costs a fraction of an SVD of the wide y (2.5 s of
        # CPU against 0.05 s at 240 x 2880 here) and keeps the distances between rows.
        w, u = np.linalg.eigh(y @ y.T)
        sv = np.sqrt(np.clip(w[::-1], 0.0, None))
        axes = u[:, ::-1] * sv
    else:
        rng = np.random.default_rng(0)
        probe = rng.normal(size=(y.shape[1], max_dims + 16))
        q, _ = np.linalg.qr(y @ probe)
        q, _ = np.linalg.qr(y @ (y.T @ q))
        _, sv, vt = np.linalg.svd(q.T @ y, full_matrices=False)
        axes = y @ vt.T
    share = np.cumsum(sv**2) / max(float((sv**2).sum()), 1e-300)
    keep = min(max_dims, int(np.searchsorted(share, energy)) + 1)
    return np.asarray(axes[:, :keep])


def _force(band: np.ndarray, head: np.ndarray, tail: np.ndarray, keep: set[int]) -> None:
    """Forbid (in place) every choice that would skip a frame of ``keep``."""
    f, width = band.shape
    forced = np.zeros(f + 1, dtype=np.int64)
    forced[1:] = np.cumsum(np.isin(np.arange(f), sorted(keep)))  # forced[t]: kept frames < t
    j = np.arange(f)
    head[forced[j] > 0] = np.inf
    tail[(forced[f] - forced[j + 1]) > 0] = np.inf
    for g in range(2, width):
        jj = j[g:]
        band[jj, g] = np.where(forced[jj] - forced[jj - g + 1] > 0, np.inf, band[jj, g])


def select_linear_recovery(
    y: np.ndarray,
    budget: int,
    max_gap: int | None = None,
    anchor_ends: bool = False,
) -> list[int]:
    """The ``budget`` key frames whose linear interpolation rebuilds ``y`` (F, M) with the
    least squared error (held before the first and after the last key frame; with
    ``anchor_ends`` and a budget of two or more, the first and last frame are key frames).

    Exact by dynamic programming over gaps of at most ``max_gap`` frames (default
    ``MAX_GAP_SHARE`` x the even spacing, and every gap on short inputs); on long videos with
    large budgets (budget x frames x ``max_gap`` over ``EXACT_LIMIT``) a Lagrangian search
    whose count is then made exact.
    """
    f = len(y)
    k = max(1, min(int(budget), f))
    if max_gap is None:
        max_gap = f if f <= 400 else max(8, int(np.ceil(MAX_GAP_SHARE * f / k)))
    max_gap = max(1, min(max_gap, f - 1)) if f > 1 else 1
    band, head, tail = banded_linear_costs(reduce_dims(y), max_gap)
    if anchor_ends and k >= 2:
        _force(band, head, tail, {0, f - 1})
    if k * f * max_gap <= EXACT_LIMIT:
        return _exact(band, head, tail, k)
    return _lagrangian(band, head, tail, k)
