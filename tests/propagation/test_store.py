"""Motion fields in a disk store: compact, written while extracting, checked on open (a
damaged, truncated, foreign or old cache is rebuilt), and propagation reads it window by
window with the same result as from the fields in memory."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

import annotator.propagation.mv as mv_module
from annotator.core.paths import cache_dir
from annotator.core.progress import Cancelled
from annotator.errors import VideoError
from annotator.gui.session import residual_energy
from annotator.propagation.mv import propagate
from annotator.propagation.walk import walk_many
from annotator.propagation.walk_chunks import walk_store
from annotator.video.motion import extract_motion
from annotator.video.motion_cache import open_motion
from annotator.video.motion_store import MotionStore, store_cell, write_store
from tests.propagation.scenes import FRAMES, encode_rotation, labels_at, rotation_truth

POINTS = np.array([[178.0, 96.0], [128.0, 46.0], [93.0, 131.0]])


def test_store_round_trip_is_compact(tmp_path: Path) -> None:
    fields = extract_motion(encode_rotation(tmp_path / "disc.mp4", "h264"), use_cache=False)
    store = MotionStore(write_store(fields, tmp_path / "disc.mvs", "fp"), "fp")
    assert len(store) == len(fields) == FRAMES
    gh, gw = fields.dx.shape[1:]
    assert store.bytes_per_frame == gh * gw * 5
    back = store.fields()
    assert np.array_equal(back.valid, fields.valid)
    ok = fields.valid
    assert np.abs(back.dx[ok] - fields.dx[ok]).max() <= 1 / 64 + 1e-6
    assert np.abs(back.dy[ok] - fields.dy[ok]).max() <= 1 / 64 + 1e-6
    finite = np.isfinite(fields.residual)
    assert np.array_equal(np.isfinite(back.residual), finite)
    low = finite & (fields.residual <= 252)  # uint8 keeps its square root in 1/16 steps
    root_error = np.sqrt(back.residual[low]) - np.sqrt(fields.residual[low])
    assert np.abs(root_error).max() <= 1 / 32 + 1e-6
    assert back.picture_types == fields.picture_types and back.kind == fields.kind
    np.testing.assert_array_equal(back.times, fields.times)
    part = store.window(5, 9)
    assert len(part) == 5 and np.array_equal(part.valid, fields.valid[5:10])
    assert store.window(5, 9) is part  # a drag re-reads the same window: kept, not re-read
    np.testing.assert_array_equal(part.dx, back.dx[5:10])
    # the per-frame residual energy written while storing is the one of the stored residual
    np.testing.assert_allclose(store.energy, residual_energy(back), rtol=1e-6)
    assert np.isnan(store.energy[0]) and np.isfinite(store.energy[1:]).all()
    with pytest.raises(VideoError, match="another video"):
        MotionStore(tmp_path / "disc.mvs", "other")
    with pytest.raises(IndexError):
        store.window(0, FRAMES)


def test_cell_keeps_a_1080p_frame_under_100_kb() -> None:
    assert store_cell(1280, 720) == 8  # 72,000 bytes
    assert store_cell(1920, 1080) == 12
    for width, height in ((1920, 1080), (1080, 1920), (3840, 2160), (640, 480), (1280, 720)):
        cell = store_cell(width, height)
        cells = -(-width // cell) * -(-height // cell)
        assert cells * 5 <= 100_000 and cell % 4 == 0


def test_app_store_is_written_once_and_reused(tmp_path: Path) -> None:
    video = encode_rotation(tmp_path / "disc.mp4", "h264")
    seen: list[float] = []
    store = open_motion(video, progress=seen.append)
    assert seen[-1] == pytest.approx(1.0) and len(seen) == FRAMES
    files = list(cache_dir("motion").iterdir())
    assert [f.suffix for f in files] == [".mvs"]  # no temporary file left behind
    assert files[0].stat().st_size < (store.bytes_per_frame + 200) * FRAMES
    again: list[float] = []
    reopened = open_motion(video, progress=again.append)
    assert again == [1.0] and reopened.path == store.path
    fresh = extract_motion(video, use_cache=False)
    np.testing.assert_array_equal(reopened.fields().valid, fresh.valid)


@pytest.mark.parametrize("damage", ["truncate", "scribble", "empty"])
def test_damaged_store_is_refused_then_rebuilt(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    video = encode_rotation(tmp_path / "disc.mp4", "mpeg4")
    path = open_motion(video).path
    good = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "scribble":
        path.write_bytes(good[:-40] + b"x" * 40)
    else:
        path.write_bytes(b"")
    with pytest.raises(VideoError, match="not a usable motion store"):
        MotionStore(path)
    with caplog.at_level(logging.WARNING):
        rebuilt = open_motion(video)
    assert "rebuilding the motion cache" in caplog.text
    assert path.read_bytes() == good and len(rebuilt) == FRAMES


def test_old_cache_is_ignored_and_cancel_leaves_nothing(tmp_path: Path) -> None:
    video = encode_rotation(tmp_path / "disc.mp4", "mpeg4")
    folder = cache_dir("motion")
    folder.mkdir(parents=True, exist_ok=True)
    # a version-2 compressed cache of earlier releases, and a store of another version
    from annotator.core.fingerprint import video_fingerprint

    fp = video_fingerprint(video)
    old = folder / f"{fp}-c8-d8-flow-v2.npz"
    old.write_bytes(b"not read any more")
    with pytest.raises(Cancelled):
        open_motion(video, should_stop=lambda: True)
    assert sorted(p.name for p in folder.iterdir()) == [old.name]
    store = open_motion(video)
    assert len(store) == FRAMES and old.read_bytes() == b"not read any more"


def test_propagation_from_a_store_matches_the_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = extract_motion(encode_rotation(tmp_path / "disc.mp4", "mpeg4"), use_cache=False)
    store = MotionStore(write_store(fields, tmp_path / "disc.mvs"))
    man = labels_at(rotation_truth, POINTS, [0, 7, 15, 22, FRAMES - 1])
    monkeypatch.setattr(mv_module, "WINDOW", 10)  # several windows on a short clip
    a = propagate(man, fields)
    b = propagate(man, store)
    c = propagate(man, store.fields())
    have = np.isfinite(a.variance)
    assert np.array_equal(have, np.isfinite(b.variance)) and have.sum() > 0
    assert np.abs(a.xy[have] - b.xy[have]).max() < 0.1
    np.testing.assert_allclose(b.xy[have], c.xy[have], atol=1e-9)
    with pytest.raises(VideoError):
        MotionStore(tmp_path / "nothing")


@pytest.mark.parametrize("span", [1, 4, 100])
def test_long_gaps_are_walked_a_window_at_a_time_with_the_same_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, span: int
) -> None:
    fields = extract_motion(encode_rotation(tmp_path / "disc.mp4", "h264"), use_cache=False)
    store = MotionStore(write_store(fields, tmp_path / "disc.mvs"))
    whole = store.fields()
    start = np.array([0, FRAMES - 1, 3, 20, 20])
    stop = np.array([FRAMES - 1, 0, 17, 5, 5])
    points = np.vstack([POINTS, POINTS[:2]])
    radius = np.array([12.0, 12.0, 16.0, 12.0, 20.0])
    velocity = np.array([[1.0, 0.0], [0.0, -1.0], [0.5, 0.5], [2.0, 0.0], [0.0, 0.0]])
    a = walk_many(whole, start, stop, points, radius, velocity)
    b = walk_store(store, start, stop, points, radius, velocity, span=span)
    np.testing.assert_array_equal(a.offset, b.offset)
    np.testing.assert_allclose(b.path, a.path, atol=1e-9)
    np.testing.assert_allclose(b.spread, a.spread, atol=1e-9)
    np.testing.assert_allclose(b.residual, a.residual, atol=1e-9)
    np.testing.assert_array_equal(b.guessed, a.guessed)
    # and through propagation: gaps longer than the window take that path
    monkeypatch.setattr(mv_module, "WINDOW", 4)
    man = labels_at(rotation_truth, POINTS, [0, 12, FRAMES - 1])
    chunked, direct = propagate(man, store), propagate(man, whole)
    have = np.isfinite(direct.variance)
    assert have.sum() > 0 and np.array_equal(have, np.isfinite(chunked.variance))
    np.testing.assert_allclose(chunked.xy[have], direct.xy[have], atol=1e-9)
    np.testing.assert_allclose(chunked.variance[have], direct.variance[have], rtol=1e-9)


def test_the_gate_reads_a_store_window_by_window_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import annotator.propagation.gate as gate_module
    from annotator.propagation.gate import gate_fields, new_gate
    from tests.propagation.gate_helpers import synth_video

    store = open_motion(synth_video(tmp_path / "v.mp4", fps=30))
    monkeypatch.setattr(gate_module, "MAPS_SPAN", 7)  # several windows on a short clip
    model = new_gate(seed=0)
    a, b = gate_fields(model, store), gate_fields(model, store.fields())
    np.testing.assert_allclose(a.logits, b.logits, atol=1e-5)
    np.testing.assert_array_equal(a.gate, b.gate)
    np.testing.assert_allclose(a.energy, b.energy, rtol=1e-6)
