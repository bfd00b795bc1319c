"""Frozen ImageNet backbones behind a registry: name -> a per-frame feature extractor.

A backbone turns RGB frames into ``C x 7 x 7`` feature maps (the input of the K-FPN network).
Frames are resized whole (no crop: the person may stand near an edge) to 224 x 224.
``efficientnet-lite0`` is the default and its weights come with the app; ``resnet18`` and
``resnet34`` (the paper's) need the user's torchvision weights file. Nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from annotator.errors import UsageError

if TYPE_CHECKING:
    import torch

DEFAULT_BACKBONE = "efficientnet-lite0"
INPUT_SIZE = 224


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    channels: int
    needs_weights: bool
    description: str


BACKBONES: dict[str, BackboneSpec] = {
    "efficientnet-lite0": BackboneSpec(
        "efficientnet-lite0", 320, False, "EfficientNet-Lite0, ImageNet weights from its wheel"
    ),
    "resnet18": BackboneSpec("resnet18", 512, True, "ResNet-18 (needs a torchvision .pth)"),
    "resnet34": BackboneSpec("resnet34", 512, True, "ResNet-34 (needs a torchvision .pth)"),
}


def spec(name: str) -> BackboneSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        known = ", ".join(BACKBONES)
        raise UsageError(f"unknown backbone {name!r}; choose one of: {known}") from None


class Backbone:
    """A loaded backbone: ``__call__(frames uint8 (N, H, W, 3)) -> float32 (N, C, 7, 7)``."""

    def __init__(self, name: str, weights: str | Path | None = None, device: str = "cpu") -> None:
        import torch

        self.spec = spec(name)
        self.device = torch.device(device)
        self._preprocess: Callable[[np.ndarray], torch.Tensor]
        if name == "efficientnet-lite0":
            from annotator.proposal import efficientnet

            model: torch.nn.Module = efficientnet.load_pretrained()
            self._preprocess = efficientnet.preprocess
        else:
            if weights is None:
                raise UsageError(
                    f"backbone {name} needs its torchvision ImageNet weights: pass "
                    "--backbone-weights FILE.pth"
                )
            path = Path(weights)
            if not path.is_file():
                raise UsageError(f"backbone weights file not found: {path}")
            from annotator.proposal import resnet

            try:
                model = resnet.load(name, path)
            except (RuntimeError, OSError, ValueError) as err:
                raise UsageError(f"{path} is not a torchvision {name} state dict ({err})") from None
            self._preprocess = resnet.preprocess
        self._model = model.to(self.device).eval()

    @property
    def name(self) -> str:
        return self.spec.name

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        import torch

        batch = np.stack([resize(f) for f in frames])
        with torch.inference_mode():
            x = self._preprocess(batch).to(self.device)
            feats: torch.Tensor = self._model.features(x)  # type: ignore[operator]
        return np.asarray(feats.float().cpu().numpy(), dtype=np.float32)


def resize(frame: np.ndarray) -> np.ndarray:
    """One RGB frame resized to the backbone input (area filter when shrinking)."""
    import cv2

    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected an RGB frame (H, W, 3), got {frame.shape}")
    h, w = frame.shape[:2]
    if (h, w) == (INPUT_SIZE, INPUT_SIZE):
        return frame
    shrink = h > INPUT_SIZE or w > INPUT_SIZE
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(frame, (INPUT_SIZE, INPUT_SIZE), interpolation=interp))


def pick_device(device: str | None) -> str:
    """``cuda`` when present and not told otherwise; a clear error when cuda is asked for
    on a machine without it."""
    import torch

    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for but no CUDA GPU is available here")
    if device != "cpu" and not device.startswith("cuda"):
        raise UsageError(f"unknown device {device!r}; use cpu or cuda")
    return device
