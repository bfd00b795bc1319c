"""Vector-to-field conversion on hand-made vectors: geometry, signs, distances, missing cells."""

from __future__ import annotations

import numpy as np

from annotator.synth.motion import texture
from annotator.video.motion_vectors import (
    Blocks,
    FrameBlocks,
    blocks_from_side_data,
    cell_field,
    per_frame_blocks,
    resolve_distances,
    shift_blocks,
)

MV_DTYPE = np.dtype(
    [
        ("source", "<i4"),
        ("w", "u1"),
        ("h", "u1"),
        ("src_x", "<i2"),
        ("src_y", "<i2"),
        ("dst_x", "<i2"),
        ("dst_y", "<i2"),
        ("flags", "<u8"),
        ("motion_x", "<i4"),
        ("motion_y", "<i4"),
        ("motion_scale", "<u2"),
    ]
)


def vectors(rows: list[tuple[int, int, int, int, int, int, int]]) -> np.ndarray:
    """(source, w, h, dst_x, dst_y, motion_x, motion_y) with quarter-pel scale."""
    out = np.zeros(len(rows), dtype=MV_DTYPE)
    for i, (source, w, h, dst_x, dst_y, mx, my) in enumerate(rows):
        out[i] = (source, w, h, dst_x + mx // 4, dst_y + my // 4, dst_x, dst_y, 0, mx, my, 4)
    return out


def test_side_data_geometry_and_signs() -> None:
    blocks = blocks_from_side_data(vectors([(-1, 16, 16, 24, 8, -8, 4), (1, 8, 8, 4, 4, 12, 0)]))
    assert blocks.x0.tolist() == [16.0, 0.0]
    assert blocks.y0.tolist() == [0.0, 0.0]
    assert blocks.mvx.tolist() == [-2.0, 3.0]
    assert blocks.forward.tolist() == [False, True]
    # Past reference 2 frames back, future reference 3 frames ahead.
    moved = per_frame_blocks(blocks, np.array([2, 3], dtype=np.int32))
    np.testing.assert_allclose(moved.dx, [1.0, 1.0])
    np.testing.assert_allclose(moved.dy, [-0.5, 0.0])
    np.testing.assert_allclose(moved.weight, [0.5, 1 / 3])


def test_uncovered_cells_are_missing_not_zero() -> None:
    # A 32x16 frame: one 16x16 inter block on the left; the right half has no vector (intra).
    blocks = per_frame_blocks(
        blocks_from_side_data(vectors([(-1, 16, 16, 8, 8, -8, 0)])), np.array([1], np.int32)
    )
    dx, dy, valid = cell_field(blocks, 16, 32, 8)
    assert valid.tolist() == [[True, True, False, False], [True, True, False, False]]
    assert np.all(dx[valid] == 2.0) and np.all(dy[valid] == 0.0)
    assert np.isnan(dx[~valid]).all() and np.isnan(dy[~valid]).all()


def test_small_blocks_average_within_a_cell_and_both_directions_blend() -> None:
    rows = [(-1, 4, 4, 2 + 4 * i, 2 + 4 * j, -4 * (i + 1), 0) for i in range(2) for j in range(2)]
    blocks = per_frame_blocks(blocks_from_side_data(vectors(rows)), np.ones(4, np.int32))
    dx, _, valid = cell_field(blocks, 8, 8, 8)
    assert valid.all() and dx[0, 0] == 1.5
    # The same block predicted from 1 frame back (+2 px/frame) and 2 frames ahead (+4 px per
    # frame): weights 1 and 1/2.
    both = blocks_from_side_data(vectors([(-1, 8, 8, 4, 4, -8, 0), (1, 8, 8, 4, 4, 32, 0)]))
    blend = per_frame_blocks(both, np.array([1, 2], np.int32))
    dx, _, _ = cell_field(blend, 8, 8, 8)
    assert np.isclose(dx[0, 0], (2 * 1 + 4 * 0.5) / 1.5)


def test_partly_covered_cell_needs_half_coverage() -> None:
    quarter = per_frame_blocks(
        blocks_from_side_data(vectors([(-1, 4, 4, 2, 2, 0, 0)])), np.ones(1, np.int32)
    )
    assert not cell_field(quarter, 8, 8, 8)[2].any()
    half = per_frame_blocks(
        blocks_from_side_data(vectors([(-1, 8, 4, 4, 2, 0, 0)])), np.ones(1, np.int32)
    )
    assert cell_field(half, 8, 8, 8)[2].all()


def test_reference_distance_found_by_best_match() -> None:
    # A texture moving 2 px/frame to the right: frame t-k holds the block 2k px to the left.
    big = texture(64, 160, seed=7)
    frames = {k: big[:, 40 + 2 * k : 40 + 2 * k + 96] for k in range(0, 5)}
    current = np.ascontiguousarray(frames[0])
    # Blocks whose source is 6 px to the left: a 3-frame-back reference.
    n = 4
    blocks = Blocks(
        x0=np.array([16, 32, 48, 64], np.float32),
        y0=np.full(n, 24, np.float32),
        w=np.full(n, 16, np.int32),
        h=np.full(n, 16, np.int32),
        mvx=np.full(n, -6, np.float32),
        mvy=np.zeros(n, np.float32),
        forward=np.zeros(n, bool),
    )
    candidates = [(k, np.ascontiguousarray(frames[k])) for k in (1, 2, 3, 4)]
    distances, costs = resolve_distances(blocks, current, candidates)
    assert distances.tolist() == [3, 3, 3, 3]
    assert np.all(costs < 1.0)
    assert np.allclose(per_frame_blocks(blocks, distances).dx, 2.0)
    # A zero vector keeps the nearest candidate without matching.
    still = Blocks(*(getattr(blocks, f) for f in ("x0", "y0", "w", "h")), np.zeros(n, np.float32),
                   np.zeros(n, np.float32), np.zeros(n, bool))  # fmt: skip
    assert resolve_distances(still, current, candidates)[0].tolist() == [1, 1, 1, 1]


def test_shift_blocks_moves_along_motion() -> None:
    fb = FrameBlocks(
        np.array([32.0], np.float32),
        np.array([16.0], np.float32),
        np.array([16], np.int32),
        np.array([16], np.int32),
        np.array([2.0], np.float32),
        np.array([-1.0], np.float32),
        np.array([1.0], np.float32),
        np.array([False]),
    )
    back = shift_blocks(fb, 2)
    assert back.x0[0] == 28.0 and back.y0[0] == 18.0 and back.dx[0] == 2.0


def test_no_blocks_means_all_missing() -> None:
    empty = np.zeros(0, np.float32)
    none = FrameBlocks(empty, empty, empty.astype(np.int32), empty.astype(np.int32), empty,
                       empty, empty, np.zeros(0, bool))  # fmt: skip
    dx, dy, valid = cell_field(none, 20, 30, 8)
    assert dx.shape == (3, 4) and not valid.any() and np.isnan(dy).all()


def test_bi_predicted_block_counts_once_for_coverage() -> None:
    # A 16x16 cell: one 8x8 quarter predicted from both directions, the rest intra.
    both = blocks_from_side_data(vectors([(-1, 8, 8, 4, 4, -4, 0), (1, 8, 8, 4, 4, 4, 0)]))
    fb = per_frame_blocks(both, np.ones(2, np.int32))
    assert not cell_field(fb, 16, 16, 16)[2].any()
    assert cell_field(fb, 16, 16, 8)[2].tolist() == [[True, False], [False, False]]
