"""The K-FPN loss against a direct numpy evaluation, and its gradients."""

from __future__ import annotations

import numpy as np
import torch

from annotator.dynamics.dyan_torch import LearnablePoles, dictionary
from annotator.proposal.loss import kfpn_loss, normalise_windows, recovery_residual


def _numpy_loss(d, s, y, rho, w_sparse, w_rec):
    t = d.shape[0]
    total = []
    for b in range(y.shape[0]):
        a = np.eye(t) + d @ d.T @ np.diag(s[b]) / rho
        r = np.linalg.inv(a) @ y[b]
        total.append(w_rec * np.sum(r**2) + w_sparse * s[b].sum() / t)
    return float(np.mean(total))


def test_loss_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    t, m = 7, 5
    radius = torch.tensor([0.9, 1.05, 0.8], dtype=torch.float64)
    theta = torch.tensor([0.3, 1.2, 2.5], dtype=torch.float64)
    d = dictionary(radius, theta, t)
    s = torch.from_numpy(rng.uniform(0, 1, (2, t)))
    y = torch.from_numpy(rng.normal(size=(2, t, m)))
    total, _, _ = kfpn_loss(d, s, y, rho=0.1, w_sparse=2.5, w_rec=4.5)
    expected = _numpy_loss(d.numpy(), s.numpy(), y.numpy(), 0.1, 2.5, 4.5)
    assert np.isclose(float(total), expected, rtol=1e-10)


def test_dictionary_columns_match_formula() -> None:
    t = 6
    radius = torch.tensor([0.9], dtype=torch.float64)
    theta = torch.tensor([0.7], dtype=torch.float64)
    d = dictionary(radius, theta, t).numpy()
    steps = np.arange(t)
    raw = [
        np.ones(t),
        0.9**steps * np.cos(0.7 * steps),
        (-0.9) ** steps * np.cos(0.7 * steps),
        0.9**steps * np.sin(0.7 * steps),
        (-0.9) ** steps * np.sin(0.7 * steps),
    ]
    expected = np.stack([c / np.linalg.norm(c) for c in raw], axis=1)
    assert np.allclose(d, expected)


def test_empty_selection_costs_everything_and_full_selection_recovers() -> None:
    rng = np.random.default_rng(2)
    y = normalise_windows(torch.from_numpy(rng.normal(size=(1, 10, 4))))
    d = dictionary(*(torch.tensor(v, dtype=torch.float64) for v in ([0.95, 1.0], [0.4, 1.9])), 10)
    none = recovery_residual(d, torch.zeros(1, 10, dtype=torch.float64), y)
    full = recovery_residual(d, torch.ones(1, 10, dtype=torch.float64), y)
    assert np.isclose(float(none.pow(2).sum()), 1.0)  # normalised windows: unit energy
    assert float(full.pow(2).sum()) < float(none.pow(2).sum())


def test_gradients_reach_scores_and_poles() -> None:
    torch.manual_seed(0)
    poles = LearnablePoles(4).double()
    logits = torch.randn(2, 9, dtype=torch.float64, requires_grad=True)
    s = torch.sigmoid(logits)
    y = normalise_windows(torch.randn(2, 9, 6, dtype=torch.float64))
    total, _, _ = kfpn_loss(poles(9), s, y)
    total.backward()
    assert logits.grad is not None and torch.all(torch.isfinite(logits.grad))
    assert float(logits.grad.abs().sum()) > 0
    for p in (poles.radius, poles.theta):
        assert p.grad is not None and float(p.grad.abs().sum()) > 0
