"""Per-video optimisation of the K-FPN objective (eq. 16), no network: the reference.

The objective is the paper's recovery error with a binary indicator s, summed over the
model's windows (T grid steps overlapping by half):
``Σ_windows ‖(I + ρ⁻¹ D Dᵀ diag(s))⁻¹ Y‖²_F``, D the model's learned DYAN dictionary and Y
each window's pooled, centred, unit-norm backbone features (``loss.loss_features``). By the
Woodbury identity, with K the window's slots that hold a chosen frame,
``(I + B S)⁻¹ Y = Y − B[:, K] (I + B[K, K])⁻¹ Y[K]`` (B = D Dᵀ / ρ), so one window's error
needs only k x k work from its Gram matrix G = Y Yᵀ:
``tr G − 2 tr(M G[K, :] B[:, K]) + tr(M C[K, K] M G[K, K])`` with M = (I + B[K, K])⁻¹ and
C = B B. ``WindowedObjective`` evaluates it in batches.

``direct_search`` minimises it under a budget by 1-exchange local search (move one chosen
frame to any frame not chosen, the best move of each chosen frame in turn, until no move
lowers the error) from several starts: greedy forward selection (each time the frame that
lowers the error most), even spacing, a few random sets and any sets given; the lowest
wins. It is a local search, not an exact one (eq. 16 couples every frame of a window). A swap
between frames that share no window changes the error by the sum of a removal and an
addition, so the far moves cost one vector minimum each and the result is a true
1-exchange local minimum over all frame pairs.

How it relates to ``select.select_linear_recovery`` (what ``kfpn`` places frames by with a
budget): that search is an *exact* minimiser of a different objective, the error of
rebuilding the pooled features by linear interpolation between key frames over the whole
sequence; this one is a local minimiser of eq. 16 (DYAN ridge fit per window). The bench
``annotator bench proposal-direct`` measures both objectives' sets on protocol A.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from annotator.core.progress import ShouldStop, check_stop

TOLERANCE = 1e-12  # a move must lower the error by more than this (relative) to count
# Random starting sets besides greedy and even spacing: the objective has many 1-exchange
# local minima, and on tiny random cases more starts find the brute-force optimum more often
# (tests/proposal/test_direct.py); each start costs one more descent.
RESTARTS = 2


class WindowedObjective:
    """eq. 16 with a binary s over windows of real frames; ``frames`` (W, T) holds the frame
    index of each window slot (a frame may fill several slots of a padded window)."""

    def __init__(
        self,
        b: np.ndarray,
        windows_y: Sequence[np.ndarray],
        frames: np.ndarray,
        grams: Sequence[np.ndarray] | None = None,
    ) -> None:
        """``b`` = ρ⁻¹ D Dᵀ (T, T); each window's Y (T, M), or its Gram matrix Y Yᵀ in
        ``grams`` (then ``windows_y`` is not read)."""
        self.b = np.asarray(b, dtype=np.float64)
        self.c = self.b @ self.b
        self.frames = np.asarray(frames, dtype=np.int64)
        if grams is None:
            grams = [np.asarray(y, np.float64) @ np.asarray(y, np.float64).T for y in windows_y]
        self.grams = [np.asarray(g, dtype=np.float64) for g in grams]
        self.traces = np.asarray([float(np.trace(g)) for g in self.grams])
        self.units = np.unique(self.frames)  # the frames the objective can choose
        self.windows_of: dict[int, list[int]] = {int(f): [] for f in self.units}
        self.slots_of: list[dict[int, np.ndarray]] = []  # per window: frame -> its slots
        for w, row in enumerate(self.frames):
            self.slots_of.append({int(f): np.flatnonzero(row == f) for f in np.unique(row)})
            for f in self.slots_of[-1]:
                self.windows_of[f].append(w)

    @classmethod
    def from_dictionary(
        cls,
        dictionary: np.ndarray,
        windows_y: Sequence[np.ndarray],
        frames: np.ndarray,
        rho: float,
        grams: Sequence[np.ndarray] | None = None,
    ) -> WindowedObjective:
        d = np.asarray(dictionary, dtype=np.float64)
        return cls(d @ d.T / rho, windows_y, frames, grams)

    def errors(self, w: int, sets: Sequence[Iterable[int]]) -> np.ndarray:
        """Window ``w``'s error for each set of chosen frames (frames outside it ignored)."""
        where = self.slots_of[w]
        empty = np.empty(0, np.int64)
        slots = []
        for chosen in sets:
            inside = set(chosen)
            parts = [where[f] for f in where if f in inside]  # frames rise along a window
            slots.append(np.concatenate(parts) if parts else empty)
        out = np.empty(len(slots))
        by_size: dict[int, list[int]] = {}
        for i, k in enumerate(slots):
            by_size.setdefault(len(k), []).append(i)
        for size, members in by_size.items():
            if size == 0:
                out[members] = self.traces[w]
                continue
            out[members] = self._batch(w, np.stack([slots[i] for i in members]))
        return np.maximum(out, 0.0)

    def _batch(self, w: int, k: np.ndarray) -> np.ndarray:
        """Errors for slot index rows ``k`` (n, size)."""
        g, b = self.grams[w], self.b
        rows, cols = k[:, :, None], k[:, None, :]
        m = np.linalg.inv(np.eye(k.shape[1])[None] + b[rows, cols])  # SPD, eigenvalues ≥ 1
        gb = g[k] @ b[k].transpose(0, 2, 1)  # G[K, :] B[:, K], (n, size, size)
        cross = (m * gb.transpose(0, 2, 1)).sum(axis=(1, 2))  # tr(M G[K, :] B[:, K])
        fit = ((m @ self.c[rows, cols] @ m) * g[rows, cols]).sum(axis=(1, 2))  # G[K, K] symmetric
        return np.asarray(self.traces[w] - 2.0 * cross + fit)

    def total(self, chosen: Iterable[int]) -> float:
        chosen = set(int(f) for f in chosen)
        return float(sum(self.errors(w, [chosen])[0] for w in range(len(self.grams))))


class _Search:
    """The chosen set, each window's error and the gain of adding each frame."""

    def __init__(self, obj: WindowedObjective, chosen: Iterable[int]) -> None:
        self.obj = obj
        self.index = {int(f): i for i, f in enumerate(obj.units)}
        self.chosen: set[int] = {int(f) for f in chosen}
        self.err = np.asarray([obj.errors(w, [self.local(w)])[0] for w in range(len(obj.grams))])
        # add[w][f]: change of window w's error when f (in w, not chosen) is added
        self.add: list[dict[int, float]] = [{} for _ in obj.grams]
        self.add_total = np.zeros(len(obj.units))
        for w in range(len(obj.grams)):
            self._refresh(w)

    def _refresh(self, w: int) -> None:
        for f, d in self.add[w].items():
            self.add_total[self.index[f]] -= d
        local = self.local(w)
        cands = [f for f in self.obj.slots_of[w] if f not in local]
        errs = self.obj.errors(w, [local | {f} for f in cands]) if cands else np.empty(0)
        self.add[w] = {f: float(e - self.err[w]) for f, e in zip(cands, errs, strict=True)}
        for f, d in self.add[w].items():
            self.add_total[self.index[f]] += d

    def local(self, w: int) -> set[int]:
        """The chosen frames inside window ``w``."""
        return {f for f in self.obj.slots_of[w] if f in self.chosen}

    def apply(self, remove: int | None, add: int | None) -> None:
        if remove is not None:
            self.chosen.discard(remove)
        if add is not None:
            self.chosen.add(add)
        touched = set(self.obj.windows_of[remove] if remove is not None else [])
        touched |= set(self.obj.windows_of[add] if add is not None else [])
        for w in touched:
            self.err[w] = self.obj.errors(w, [self.local(w)])[0]
        for f in (remove, add):
            if f is not None:
                self.add_total[self.index[f]] = 0.0
        for w in touched:
            self._refresh(w)

    def best_addition(self, exclude: set[int]) -> tuple[int, float]:
        totals = self.add_total.copy()
        mask = [self.index[f] for f in self.chosen | exclude]
        totals[mask] = np.inf
        i = int(np.argmin(totals))
        return int(self.obj.units[i]), float(totals[i])

    def best_move(self, c: int) -> tuple[int, float]:
        """The best frame to move chosen frame ``c`` to, and the change in error."""
        obj = self.obj
        own = obj.windows_of[c]
        near = {f for w in own for f in obj.slots_of[w]} - self.chosen
        removed = {w: self.local(w) - {c} for w in own}
        best_f, best_d = -1, np.inf
        if near:
            cands = sorted(near)
            delta = np.zeros(len(cands))
            for w in own:
                delta += obj.errors(w, [removed[w] | {f} for f in cands]) - self.err[w]
            for i, f in enumerate(cands):  # the windows of f that do not hold c
                delta[i] += sum(self.add[w][f] for w in obj.windows_of[f] if w not in own)
            i = int(np.argmin(delta))
            best_f, best_d = cands[i], float(delta[i])
        if len(self.chosen) + len(near) < len(obj.units):
            drop = sum(float(obj.errors(w, [removed[w]])[0] - self.err[w]) for w in own)
            far, gain = self.best_addition(near | {c})
            if drop + gain < best_d:
                best_f, best_d = far, drop + gain
        return best_f, best_d


def greedy(obj: WindowedObjective, budget: int, keep: Iterable[int] = ()) -> list[int]:
    """Forward selection: from ``keep``, add the frame that lowers the error most."""
    search = _Search(obj, keep)
    while len(search.chosen) < min(budget, len(obj.units)):
        f, _ = search.best_addition(set())
        search.apply(None, f)
    return sorted(search.chosen)


def local_search(
    obj: WindowedObjective,
    start: Iterable[int],
    keep: Iterable[int] = (),
    should_stop: ShouldStop | None = None,
) -> list[int]:
    """1-exchange descent from ``start``: each chosen frame (not in ``keep``) in turn moves
    to the frame that lowers the error most, until a full pass moves nothing."""
    search = _Search(obj, start)
    fixed = {int(f) for f in keep}
    scale = max(float(obj.traces.sum()), 1e-300)
    moved = True
    while moved:
        moved = False
        for c in sorted(search.chosen - fixed):
            check_stop(should_stop, "direct search")
            if c not in search.chosen:
                continue
            f, d = search.best_move(c)
            if f >= 0 and d < -TOLERANCE * scale:
                search.apply(c, f)
                moved = True
    return sorted(search.chosen)


def direct_search(
    obj: WindowedObjective,
    budget: int,
    anchor_ends: bool = False,
    starts: Sequence[Iterable[int]] = (),
    should_stop: ShouldStop | None = None,
    restarts: int = RESTARTS,
    seed: int = 0,
) -> list[int]:
    """``budget`` frames (at most every frame) that locally minimise eq. 16: 1-exchange
    descent from several starting sets, the lowest error wins. The starts: greedy forward
    selection, even spacing, ``restarts`` random sets (``seed``) and each of ``starts``
    (each trimmed, or grown greedily, to the budget). With ``anchor_ends`` (and a budget of
    two or more) the first and last frame are always in."""
    units = obj.units
    k = max(1, min(int(budget), len(units)))
    ends = {int(units[0]), int(units[-1])} if anchor_ends and k >= 2 else set()
    rng = np.random.default_rng(seed)
    even = units[np.unique(np.rint(np.linspace(0, len(units) - 1, k)).astype(np.int64))]
    candidates: list[Iterable[int]] = [even.tolist(), *starts]
    candidates += [rng.choice(units, size=k, replace=False).tolist() for _ in range(restarts)]
    seeds = [greedy(obj, k, ends)]
    for start in candidates:
        s = {int(f) for f in start if int(f) in obj.windows_of} - ends
        seeds.append(greedy(obj, k, set(sorted(s)[: k - len(ends)]) | ends))
    best: list[int] = []
    best_value = np.inf
    for start_set in seeds:
        result = local_search(obj, start_set, ends, should_stop)
        value = obj.total(result)
        if not best or value < best_value - TOLERANCE * abs(best_value):
            best, best_value = result, value
    return best
