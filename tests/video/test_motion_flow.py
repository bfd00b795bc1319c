"""The DIS optical-flow field (``extract_motion(field="dis")``): it follows a known
translation, walks follow it, its store round-trips as its own kind, and stores of an older
version or of another field are refused and rebuilt."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from annotator.core.codes import Source
from annotator.core.fingerprint import video_fingerprint
from annotator.core.paths import cache_dir
from annotator.errors import VideoError
from annotator.propagation.mv import mv_fill
from annotator.video.flow import cell_means
from annotator.video.motion import MotionFields, extract_motion
from annotator.video.motion_cache import open_motion, store_path
from annotator.video.motion_store import MotionStore
from tests.propagation.scenes import (
    FRAMES,
    TRANSLATION,
    encode_translation,
    labels_at,
    translation_truth,
)

CELL = 8
SQUARE_POINTS = np.array([[70.0, 60.0], [100.0, 75.0], [85.0, 95.0], [115.0, 65.0]])


@pytest.fixture(scope="module")
def square(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return encode_translation(tmp_path_factory.mktemp("dis") / "square.mp4", "h264")


@pytest.fixture(scope="module")
def dis(square: Path) -> MotionFields:
    return extract_motion(square, cell=CELL, field="dis", use_cache=False)


def test_dis_field_follows_a_translation_within_half_a_pixel(dis: MotionFields) -> None:
    obj = TRANSLATION.objects[0]
    assert dis.kind == "flow" and "dis" in dis.note and len(dis) == FRAMES
    assert not dis.valid[0].any() and dis.valid[1:].all()
    for t in range(1, FRAMES):
        inside = TRANSLATION.cells_inside(obj.rect(t), CELL, margin=8)
        err = np.hypot(dis.dx[t][inside] - obj.velocity[0], dis.dy[t][inside] - obj.velocity[1])
        assert np.median(err) <= 0.5, (t, np.median(err))
        still = TRANSLATION.background_cells(t, CELL)
        assert np.median(np.hypot(dis.dx[t][still], dis.dy[t][still])) <= 0.5


def test_walks_on_the_dis_field_follow_the_translation(dis: MotionFields) -> None:
    man = labels_at(translation_truth, SQUARE_POINTS, [0, FRAMES - 1])
    res = mv_fill(man, dis)
    truth = np.stack([translation_truth(SQUARE_POINTS, t) for t in range(FRAMES)])
    assert np.hypot(*(res.poses[:, :, :2] - truth).T).max() <= 0.5
    assert (res.source[1:-1] == Source.MV).all()


def test_cell_means_average_partial_cells_over_their_pixels() -> None:
    values = np.arange(30, dtype=np.float32).reshape(5, 6)
    means = cell_means(values, 4, (2, 2))
    assert means[0, 0] == pytest.approx(values[:4, :4].mean())
    assert means[1, 1] == pytest.approx(values[4:, 4:].mean())  # 1 x 2 pixels of its 16


def test_dis_store_round_trip_and_reuse(square: Path, dis: MotionFields) -> None:
    store = open_motion(square, cell=CELL, field="dis")
    assert store.field == "dis" and store.kind == "flow" and len(store) == FRAMES
    back = store.fields()
    assert np.array_equal(back.valid, dis.valid)
    ok = dis.valid
    assert np.abs(back.dx[ok] - dis.dx[ok]).max() <= 1 / 64 + 1e-6
    assert np.abs(back.dy[ok] - dis.dy[ok]).max() <= 1 / 64 + 1e-6
    assert np.array_equal(np.isfinite(back.residual), np.isfinite(dis.residual))
    # its own cache entry: the codec-vector store of the same video is another file
    vectors = open_motion(square, cell=CELL)
    assert vectors.field == "mv" and vectors.kind == "mv" and vectors.path != store.path
    seen: list[float] = []
    again = open_motion(square, cell=CELL, field="dis", progress=seen.append)
    assert seen == [1.0] and again.path == store.path
    with pytest.raises(VideoError, match="holds the mv field, not dis"):
        MotionStore(vectors.path, field="dis")


def _rewrite_trailer(path: Path, change: dict[str, object], drop: str | None = None) -> None:
    """Rewrite a store's JSON trailer (what an older release or another field wrote)."""
    data = path.read_bytes()
    length = int.from_bytes(data[-16:-8], "little")
    meta = json.loads(data[-16 - length : -16])
    meta.update(change)
    if drop is not None:
        del meta[drop]
    text = json.dumps(meta).encode()
    path.write_bytes(data[: -16 - length] + text + len(text).to_bytes(8, "little") + data[-8:])


@pytest.mark.parametrize("old", ["version-2", "other-field"])
def test_old_or_foreign_stores_are_refused_and_rebuilt(
    square: Path, old: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = open_motion(square, cell=CELL, field="dis").path
    good = MotionStore(path).fields()
    if old == "version-2":  # the layout of the previous release: no field in the trailer
        _rewrite_trailer(path, {"version": 2}, drop="field")
        with pytest.raises(VideoError, match="format 2/32, not 3/32"):
            MotionStore(path)
    else:  # a codec-vector store where the DIS store belongs
        _rewrite_trailer(path, {"field": "mv"})
        with pytest.raises(VideoError, match="holds the mv field"):
            MotionStore(path, field="dis")
    with caplog.at_level(logging.WARNING):
        rebuilt = open_motion(square, cell=CELL, field="dis")
    assert "rebuilding the motion cache" in caplog.text
    assert rebuilt.field == "dis" and rebuilt.path == path
    np.testing.assert_array_equal(rebuilt.fields().dx, good.dx)


def test_store_names_keep_fields_apart(square: Path) -> None:
    fp = video_fingerprint(square)
    names = {f: store_path(square, CELL, 8, "flow", f)[0].name for f in ("mv", "dis")}
    assert names["mv"] == f"{fp}-c8-d8-flow-s3.mvs"
    assert names["dis"] == f"{fp}-c8-d8-flow-dis480-s3.mvs"
    assert store_path(square, CELL, 8, "flow", "dis")[0].parent == cache_dir("motion")


def test_unknown_field_is_one_clear_error(square: Path) -> None:
    with pytest.raises(VideoError, match="unknown motion field 'lk'"):
        extract_motion(square, field="lk")  # type: ignore[arg-type]


def test_frames_too_small_for_optical_flow_say_so(tmp_path: Path) -> None:
    """A thin video (320 x 8): one sentence, not OpenCV's 'resize.cpp ... Assertion failed'."""
    from annotator.propagation import FILL_FIELD
    from annotator.video.motion_cache import open_motion
    from tests.video.videomaker import make_video

    path = make_video(tmp_path / "thin.mp4", n=6, size=(320, 8))
    with pytest.raises(VideoError, match=r"frames of 320x8 pixels: too small"):
        open_motion(path, field=FILL_FIELD)
