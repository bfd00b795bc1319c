"""The gate's compiled input maps equal the whole-video torch definition."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.propagation.gate import frame_maps, frame_maps_reference, residual_energy
from annotator.propagation.gate_maps import frame_maps_compiled
from annotator.video.motion import MotionFields


@pytest.mark.parametrize(("grid", "shape"), [(16, (90, 160)), (12, (45, 80)), (7, (13, 29))])
def test_compiled_maps_equal_the_reference(grid: int, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(grid)
    frames = 12
    dx = rng.normal(0, 3, (frames, *shape)).astype(np.float32)
    dy = rng.normal(1, 2, (frames, *shape)).astype(np.float32)
    valid = rng.uniform(size=dx.shape) > 0.2
    valid[3] = False  # an I-frame: no vector at all
    valid[4, :, :] = True
    dx[~valid] = np.nan
    dy[~valid] = np.nan
    residual = rng.uniform(0, 30, dx.shape).astype(np.float32)
    residual[0] = np.nan
    fields = MotionFields(
        dx=dx,
        dy=dy,
        valid=valid,
        residual=residual,
        picture_types=("P",) * frames,
        times=np.arange(frames) / 30.0,
        derived=np.zeros(frames, dtype=bool),
        kind="mv",
        cell=8,
        width=shape[1] * 8,
        height=shape[0] * 8,
        codec="synthetic",
    )
    fast, ref = frame_maps(fields, grid), frame_maps_reference(fields, grid)
    assert fast.shape == ref.shape == (frames, 3, grid, grid) and fast.dtype == np.float32
    np.testing.assert_allclose(fast, ref, rtol=1e-5, atol=1e-5)
    assert np.all(fast[3, 1:] == 0.0)  # no motion where no cell has a vector
    _, energy = frame_maps_compiled(dx, dy, valid, residual, 1.0, grid)
    np.testing.assert_allclose(energy, residual_energy(fields), rtol=1e-5)
    assert energy[0] == 0.0
