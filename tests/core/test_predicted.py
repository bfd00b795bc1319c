"""The predicted layer: commands with undo, schema 2 round trip, migration from schema 1, the
recovery journal, re-indexing and people removed and restored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from annotator.core.codes import Visibility
from annotator.core.commands import (
    AddFlags,
    AddInstance,
    Batch,
    EditError,
    RemoveInstance,
    SetFlag,
    SetPredicted,
)
from annotator.core.history import History
from annotator.core.journal import RecoveryJournal, find_recovery
from annotator.core.retime import retime
from annotator.core.schema import CURRENT_VERSION, document_to_dict
from annotator.core.store import load_project, save_project

from .helpers import content, make_doc, same_labels


def _guess(frames: int, joints: int = 13, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Predicted rows with every code: visible, occluded (low confidence), absent, none."""
    rng = np.random.default_rng(seed)
    values = np.zeros((frames, joints, 3), dtype=np.float32)
    values[:, :, :2] = np.round(rng.uniform(0, 300, (frames, joints, 2)), 3)
    values[:, :, 2] = Visibility.VISIBLE
    values[:, 1, 2] = Visibility.OCCLUDED
    values[:, 2] = (np.nan, np.nan, Visibility.ABSENT)
    values[:, 3] = (np.nan, np.nan, Visibility.UNLABELLED)
    conf = np.round(rng.uniform(0.5, 1.0, (frames, joints)), 4).astype(np.float32)
    conf[:, 1] = 0.25
    conf[:, 3] = np.nan
    return values, conf


def test_set_predicted_is_one_undoable_step_beside_the_labels() -> None:
    doc = make_doc()
    history = History(doc)
    values, conf = _guess(3)
    history.push(SetPredicted([4, 9, 20], values, conf))
    assert doc.predicted_frames(0).tolist() == [4, 9, 20]
    assert same_labels(doc.predicted(0)[[4, 9, 20]], values)
    assert np.allclose(doc.confidence(0)[9], conf[1], equal_nan=True)
    assert (doc.manual(0)[:, :, 2] == Visibility.UNLABELLED).all()  # labels untouched
    assert np.isnan(doc.confidence(0)[5]).all()  # frames between keep their (empty) layer
    assert history.undo_text == "Prefill 3 frames"
    history.undo()
    assert doc.predicted_frames(0).size == 0 and np.isnan(doc.confidence(0)).all()
    history.redo()
    assert doc.predicted_frames(0).tolist() == [4, 9, 20]


def test_bad_predictions_are_refused_before_touching_the_document() -> None:
    doc = make_doc()
    values, conf = _guess(1)
    with pytest.raises(EditError, match=r"0\.\.1"):
        SetPredicted([3], values, conf * 3).do(doc)
    with pytest.raises(EditError, match="outside the video"):
        SetPredicted([60], values, conf).do(doc)
    with pytest.raises(EditError, match=r"\(1, 13, 3\)"):
        SetPredicted([3], values[:, :5], conf[:, :5]).do(doc)
    assert doc.predicted_frames(0).size == 0


def test_add_flags_appends_to_a_reason_and_undoes_as_one() -> None:
    doc = make_doc()
    history = History(doc)
    history.push(SetFlag(7, "wrist hidden"))
    history.push(AddFlags({7: "prefill: low confidence on L-wrist", 9: "prefill: x"}))
    assert doc.flags == {7: "wrist hidden; prefill: low confidence on L-wrist", 9: "prefill: x"}
    history.undo()
    assert doc.flags == {7: "wrist hidden"}


def test_schema_2_round_trip_keeps_predicted_joints_and_confidence(tmp_path: Path) -> None:
    doc = make_doc()
    history = History(doc)
    values, conf = _guess(2)
    history.push(SetPredicted([0, 59], values, conf))
    path = tmp_path / "p.annot.json"
    save_project(doc, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == "annotator.project/2" and CURRENT_VERSION == 2
    entry = data["instances"][0]["predicted"][1]
    assert entry["frame"] == 59 and entry["confidence"][1] == 0.25
    assert entry["confidence"][3] is None and entry["joints"][2] == [None, None, 3]
    loaded = load_project(path)
    assert same_labels(loaded.predicted(0), doc.predicted(0))
    assert np.array_equal(loaded.confidence(0), doc.confidence(0), equal_nan=True)
    assert content(loaded) == content(doc)


def test_a_schema_1_file_opens_and_saves_as_schema_2(tmp_path: Path) -> None:
    doc = make_doc()
    from annotator.core.commands import PlaceJoint

    History(doc).push(PlaceJoint(5, 0, 10.0, 20.0))
    old = document_to_dict(doc)
    old["schema"] = "annotator.project/1"
    for inst in old["instances"]:
        del inst["predicted"]  # what schema 1 wrote
    v1 = tmp_path / "v1.annot.json"
    v1.write_text(json.dumps(old), encoding="utf-8")
    loaded = load_project(v1)
    assert loaded.label(0, 5, 0) == (10.0, 20.0, Visibility.VISIBLE)
    assert loaded.predicted_frames(0).size == 0
    values, conf = _guess(1)
    History(loaded).push(SetPredicted([12], values, conf))
    v2 = tmp_path / "v2.annot.json"
    save_project(loaded, v2)
    assert json.loads(v2.read_text(encoding="utf-8"))["schema"] == "annotator.project/2"
    again = load_project(v2)
    assert again.predicted_frames(0).tolist() == [12]
    assert np.allclose(again.confidence(0)[12], conf[0], equal_nan=True)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"joints": [[1.0, 2.0, 1]] * 13, "confidence": [1.5] * 13}, "0..1"),
        ({"joints": [[1.0, 2.0, 1]] * 13}, "missing 'confidence'"),
        ({"joints": [[None, None, 1]] * 13, "confidence": [0.5] * 13}, "no position"),
    ],
)
def test_bad_predicted_entries_are_refused(tmp_path: Path, entry: dict, message: str) -> None:
    data = document_to_dict(make_doc())
    data["instances"][0]["predicted"] = [{"frame": 3, "time": 0.1, **entry}]
    path = tmp_path / "bad.annot.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(Exception, match=message):
        load_project(path)


def test_the_journal_restores_predictions(tmp_path: Path) -> None:
    doc = make_doc()
    history = History(doc)
    values, conf = _guess(2)
    with RecoveryJournal(doc, directory=tmp_path):
        history.push(Batch("Prefill", [SetPredicted([3, 4], values, conf), AddFlags({3: "x"})]))
        history.push(AddInstance(track_id=7))
        history.push(SetPredicted([10], values[:1], conf[:1], instance=1))
        history.push(RemoveInstance(1))
        history.undo()  # the person comes back with their predictions
        assert doc.predicted_frames(1).tolist() == [10]
        found = find_recovery(doc.video.path, tmp_path, doc.video.fingerprint)
        assert found is not None
        restored = found.restore()
        assert content(restored) == content(doc)
        assert restored.predicted_frames(1).tolist() == [10]


def test_retime_moves_predictions_with_their_times() -> None:
    doc = make_doc()
    values, conf = _guess(1)
    History(doc).push(SetPredicted([6], values, conf))
    shifted = retime(doc, np.arange(61) / 30.0 - 1 / 30.0)  # one frame inserted at the start
    assert shifted.predicted_frames(0).tolist() == [7]
    assert np.allclose(shifted.confidence(0)[7], conf[0], equal_nan=True)
