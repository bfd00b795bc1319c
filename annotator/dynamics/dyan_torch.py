"""The DYAN dictionary in torch: differentiable in the poles, for the code that learns them
(``annotator train dictionary`` here, K-FPN's recovery loss and training in ``proposal``).

Same layout as :func:`annotator.dynamics.dyan.dyan_dictionary` (the fills' numpy dictionary,
which the live path uses without torch) and the K-FPN authors' published ones: for N poles
``r e^{iθ}`` and T time steps, a constant column, then the blocks ``r^t cos(tθ)``,
``(-r)^t cos(tθ)``, ``r^t sin(tθ)``, ``(-r)^t sin(tθ)`` (t = 0..T-1), or only the first and third
without the mirrored family; every column scaled to unit L2 norm. A test holds the two equal.
Importing this module imports torch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

MIN_RADIUS = 1e-3


def dictionary(
    radius: torch.Tensor, theta: torch.Tensor, steps: int, mirrored: bool = True
) -> torch.Tensor:
    """``(steps, 1 + 4N)`` dictionary for poles ``radius`` (N,) > 0 and angles ``theta`` (N,);
    ``(steps, 1 + 2N)`` without the ``(-r)^t`` columns when ``mirrored`` is False."""
    t = torch.arange(steps, dtype=radius.dtype, device=radius.device).unsqueeze(1)
    r = radius.clamp_min(MIN_RADIUS).unsqueeze(0)
    power = torch.pow(r, t)  # r^t
    cos = torch.cos(t * theta.unsqueeze(0))
    sin = torch.sin(t * theta.unsqueeze(0))
    ones = torch.ones(steps, 1, dtype=radius.dtype, device=radius.device)
    if mirrored:
        sign = torch.where(t.long() % 2 == 0, 1.0, -1.0).to(radius.dtype)  # (-1)^t
        blocks = [ones, power * cos, sign * power * cos, power * sin, sign * power * sin]
    else:
        blocks = [ones, power * cos, power * sin]
    cols = torch.cat(blocks, 1)
    norms = cols.norm(dim=0, keepdim=True)
    # sin(tθ) is all zero when θ = 0 or π: leave such a column zero rather than divide by 0.
    out: torch.Tensor = cols / norms.clamp_min(1e-12)
    return out


def default_poles(count: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Poles spread over a ring around the unit circle (DYAN's usual start)."""
    gen = torch.Generator().manual_seed(seed)
    radius = 0.85 + 0.3 * torch.rand(count, generator=gen)
    theta = math.pi * torch.rand(count, generator=gen)
    return radius, theta


class LearnablePoles(nn.Module):
    """Poles as parameters; ``forward(steps)`` gives the dictionary for ``steps`` frames."""

    def __init__(self, count: int, seed: int = 0) -> None:
        super().__init__()
        radius, theta = default_poles(count, seed)
        self.radius = nn.Parameter(radius)
        self.theta = nn.Parameter(theta)

    def forward(self, steps: int) -> torch.Tensor:
        return dictionary(self.radius, self.theta, steps)
