"""Penn Action and JHMDB readers on the real shared files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from annotator.core.codes import Source, Visibility
from annotator.core.datasets import load_jhmdb_pickle, load_penn_action
from annotator.errors import FormatError


def _with_parked_joints(labels: Path) -> Path:
    for path in sorted(labels.glob("*.mat")):
        seq = load_penn_action(path)
        if seq.absent.any():
            return path
    raise AssertionError("no Penn Action file parks a joint at (1, 1)")


def test_penn_parked_joints_are_absent_without_position(data_dir: Path) -> None:
    seq = load_penn_action(_with_parked_joints(data_dir / "penn_action" / "labels"))
    inst = seq.to_pose_set().instances[0]
    vis = inst.poses[:, :, 2]
    assert (vis[seq.absent] == Visibility.ABSENT).all()
    assert np.isnan(inst.poses[:, :, :2][seq.absent]).all()
    positioned = ~seq.absent
    assert np.isfinite(inst.poses[:, :, :2][positioned]).all()
    assert (vis[seq.visible] == Visibility.VISIBLE).all()
    assert (inst.source == Source.MANUAL).all()


def test_penn_missing_bbox_rows_are_nan(data_dir: Path) -> None:
    seq = load_penn_action(data_dir / "penn_action" / "labels" / "1865.mat")
    assert np.isnan(seq.bbox[-1]).all()
    assert np.isfinite(seq.bbox[0]).all()


def test_jhmdb_clips_have_fifteen_joints(data_dir: Path) -> None:
    clips = load_jhmdb_pickle(data_dir / "jhmdb" / "GT_test_1.pkl")
    assert len(clips) > 100
    label, pose = clips[0]
    assert isinstance(label, str) and pose.shape[1:] == (15, 2)


def test_jhmdb_loader_refuses_code_in_a_pickle(tmp_path: Path) -> None:
    hostile = tmp_path / "evil.pkl"
    hostile.write_bytes(pickle.dumps({"pose": [print], "label": ["x"]}))
    with pytest.raises(FormatError, match="refusing to load"):
        load_jhmdb_pickle(hostile)


def test_penn_loader_refuses_a_non_mat_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.mat"
    bad.write_text("not a matlab file")
    with pytest.raises(FormatError):
        load_penn_action(bad)
