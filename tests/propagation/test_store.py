"""Motion fields in a memory-mapped store: compact, and propagation reads it window by window
with the same result as from the fields in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import annotator.propagation.mv as mv_module
from annotator.errors import VideoError
from annotator.propagation.mv import propagate
from annotator.video.motion import extract_motion
from annotator.video.motion_store import MotionStore, write_store
from tests.propagation.scenes import FRAMES, encode_rotation, labels_at, rotation_truth

POINTS = np.array([[178.0, 96.0], [128.0, 46.0], [93.0, 131.0]])


def test_store_round_trip_is_compact_and_memory_mapped(tmp_path: Path) -> None:
    fields = extract_motion(encode_rotation(tmp_path / "disc.mp4", "h264"), use_cache=False)
    store = MotionStore(write_store(fields, tmp_path / "store"))
    assert isinstance(store.dx, np.memmap) and isinstance(store.residual, np.memmap)
    assert len(store) == len(fields) == FRAMES
    gh, gw = fields.dx.shape[1:]
    assert store.bytes_per_frame == gh * gw * 5
    back = store.window(0, FRAMES - 1)
    assert np.array_equal(back.valid, fields.valid)
    ok = fields.valid
    assert np.abs(back.dx[ok] - fields.dx[ok]).max() <= 1 / 32 + 1e-6
    assert np.abs(back.dy[ok] - fields.dy[ok]).max() <= 1 / 32 + 1e-6
    finite = np.isfinite(fields.residual)
    assert np.array_equal(np.isfinite(back.residual), finite)
    low = finite & (fields.residual <= 254)  # uint8 keeps 0..254 grey levels, rounded
    assert np.abs(back.residual[low] - fields.residual[low]).max() <= 0.5 + 1e-6
    assert back.picture_types == fields.picture_types and back.kind == fields.kind
    part = store.window(5, 9)
    assert len(part) == 5 and np.array_equal(part.valid, fields.valid[5:10])


def test_propagation_from_a_store_matches_the_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = extract_motion(encode_rotation(tmp_path / "disc.mp4", "mpeg4"), use_cache=False)
    store = MotionStore(write_store(fields, tmp_path / "store"))
    man = labels_at(rotation_truth, POINTS, [0, 7, 15, 22, FRAMES - 1])
    monkeypatch.setattr(mv_module, "WINDOW", 10)  # several windows on a short clip
    a = propagate(man, fields)
    b = propagate(man, store)
    have = np.isfinite(a.variance)
    assert np.array_equal(have, np.isfinite(b.variance)) and have.sum() > 0
    assert np.abs(a.xy[have] - b.xy[have]).max() < 0.1
    with pytest.raises(VideoError):
        MotionStore(tmp_path / "nothing")
