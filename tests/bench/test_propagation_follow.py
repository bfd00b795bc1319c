"""``annotator bench propagation --sections follow``: a fill that follows a swinging limb has
coverage 1, one held at the label 0, one half way 0.5; only joints that swung count, and the
misses are told apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.bench.propagation_follow import LIMBS, follow, nearest_key
from annotator.cli import main

FRAMES = 41
KEYS = np.array([0, 20, 40])
BODY = np.full(FRAMES, 200.0)  # the 5 % swing and PCK threshold: 10 px


def _swinging() -> np.ndarray:
    """13 joints; the limbs swing out to 60 px and back between key frames, the rest still."""
    t = np.arange(FRAMES, dtype=np.float64)
    xy = np.zeros((FRAMES, 13, 2))
    xy[:, :, 0] = 100.0 + 10.0 * np.arange(13)
    xy[:, :, 1] = 300.0
    out = 60.0 * np.sin(np.pi * (t % 20) / 20.0)  # 0 on the key frames
    for j in LIMBS:
        xy[:, j, 1] -= out
    return xy


def _scored() -> np.ndarray:
    scored = np.ones((FRAMES, 13), dtype=bool)
    scored[KEYS] = False
    return scored


def test_nearest_key_frame() -> None:
    near = nearest_key(FRAMES, KEYS)
    assert near[0] == 0 and near[9] == 0 and near[10] == 0  # a tie goes to the earlier one
    assert near[11] == 20 and near[29] == 20 and near[31] == 40 and near[40] == 40
    assert list(nearest_key(5, [3])) == [3, 3, 3, 3, 3]


def test_a_fill_that_follows_covers_the_whole_swing() -> None:
    ref = _swinging()
    f = follow(ref.copy(), ref, _scored(), BODY, KEYS)
    assert f.coverage == pytest.approx(1.0)
    assert f.pck == 100.0 and f.followed == 100.0 and f.stayed == 0.0
    assert np.isnan(f.miss_coverage)  # no misses
    # swung: limb frames more than 10 px from their label (most of each half swing)
    assert 50.0 < f.swung_share < 100.0


def test_a_fill_held_at_the_labels_stays() -> None:
    ref = _swinging()
    held = ref[nearest_key(FRAMES, KEYS)]
    f = follow(held, ref, _scored(), BODY, KEYS)
    assert f.coverage == pytest.approx(0.0)
    assert f.stayed == 100.0 and f.followed == 0.0
    assert f.miss_stayed == 100.0 and f.miss_coverage == pytest.approx(0.0)
    assert f.pck < 100.0  # over 10 px of swing are misses when held


def test_half_way_and_sideways_errors() -> None:
    ref = _swinging()
    label = ref[nearest_key(FRAMES, KEYS)]
    half = label + 0.5 * (ref - label)
    f = follow(half, ref, _scored(), BODY, KEYS)
    assert f.coverage == pytest.approx(0.5)
    assert f.stayed == 0.0 and f.followed == 0.0
    # an error across the swing moves no coverage: followed, but missed
    across = ref.copy()
    across[:, :, 0] += 30.0
    g = follow(across, ref, _scored(), BODY, KEYS)
    assert g.coverage == pytest.approx(1.0) and g.pck == 0.0 and g.miss_followed == 100.0


def test_still_joints_and_unscored_frames_do_not_count() -> None:
    ref = _swinging()
    still = ref.copy()
    still[:, LIMBS, 1] = 300.0  # nothing swings
    f = follow(still, still, _scored(), BODY, KEYS)
    assert f.swung_share == 0.0 and np.isnan(f.coverage)
    nothing = np.zeros((FRAMES, 13), dtype=bool)
    assert follow(ref, ref, nothing, BODY, KEYS).swung_share == 0.0


def test_the_section_prints_each_clip_and_fill(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["bench", "propagation", "--data", str(data_dir), "--sections", "follow",
                   "--fields", "mv", "--budgets", "0.05"])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0, out
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 11 and cells[2] in ("linear", "mv", "hpim+mv"):
            rows[cells[0], cells[2]] = cells
    clips = {clip for clip, _ in rows}
    assert len(clips) == 3 and len(rows) == 9, out
    # the studio clip's limbs move smoothly: the walk follows them further than a straight line
    studio_linear = float(rows["mmpose_body3d_demo", "linear"][5])
    studio_walk = float(rows["mmpose_body3d_demo", "mv"][5])
    assert studio_walk > studio_linear, out
