"""EfficientNet-Lite0 built here loads the wheel's ImageNet weights and classifies real frames.

No labelled photo ships offline, so the check uses a real video of the shared data whose
content is a known ImageNet class: ``mmaction2_test.avi`` is a close-up of a woman applying
make-up, and ImageNet class 629 is "lipstick". On every 10th frame (centre square crop, as
ImageNet is evaluated), lipstick is the top class of the first frame and among the top 5 of the mean prediction.
With the padding of the convolutions wrong (symmetric instead of TensorFlow's "same"), the
same check fails, so it does test the architecture, not just that the weights load.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from annotator.errors import UsageError
from annotator.proposal import efficientnet
from annotator.proposal.backbones import Backbone, resize, spec

LIPSTICK = 629


def _frames(video: Path, step: int = 10) -> np.ndarray:
    import av

    with av.open(str(video)) as container:
        frames = [
            f.to_ndarray(format="rgb24")
            for i, f in enumerate(container.decode(video=0))
            if i % step == 0
        ]
    crops = []
    for f in frames:
        h, w = f.shape[:2]
        side = min(h, w)
        crops.append(
            resize(f[(h - side) // 2 : (h + side) // 2, (w - side) // 2 : (w + side) // 2])
        )
    return np.stack(crops)


def test_weights_load_strictly_and_lipstick_is_recognised(data_dir: Path) -> None:
    torch.set_num_threads(1)
    model = efficientnet.load_pretrained()  # strict=True inside
    frames = _frames(data_dir / "videos" / "mmaction2_test.avi")
    with torch.inference_mode():
        probs = model(efficientnet.preprocess(frames)).softmax(dim=1)
    assert int(probs[0].argmax()) == LIPSTICK
    assert LIPSTICK in probs.mean(dim=0).topk(5).indices.tolist()


def test_backbone_gives_7x7_maps_for_any_frame_size() -> None:
    backbone = Backbone("efficientnet-lite0")
    frames = np.random.default_rng(0).integers(0, 255, (3, 48, 64, 3), dtype=np.uint8)
    feats = backbone(frames)
    assert feats.shape == (3, spec("efficientnet-lite0").channels, 7, 7)
    assert feats.dtype == np.float32


def test_resnet_needs_a_weights_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="backbone-weights"):
        Backbone("resnet18")
    with pytest.raises(UsageError, match="not found"):
        Backbone("resnet18", tmp_path / "missing.pth")
    bad = tmp_path / "bad.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, bad)
    with pytest.raises(UsageError, match="not a torchvision"):
        Backbone("resnet34", bad)
    with pytest.raises(UsageError, match="unknown backbone"):
        spec("vgg16")


def test_resnet_loads_torchvision_style_state_dicts(tmp_path: Path) -> None:
    from annotator.proposal.resnet import LAYERS, ResNet

    path = tmp_path / "r18.pth"
    torch.save(ResNet(LAYERS["resnet18"]).state_dict(), path)
    feats = Backbone("resnet18", path)(np.zeros((1, 224, 224, 3), np.uint8))
    assert feats.shape == (1, 512, 7, 7)
