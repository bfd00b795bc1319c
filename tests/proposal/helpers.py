"""Small in-memory inputs for the proposal tests: a synthetic reader and a tiny model."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np


class ArrayVideo:
    """A reader over an array of RGB frames (the FrameSource protocol)."""

    def __init__(self, frames: np.ndarray, fps: float = 30.0, fingerprint: str = "test") -> None:
        self.frames = frames
        self.fps = fps
        self.fingerprint = fingerprint

    @property
    def frame_count(self) -> int:
        return int(self.frames.shape[0])

    def iter_frames(self) -> Iterator[tuple[int, np.ndarray]]:
        yield from enumerate(self.frames)


def moving_square(count: int, size: tuple[int, int] = (48, 64), seed: int = 0) -> np.ndarray:
    """A bright square that moves, stops and changes direction (uint8 RGB frames)."""
    rng = np.random.default_rng(seed)
    h, w = size
    frames = np.full((count, h, w, 3), 40, np.uint8)
    x = 5.0
    for i in range(count):
        x += 2.0 if (i // 10) % 2 == 0 else -1.0
        x0 = int(np.clip(x, 0, w - 12))
        frames[i, 18:30, x0 : x0 + 12] = (220, 180, 60)
    noise = rng.integers(0, 8, frames.shape, dtype=np.uint8)
    return frames + noise


def tiny_model_file(path: Path, window: int = 8, channels: int = 320, seed: int = 0) -> Path:
    """A randomly initialised K-FPN saved like a trained one."""
    import torch

    from annotator.proposal.kfpn import save_model
    from annotator.proposal.network import Kfpn, KfpnConfig

    torch.manual_seed(seed)
    net = Kfpn(KfpnConfig(window=window, in_channels=channels, poles=6, hidden=16, reduced=8))
    net.alpha.fill_(4.0)
    save_model(path, net.eval(), rho=0.1, meta={"note": "random test weights"})
    return path


class GatedBackbone:
    """A stand-in backbone that counts the frames it sees and holds its first batch until
    ``gate`` is set, so a second caller arrives mid-computation. ``install`` puts a subclass in
    place of ``backbones.Backbone`` with fresh events; ``maps`` says what it returns (here a
    frame's mean brightness on a 4 x 7 x 7 map) and ``wait_s`` how long it holds a batch."""

    seen: ClassVar[list[int]] = []
    gate = threading.Event()
    entered = threading.Event()
    wait_s = 20.0

    def __init__(self, name: str, *args: Any) -> None:
        self.device = type("Device", (), {"type": "cpu"})()

    @classmethod
    def install(cls, monkeypatch: Any) -> type[GatedBackbone]:
        from annotator.proposal import backbones

        monkeypatch.setattr(backbones, "Backbone", cls)
        cls.seen = []
        cls.gate = threading.Event()
        cls.entered = threading.Event()
        return cls

    def maps(self, frames: np.ndarray) -> np.ndarray:
        mean = frames.reshape(len(frames), -1).mean(axis=1).astype(np.float32)
        return np.broadcast_to(mean[:, None, None, None], (len(frames), 4, 7, 7)).copy()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        cls = type(self)
        cls.entered.set()
        assert cls.gate.wait(cls.wait_s)
        cls.seen.append(len(frames))
        return self.maps(frames)
