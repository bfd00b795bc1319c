"""Plain CSV: the documented layout (docs/formats.md) reads as written there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseSet
from annotator.formats import registry
from tests.formats.helpers import SAMPLES


def test_reads_documented_sample() -> None:
    ps = registry.get("csv").read(SAMPLES / "plain_table.csv")
    assert ps.skeleton.joints == ("head", "hand")
    assert ps.frame_count == 3
    (inst,) = ps.instances
    assert inst.poses[0, 0].tolist() == [10, 20, Visibility.VISIBLE]
    assert inst.visibility[0, 1] == Visibility.ABSENT and np.isnan(inst.poses[0, 1, 0])
    assert inst.poses[2, 0].tolist() == [12.5, 21, Visibility.OCCLUDED]
    assert inst.source[2, 1] == Source.HPIM
    assert (inst.visibility[1] == Visibility.UNLABELLED).all()


def test_export_is_a_tidy_table(pose_set: PoseSet, tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    registry.get("csv").write(pose_set, out, frames="all")
    table = pd.read_csv(out)
    assert list(table.columns) == [
        "frame",
        "time",
        "track",
        "joint",
        "x",
        "y",
        "visibility",
        "source",
    ]
    # frame 7 has one unlabelled joint but the rest is filled, so every frame is listed
    assert len(table) == 12 * 13
    row = table[(table.frame == 11) & (table.joint == pose_set.skeleton.joints[4])].iloc[0]
    assert row.visibility == "absent" and np.isnan(row.x)
    assert set(table.source) == {"manual", "hpim", "none"}


def test_manual_export_lists_manual_frames_only(pose_set: PoseSet, tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    registry.get("csv").write(pose_set, out)
    table = pd.read_csv(out)
    assert sorted(set(table.frame)) == [0, 5, 11]
    assert set(table.source) == {"manual"}


def test_a_table_of_only_its_header_says_it_holds_no_labels(tmp_path: Path) -> None:
    """With the project's skeleton (File > Import Labels) as without: 'holds no labels', not
    '0 frames is out of range'."""
    from annotator.core.skeleton import PENN_ACTION
    from annotator.errors import FormatError

    empty = tmp_path / "empty.csv"
    empty.write_text("frame,time,track,joint,x,y,visibility,source\n")
    for skeleton in (None, PENN_ACTION):
        with pytest.raises(FormatError, match=r"empty\.csv holds no labels"):
            registry.get("csv").read(empty, skeleton=skeleton)
