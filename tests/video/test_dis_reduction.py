"""The ``dis`` field's own reduction (``flow.DIS_MAX_SIDE``): which luma DIS runs on, that a
reduced flow still follows a known translation, and that its store is not the 640 px one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from annotator.synth.motion import MovingObject, Scene, encode, texture
from annotator.video.flow import DIS_MAX_SIDE, DisFlow, cell_means, dis_reduction
from annotator.video.motion import MotionFields, extract_motion
from annotator.video.motion_cache import store_path
from annotator.video.residual import residual_factor

CELL = 16


@dataclass(frozen=True)
class CoarseScene(Scene):
    """The translation scene with texture as coarse as in a 720p picture of people: blobs of
    16 px, 4 px of DIS's luma (the scene's 4 px blobs alias at a quarter of the size)."""

    def render(self, t: int) -> NDArray[np.uint8]:
        frame = texture(self.height, self.width, self.seed, blob=16).copy()
        for obj in self.objects:
            x, y, w, h = obj.rect(t)
            frame[y : y + h, x : x + w] = texture(h, w, obj.seed, blob=16)
        return frame


WIDE = CoarseScene(
    width=1024,
    height=576,
    frames=10,
    objects=(MovingObject(start=(300, 200), velocity=(5, 2), size=(320, 224), seed=2),),
)


def test_dis_runs_on_luma_halved_to_its_largest_side() -> None:
    assert DIS_MAX_SIDE == 480
    # 720p with a 16 px cell: the residual's 640 px, halved once to 320
    assert residual_factor(720, 1280, CELL) == 2 and dis_reduction(720, 1280, 2, CELL, 480) == 2
    # a 1080p portrait picture with its 24 px cell: the residual's 480 px as it is
    assert residual_factor(1920, 1080, 24) == 4 and dis_reduction(1920, 1080, 4, 24, 480) == 1
    # never a reduction that does not divide the cell (an 8 px cell: at most 8 in all)
    assert dis_reduction(720, 1280, 2, 8, 100) == 4
    assert dis_reduction(720, 1280, 2, CELL, 640) == 1


def test_reduced_dis_follows_the_full_resolution_displacement() -> None:
    rng = np.random.default_rng(0)
    previous = np.asarray(rng.uniform(0, 255, (90, 160)), dtype=np.uint8).repeat(4, 0).repeat(4, 1)
    current = np.roll(previous, (3, 8), axis=(0, 1))  # 8 px right, 3 px down
    flow = DisFlow(factor=1, cell=CELL, extra=2)
    dx, dy = flow.field(previous, current, (360 // CELL, 640 // CELL))
    inner = (slice(2, -2), slice(2, -2))
    assert np.median(dx[inner]) == pytest.approx(8.0, abs=0.5)
    assert np.median(dy[inner]) == pytest.approx(3.0, abs=0.5)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wide") / "wide.mp4"
    return encode(WIDE, path, "libx264", options={"crf": "18"})


@pytest.fixture(scope="module")
def dis(wide: Path) -> MotionFields:
    return extract_motion(wide, cell=CELL, field="dis", use_cache=False)


def test_the_default_dis_field_is_reduced_and_follows_a_translation(dis: MotionFields) -> None:
    # 1024 px: the residual works at 512, DIS at 256
    assert dis_reduction(576, 1024, residual_factor(576, 1024, CELL), CELL, DIS_MAX_SIDE) == 2
    obj = WIDE.objects[0]
    for t in range(1, WIDE.frames):
        inside = WIDE.cells_inside(obj.rect(t), CELL, margin=16)
        err = np.hypot(dis.dx[t][inside] - obj.velocity[0], dis.dy[t][inside] - obj.velocity[1])
        assert np.median(err) <= 0.5, (t, np.median(err))
        still = WIDE.background_cells(t, CELL)
        assert np.median(np.hypot(dis.dx[t][still], dis.dy[t][still])) <= 0.5


def test_dis_at_640_px_is_its_own_field_and_store(wide: Path, dis: MotionFields) -> None:
    full = extract_motion(wide, cell=CELL, field="dis-640", use_cache=False)
    obj = WIDE.objects[0]
    inside = WIDE.cells_inside(obj.rect(5), CELL, margin=16)
    assert np.median(full.dx[5][inside]) == pytest.approx(obj.velocity[0], abs=0.5)
    assert not np.array_equal(full.dx[1:], dis.dx[1:])  # another luma, another estimate
    names = {f: store_path(wide, CELL, 8, "flow", f)[0].name for f in ("dis", "dis-640")}
    assert names["dis"].endswith(f"-c16-d8-flow-dis{DIS_MAX_SIDE}-s3.mvs")
    assert names["dis-640"].endswith("-c16-d8-flow-dis-640-s3.mvs")


def test_cell_means_of_two_channels_match_each_channel() -> None:
    values = np.random.default_rng(1).normal(size=(9, 13, 2)).astype(np.float32)
    both = cell_means(values, 4, (3, 4))
    for k in (0, 1):
        np.testing.assert_allclose(both[:, :, k], cell_means(values[:, :, k], 4, (3, 4)))
    assert both[2, 3, 0] == pytest.approx(values[8:, 12:, 0].mean())  # a 1 x 1 corner cell
    assert (cell_means(values, 4, (4, 5))[3:, :] == 0).all()  # cells past the picture
