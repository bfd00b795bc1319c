"""Held values (before the first or after the last label) are flagged in exports that can
carry the flag: npz (``held``, as the fill output contract) and COCO (a per-joint list); a
COCO file without images references no image file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from annotator.core.poseset import PoseSet
from annotator.core.skeleton import PENN_ACTION
from annotator.dynamics.fill import fill_pose_set
from annotator.formats import registry
from tests.formats.helpers import person

FRAMES = 12


def _labels_on(frames: list[int]) -> PoseSet:
    from annotator.core.codes import Source

    inst = person(0, 0.0)
    for f in range(FRAMES):
        inst.source[f] = Source.MANUAL if f in frames else Source.NONE
    inst.poses[:, :, 2] = np.where(inst.source == Source.MANUAL, 1, 0)
    inst.poses[inst.source != Source.MANUAL] = (np.nan, np.nan, 0)
    return fill_pose_set(PoseSet(PENN_ACTION, FRAMES, [inst], fps=30.0), "linear")


def test_fill_pose_set_says_which_values_are_held() -> None:
    ps = _labels_on([3, 8])
    held = ps.instances[0].held
    assert held is not None
    assert held[:3].all() and held[9:].all()  # before the first, after the last label
    assert not held[3:9].any()  # labels and the fill between them


def test_npz_exports_the_held_flag(tmp_path: Path) -> None:
    ps = _labels_on([3, 8])
    out = tmp_path / "fill.npz"
    registry.get("npz").write(ps, out, frames="all")
    with np.load(out) as data:
        np.testing.assert_array_equal(data["held"], ps.instances[0].held)
    again = registry.get("npz").read(out)
    np.testing.assert_array_equal(again.instances[0].held, ps.instances[0].held)
    manual = tmp_path / "manual.npz"
    registry.get("npz").write(ps, manual, frames="manual")
    with np.load(manual) as data:
        assert not data["held"].any()  # manual values are never held


def test_coco_exports_the_held_flag_and_no_missing_images(tmp_path: Path) -> None:
    ps = _labels_on([3, 8])
    out = tmp_path / "all.json"
    registry.get("coco").write(ps, out, frames="all")
    doc = json.loads(out.read_text())
    by_frame = {a["image_id"] - 1: a for a in doc["annotations"]}
    assert all(by_frame[0]["held"]) and all(by_frame[11]["held"])
    assert not any(by_frame[5]["held"]) and set(by_frame[5]["source"]) == {"linear"}
    for image in doc["images"]:  # no images were written: none is named
        assert image["file_name"] == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.json"]
