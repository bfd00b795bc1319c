"""HPIM and its fusion with observations on long gaps: the prior stays a covariance (the
valid variogram past ``VALID_TABLE_GAP``), fills stay inside the labels and observations,
variances stay non-negative, and short gaps keep the learned table exactly."""

from __future__ import annotations

import numpy as np
import pytest

import annotator.dynamics.hpim as hpim_module
from annotator.dynamics.hpim import HpimFiller, HpimModel, make_hpim_filler
from annotator.dynamics.variogram_model import ValidVariogram


def _track(frames: int, seed: int = 0) -> np.ndarray:
    """(frames, 4): two joints' smooth, bounded motion (slow sines of 20-80 px)."""
    t = np.arange(frames, dtype=np.float64)
    rng = np.random.default_rng(seed)
    cols = []
    for _ in range(4):
        amp, period, phase = rng.uniform(20, 80), rng.uniform(60, 400), rng.uniform(0, 6)
        cols.append(300 + amp * np.sin(t / period * 2 * np.pi / 6 + phase) + rng.uniform(-50, 50))
    return np.stack(cols, axis=1)


def _observed(truth: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observations that drift away from the truth like a walk along the video (4 px² each)."""
    drift = np.cumsum(np.random.default_rng(1).normal(0, 0.3, truth.shape), axis=0)
    obs = truth + drift - drift[0]
    var = np.full(truth.shape, 4.0)
    var[frames] = np.nan
    return obs, var


def _table_only(filler: HpimFiller, monkeypatch: pytest.MonkeyPatch) -> None:
    """The filler as it was before the valid variogram: the table on every gap."""
    monkeypatch.setattr(hpim_module, "VALID_TABLE_GAP", np.inf)
    filler._table_end = np.inf


@pytest.mark.parametrize("gap", [300, 500, 1000, 3000])
def test_fills_stay_inside_labels_and_observations_on_long_gaps(
    gap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    filler = make_hpim_filler(fps=30.0)
    truth = _track(3 * gap + 1)
    frames = np.arange(0, len(truth), gap)
    obs, obs_var = _observed(truth, frames)
    fused, var = filler.fill_run(frames, truth[frames], (obs, obs_var))
    plain, plain_var = filler.fill_run(frames, truth[frames])
    assert var is not None and plain_var is not None
    for v in (var, plain_var):
        assert np.isfinite(v).all() and (v >= 0).all()
    np.testing.assert_array_equal(fused[frames], truth[frames])
    labels = truth[frames]
    lo = np.minimum(labels.min(axis=0), obs.min(axis=0))
    hi = np.maximum(labels.max(axis=0), obs.max(axis=0))
    assert np.maximum(fused - hi, lo - fused).max() <= 1e-6
    # the fusion is no further from the truth than its worst observation
    assert np.abs(fused - truth).max() <= np.abs(obs - truth).max() + 0.5
    # HPIM alone stays within its labels' range
    assert np.maximum(plain - labels.max(axis=0), labels.min(axis=0) - plain).max() <= 1e-6
    # and the learned table alone, here, did not keep the fusion inside
    old = make_hpim_filler(fps=30.0)
    _table_only(old, monkeypatch)
    before, _ = old.fill_run(frames, truth[frames], (obs, obs_var))
    assert np.maximum(before - hi, lo - before).max() > 2.0


@pytest.mark.parametrize("fps", [12.0, 24.0, 30.0, 50.0])
def test_the_prior_is_a_covariance_on_gaps_of_any_length(fps: float) -> None:
    filler = make_hpim_filler(fps=fps)
    for gap in (20, 60, 100, 150, 300, 640):
        for rel in ((0, gap), (-gap, 0, gap, 2 * gap), (-5, 0, gap, gap + 2000)):
            cov = filler._gap_covariance(rel, gap)
            eig = np.linalg.eigvalsh(cov)
            assert eig[0] >= -1e-9 * eig[-1], (gap, rel, eig[0] / eig[-1])
            _, v = filler.weights(rel, gap)
            assert (v >= 0).all()


def test_the_valid_variogram_follows_the_table_and_keeps_growing() -> None:
    table = np.asarray(HpimModel.load(hpim_module.model_path(hpim_module.DEFAULT_MODEL)).variogram)
    table = table / table[1]
    valid = ValidVariogram(table)
    assert (valid.coef >= 0).all()
    lags = np.arange(1, 21, dtype=np.float64)
    np.testing.assert_allclose(valid(lags), table[1:21], rtol=0.1)  # short lags: the table's
    far = valid(np.array([400.0, 1000.0, 3000.0]))
    assert far[0] < far[1] < far[2]  # no flat tail: a long gap's middle leans on its labels
    # conditionally negative definite: -γ is positive semi-definite on zero-sum weights
    x = np.arange(0.0, 900.0, 3.0)
    g = valid(x[:, None] - x[None, :])
    q = np.eye(len(x)) - 1.0 / len(x)
    eig = np.linalg.eigvalsh(-q @ g @ q)
    assert eig[0] >= -1e-9 * eig[-1]


def test_short_gaps_are_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gaps up to ``VALID_TABLE_GAP`` model frames fill exactly as with the table alone."""
    truth = _track(900, seed=3)
    rng = np.random.default_rng(5)
    frames = np.unique(np.concatenate([[0, 899], rng.choice(900, 40, replace=False)]))
    assert np.diff(frames).max() * 1.0 <= hpim_module.VALID_TABLE_GAP
    obs, obs_var = _observed(truth, frames)
    new = make_hpim_filler(fps=30.0)
    old = make_hpim_filler(fps=30.0)
    fused, var = new.fill_run(frames, truth[frames], (obs, obs_var))
    plain, plain_var = new.fill_run(frames, truth[frames])
    _table_only(old, monkeypatch)
    fused_old, var_old = old.fill_run(frames, truth[frames], (obs, obs_var))
    plain_old, plain_var_old = old.fill_run(frames, truth[frames])
    np.testing.assert_array_equal(plain, plain_old)
    np.testing.assert_array_equal(plain_var, plain_var_old)
    np.testing.assert_allclose(fused, fused_old, rtol=0, atol=1e-6)
    np.testing.assert_allclose(var, var_old, rtol=1e-9, atol=1e-12)
