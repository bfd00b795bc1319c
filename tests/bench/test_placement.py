"""Reference placements: the DP oracle against brute force, and the stopping rules."""

from __future__ import annotations

import itertools

import numpy as np

from annotator.bench.placement import (
    bisection_frames,
    dp_optimal_linear,
    greedy_with_gt,
    is_covering,
    label_fill,
    uniform_to_cover,
)


def _track(seed: int, f: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gt = np.cumsum(rng.normal(0, 3, size=(f, 2, 2)), axis=0)
    vis = rng.random((f, 2)) > 0.15
    body = np.full(f, 100.0)
    return gt, vis, body


def _brute_force_min(gt: np.ndarray, vis: np.ndarray, body: np.ndarray, alpha: float) -> int:
    fill = label_fill(gt, "linear")
    f = gt.shape[0]
    for k in range(1, f + 1):
        for subset in itertools.combinations(range(f), k):
            if is_covering(fill, np.asarray(subset), gt, vis, body, alpha):
                return k
    return f


def test_dp_oracle_matches_brute_force_on_short_sequences() -> None:
    for seed in range(4):
        gt, vis, body = _track(seed)
        for alpha in (0.02, 0.05):
            frames = dp_optimal_linear(gt, vis, body, alpha)
            assert is_covering(label_fill(gt, "linear"), frames, gt, vis, body, alpha)
            assert len(frames) == _brute_force_min(gt, vis, body, alpha)


def test_straight_motion_needs_only_its_ends() -> None:
    t = np.arange(20, dtype=float)
    gt = np.stack([np.stack([t, 2 * t], -1), np.stack([5 + t, 1 - t], -1)], axis=1)
    vis = np.ones((20, 2), bool)
    body = np.full(20, 20.0)  # tolerance 1 px: holding one frame would miss
    assert dp_optimal_linear(gt, vis, body).tolist() == [0, 19]
    fill = label_fill(gt, "linear")
    assert uniform_to_cover(fill, gt, vis, body).tolist() == [0, 19]
    assert bisection_frames(fill, gt, vis, body).tolist() == [0, 19]


def test_heuristics_cover_and_never_beat_the_oracle() -> None:
    gt, vis, body = _track(3, f=40)
    fill = label_fill(gt, "linear")
    best = len(dp_optimal_linear(gt, vis, body, 0.05))
    for placer in (uniform_to_cover, bisection_frames, greedy_with_gt):
        frames = placer(fill, gt, vis, body, 0.05)
        assert is_covering(fill, frames, gt, vis, body, 0.05)
        assert len(frames) >= best
