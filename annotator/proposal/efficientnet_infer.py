"""EfficientNet-Lite0 features in inference form: batch norm folded into the convolutions.

``efficientnet.EfficientNetLite0`` is shaped after its weights file; for inference every
convolution is followed by a frozen batch norm, an affine map per output channel, which folds
exactly into the convolution's weights and a bias (``fold``). With ReLU6 applied in place and
the tensors in channels-last layout (oneDNN's fast path for the depthwise convolutions), the
same ``features`` run about twice as fast on CPU (``annotator bench proposal-speed``).

TensorFlow "SAME" padding is symmetric for the stride-1 convolutions (odd kernels), so those
pad inside the convolution; only the four stride-2 layers pad explicitly (odd pixel at the
bottom/right, as in ``efficientnet.SameConv2d``).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from annotator.proposal.efficientnet import EfficientNetLite0, MBConv


def fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of the convolution ``bn(conv(x))`` (``conv`` without bias, ``bn`` in
    eval mode): w' = w * g / sqrt(v + eps), b' = beta - m * g / sqrt(v + eps).
    Computed in float64, returned in the convolution's dtype."""
    assert bn.running_mean is not None and bn.running_var is not None
    scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
    weight = conv.weight.double() * scale.reshape(-1, 1, 1, 1)
    bias = bn.bias.double() - bn.running_mean.double() * scale
    dtype = conv.weight.dtype
    return weight.to(dtype), bias.to(dtype)


class FoldedConv(nn.Module):
    """A convolution with its batch norm folded in, "SAME" padding, optional ReLU6."""

    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, relu6: bool) -> None:
        super().__init__()
        kernel, stride = conv.kernel_size[0], conv.stride[0]
        self.kernel, self.stride, self.relu6 = kernel, stride, relu6
        self.conv = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            kernel,
            stride,
            padding=kernel // 2 if stride == 1 else 0,  # stride 1, odd kernel: SAME is symmetric
            groups=conv.groups,
            bias=True,
            dtype=conv.weight.dtype,
        )
        weight, bias = fold(conv, bn)
        with torch.no_grad():
            self.conv.weight.copy_(weight)
            assert self.conv.bias is not None
            self.conv.bias.copy_(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride != 1:
            ih, iw = x.shape[-2:]
            k, s = self.kernel, self.stride
            pad_h = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
            pad_w = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        y: torch.Tensor = self.conv(x)
        return y.clamp_(0.0, 6.0) if self.relu6 else y


class FoldedBlock(nn.Module):
    """``efficientnet.MBConv`` with each convolution's batch norm folded in."""

    def __init__(self, block: MBConv) -> None:
        super().__init__()
        self.expand = FoldedConv(block._expand_conv, block._bn0, True) if block.has_expand else None
        self.depthwise = FoldedConv(block._depthwise_conv, block._bn1, True)
        self.project = FoldedConv(block._project_conv, block._bn2, False)
        self.skip = block.skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = x if self.expand is None else self.expand(x)
        y = self.project(self.depthwise(y))
        return y.add_(x) if self.skip else y


class FoldedFeatures(nn.Module):
    """``EfficientNetLite0.features`` in inference form; ``features(x)`` gives the same maps
    (equal up to float rounding). Keeps the model in channels-last layout."""

    def __init__(self, model: EfficientNetLite0) -> None:
        super().__init__()
        if model.training:
            raise ValueError("fold batch norm only from a model in eval mode")
        self.stem = FoldedConv(model._conv_stem, model._bn0, True)
        self.blocks = nn.ModuleList(FoldedBlock(b) for b in model._blocks)  # type: ignore[arg-type]
        self.eval()
        self.to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x.contiguous(memory_format=torch.channels_last))
        for block in self.blocks:
            x = block(x)
        return x.contiguous()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)
