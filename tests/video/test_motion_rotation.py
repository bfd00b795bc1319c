"""Motion fields of a video with a rotation tag come out in display orientation, like frames."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from annotator.synth.motion import X264_PYRAMID, MovingObject, Scene, encode
from annotator.video.base import open_video
from annotator.video.motion import CACHE_VERSION, MotionFields, extract_motion
from annotator.video.motion_vectors import FrameBlocks, rotate_blocks

CELL = 8
SCENE = Scene(frames=24)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> MotionFields:
    path = tmp_path_factory.mktemp("plain") / "plain.mp4"
    encode(SCENE, path, "libx264", options=X264_PYRAMID, max_b_frames=3)
    return extract_motion(path, cell=CELL, use_cache=False)


def turn_point(x: float, y: float, clockwise: int, width: int, height: int) -> tuple[float, float]:
    """Coded pixel centre (x, y) of a width x height frame -> display position."""
    return {
        90: (height - 1 - y, x),
        180: (width - 1 - x, height - 1 - y),
        270: (y, width - 1 - x),
    }[clockwise]


def turn_vector(vx: float, vy: float, clockwise: int) -> tuple[float, float]:
    return {90: (-vy, vx), 180: (-vx, -vy), 270: (vy, -vx)}[clockwise]


@pytest.mark.parametrize(("tag", "clockwise"), [(-90, 90), (180, 180), (90, 270)])
def test_fields_follow_the_rotation_tag(
    tmp_path: Path, plain: MotionFields, tag: int, clockwise: int
) -> None:
    path = encode(
        SCENE,
        tmp_path / "turned.mp4",
        "libx264",
        options=X264_PYRAMID,
        max_b_frames=3,
        display_rotation=tag,
    )
    with open_video(path, build_index=False) as reader:
        assert reader.rotation == clockwise
        size = (reader.width, reader.height)
    fields = extract_motion(path, cell=CELL, use_cache=False)
    assert (fields.width, fields.height) == size
    assert fields.dx.shape[1:] == (-(-size[1] // CELL), -(-size[0] // CELL))

    # The same coded stream: the field is the unrotated one, turned (grid and vectors).
    k = -clockwise // 90  # np.rot90 turns counter-clockwise for positive k
    turned_dx, turned_dy = turn_vector(plain.dx, plain.dy, clockwise)
    np.testing.assert_array_equal(fields.valid, np.rot90(plain.valid, k, axes=(1, 2)))
    np.testing.assert_allclose(fields.dx, np.rot90(turned_dx, k, axes=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(fields.dy, np.rot90(turned_dy, k, axes=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(
        fields.residual[1:], np.rot90(plain.residual, k, axes=(1, 2))[1:], atol=1e-4
    )
    assert fields.picture_types == plain.picture_types

    # And it points the way the objects move on screen.
    for obj in SCENE.objects:
        want = turn_vector(*obj.velocity, clockwise)
        for t in range(1, SCENE.frames):
            if fields.picture_types[t] == "I":
                continue
            x, y, w, h = obj.rect(t)
            cx, cy = turn_point(x + w / 2, y + h / 2, clockwise, SCENE.width, SCENE.height)
            i, j = int(cy) // CELL, int(cx) // CELL
            assert fields.valid[t, i, j]
            assert np.hypot(fields.dx[t, i, j] - want[0], fields.dy[t, i, j] - want[1]) <= 1.0


def test_rotate_blocks_moves_geometry_and_vectors() -> None:
    one = FrameBlocks(
        x0=np.array([4.0], np.float32),
        y0=np.array([8.0], np.float32),
        w=np.array([16], np.int32),
        h=np.array([8], np.int32),
        dx=np.array([2.0], np.float32),
        dy=np.array([-1.0], np.float32),
        weight=np.array([0.5], np.float32),
        forward=np.array([True]),
    )
    width, height = 64, 32
    for clockwise in (90, 180, 270):
        turned = rotate_blocks(one, clockwise, width, height)
        # Corners of the block land on the corners of the turned block.
        corners = [
            turn_point(x, y, clockwise, width, height)
            for x in (4.0, 4.0 + 16 - 1)
            for y in (8.0, 8.0 + 8 - 1)
        ]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        assert (turned.x0[0], turned.y0[0]) == (min(xs), min(ys))
        assert (turned.w[0], turned.h[0]) == (max(xs) - min(xs) + 1, max(ys) - min(ys) + 1)
        assert (turned.dx[0], turned.dy[0]) == turn_vector(2.0, -1.0, clockwise)
        assert (turned.weight.tolist(), turned.forward.tolist()) == ([0.5], [True])
    assert rotate_blocks(one, 0, width, height) is one
    with pytest.raises(ValueError):
        rotate_blocks(one, 45, width, height)


def test_cache_version_changed_for_display_orientation() -> None:
    assert CACHE_VERSION >= 2


def test_flow_fallback_is_in_display_orientation(tmp_path: Path) -> None:
    codec = "libvpx-vp9" if "libvpx-vp9" in av.codecs_available else "libx265"
    small = Scene(width=128, height=96, frames=8, objects=(
        MovingObject(start=(16, 24), velocity=(2, 1), size=(48, 40), seed=2),))  # fmt: skip
    path = encode(
        small, tmp_path / "vp9.mp4", codec, options={"deadline": "realtime"}, display_rotation=-90
    )
    with open_video(path, build_index=False) as reader:
        assert reader.rotation == 90
        size = (reader.width, reader.height)
    fields = extract_motion(path, cell=CELL)
    assert fields.kind == "flow"
    assert (fields.width, fields.height) == size == (96, 128)
    assert fields.dx.shape[1:] == (128 // CELL, 96 // CELL)
    obj = small.objects[0]
    x, y, w, h = obj.rect(5)
    # The object's coded rectangle turned 90 degrees clockwise, shrunk by a cell each side.
    rows = slice((x + CELL) // CELL, (x + w - CELL) // CELL)
    cols = slice((small.height - y - h + CELL) // CELL, (small.height - y - CELL) // CELL)
    want = turn_vector(*obj.velocity, 90)
    np.testing.assert_allclose(np.median(fields.dx[5][rows, cols]), want[0], atol=0.5)
    np.testing.assert_allclose(np.median(fields.dy[5][rows, cols]), want[1], atol=0.5)
