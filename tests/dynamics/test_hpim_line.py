"""HPIM on gaps past its table's range: the straight line between the gap's own two labels
(universal kriging with a linear drift), never the mean of the labels around it; shorter gaps
keep the learned kriging unchanged."""

from __future__ import annotations

import math

import numpy as np

from annotator.dynamics.fill import fill_track
from annotator.dynamics.hpim import GAP_BINS, HpimFiller, line_gap, make_hpim_filler
from tests.dynamics.helpers import manual_at


def _line(frames: int) -> np.ndarray:
    """(frames, 2, 2): two joints moving on straight lines at a few pixels a frame."""
    t = np.arange(frames, dtype=np.float64)
    return np.stack(
        [np.stack([100 + 1.5 * t, 400 - 0.8 * t], -1), np.stack([250 - 0.6 * t, 90 + 2.2 * t], -1)],
        axis=1,
    )


def _wiggle(frames: int, seed: int) -> np.ndarray:
    """(frames, 2, 2): a linear drift plus sines of 20-120 frames and 3-15 px, the size of the
    motion the shipped variogram describes at those lags (about 4-12 px from a label)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames, dtype=np.float64)
    out = np.empty((frames, 2, 2))
    for j in range(2):
        for c in range(2):
            x = 300 + rng.uniform(-1.5, 1.5) * t
            for _ in range(3):
                period, amp = rng.uniform(20, 120), rng.uniform(3, 15)
                x += amp * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
            out[:, j, c] = x
    return out


def test_the_shipped_tables_range() -> None:
    filler = make_hpim_filler(fps=30.0)
    assert filler._line_gap == 44.0  # the shipped table grows up to lag 44, then dips
    assert line_gap(np.arange(50.0)) == math.inf  # a table that keeps growing: no line
    assert line_gap(np.array([0.0, 1.0, 0.5, 2.0])) == GAP_BINS[-1]  # never below the bins
    # frames of a 50 fps video are 0.6 frames of the 30 fps model
    fast = make_hpim_filler(fps=50.0)
    assert not fast.takes_line(73) and fast.takes_line(74)


def test_two_labels_far_apart_fill_the_straight_line() -> None:
    truth = _line(401)
    for keys in ([0, 400], [0, 170, 400], [0, 60, 270, 400]):
        res = fill_track(manual_at(truth, np.asarray(keys)), "hpim", fps=30.0)
        np.testing.assert_allclose(res.poses[:, :, :2], truth, rtol=0, atol=1e-3)  # float32 poses
        assert res.variance is not None and np.isfinite(res.variance).all()


def test_long_gaps_with_a_wiggle_are_no_worse_than_linear() -> None:
    for seed in range(6):
        truth = _wiggle(400, seed)
        keys = np.array([0, 130, 270, 399])
        hp = fill_track(manual_at(truth, keys), "hpim", fps=30.0).poses[:, :, :2]
        lin = fill_track(manual_at(truth, keys), "linear").poses[:, :, :2]
        err_hp = np.abs(hp - truth).mean()
        assert err_hp <= np.abs(lin - truth).mean() + 1e-6, seed


def test_gaps_within_the_range_keep_the_learned_kriging() -> None:
    """Every gap up to the range fills exactly as without the line rule; past it, the
    kriging with its reach of labels would have left the line."""
    truth = _wiggle(300, 7)
    # irregular gaps of 3 to 44 frames (44: the shipped table's range)
    keys = np.array([0, 5, 17, 47, 91, 99, 119, 159, 162, 187, 223, 240, 284, 299])
    assert np.diff(keys).max() == 44
    new = make_hpim_filler(fps=30.0)
    old = make_hpim_filler(fps=30.0)
    old._line_gap = math.inf
    values = truth[keys].reshape(len(keys), -1)
    a, va = new.fill_run(keys, values)
    b, vb = old.fill_run(keys, values)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(va, vb)
    # the rule is what keeps a long gap on the line
    line = _line(401)[:, :, :].reshape(401, -1)
    far = np.array([0, 170, 400])
    off, _ = old.fill_run(far, line[far])
    assert np.abs(off - line).max() > 5.0


def test_hpim_filler_direct_weights_are_the_line() -> None:
    filler = HpimFiller(make_hpim_filler().model)
    w, v = filler.weights((0, 200), 200)
    s = np.arange(1, 200) / 200.0
    np.testing.assert_allclose(w, np.stack([1 - s, s], axis=1), atol=1e-9)
    assert (v > 0).all()
    np.testing.assert_allclose(v, v[::-1], rtol=1e-9)  # symmetric about mid-gap
