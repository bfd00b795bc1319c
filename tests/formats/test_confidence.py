"""An estimator's confidence in the exports that can carry a per-joint score, and back.

Predicted joints (source ``predicted``) carry a confidence in 0..1: ``npz`` as the fill
layout's ``confidence`` array, ``csv`` as a ``confidence`` column, ``dlc-csv`` as
DeepLabCut's ``likelihood`` columns and COCO as ``keypoint_scores`` with a mean ``score``.
Import reads them back as predicted joints with that confidence.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from annotator.core.codes import Source
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.skeleton import PENN_ACTION
from annotator.formats import registry
from annotator.formats.exporting import write_export
from tests.formats.helpers import FRAMES, person

PREDICTED_FRAMES = (2, 8)
FILES = {"npz": "poses.npz", "csv": "poses.csv", "dlc-csv": "poses.csv", "coco": "poses.json"}


def _predicted(track_id: int = 0, shift: float = 0.0) -> PoseInstance:
    """The helpers' person with an estimator's joints on frames 2 and 8 (one joint of frame 8
    left to the fill), each with its own confidence."""
    inst = person(track_id, shift)
    conf = np.full(inst.source.shape, np.nan, np.float32)
    for f in PREDICTED_FRAMES:
        inst.source[f] = Source.PREDICTED
        conf[f] = np.linspace(0.1, 0.95, PENN_ACTION.num_joints).round(3)
    inst.source[8, 6] = Source.HPIM
    conf[8, 6] = 0.5  # a stale score on a filled joint: never exported
    inst.confidence = conf
    return inst


@pytest.fixture
def scored() -> PoseSet:
    return PoseSet(PENN_ACTION, FRAMES, [_predicted()], fps=30.0, width=64, height=48)


def _expected(inst: PoseInstance) -> np.ndarray:
    assert inst.confidence is not None
    return np.where(inst.source == Source.PREDICTED, inst.confidence, np.nan)


@pytest.mark.parametrize("name", sorted(FILES))
def test_predicted_joints_keep_their_confidence_through_a_round_trip(
    name: str, scored: PoseSet, tmp_path: Path
) -> None:
    out = tmp_path / FILES[name]
    write_export(scored, name, out, frames="all")
    back = registry.get(name).read(out)
    inst, want = back.instances[0], scored.instances[0]
    predicted = want.source == Source.PREDICTED
    np.testing.assert_array_equal(inst.source == Source.PREDICTED, predicted)
    assert inst.confidence is not None
    np.testing.assert_allclose(inst.confidence, _expected(want), atol=1e-4)
    # the other joints come back as before: manual stays manual, no score on any
    assert (inst.source[0] == Source.MANUAL).all()
    assert np.isnan(inst.confidence[~predicted]).all()


def test_each_format_writes_the_score_where_its_readers_look(
    scored: PoseSet, tmp_path: Path
) -> None:
    write_export(scored, "coco", tmp_path / "c.json", frames="all")
    anns = json.loads((tmp_path / "c.json").read_text())["annotations"]
    on_8 = next(a for a in anns if a["image_id"] == 9)
    assert on_8["keypoint_scores"][0] == pytest.approx(0.1) and on_8["keypoint_scores"][6] is None
    assert on_8["score"] == pytest.approx(np.nanmean(_expected(scored.instances[0])[8]), 1e-3)
    assert all("keypoint_scores" not in a for a in anns if a["image_id"] == 1)
    write_export(scored, "dlc-csv", tmp_path / "d.csv", frames="all")
    rows = (tmp_path / "d.csv").read_text().splitlines()
    assert rows[2].split(",")[1:4] == ["x", "y", "likelihood"]
    write_export(scored, "csv", tmp_path / "t.csv", frames="all")
    assert (tmp_path / "t.csv").read_text().splitlines()[0].endswith(",source,confidence")
    with np.load(_npz(scored, tmp_path)) as data:
        assert data["confidence"].shape == (FRAMES, PENN_ACTION.num_joints)


def _npz(ps: PoseSet, tmp_path: Path) -> Path:
    write_export(ps, "npz", tmp_path / "p.npz", frames="all")
    return tmp_path / "p.npz"


@pytest.mark.parametrize("name", sorted(FILES))
def test_no_score_column_without_predicted_joints(name: str, tmp_path: Path) -> None:
    plain = PoseSet(PENN_ACTION, FRAMES, [person(0, 0.0)], fps=30.0)
    out = tmp_path / FILES[name]
    write_export(plain, name, out, frames="all")
    text = out.read_bytes()
    for word in (b"confidence", b"likelihood", b"keypoint_scores"):
        assert word not in text
    assert registry.get(name).read(out).instances[0].confidence is None


def test_manual_export_carries_no_score(scored: PoseSet, tmp_path: Path) -> None:
    write_export(scored, "csv", tmp_path / "m.csv", frames="manual")
    assert "confidence" not in (tmp_path / "m.csv").read_text()


def test_a_deeplabcut_analysis_table_reads_as_predicted_joints(tmp_path: Path) -> None:
    """DeepLabCut's analysis output (x, y, likelihood for every joint): a model's output."""
    joints = PENN_ACTION.joints
    rows = [
        ",".join(["scorer"] + ["DLC_resnet50"] * 3 * len(joints)),
        ",".join(["bodyparts"] + [j for j in joints for _ in range(3)]),
        ",".join(["coords"] + ["x", "y", "likelihood"] * len(joints)),
    ]
    for f in range(3):
        cells = [f"{10 + j + f}.5,{20 + j}.25,{0.5 + 0.03 * j:.2f}" for j in range(len(joints))]
        rows.append(",".join([str(f), *cells]))
    path = tmp_path / "videoDLC_resnet50.csv"
    path.write_text("\n".join(rows) + "\n")
    inst = registry.get("dlc-csv").read(path).instances[0]
    assert (inst.source == Source.PREDICTED).all()
    assert inst.confidence is not None
    np.testing.assert_allclose(inst.confidence[1], 0.5 + 0.03 * np.arange(len(joints)), atol=1e-6)
    bad = path.read_text().replace("0.50", "1.70", 1)
    path.write_text(bad)
    from annotator.errors import FormatError

    with pytest.raises(FormatError, match="likelihood"):
        registry.get("dlc-csv").read(path)


def test_imported_predictions_become_the_predicted_layer_not_labels(
    scored: PoseSet, tmp_path: Path
) -> None:
    from annotator.core.codes import Visibility
    from annotator.core.document import Document

    write_export(scored, "dlc-csv", tmp_path / "d.csv", frames="all")
    doc = Document.from_pose_set(registry.get("dlc-csv").read(tmp_path / "d.csv"))
    manual, predicted = np.asarray(doc.manual(0)), np.asarray(doc.predicted(0))
    conf = np.asarray(doc.confidence(0))
    want = scored.instances[0]
    is_pred = want.source == Source.PREDICTED
    assert (manual[is_pred, 2] == Visibility.UNLABELLED).all()
    np.testing.assert_allclose(predicted[is_pred, :2], want.poses[is_pred, :2], atol=0.01)
    np.testing.assert_allclose(conf[is_pred], want.confidence[is_pred], atol=1e-4)  # type: ignore[index]
    assert (predicted[~is_pred, 2] == Visibility.UNLABELLED).all()
    assert (manual[0, :, 2] != Visibility.UNLABELLED).all()  # the labels stay labels
