"""``annotator fill PROJECT``: a project's predicted joints weigh in the hpim fill and come out
with source ``predicted`` and their ``confidence`` (the contract's fill layout)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator.cli import main
from annotator.core.codes import SOURCE_NAMES, Source, Visibility
from annotator.core.commands import PlaceJoint, SetPredicted
from annotator.core.document import Document, VideoRef
from annotator.core.history import History
from annotator.core.skeleton import PENN_ACTION
from annotator.core.store import save_project


def _project(tmp_path: Path, with_prediction: bool) -> Path:
    doc = Document.new(VideoRef("clip.mp4", None, 40, 30.0, 320, 240), PENN_ACTION)
    history = History(doc)
    for frame in (0, 39):
        for j in range(13):
            history.push(PlaceJoint(frame, j, 50.0 + 4 * frame + j, 100.0 + 5 * j))
    if with_prediction:
        values = np.zeros((1, 13, 3), dtype=np.float32)
        values[0, :, 0] = 50.0 + 4 * 20 + np.arange(13)
        values[0, :, 1] = 100.0 + 5 * np.arange(13) + 30.0  # 30 px below the straight line
        values[0, :, 2] = Visibility.VISIBLE
        history.push(SetPredicted([20], values, np.full((1, 13), 0.9, dtype=np.float32)))
    path = tmp_path / f"p{int(with_prediction)}.annot.json"
    save_project(doc, path)
    return path


def _fill(tmp_path: Path, project: Path) -> dict[str, np.ndarray]:
    out = tmp_path / f"{project.stem}.npz"
    argv = ["fill", str(project), "--keep-frames", "0,39", "--method", "hpim", "--fps", "30"]
    assert main([*argv, "--out", str(out)]) == 0
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


def test_fill_of_a_project_uses_and_reports_its_predicted_joints(tmp_path: Path) -> None:
    plain = _fill(tmp_path, _project(tmp_path, False))
    guided = _fill(tmp_path, _project(tmp_path, True))
    assert "confidence" not in plain
    assert list(guided["source_names"]) == list(SOURCE_NAMES)
    assert (guided["source"][20] == Source.PREDICTED).all()
    assert np.allclose(guided["confidence"][20], 0.9) and np.isnan(guided["confidence"][19]).all()
    assert np.allclose(guided["poses"][20, :, 1] - plain["poses"][20, :, 1], 30.0, atol=0.01)
    # its neighbours are pulled toward it; the labels stay exact
    assert (guided["poses"][18, :, 1] - plain["poses"][18, :, 1] > 15.0).all()
    assert np.array_equal(guided["poses"][[0, 39]], plain["poses"][[0, 39]])
    assert (guided["source"][[0, 39]] == Source.MANUAL).all()
