"""``annotator bench propagation --sections render-groups``: a synthetic clip whose misses are
known joint by joint, frame by frame: the per-group PCK, each situation's mask and the points
each split costs (a partition's points add up to 100 minus the overall PCK)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from annotator.bench import propagation
from annotator.bench.propagation_ceiling import GROUPS, group_pck
from annotator.bench.propagation_groups import (
    gap_ends,
    hits,
    over_torso,
    speed_pct,
    split_masks,
    split_scores,
)
from annotator.core.codes import Visibility
from annotator.errors import UsageError

FRAMES, JOINTS = 21, 13
KEEP = np.array([0, 10, 20])
BODY = np.full(FRAMES, 100.0)  # 0.05 x body = 5 px

# Penn Action layout: head, L/R shoulder, L/R elbow, L/R wrist, L/R hip, L/R knee, L/R ankle
STILL = {
    0: (50, 20),
    1: (40, 40),
    2: (60, 40),
    3: (30, 60),  # off the torso
    4: (50, 60),  # over the torso
    5: (20, 70),  # moves left 2 px a frame: off the torso, 2 % of the body a frame
    6: (55, 70),  # over the torso
    7: (40, 80),
    8: (60, 80),
    9: (45, 100),
    10: (55, 100),
    11: (45, 130),
    12: (55, 130),  # moves right 4 px a frame: fast
}


def _clip() -> tuple[np.ndarray, np.ndarray]:
    xy = np.array([[STILL[j] for j in range(JOINTS)]] * FRAMES, dtype=np.float64)
    t = np.arange(FRAMES, dtype=np.float64)
    xy[:, 5, 0] -= 2 * t
    xy[:, 12, 0] += 4 * t
    codes = np.full((FRAMES, JOINTS), Visibility.VISIBLE, dtype=np.int64)
    codes[10, 9] = Visibility.OCCLUDED  # left knee hidden on the middle key frame
    codes[4, 10] = Visibility.OCCLUDED  # right knee hidden inside the first gap
    return xy, codes


def _pred(xy: np.ndarray) -> np.ndarray:
    pred = xy.copy()
    off = np.setdiff1d(np.arange(FRAMES), KEEP)
    pred[off, 5, 0] += 20.0  # both wrists miss on every frame between key frames
    pred[off, 6, 1] += 20.0
    pred[5, 4, 0] += 20.0  # the right elbow misses on frame 5 only
    pred[7, 3, 0] += 4.0  # the left elbow is 4 px off on frame 7: a hit
    return pred


def _masks() -> dict[str, dict[str, np.ndarray]]:
    xy, codes = _clip()
    return {title: dict(bins) for title, bins in split_masks(codes, xy, BODY, KEEP)}


def test_group_pck_counts_the_known_misses() -> None:
    xy, codes = _clip()
    scored = codes == Visibility.VISIBLE
    row = group_pck(_pred(xy), xy, scored, BODY)
    names = [name for name, _ in GROUPS]
    assert len(row) == 1 + len(GROUPS)
    total = FRAMES * JOINTS - 2
    assert row[0] == pytest.approx(100 * (total - 37) / total)
    assert row[1 + names.index("wrists")] == pytest.approx(100 * 6 / 42)
    assert row[1 + names.index("elbows")] == pytest.approx(100 * 41 / 42)
    for name in ("head", "shoulders", "hips", "knees", "ankles"):
        assert row[1 + names.index(name)] == 100.0


def test_gap_ends_and_distance_bins() -> None:
    before, after = gap_ends(FRAMES, KEEP)
    assert before[[0, 3, 10, 14, 20]].tolist() == [0, 0, 10, 10, 20]
    assert after[[0, 3, 10, 14, 20]].tolist() == [0, 10, 10, 20, 20]
    distance = _masks()["frames to the nearest key frame"]
    frames_in = {label: np.flatnonzero(m[:, 0]).tolist() for label, m in distance.items()}
    assert frames_in == {
        "0 (key frame)": [0, 10, 20],
        "1-2": [1, 2, 8, 9, 11, 12, 18, 19],
        "3-5": [3, 4, 5, 6, 7, 13, 14, 15, 16, 17],
        "6+": [],
    }


def test_speed_occlusion_and_torso_masks() -> None:
    xy, _ = _clip()
    masks = _masks()
    np.testing.assert_allclose(speed_pct(xy, BODY)[:, [0, 5, 12]], [[0.0, 2.0, 4.0]] * FRAMES)
    speed = masks["speed, % of body per frame"]
    assert np.flatnonzero(speed["1-3"][3]).tolist() == [5]
    assert np.flatnonzero(speed[">= 3"][3]).tolist() == [12]
    swing = masks["speed against the torso's centre"]
    assert np.flatnonzero(swing[">= 3"][3]).tolist() == [12]
    assert not swing["no torso (a shoulder or hip absent)"].any()

    hidden = masks["occlusion of the joint"]
    at_key = hidden["hidden at a key frame of the gap"]
    inner = hidden["hidden only inside the gap"]
    assert np.flatnonzero(at_key[:, 9]).tolist() == list(range(1, 20))
    assert np.flatnonzero(inner[:, 10]).tolist() == list(range(1, 10))
    assert not at_key[:, [0, 5, 10]].any() and not inner[:, [0, 5, 9]].any()

    torso = masks["limb joints and the torso"]
    assert np.flatnonzero(torso["limb over the torso"][0]).tolist() == [4, 6]
    assert np.flatnonzero(torso["limb off the torso"][0]).tolist() == [3, 5, 9, 10, 11, 12]
    probe = xy.copy()
    probe[:, 6] = (50, 50)  # in the upper triangle of the crossed torso
    probe[:, 3] = (42, 62)  # inside the straight torso, beside the crossing
    assert over_torso(probe)[0, 6] and over_torso(probe)[0, 3]
    probe[:, [1, 2]] = probe[:, [2, 1]]  # shoulders crossed: two triangles meeting at (50, 60)
    assert over_torso(probe)[0, 6] and not over_torso(probe)[0, 3]


def test_split_scores_place_every_miss() -> None:
    xy, codes = _clip()
    scored = codes == Visibility.VISIBLE
    hit = hits(_pred(xy), xy, BODY)
    total = int(scored.sum())
    masks = _masks()
    share, inside, cost = split_scores(hit, scored, masks["joint group"]["wrists"])
    assert (share, inside, cost) == pytest.approx(
        (100 * 42 / total, 100 * 6 / 42, 100 * 36 / total)
    )
    distance = masks["frames to the nearest key frame"]
    assert split_scores(hit, scored, distance["0 (key frame)"])[1:] == (100.0, 0.0)
    assert split_scores(hit, scored, distance["3-5"])[2] == pytest.approx(100 * 21 / total)
    share, inside, cost = split_scores(hit, scored, distance["6+"])
    assert share == 0.0 and np.isnan(inside) and cost == 0.0
    overall = 100 * (total - 37) / total
    for title, bins in masks.items():
        if title == "limb joints and the torso":
            continue  # limbs only: not a partition
        assert sum(split_scores(hit, scored, m)[2] for m in bins.values()) == pytest.approx(
            100 - overall
        ), title


def test_the_section_is_one_of_the_commands_sections(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    propagation.add_arguments(parser)
    args = parser.parse_args(["--data", str(tmp_path), "--sections", "render-groups"])
    with pytest.raises(UsageError, match="labels folder not found"):
        propagation.run(args)
