"""Penn Action and JHMDB ``.mat`` imports (real Penn labels; a JHMDB file built to its layout)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.io import loadmat, savemat

from annotator.core.codes import Source, Visibility
from annotator.core.skeleton import JHMDB, PENN_ACTION
from annotator.errors import FormatError
from annotator.formats import registry


def test_penn_action_file(data_dir: Path) -> None:
    path = sorted((data_dir / "penn_action" / "labels").glob("*.mat"))[0]
    assert registry.guess(path).name == "penn-mat"
    ps = registry.get("penn-mat").read(path)
    raw = loadmat(str(path))
    assert ps.skeleton is PENN_ACTION
    assert ps.frame_count == raw["x"].shape[0]
    inst = ps.instances[0]
    np.testing.assert_allclose(inst.poses[:, :, 0], raw["x"], atol=1e-3)
    np.testing.assert_allclose(inst.poses[:, :, 1], raw["y"], atol=1e-3)
    seen = raw["visibility"].astype(bool)
    assert (inst.visibility[seen] == Visibility.VISIBLE).all()
    assert (inst.visibility[~seen] == Visibility.OCCLUDED).all()
    assert (inst.source == Source.MANUAL).all()
    h, w = (int(v) for v in raw["dimensions"].ravel()[:2])
    assert (ps.width, ps.height) == (w, h)


def _jhmdb_file(path: Path, frames: int = 6) -> np.ndarray:
    # JHMDB's per-clip joint_positions.mat (README of the dataset): pos_img 2 x 15 x T pixel
    # coordinates, pos_world 2 x 15 x T normalised, scale 1 x T, viewpoint a string.
    rng = np.random.default_rng(3)
    pos_img = rng.uniform(0, 320, size=(2, 15, frames))
    savemat(
        str(path),
        {
            "pos_img": pos_img,
            "pos_world": (pos_img - 160) / 100,
            "scale": np.ones((1, frames)),
            "viewpoint": "E",
        },
    )
    return pos_img


def test_jhmdb_joint_positions(tmp_path: Path) -> None:
    path = tmp_path / "joint_positions.mat"
    pos_img = _jhmdb_file(path)
    assert registry.guess(path).name == "jhmdb-mat"
    ps = registry.get("jhmdb-mat").read(path)
    assert ps.skeleton is JHMDB and ps.frame_count == 6
    inst = ps.instances[0]
    np.testing.assert_allclose(inst.poses[2, 7, :2], pos_img[:, 7, 2], atol=1e-3)
    assert (inst.visibility == Visibility.VISIBLE).all()


def test_jhmdb_wrong_joint_count(tmp_path: Path) -> None:
    path = tmp_path / "joint_positions.mat"
    savemat(str(path), {"pos_img": np.zeros((2, 13, 4))})
    with pytest.raises(FormatError, match=r"expected \(2, 15, frames\)"):
        registry.get("jhmdb-mat").read(path)


def test_mat_formats_are_import_only(tmp_path: Path) -> None:
    for name in ("penn-mat", "jhmdb-mat"):
        adaptor = registry.get(name)
        assert adaptor.can_read and not adaptor.can_write
    with pytest.raises(FormatError, match="import-only"):
        registry.get("penn-mat").write(None, tmp_path / "x.mat")
    assert not (tmp_path / "x.mat").exists()
