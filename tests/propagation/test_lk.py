"""The Lucas-Kanade refinement of the walks (``propagation/lk.py``) on generated videos: a
small textured patch moving fast over a textured background, which the 16 px flow cells
under-read and the refined walk follows; an occluder that the forward-backward check rejects;
labels kept exact by the fill that uses it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.core.codes import Source, Visibility
from annotator.propagation.fuse import fill_with
from annotator.propagation.lk import (
    LkPropagator,
    decode_luma,
    lk_steps,
    propagate_refined,
    walk_refined,
)
from annotator.propagation.registry import VideoSource
from annotator.propagation.walk import walk_many
from annotator.synth.motion import MovingObject, Scene, encode
from annotator.video.motion import MotionFields, extract_motion

FRAMES = 13
PATCH = MovingObject(start=(40, 70), velocity=(7, 2), size=(20, 20), seed=7)
CENTRE = np.array([PATCH.start[0] + 10.3, PATCH.start[1] + 9.8])  # a joint is not on a pixel
STEP = np.array(PATCH.velocity, dtype=np.float64)


def _scene(occluder_at: int | None = None) -> Scene:
    x, y, _, _ = PATCH.rect(6)
    rect = (x - 10, y - 10, 40, 40)  # over the patch from frame 6
    return Scene(frames=FRAMES, objects=(PATCH,), appear_at=occluder_at, appear_rect=rect)


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MotionFields]:
    path = tmp_path_factory.mktemp("lk") / "patch.mp4"
    encode(_scene(), path, "libx264", options={"crf": "10"})
    return path, extract_motion(path, field="dis", cell=16, use_cache=False)


def test_decode_luma_is_the_picture(moving: tuple[Path, MotionFields]) -> None:
    path, fields = moving
    luma = decode_luma(path)
    assert luma.shape == (FRAMES, fields.height, fields.width)
    # frame 4's picture (luma in video range, so compared by correlation), not frame 3's
    x, y, w, h = PATCH.rect(4)
    region = (slice(y - 2, y + h), slice(x - 7, x + w))  # the patch at frames 3 and 4
    near = [
        np.corrcoef(luma[4][region].ravel(), _scene().render(t)[region].ravel())[0, 1]
        for t in (3, 4)
    ]
    assert near[1] > 0.98 > near[0]
    assert decode_luma(path, 3, 5).shape[0] == 3


def test_refined_walk_follows_a_fast_small_patch_the_cells_under_read(
    moving: tuple[Path, MotionFields],
) -> None:
    path, fields = moving
    luma = decode_luma(path)
    start, stop = np.array([0, FRAMES - 1]), np.array([FRAMES - 1, 0])
    points = np.array([CENTRE, CENTRE + STEP * (FRAMES - 1)])
    radius = np.full(2, 12.0)
    truth = CENTRE + STEP * np.arange(FRAMES)[:, None]
    plain = walk_many(fields, start, stop, points, radius)
    refined = walk_refined(fields, luma, start, stop, points, radius)
    for k, frames in ((0, np.arange(FRAMES)), (1, np.arange(FRAMES)[::-1])):
        err_plain = np.linalg.norm(plain.path[plain.rows(k)] - truth[frames], axis=1)
        err_refined = np.linalg.norm(refined.path[refined.rows(k)] - truth[frames], axis=1)
        assert err_plain.max() > 3.0  # the cells mix the patch with the still background
        assert err_refined.max() < 0.5
    assert refined.path[0].tolist() == CENTRE.tolist()  # starts where it was put


def test_forward_backward_check_rejects_an_occluded_patch(tmp_path: Path) -> None:
    path = encode(_scene(occluder_at=6), tmp_path / "hidden.mp4", "libx264", options={"crf": "10"})
    fields = extract_motion(path, field="dis", cell=16, use_cache=False)
    luma = decode_luma(path)
    before = CENTRE + STEP * 5
    _, ok_seen = lk_steps(luma[4], luma[5], (before - STEP)[None])
    _, ok_hidden = lk_steps(luma[5], luma[6], before[None])
    assert ok_seen.all()
    assert not ok_hidden.any()
    # where the check fails, the refined walk takes the field's step
    refined = walk_refined(
        fields, luma, np.array([5]), np.array([6]), before[None], np.full(1, 12.0)
    )
    plain = walk_many(fields, np.array([5]), np.array([6]), before[None], np.full(1, 12.0))
    np.testing.assert_allclose(refined.path, plain.path)


def test_fill_with_the_refinement_keeps_labels_exact(moving: tuple[Path, MotionFields]) -> None:
    path, fields = moving
    truth = CENTRE + STEP * np.arange(FRAMES)[:, None]
    manual = np.full((FRAMES, 2, 3), np.nan)
    manual[:, :, 2] = Visibility.UNLABELLED
    for f in (0, FRAMES - 1):
        manual[f, 0, :2] = truth[f] + np.array([0.3, -0.2])  # a label need not be the truth
        manual[f, 1, :2] = truth[f] + np.array([0.0, 20.0])  # background under the patch
        manual[f, :, 2] = Visibility.VISIBLE
    source = VideoSource(fields=fields)
    res = fill_with(manual, source, "hpim+mv", fps=25.0, propagator=LkPropagator(decode_luma(path)))
    for f in (0, FRAMES - 1):
        np.testing.assert_array_equal(res.poses[f, :, :2], manual[f, :, :2].astype(np.float32))
        assert (res.source[f] == Source.MANUAL).all()
    assert (res.source[1:-1, 0] == Source.HPIM_MV).all()
    # what the fill weighed between the labels: the refined walks, on the patch
    obs = propagate_refined(manual, fields, decode_luma(path))
    assert np.linalg.norm(obs.xy[1:-1, 0] - truth[1:-1], axis=1).max() < 0.5
