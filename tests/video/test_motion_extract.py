"""Motion fields on synthetic encoded videos with exact ground truth (x264 with B-pyramid,
MPEG-4 Part 2), residual behaviour, fallback to optical flow, cache, cancel, background run."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest

from annotator.core.paths import cache_dir
from annotator.core.progress import Cancelled
from annotator.errors import VideoError
from annotator.synth.motion import X264_PYRAMID, MovingObject, Scene, encode
from annotator.video.motion import (
    MotionExtraction,
    MotionFields,
    extract_motion,
    motion_support,
)
from annotator.video.motion_proxy import make_h264_proxy
from annotator.video.proxy import proxy_path

CELL = 8
SCENE = Scene(appear_at=20)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("motion_videos")
    return {
        "x264": encode(SCENE, folder / "x264.mp4", "libx264", options=X264_PYRAMID, max_b_frames=3),
        "mpeg4": encode(SCENE, folder / "mpeg4.mp4", "mpeg4", gop=12, bit_rate=3_000_000),
    }


def object_accuracy(fields: MotionFields, scene: Scene, picture: str) -> list[float]:
    """Per object: share of its interior cells (over all frames of that picture type) whose
    field is valid and within 1 px of the truth."""
    shares = []
    for obj in scene.objects:
        good = total = 0
        for t, kind in enumerate(fields.picture_types):
            if kind != picture or t == 0:
                continue
            inside = scene.cells_inside(obj.rect(t), CELL)
            err = np.hypot(fields.dx[t] - obj.velocity[0], fields.dy[t] - obj.velocity[1])
            good += int(((err <= 1.0) & fields.valid[t])[inside].sum())
            total += int(inside.sum())
        shares.append(good / total)
    return shares


@pytest.mark.parametrize("name", ["x264", "mpeg4"])
def test_field_matches_truth_on_objects_and_background(videos: dict[str, Path], name: str) -> None:
    fields = extract_motion(videos[name], cell=CELL)
    assert fields.kind == "mv" and len(fields) == SCENE.frames
    assert fields.dx.shape == (SCENE.frames, 24, 32)
    types = set(fields.picture_types)
    assert types == ({"I", "P", "B"} if name == "x264" else {"I", "P"})
    for picture in sorted(types - {"I"}):
        for share in object_accuracy(fields, SCENE, picture):
            assert share >= 0.9, (picture, share)
    for t, kind in enumerate(fields.picture_types):
        if kind == "I":
            assert not fields.valid[t].any() and np.isnan(fields.dx[t]).all()
        else:
            still = SCENE.background_cells(t, CELL)
            assert np.all(np.abs(fields.dx[t][still & fields.valid[t]]) <= 1.0)


def test_x264_needs_far_references(videos: dict[str, Path]) -> None:
    # B-pyramid P-frames reach 6-8 frames back; limiting the search to 2 frames must hurt.
    near = extract_motion(videos["x264"], cell=CELL, max_distance=2, use_cache=False)
    assert min(object_accuracy(near, SCENE, "P")) < 0.9


@pytest.mark.parametrize("name", ["x264", "mpeg4"])
def test_residual_small_where_explained_large_where_new(videos: dict[str, Path], name: str) -> None:
    fields = extract_motion(videos[name], cell=CELL)
    assert np.isnan(fields.residual[0]).all()
    t = SCENE.appear_at
    assert t is not None and fields.picture_types[t] != "I"
    appeared = SCENE.cells_inside(SCENE.appear_rect, CELL)
    background = SCENE.background_cells(t, CELL)
    assert np.median(fields.residual[t][appeared]) > 20.0
    assert np.median(fields.residual[t][background]) < 2.0
    # The new patch has no earlier match: the codec codes (most of) it intra -> missing.
    assert fields.valid[t][appeared].mean() < 0.9
    # Inside the moving objects, where the field is exact, the prediction is close.
    for obj in SCENE.objects:
        inside = SCENE.cells_inside(obj.rect(t), CELL, margin=4)
        err = np.hypot(fields.dx[t] - obj.velocity[0], fields.dy[t] - obj.velocity[1])
        exact = inside & fields.valid[t] & (err < 0.25)
        assert exact.sum() >= 4
        assert np.median(fields.residual[t][exact]) < 3.0


def test_mpeg4_b_frames_are_derived_from_anchors(tmp_path: Path) -> None:
    # FFmpeg exports zero vectors for MPEG-4 Part 2 B-frames; they are rebuilt from the next
    # P-frame. (FFmpeg's MPEG-4 encoder misses larger motions across B gaps: keep it slow.)
    slow = Scene(
        objects=(
            MovingObject(start=(8, 16), velocity=(1, 1), size=(64, 48), seed=2),
            MovingObject(start=(184, 140), velocity=(-1, -1), size=(64, 48), seed=3),
        )
    )
    path = encode(slow, tmp_path / "b.avi", "mpeg4", gop=12, max_b_frames=2, bit_rate=3_000_000)
    fields = extract_motion(path, cell=CELL)
    assert "B" in fields.picture_types
    is_b = np.array([p == "B" for p in fields.picture_types])
    assert np.array_equal(fields.derived, is_b)
    for share in object_accuracy(fields, slow, "B"):
        assert share >= 0.85


def test_vp9_falls_back_to_flow(tmp_path: Path) -> None:
    codec = "libvpx-vp9" if "libvpx-vp9" in av.codecs_available else "libx265"
    small = Scene(width=128, height=96, frames=8, objects=(
        MovingObject(start=(16, 24), velocity=(2, 1), size=(48, 40), seed=2),))  # fmt: skip
    path = encode(small, tmp_path / "vp9.webm", codec, options={"deadline": "realtime"})
    supported, message = motion_support(path)
    assert not supported and "optical flow" in message
    fields = extract_motion(path, cell=CELL)
    assert fields.kind == "flow" and "optical flow" in fields.note
    assert not fields.valid[0].any() and fields.valid[1:].all()
    obj = small.objects[0]
    inside = small.cells_inside(obj.rect(5), CELL, margin=8)
    np.testing.assert_allclose(np.median(fields.dx[5][inside]), obj.velocity[0], atol=0.5)
    np.testing.assert_allclose(np.median(fields.dy[5][inside]), obj.velocity[1], atol=0.5)
    assert fields.field(5).kind == "flow"


def test_intra_only_stream_falls_back_to_flow(tmp_path: Path) -> None:
    small = Scene(width=96, height=64, frames=4, objects=())
    path = encode(small, tmp_path / "intra.mp4", "mpeg4", gop=1)
    fields = extract_motion(path, cell=CELL)
    assert fields.kind == "flow" and "intra-only" in fields.note


def test_cache_is_reused_and_keyed_by_cell(videos: dict[str, Path], tmp_path: Path) -> None:
    first = extract_motion(videos["mpeg4"], cell=CELL)
    cached = list(cache_dir("motion").glob("*.mvs"))
    assert len(cached) == 1
    calls: list[float] = []
    again = extract_motion(videos["mpeg4"], cell=CELL, progress=calls.append)
    assert calls == [1.0]  # answered from the cache in one step
    np.testing.assert_array_equal(again.valid, first.valid)
    np.testing.assert_allclose(again.dx, first.dx, atol=0.02, equal_nan=True)
    assert again.picture_types == first.picture_types
    assert extract_motion(videos["mpeg4"], cell=16).dx.shape[1:] == (12, 16)
    assert len(list(cache_dir("motion").glob("*.mvs"))) == 2


def test_cancel_raises_and_caches_nothing(videos: dict[str, Path], tmp_path: Path) -> None:
    seen: list[float] = []
    with pytest.raises(Cancelled):
        extract_motion(videos["x264"], progress=seen.append, should_stop=lambda: len(seen) >= 3)
    assert seen == [1 / SCENE.frames, 2 / SCENE.frames, 3 / SCENE.frames]
    assert not list(cache_dir("motion").glob("*.mvs"))
    assert not [t for t in threading.enumerate() if t.name == "decode-ahead"]


def test_background_extraction_reports_progress(videos: dict[str, Path]) -> None:
    finished = threading.Event()
    progress: list[float] = []
    job = MotionExtraction(
        videos["mpeg4"],
        on_progress=progress.append,
        on_done=lambda _: finished.set(),
    ).start()
    assert finished.wait(60)
    assert len(job.result()) == SCENE.frames
    assert progress == sorted(progress) and progress[-1] == 1.0
    cancelled = MotionExtraction(videos["x264"], use_cache=False)
    cancelled.cancel()
    cancelled.start()
    with pytest.raises(Cancelled):
        cancelled.result()


def test_bad_input_is_a_video_error(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="not found"):
        extract_motion(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VideoError):
        extract_motion(junk)
    with pytest.raises(VideoError, match="multiple of 4"):
        extract_motion(junk, cell=6)


def test_real_mpeg4_avi_with_b_frames(data_dir: Path) -> None:
    fields = extract_motion(data_dir / "videos" / "mmaction2_test.avi", cell=CELL)
    assert fields.kind == "mv" and fields.codec == "mpeg4"
    assert len(fields) == 164 and fields.dx.shape[1:] == (30, 40)
    kinds = np.array(fields.picture_types)
    assert np.array_equal(fields.derived, kinds == "B") and (kinds == "B").sum() > 50
    inter = kinds != "I"
    assert fields.valid[inter].mean() > 0.9 and not fields.valid[kinds == "I"].any()
    assert np.isfinite(fields.residual[1:]).all()
    assert np.all(np.diff(fields.times) > 0)


def test_proxy_reencode_gives_codec_vectors(tmp_path: Path) -> None:
    codec = "libvpx-vp9" if "libvpx-vp9" in av.codecs_available else "libx265"
    scene = Scene(width=128, height=96, frames=10, objects=(
        MovingObject(start=(16, 24), velocity=(2, 1), size=(48, 40), seed=2),))  # fmt: skip
    path = encode(scene, tmp_path / "vp9.webm", codec, options={"deadline": "realtime"})
    before = path.read_bytes()
    fields = extract_motion(path, cell=CELL, fallback="proxy")
    assert path.read_bytes() == before  # the user's file is only read
    assert fields.kind == "mv" and "H.264 re-encode" in fields.note
    assert len(fields) == scene.frames
    proxy = proxy_path(path, single_reference=True)
    assert proxy.is_file() and proxy.is_relative_to(tmp_path)
    obj = scene.objects[0]
    good = total = 0
    for t in range(1, scene.frames):
        inside = scene.cells_inside(obj.rect(t), CELL)
        err = np.hypot(fields.dx[t] - obj.velocity[0], fields.dy[t] - obj.velocity[1])
        good += int(((err <= 1.0) & fields.valid[t])[inside].sum())
        total += int(inside.sum())
    assert good / total >= 0.9


def test_cancelled_proxy_reencode_leaves_nothing(tmp_path: Path) -> None:
    scene = Scene(width=64, height=48, frames=6, objects=())
    path = encode(scene, tmp_path / "clip.mp4", "libx264", options={})
    with pytest.raises(Cancelled):
        make_h264_proxy(path, should_stop=lambda: True)
    proxy = proxy_path(path, single_reference=True)
    assert not proxy.exists() and not list(proxy.parent.glob("*.part.mp4"))
