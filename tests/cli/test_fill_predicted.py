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


def _estimate_like(tmp_path: Path, predicted_frames: tuple[int, ...]) -> Path:
    """A label file as ``annotator estimate`` writes it: the estimator's frames with source
    ``predicted`` and a confidence, a fill (source ``hpim+mv``) elsewhere, no manual value."""
    from annotator.core.poseset import PoseInstance, PoseSet
    from annotator.formats.npz import write_npz

    frames, joints = 40, 13
    poses = np.zeros((frames, joints, 3), dtype=np.float32)
    poses[:, :, 0] = 50.0 + 4 * np.arange(frames)[:, None] + np.arange(joints)[None]
    poses[:, :, 1] = 100.0 + 5 * np.arange(joints)[None]
    poses[:, :, 2] = Visibility.VISIBLE
    source = np.full((frames, joints), Source.HPIM_MV, dtype=np.int8)
    confidence = np.full((frames, joints), np.nan, dtype=np.float32)
    source[list(predicted_frames)] = Source.PREDICTED
    confidence[list(predicted_frames)] = 0.8
    inst = PoseInstance(0, poses, source, confidence=confidence)
    path = tmp_path / "poses.npz"
    write_npz(PoseSet(PENN_ACTION, frames, [inst], fps=30.0), path, frames="all")
    return path


def test_fill_of_an_estimate_output_fills_from_its_predicted_joints(tmp_path: Path) -> None:
    """``annotator fill poses.npz`` on ``annotator estimate``'s output: its predictions anchor
    the fill as a project's do (not an all-NaN file with exit status 0)."""
    out = tmp_path / "filled.npz"
    argv = ["fill", str(_estimate_like(tmp_path, (0, 20, 39))), "--keep-frames", "uniform:0.1"]
    assert main([*argv, "--method", "hpim", "--out", str(out)]) == 0
    with np.load(out) as data:
        poses, source, conf = data["poses"], data["source"], data["confidence"]
    assert (source[[0, 20, 39]] == Source.PREDICTED).all()
    assert np.allclose(conf[[0, 20, 39]], 0.8)
    assert (source[10] == Source.HPIM).all() and np.isfinite(poses[1:39, :, :2]).all()
    # between two predictions 80 px apart the fill runs from one to the other
    assert (np.diff(poses[0:21, :, 0], axis=0) > 0).all()
    assert np.allclose(poses[10, :, 0], 90.0 + np.arange(13), atol=10.0)


def test_fill_with_nothing_to_fill_from_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """No label on the kept frames and no prediction: a one-line error, no file written."""
    estimate = _estimate_like(tmp_path, ())
    out = tmp_path / "empty.npz"
    argv = ["fill", str(estimate), "--keep-frames", "0,20", "--method", "hpim"]
    assert main([*argv, "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert "no labels on the 2 kept frames" in err and "Traceback" not in err
    assert not out.exists()
