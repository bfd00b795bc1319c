"""Budgeted selection minimises the recovery objective; the threshold gives the natural count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from annotator.dynamics.dyan_torch import dictionary
from annotator.proposal.select import RecoveryObjective, reduce_window, threshold_frames


def _objective(t: int = 12, seed: int = 0) -> RecoveryObjective:
    rng = np.random.default_rng(seed)
    d = dictionary(
        torch.tensor([0.98, 0.9, 1.02], dtype=torch.float64),
        torch.tensor([0.2, 0.6, 1.4], dtype=torch.float64),
        t,
    ).numpy()
    steps = np.arange(t)[:, None]
    y = np.sin(steps * rng.uniform(0.1, 0.5, 6)) + 0.05 * rng.normal(size=(t, 6))
    y -= y.mean(axis=0)
    return RecoveryObjective(d, [reduce_window(y / np.linalg.norm(y))], steps.T, 0.1)


def test_svd_reduction_keeps_the_objective() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(size=(8, 30))
    a = rng.normal(size=(8, 8))
    assert np.isclose(np.linalg.norm(a @ y), np.linalg.norm(a @ reduce_window(y)))


def test_budget_is_respected_from_any_seed() -> None:
    obj = _objective()
    for seed in (set(), {0, 1, 2, 3, 4, 5, 6}, {3}):
        for budget in (1, 3, 5):
            assert len(obj.greedy(seed, budget)) == budget


def test_greedy_is_near_the_exhaustive_optimum_and_beats_top_k() -> None:
    obj = _objective()
    best = min(obj.total(set(c)) for c in itertools.combinations(range(12), 3))
    greedy = obj.total(set(obj.greedy(set(), 3)))
    assert greedy <= best * 1.25
    crowded = obj.total({5, 6, 7})  # what a top-k of one burst of scores could give
    assert greedy < crowded


def test_more_frames_never_recover_worse() -> None:
    obj = _objective()
    errs = [obj.total(set(obj.greedy(set(), k))) for k in range(1, 8)]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(errs))


def test_threshold_maps_grid_positions_to_unique_frames() -> None:
    positions = np.array([0, 0, 1, 1, 2, 2])
    scores = np.array([0.1, 0.995, 0.2, 0.3, 0.999, 0.999])
    assert threshold_frames(positions, scores) == [0, 2]


def test_kept_frames_stay_and_count_in_the_budget() -> None:
    obj = _objective()
    picked = obj.greedy({2, 3, 4, 5, 6}, 3, keep={0, 11})
    assert len(picked) == 3 and {0, 11} <= set(picked)
    assert len(obj.greedy(set(), 1, keep={0, 11})) == 1  # the ends do not fit: not forced


def test_min_gap_spreads_added_frames() -> None:
    obj = _objective()
    picked = obj.greedy(set(), 4, keep={0, 11}, min_gap=3)
    assert len(picked) == 4 and min(b - a for a, b in itertools.pairwise(picked)) >= 3
    assert len(obj.greedy(set(), 12, min_gap=5)) == 12  # relaxed when nothing is far enough


def test_sequence_search_respects_the_budget_and_the_ends() -> None:
    from annotator.proposal.select import select_on_sequence

    rng = np.random.default_rng(1)
    d = dictionary(
        torch.tensor([0.98, 0.9], dtype=torch.float64),
        torch.tensor([0.2, 0.7], dtype=torch.float64),
        10,
    ).numpy()
    y = np.cumsum(rng.normal(size=(37, 5)), axis=0)
    for scale in ("window", "video"):
        for budget in (2, 5, 9):
            frames = select_on_sequence(y, budget, d, 0.1, scale=scale)
            assert len(frames) == budget and {0, 36} <= set(frames)
    spaced = select_on_sequence(y, 5, d, 0.1, min_gap=6)
    assert np.diff(spaced).min() >= 6


def _brute_force_linear(y: np.ndarray, budget: int) -> float:
    from annotator.proposal.select import linear_recovery_costs

    seg, head, tail = linear_recovery_costs(y)
    best = np.inf
    for combo in itertools.combinations(range(len(y)), budget):
        cost = head[combo[0]] + tail[combo[-1]]
        cost += sum(seg[a, b] for a, b in itertools.pairwise(combo))
        best = min(best, cost)
    return float(best)


def test_linear_recovery_search_is_exact_and_finds_the_turning_points() -> None:
    from annotator.proposal.select import linear_recovery_costs, select_linear_recovery

    # A trajectory that goes out and back: with three key frames, the ends and the turn.
    t = np.arange(21, dtype=float)
    y = np.stack([np.where(t <= 13, t, 26 - t), 0.3 * t], axis=1)
    assert select_linear_recovery(y, 3) == [0, 13, 20]
    rng = np.random.default_rng(2)
    z = np.cumsum(rng.normal(size=(11, 3)), axis=0)
    seg, head, tail = linear_recovery_costs(z)
    for budget in (1, 2, 4):
        frames = select_linear_recovery(z, budget)
        assert len(frames) == budget and frames == sorted(set(frames))
        cost = head[frames[0]] + tail[frames[-1]]
        cost += sum(seg[a, b] for a, b in itertools.pairwise(frames))
        assert np.isclose(cost, _brute_force_linear(z, budget))


def test_banded_costs_match_the_direct_ones() -> None:
    from annotator.proposal.select import banded_linear_costs, linear_recovery_costs

    z = np.cumsum(np.random.default_rng(4).normal(size=(15, 4)), axis=0) + 50.0
    seg, head, tail = linear_recovery_costs(z)
    band, bhead, btail = banded_linear_costs(z, 6)
    assert np.allclose(bhead, head) and np.allclose(btail, tail)
    for j in range(15):
        for g in range(1, 7):
            if j - g >= 0:
                assert np.isclose(band[j, g], seg[j - g, j], atol=1e-8)


def test_banded_costs_are_the_same_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gaps' costs computed a few rows at a time (bounded temporaries on long videos)
    equal those computed all at once, ragged last chunk included."""
    from annotator.proposal import select

    z = np.cumsum(np.random.default_rng(6).normal(size=(203, 5)), axis=0)
    monkeypatch.setattr(select, "BAND_CHUNK", 10**6)
    whole = select.banded_linear_costs(z, 17)
    monkeypatch.setattr(select, "BAND_CHUNK", 7)
    chunked = select.banded_linear_costs(z, 17)
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(whole[0][17:, 1:]).all()


def test_long_video_search_keeps_the_budget_and_nearly_the_exact_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from annotator.proposal import select
    from annotator.proposal.select import banded_linear_costs, select_linear_recovery

    z = np.cumsum(np.random.default_rng(5).normal(size=(300, 3)), axis=0)
    band, head, tail = banded_linear_costs(z, 40)

    def cost(frames: list[int]) -> float:
        total = head[frames[0]] + tail[frames[-1]]
        return float(total + sum(band[b, b - a] for a, b in itertools.pairwise(frames)))

    exact = select_linear_recovery(z, 30, max_gap=40)
    monkeypatch.setattr(select, "EXACT_LIMIT", 0)
    for budget in (7, 30, 61):
        frames = select_linear_recovery(z, budget, max_gap=40)
        assert len(frames) == budget and frames == sorted(set(frames))
    approx = select_linear_recovery(z, 30, max_gap=40)
    assert cost(approx) <= 1.05 * cost(exact)


def test_linear_recovery_search_keeps_the_ends_when_anchored() -> None:
    from annotator.proposal.select import select_linear_recovery

    z = np.cumsum(np.random.default_rng(6).normal(size=(40, 3)), axis=0)
    for budget in (2, 5, 9):
        frames = select_linear_recovery(z, budget, anchor_ends=True)
        assert len(frames) == budget and frames[0] == 0 and frames[-1] == 39
