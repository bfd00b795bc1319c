"""The compiled kernels give what the NumPy/OpenCV reference code gives."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.synth.motion import texture
from annotator.video import motion_kernels as kernels
from annotator.video.motion_vectors import (
    Blocks,
    cell_field,
    per_frame_blocks,
    resolve_distances,
    shift_blocks,
)
from annotator.video.residual import cell_residual

HEIGHT, WIDTH = 96, 132  # not multiples of the cell: edge cells are partial


def random_blocks(rng: np.random.Generator, n: int, forward: bool | None = None) -> Blocks:
    sizes = rng.choice([4, 8, 16], size=(n, 2))
    return Blocks(
        x0=rng.integers(-8, WIDTH, n).astype(np.float32),
        y0=rng.integers(-8, HEIGHT, n).astype(np.float32),
        w=sizes[:, 0].astype(np.int32),
        h=sizes[:, 1].astype(np.int32),
        mvx=(rng.integers(-40, 40, n) / 4).astype(np.float32),
        mvy=(rng.integers(-40, 40, n) / 4).astype(np.float32),
        forward=rng.random(n) < 0.5 if forward is None else np.full(n, forward),
    )


def frames(count: int) -> list[np.ndarray]:
    base = texture(HEIGHT + 40, WIDTH + 40, seed=5)
    return [np.ascontiguousarray(base[2 * t : 2 * t + HEIGHT, t : t + WIDTH]) for t in range(count)]


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_resolve_matches_reference(count: int) -> None:
    rng = np.random.default_rng(count)
    lumas = frames(count + 1)
    blocks = random_blocks(rng, 400, forward=False)
    candidates = [(k, lumas[k]) for k in rng.permutation(np.arange(1, count + 1))]
    need = rng.random(400) < 0.2
    want_k, want_cost = resolve_distances(blocks, lumas[0], candidates, need)
    got_k, got_cost = kernels.resolve(blocks, lumas[0], candidates, need)
    np.testing.assert_array_equal(got_k, want_k)
    np.testing.assert_array_equal(got_cost, want_cost)  # NaN where not matched, both


def test_resolve_without_candidates_or_blocks() -> None:
    rng = np.random.default_rng(0)
    lumas = frames(2)
    blocks = random_blocks(rng, 10)
    assert kernels.resolve(blocks, lumas[0], [])[0].tolist() == [0] * 10
    empty = blocks.take(np.zeros(10, dtype=bool))
    assert len(kernels.resolve(empty, lumas[0], [(1, lumas[1])])[0]) == 0


@pytest.mark.parametrize("cell", [4, 8, 16])
def test_paint_matches_reference(cell: int) -> None:
    rng = np.random.default_rng(cell)
    blocks = per_frame_blocks(random_blocks(rng, 300), rng.integers(0, 4, 300).astype(np.int32))
    for moved in (blocks, shift_blocks(blocks, 2)):  # shifted blocks sit off the 4 px grid
        want = cell_field(moved, HEIGHT, WIDTH, cell)
        got = kernels.paint(moved, HEIGHT, WIDTH, cell)
        np.testing.assert_array_equal(got[2], want[2])
        np.testing.assert_allclose(got[0], want[0], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6, atol=1e-6)
        assert np.isnan(got[0][~got[2]]).all()
    with pytest.raises(ValueError):
        kernels.paint(blocks, HEIGHT, WIDTH, 6)


def test_residual_close_to_opencv_warp() -> None:
    rng = np.random.default_rng(3)
    previous, current = frames(2)
    cell = 8
    shape = (-(-HEIGHT // cell), -(-WIDTH // cell))
    for dx, dy in [
        (np.full(shape, 1.0), np.full(shape, 2.0)),  # whole pixels: exact
        (rng.uniform(-6, 6, shape), rng.uniform(-6, 6, shape)),  # sub-pixel, off the borders
    ]:
        dx, dy = dx.astype(np.float32), dy.astype(np.float32)
        want = cell_residual(previous, current, dx, dy, cell)
        got = kernels.residual(previous, current, dx, dy, cell)
        # Same 1/32 px bilinear weights as OpenCV; its fixed-point rounding differs slightly.
        assert np.abs(got - want).max() <= 1.0
        assert np.abs(got - want).mean() <= 0.1


def test_residual_is_zero_for_the_true_motion() -> None:
    previous, current = frames(2)  # frame 1 is frame 0 moved by (-1, -2)
    cell = 8
    shape = (-(-HEIGHT // cell), -(-WIDTH // cell))
    got = kernels.residual(
        previous,
        current,
        np.full(shape, -1.0, np.float32),
        np.full(shape, -2.0, np.float32),
        cell,
    )
    inner = got[:-2, :-2]  # away from the replicated bottom/right border
    assert inner.max() == 0.0
    assert kernels.residual(previous, current, *(np.zeros(shape, np.float32),) * 2, cell).mean() > 5


def test_warm_up_compiles_every_kernel_version_a_run_uses() -> None:
    kernels.warm_up()
    # One resolve version per candidate count (its lumas tuple's length), one of the others.
    assert len(kernels.resolve_kernel.signatures) >= kernels.WARM_CANDIDATES
    assert kernels.paint_kernel.signatures
    assert kernels.residual_kernel.signatures
