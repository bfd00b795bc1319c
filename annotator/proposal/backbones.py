"""Frozen ImageNet backbones behind a registry: name -> a per-frame feature extractor.

A backbone turns RGB frames into ``C x 7 x 7`` feature maps (the input of the K-FPN network).
Frames are resized whole (no crop: the person may stand near an edge) to a square input,
``DEFAULT_INPUT_SIZE`` unless told otherwise. The network was trained on the 7 x 7 maps of
224 x 224 inputs; a smaller input gives a smaller map (``ceil(size / 32)``), which is brought
back to that layout by a bilinear resize of the map (``to_grid``), so the K-FPN network and its
search read the same 7 x 7 cells of the frame. Features of different inputs never share a
cache file: ``feature_key`` names the backbone and the input size.
``efficientnet-lite0`` is the default and its weights come with the app; ``resnet18`` and
``resnet34`` (the paper's) need the user's torchvision weights file. Nothing is downloaded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from annotator.errors import UsageError

if TYPE_CHECKING:
    import torch

DEFAULT_BACKBONE = "efficientnet-lite0"
INPUT_SIZE = 224  # the input the K-FPN network was trained on
INPUT_SIZES = (224, 192, 160, 128, 96)  # inputs offered (multiples of the network's stride 32)
DEFAULT_INPUT_SIZE = 224
DEFAULT_STEP = 1  # the backbone sees every frame (``features.video_features``'s ``step``)
# Proposals run the backbone on every other frame (and the last), the features between
# interpolated: half the time, the same proposals within the benchmark's noise (docs/kfpn.md);
# the ranking for ``N`` completes that cache to every frame (``features._complete``).
PROPOSAL_STEP = 2
FEATURE_GRID = 7  # the maps' layout at INPUT_SIZE, which every input is brought back to


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


def check_input_size(size: int) -> int:
    if size not in INPUT_SIZES:
        known = ", ".join(str(s) for s in INPUT_SIZES)
        raise UsageError(f"unsupported backbone input {size} px; choose one of: {known}")
    return size


def check_feature_step(step: int | None) -> None:
    """A ``--feature-step`` from the command line: None (the default) or at least 1."""
    if step is not None and step < 1:
        raise UsageError(f"--feature-step is at least 1, not {step}")


def feature_key(name: str, input_size: int = DEFAULT_INPUT_SIZE, step: int = DEFAULT_STEP) -> str:
    """The backbone, its input size and (when not every frame) the frame step, as feature
    cache names carry them."""
    return f"{name}-{input_size}px" + (f"-step{step}" if step != 1 else "")


class Backbone:
    """A loaded backbone: ``__call__(frames uint8 (N, H, W, 3)) -> float32 (N, C, 7, 7)``.

    ``input_size``: the square the frames are resized to; the maps come back 7 x 7 whatever
    it is. ``fused`` (EfficientNet-Lite0 only): run the batch-norm-folded, channels-last form
    (``efficientnet_infer``), the same features up to float rounding, about twice as fast."""

    def __init__(
        self,
        name: str,
        weights: str | Path | None = None,
        device: str = "cpu",
        input_size: int = DEFAULT_INPUT_SIZE,
        fused: bool = True,
    ) -> None:
        import torch

        self.spec = spec(name)
        self.input_size = check_input_size(input_size)
        self.device = torch.device(device)
        self._preprocess: Callable[[np.ndarray], torch.Tensor]
        if name == "efficientnet-lite0":
            from annotator.proposal import efficientnet
            from annotator.proposal.efficientnet_infer import FoldedFeatures

            lite = efficientnet.load_pretrained()
            model: torch.nn.Module = FoldedFeatures(lite) if fused else lite
            self._preprocess = functools.partial(efficientnet.preprocess, size=input_size)
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

    @property
    def key(self) -> str:
        return feature_key(self.spec.name, self.input_size)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        import torch

        size = self.input_size
        batch = np.stack([resize(f, size) for f in frames])
        with torch.inference_mode():
            x = self._preprocess(batch).to(self.device)
            feats: torch.Tensor = to_grid(self._model.features(x))  # type: ignore[operator]
        return np.asarray(feats.float().cpu().numpy(), dtype=np.float32)


def to_grid(maps: torch.Tensor, grid: int = FEATURE_GRID) -> torch.Tensor:
    """Maps (N, C, h, w) brought to (N, C, grid, grid): a bilinear resize of a smaller map
    (cell centres kept where they lie in the frame), an area average of a larger one."""
    from torch.nn import functional as F

    if maps.shape[-2:] == (grid, grid):
        return maps
    if maps.shape[-2] > grid and maps.shape[-1] > grid:
        return F.adaptive_avg_pool2d(maps, grid)
    return F.interpolate(maps, size=(grid, grid), mode="bilinear", align_corners=False)


def resize(frame: np.ndarray, size: int = DEFAULT_INPUT_SIZE) -> np.ndarray:
    """One RGB frame resized to a ``size`` x ``size`` backbone input (area filter when
    shrinking)."""
    import cv2

    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected an RGB frame (H, W, 3), got {frame.shape}")
    h, w = frame.shape[:2]
    if (h, w) == (size, size):
        return frame
    shrink = h > size or w > size
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(frame, (size, size), interpolation=interp))


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
