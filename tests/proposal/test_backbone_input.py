"""The fast backbone path: batch norm folded into the convolutions gives the reference
features; a smaller input still gives 7 x 7 maps, cached under its own name."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch import nn

from annotator.errors import UsageError
from annotator.proposal import backbones
from annotator.proposal import features as ft
from annotator.proposal.efficientnet import load_pretrained, preprocess
from annotator.proposal.efficientnet_infer import FoldedConv, FoldedFeatures
from annotator.proposal.select import reduce_dims
from tests.proposal.helpers import ArrayVideo, moving_square

BACKBONE = backbones.DEFAULT_BACKBONE


def _frames(n: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_folding_batch_norm_is_exact_on_one_layer() -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, stride=1, padding=1, bias=False).double()
    bn = nn.BatchNorm2d(16, eps=1e-3).double()
    with torch.no_grad():  # statistics far from the identity, as trained ones are
        bn.running_mean.uniform_(-2, 2)
        bn.running_var.uniform_(0.1, 5)
        bn.weight.uniform_(-3, 3)
        bn.bias.uniform_(-1, 1)
    bn.eval()
    x = torch.randn(2, 8, 11, 11, dtype=torch.float64)
    folded = FoldedConv(conv, bn, relu6=False)
    assert torch.allclose(folded(x), bn(conv(x)), rtol=0, atol=1e-12)


def test_folded_lite0_gives_the_reference_features() -> None:
    torch.set_num_threads(1)
    model = load_pretrained()
    x = preprocess(_frames(2, 224))
    with torch.inference_mode():
        ref64 = model.double().features(x.double())
        fast64 = FoldedFeatures(model).features(x.double())  # folded from the float64 model
    # exact up to float64 rounding: the folding itself loses nothing
    assert float((fast64 - ref64).abs().max()) < 1e-5
    model = load_pretrained()
    with torch.inference_mode():
        ref32 = model.features(x)
        fast32 = FoldedFeatures(model).features(x)
    scale = float(ref32.abs().max())
    assert fast32.shape == ref32.shape == (2, 320, 7, 7)
    assert float((fast32 - ref32).abs().max()) < 1e-5 * scale * 10  # float32 rounding


def test_backbone_fused_and_reference_agree_at_the_default_input() -> None:
    frames = _frames(3, 100)
    fast = backbones.Backbone(BACKBONE)(frames)
    ref = backbones.Backbone(BACKBONE, fused=False)(frames)
    assert np.allclose(fast, ref, rtol=0, atol=1e-4 * float(np.abs(ref).max()))


@pytest.mark.parametrize("size", backbones.INPUT_SIZES)
def test_every_input_gives_7x7_maps(size: int) -> None:
    feats = backbones.Backbone(BACKBONE, input_size=size)(_frames(2, 90))
    assert feats.shape == (2, 320, 7, 7) and np.isfinite(feats).all()


def test_to_grid_keeps_a_map_in_place() -> None:
    small = torch.zeros(1, 1, 4, 4)
    small[0, 0, :, :2] = 1.0  # the left half of the frame
    up = backbones.to_grid(small)
    assert up.shape == (1, 1, 7, 7)
    assert torch.all(up[0, 0, :, :3] > 0.5) and torch.all(up[0, 0, :, 4:] < 0.5)
    assert torch.allclose(up[0, 0, :, 3], torch.full((7,), 0.5))  # the middle column
    const = torch.full((2, 3, 4, 4), 2.5)
    assert torch.allclose(backbones.to_grid(const), torch.full((2, 3, 7, 7), 2.5))
    big = torch.arange(2 * 14 * 14, dtype=torch.float32).reshape(1, 2, 14, 14)
    pooled = backbones.to_grid(big)
    assert torch.allclose(pooled[0, 0, 0, 0], big[0, 0, :2, :2].mean())


def test_unsupported_input_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match="unsupported backbone input 100 px"):
        backbones.Backbone(BACKBONE, input_size=100)


def test_cache_name_carries_the_input_size() -> None:
    default = ft.cache_path("fp", BACKBONE)
    assert default.name == f"fp-{BACKBONE}-{backbones.DEFAULT_INPUT_SIZE}px.npy"
    assert ft.cache_path("fp", BACKBONE, 128).name == f"fp-{BACKBONE}-128px.npy"
    assert ft.cache_path("fp", BACKBONE, 224) != ft.cache_path("fp", BACKBONE, 128)


def test_features_of_another_input_are_never_read_from_its_cache() -> None:
    video = ArrayVideo(moving_square(12), fingerprint="input-key")
    other = 224 if backbones.DEFAULT_INPUT_SIZE != 224 else 128
    # a cache for another input holding zeros: must not be mistaken for this input's
    ft.save_cached(ft.cache_path("input-key", BACKBONE, other), np.zeros((12, 320, 7, 7)))
    feats = ft.video_features(video, BACKBONE)
    assert ft.cache_path("input-key", BACKBONE).is_file()
    assert np.abs(feats).max() > 0.1
    direct = backbones.Backbone(BACKBONE)(np.stack(video.frames))
    assert np.allclose(feats, direct, atol=0.02 * float(np.abs(direct).max()))  # float16 cache
    again = ft.video_features(video, BACKBONE, input_size=other)
    assert not np.any(again)  # that input's own cache (zeros, as written)


def test_reduce_dims_keeps_the_distances_between_rows() -> None:
    rng = np.random.default_rng(3)
    y = np.cumsum(rng.normal(size=(60, 500)), axis=0)
    r = reduce_dims(y, max_dims=256, energy=1.0)
    d_y = np.linalg.norm(y[:, None] - y[None], axis=-1)
    d_r = np.linalg.norm(r[:, None] - r[None], axis=-1)
    assert r.shape[0] == 60 and r.shape[1] <= 60
    assert np.allclose(d_r, d_y, rtol=1e-8, atol=1e-8 * float(d_y.max()))


@pytest.mark.parametrize("count", [11, 12])
def test_a_frame_step_interpolates_between_computed_frames(count: int) -> None:
    video = ArrayVideo(moving_square(count), fingerprint=f"step-{count}")
    every = ft.video_features(video, BACKBONE, use_cache=False)
    step2 = ft.video_features(video, BACKBONE, step=2)  # cached as float16
    assert step2.shape == every.shape
    scale = float(np.abs(every).max())
    computed = sorted({*range(0, count, 2), count - 1})  # every other frame and the last
    assert np.allclose(step2[computed], every[computed], atol=2e-3 * scale)
    between = [i for i in range(count) if i not in computed]
    mid = 0.5 * (every[np.array(between) - 1] + every[np.array(between) + 1])
    assert np.allclose(step2[between], mid, atol=2e-3 * scale)
    assert not np.allclose(step2[between], every[between], atol=2e-3 * scale)
    assert ft.cache_path(f"step-{count}", BACKBONE, step=2).is_file()
    assert ft.cache_path("fp", BACKBONE, step=2) != ft.cache_path("fp", BACKBONE, step=1)


def test_the_backbone_leaves_torch_threads_as_it_found_them() -> None:
    before = torch.get_num_threads()
    video = ArrayVideo(moving_square(3), fingerprint="threads")
    ft.video_features(video, BACKBONE, use_cache=False, threads=max(1, before + 1))
    assert torch.get_num_threads() == before
    cores = os.cpu_count() or 1
    assert ft.backbone_threads(overlap=True) == max(1, cores - 1)
    assert ft.backbone_threads(overlap=False) == cores
