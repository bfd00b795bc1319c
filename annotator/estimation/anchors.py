"""SSD anchors of BlazePose's person detector (224×224 input, 2254 anchors).

The detector predicts, per anchor, a box and four keypoints as offsets from the anchor's
centre. The anchors follow MediaPipe's SSD anchor options for pose detection: five layers with
strides 8, 16, 32, 32, 32, one aspect ratio (1.0) plus one interpolated scale per layer, centre
offset 0.5 and a fixed anchor size of 1. Consecutive layers with the same stride share one grid,
so the three stride-32 layers put six anchors on each cell of one 7×7 grid:
28·28·2 + 14·14·2 + 7·7·6 = 2254.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

INPUT_SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
ANCHORS_PER_LAYER = 2  # aspect ratio 1.0 plus the interpolated scale, both square


def anchor_centres(
    input_size: int = INPUT_SIZE, strides: tuple[int, ...] = STRIDES
) -> NDArray[np.float32]:
    """(N, 2) anchor centres x, y in [0, 1] of the input square, in the model's output order.

    Anchors are listed grid by grid (layers with equal strides merged), row-major within a
    grid, and the anchors of one cell together. With a fixed anchor size every anchor is
    1 wide and 1 high, so only the centres matter for decoding.
    """
    centres: list[NDArray[np.float32]] = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        per_cell = 0
        while layer < len(strides) and strides[layer] == stride:
            per_cell += ANCHORS_PER_LAYER
            layer += 1
        cells = math.ceil(input_size / stride)
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, per_cell, axis=0).astype(np.float32))
    return np.concatenate(centres, axis=0)
