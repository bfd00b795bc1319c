"""The ``fill`` and ``train dictionary`` commands: contract npz layout, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.core.codes import SOURCE_NAMES, Source


def _penn_file(data_dir: Path) -> Path:
    return sorted((data_dir / "penn_action" / "labels").glob("*.mat"))[-1]


@pytest.mark.parametrize("method", ["linear", "hpim"])
def test_fill_a_penn_file_writes_the_contract_layout(
    method: str, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fill.npz"
    src = _penn_file(data_dir)
    rc = main(
        ["fill", str(src), "--keep-frames", "0,10,20,30", "--method", method, "--out", str(out)]
    )
    assert rc == 0
    z = np.load(out)
    poses, source = z["poses"], z["source"]
    assert poses.dtype == np.float32 and poses.shape[1:] == (13, 3)
    assert source.dtype == np.int8 and source.shape == poses.shape[:2]
    assert tuple(z["source_names"]) == SOURCE_NAMES
    assert (source[[0, 10, 20, 30]] == Source.MANUAL).all()
    assert (source[1:10] == Source.from_label(method)).all()
    assert z["held"][31:].all() and not z["held"][:31].any()
    assert np.isfinite(poses[:, :, :2]).all()
    assert ("variance" in z) == (method == "hpim")


def test_fill_errors_are_one_line(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x.npz")
    src = str(_penn_file(data_dir))
    assert main(["fill", src, "--keep-frames", "0,99999", "--out", out]) == 2
    assert main(["fill", str(tmp_path / "none.mat"), "--keep-frames", "0", "--out", out]) == 2
    assert main(["fill", src, "--keep-frames", "0,5", "--out", str(tmp_path / "x.txt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("annotator: error:") for line in err)


def test_train_dictionary_rejects_a_missing_folder(tmp_path: Path) -> None:
    rc = main(
        ["train", "dictionary", "--labels", str(tmp_path / "no"), "--out", str(tmp_path / "m.npz")]
    )
    assert rc == 2


def test_fill_a_project_keeps_its_scene_cuts(data_dir: Path, tmp_path: Path) -> None:
    from annotator.core.datasets import load_penn_action
    from annotator.core.document import Document
    from annotator.core.store import save_project

    ps = load_penn_action(_penn_file(data_dir)).to_pose_set()
    doc = Document.from_pose_set(ps)
    doc.set_scene_cut(25, True)
    project = tmp_path / "clip.annot.json"
    save_project(doc, project)
    out = tmp_path / "fill.npz"
    rc = main(
        [
            "fill",
            str(project),
            "--keep-frames",
            "0,20,30,40",
            "--method",
            "linear",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    poses = np.load(out)["poses"]
    # frames 21..24 hold frame 20, 25..29 hold frame 30: the cut at 25 is not crossed
    np.testing.assert_allclose(poses[21:25, :, :2], np.repeat(poses[20:21, :, :2], 4, 0))
    np.testing.assert_allclose(poses[25:30, :, :2], np.repeat(poses[30:31, :, :2], 5, 0))


def test_train_dictionary_quick_run_writes_a_model_and_its_card(
    data_dir: Path, tmp_path: Path
) -> None:
    from annotator.dynamics.dyan import load_dyan_model

    out = tmp_path / "dyan.npz"
    args = ["train", "dictionary", "--data", str(data_dir / "penn_action"), "--quick"]
    rc = main([*args, "--epochs", "1", "--out", str(out)])
    assert rc == 0
    model = load_dyan_model(out)
    assert not model.poles.mirrored and model.ridge > 0
    card = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "QUICK smoke run" in card and "eq17 vs linear" in card


def test_train_dictionary_rejects_data_it_does_not_know(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["train", "dictionary", "--data", str(tmp_path), "--out", str(tmp_path / "d.npz")])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "neither a Penn Action nor a JHMDB folder" in err[0]
