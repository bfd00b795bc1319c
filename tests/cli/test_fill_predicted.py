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


def test_predictions_beyond_the_labels_anchor_the_fill_as_in_the_app(tmp_path: Path) -> None:
    """One label (frame 0) and predictions at 10 and 30: the fill joins them (frames 11-29
    filled, not held at frame 10's values), held only after the last prediction."""
    doc = Document.new(VideoRef("clip.mp4", None, 40, 30.0, 320, 240), PENN_ACTION)
    history = History(doc)
    for j in range(13):
        history.push(PlaceJoint(0, j, 50.0 + j, 100.0 + 5 * j))
    values = np.zeros((2, 13, 3), dtype=np.float32)
    values[:, :, 0] = (50.0 + np.arange(13))[None] + np.array([[40.0], [120.0]])
    values[:, :, 1] = 100.0 + 5 * np.arange(13)
    values[:, :, 2] = Visibility.VISIBLE
    history.push(SetPredicted([10, 30], values, np.full((2, 13), 0.9, dtype=np.float32)))
    project = tmp_path / "anchored.annot.json"
    save_project(doc, project)
    out = tmp_path / "anchored.npz"
    argv = ["fill", str(project), "--keep-frames", "0", "--method", "hpim", "--fps", "30"]
    assert main([*argv, "--out", str(out)]) == 0
    with np.load(out) as data:
        poses, source, held = data["poses"], data["source"], data["held"]
    assert (source[20] == Source.HPIM).all() and not held[11:30].any()
    # between the two predictions, 80 px apart in x, the fill runs from one to the other
    assert (np.diff(poses[10:31, :, 0], axis=0) > 0).all()
    assert np.allclose(poses[[10, 30], :, 0], values[:, :, 0])
    assert (source[[10, 30]] == Source.PREDICTED).all()
    assert held[31:].all() and np.allclose(poses[39, :, 0], values[1, :, 0])
    # the export of every frame shows the same fill
    exported = tmp_path / "anchored-export.npz"
    export = ["export", str(project), "--format", "npz", "--frames", "all", "--method", "hpim"]
    assert main([*export, "--out", str(exported)]) == 0
    with np.load(exported) as data:
        assert np.allclose(data["poses"][..., :2], poses[..., :2], atol=1e-3, equal_nan=True)
