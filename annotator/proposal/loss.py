"""K-FPN's unsupervised loss (paper eq. 16) and the recovery objective it relaxes.

For a window of features Y (T x M) and key frame indicator s (T,), the recovery residual is
``R = (I + ρ⁻¹ D Dᵀ diag(s))⁻¹ Y``: how much of Y the DYAN dictionary D cannot rebuild from
the frames s selects. The loss is ``w_rec ‖R‖²_F + w_sparse Σ s_i / T``.

Scaling (ours, so the weights mean the same for any backbone and video): each window's
features are centred over time (the constant column of D carries the mean; only motion should
decide key frames) and scaled to unit Frobenius norm, and the sparsity term is a mean rather
than a sum. An empty selection then costs ``w_rec`` and selecting every frame ``w_sparse``.
"""

from __future__ import annotations

import torch

RHO = 0.1
# (sparsity, recovery) weights used by the K-FPN authors.
WEIGHTS = {"penn": (2.5, 4.5), "jhmdb": (4.0, 2.0)}


def loss_features(feats: torch.Tensor, pool: int) -> torch.Tensor:
    """(B, T, C, H, W) backbone maps -> (B, T, C * pool²) normalised windows for the loss.

    Pooling keeps the coarse layout (where the person is) and averages away the per-pixel
    flicker of the full maps, which no dynamics model can predict from neighbouring frames.
    """
    b, t, c, h, w = feats.shape
    pooled = torch.nn.functional.adaptive_avg_pool2d(feats.reshape(b * t, c, h, w), pool)
    return normalise_windows(pooled.reshape(b, t, -1))


def normalise_windows(y: torch.Tensor) -> torch.Tensor:
    """(B, T, M) windows centred over time and scaled to unit Frobenius norm each."""
    y = y - y.mean(dim=1, keepdim=True)
    norm = y.flatten(1).norm(dim=1).clamp_min(1e-8)
    out: torch.Tensor = y / norm.view(-1, 1, 1)
    return out


def recovery_residual(
    dictionary: torch.Tensor, s: torch.Tensor, y: torch.Tensor, rho: float = RHO
) -> torch.Tensor:
    """``(I + ρ⁻¹ D Dᵀ diag(s))⁻¹ Y`` for a batch: D (T, K), s (B, T), y (B, T, M)."""
    t = dictionary.shape[0]
    ddt = dictionary @ dictionary.T  # (T, T)
    eye = torch.eye(t, dtype=y.dtype, device=y.device)
    a = eye + (ddt.unsqueeze(0) * s.unsqueeze(1)) / rho  # D Dᵀ diag(s): scales columns
    out: torch.Tensor = torch.linalg.solve(a, y)
    return out


def kfpn_loss(
    dictionary: torch.Tensor,
    s: torch.Tensor,
    y: torch.Tensor,
    *,
    rho: float = RHO,
    w_sparse: float = WEIGHTS["penn"][0],
    w_rec: float = WEIGHTS["penn"][1],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, recovery, sparsity), batch means; ``y`` already normalised."""
    residual = recovery_residual(dictionary, s, y, rho)
    recovery = residual.pow(2).sum(dim=(1, 2)).mean()
    sparsity = s.mean(dim=1).mean()
    return w_rec * recovery + w_sparse * sparsity, recovery, sparsity
