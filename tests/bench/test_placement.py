"""Reference placements: the DP oracle against brute force, the stopping rules, and the
simulated annotator that labels where the fill's uncertainty ranks frames."""

from __future__ import annotations

import itertools

import numpy as np

from annotator.bench.placement import (
    _in_uncovered_gap,
    bisection_frames,
    dp_optimal_linear,
    greedy_with_gt,
    is_covering,
    label_fill,
    ranked_annotator,
    uniform_to_cover,
)
from annotator.core.metrics import covered


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


def _burst_track() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One joint drifting slowly for 120 frames, with a fast swing between frames 70 and 100."""
    t = np.arange(120, dtype=float)
    burst = np.where((t > 70) & (t < 100), 30 * np.sin((t - 70) / 30 * 2 * np.pi), 0.0)
    truth = np.stack([100 + burst, 80 + 0.05 * t], axis=-1)[:, None, :]
    return truth, np.ones((120, 1), dtype=bool), np.full(120, 100.0)


def test_simulated_annotator_covers_and_labels_where_the_motion_is() -> None:
    truth, visible, body = _burst_track()
    frames = ranked_annotator(truth, visible, body, alpha=0.05)
    assert frames[0] == 0 and frames[-1] == 119
    pred = label_fill(truth, "hpim")(frames)
    assert covered(pred, truth, visible, body, 0.05).all()
    inner = frames[1:-1]
    assert ((inner > 60) & (inner < 105)).mean() > 0.6  # labels go to the burst
    assert len(frames) <= len(bisection_frames(label_fill(truth, "hpim"), truth, visible, body))


def test_told_which_gaps_are_uncovered_the_annotator_never_labels_a_finished_gap() -> None:
    ok = np.array([True] * 5 + [False] + [True] * 6)
    assert _in_uncovered_gap(6, [0, 4, 8, 11], ok)  # gap 4..8 holds frame 5
    assert not _in_uncovered_gap(9, [0, 4, 8, 11], ok)
    assert not _in_uncovered_gap(3, [0, 4, 8, 11], ok)

    truth, visible, body = _burst_track()
    told = ranked_annotator(truth, visible, body, alpha=0.05, told_uncovered_gaps=True)
    pred = label_fill(truth, "hpim")(told)
    assert covered(pred, truth, visible, body, 0.05).all()
    assert len(told) <= len(ranked_annotator(truth, visible, body, alpha=0.05))
