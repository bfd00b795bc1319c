"""The K-FPN network (paper section 3.2): per-frame backbone features in, T key frame scores out.

Two Conv2D+BN+ReLU blocks shrink each frame's ``C x 7 x 7`` map to ``64 x 3 x 3``; a block
then treats time as channels (the T frames are the channels of a ``64 x 9`` map), so every
frame's score sees the whole window; a fully connected layer gives T logits. The indicator is
``s = σ(α x)``; α is raised linearly during training so s ends near-binary, and a frame is a
key frame when ``s ≥ 0.99``. The learnable DYAN poles of the recovery loss live here too, so
one file holds everything proposals need.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from annotator.dynamics.dyan_torch import LearnablePoles


@dataclass(frozen=True)
class KfpnConfig:
    window: int = 40  # T: frames the network sees at once
    in_channels: int = 320  # backbone feature channels
    poles: int = 40  # DYAN poles (dictionary of 1 + 4 x poles columns)
    hidden: int = 64  # channels after the first spatial block
    reduced: int = 64  # channels after the second spatial block
    fps: float = 30.0  # frame rate the network was trained at; other videos are resampled
    backbone: str = "efficientnet-lite0"
    loss_pool: int = 3  # the loss sees features average-pooled to loss_pool x loss_pool

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Kfpn(nn.Module):
    alpha: torch.Tensor

    def __init__(self, config: KfpnConfig, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        t = config.window
        self.spatial = nn.Sequential(
            _block(config.in_channels, config.hidden), _block(config.hidden, config.reduced)
        )
        self.temporal = nn.Sequential(
            nn.Conv2d(t, t, 3, padding=1), nn.BatchNorm2d(t), nn.ReLU(inplace=True)
        )
        self.fc = nn.Linear(t * config.reduced * 9, t)
        self.poles = LearnablePoles(config.poles, seed)
        # α of σ(αx); a buffer so it is saved with the weights and restored on resume.
        self.register_buffer("alpha", torch.tensor(1.0))

    def logits(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats`` (B, T, C, 7, 7) -> logits (B, T)."""
        b, t, c, h, w = feats.shape
        if t != self.config.window:
            raise ValueError(f"the network takes windows of {self.config.window}, got {t}")
        x = self.spatial(feats.reshape(b * t, c, h, w))  # (B*T, 64, 3, 3)
        x = x.reshape(b, t, self.config.reduced, -1)  # time as channels: (B, T, 64, 9)
        x = self.temporal(x)
        out: torch.Tensor = self.fc(x.flatten(1))
        return out

    def forward(self, feats: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Key frame indicator s in (0, 1), shape (B, T).

        ``noise`` (training only): logistic noise added to the logits, making s a relaxed
        Bernoulli sample ``σ(α(x + L))``. Without it a soft s of, say, 0.2 on every frame
        rebuilds Y almost perfectly (it acts like a ridge over all frames), so the network
        learns a constant score and α later rounds it to all or nothing; with it only a
        confident logit gives a reliable key frame, so the scores must pick frames.
        """
        x = self.logits(feats)
        if noise is not None:
            x = x + noise
        return torch.sigmoid(self.alpha * x)

    def dictionary(self) -> torch.Tensor:
        out: torch.Tensor = self.poles(self.config.window)
        return out
