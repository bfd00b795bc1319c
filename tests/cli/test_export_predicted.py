"""``annotator export PROJECT --frames all``: a project's predicted joints are exported as the
app exports them, with source ``predicted`` and their confidence where the format has room."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest

from annotator.cli import main
from annotator.core.codes import Source, Visibility
from annotator.core.commands import SetPredicted
from annotator.core.document import Document, VideoRef
from annotator.core.history import History
from annotator.core.skeleton import PENN_ACTION
from annotator.core.store import save_project
from annotator.formats import registry
from tests.cli.test_fill_predicted import _project
from tests.video.videomaker import make_video


@pytest.mark.parametrize("fmt", ["csv", "npz", "dlc-csv", "coco"])
def test_export_of_every_frame_carries_the_predictions_and_their_confidence(
    tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / ("all.json" if fmt == "coco" else f"all.{'npz' if fmt == 'npz' else 'csv'}")
    argv = ["export", str(_project(tmp_path, True)), "--format", fmt, "--frames", "all"]
    assert main([*argv, "--out", str(out)]) == 0
    inst = registry.get(fmt).read(out).instances[0]
    assert (inst.source[20] == Source.PREDICTED).all()
    assert inst.confidence is not None and np.allclose(inst.confidence[20], 0.9, atol=1e-4)
    assert np.isnan(inst.confidence[[0, 19, 21, 39]]).all()
    assert (inst.source[[0, 39]] == Source.MANUAL).all()
    # the prediction pulls its neighbours (hpim weighs it), as in the app's fill
    assert inst.poses[18, 0, 1] > 100.0 + 10.0


def test_export_without_predictions_has_no_score(tmp_path: Path) -> None:
    out = tmp_path / "plain.csv"
    argv = ["export", str(_project(tmp_path, False)), "--format", "csv", "--frames", "all"]
    assert main([*argv, "--out", str(out)]) == 0
    assert out.read_text().splitlines()[0].endswith(",source")
    assert registry.get("csv").read(out).instances[0].confidence is None


def _predicted_only(tmp_path: Path) -> Path:
    """A project whose only person holds the estimator's joints on frames 10 and 30, no label
    (what ``annotator estimate`` and Prefill leave before anyone corrects a joint)."""
    doc = Document.new(VideoRef("clip.mp4", None, 40, 30.0, 320, 240), PENN_ACTION)
    values = np.zeros((2, 13, 3), dtype=np.float32)
    values[:, :, 0] = 60.0 + np.arange(13)
    values[:, :, 1] = 100.0 + 5 * np.arange(13)
    values[:, :, 2] = Visibility.VISIBLE
    History(doc).push(SetPredicted([10, 30], values, np.full((2, 13), 0.8, dtype=np.float32)))
    path = tmp_path / "predicted.annot.json"
    save_project(doc, path)
    return path


def test_export_of_no_manual_label_says_so_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default export (manual labels) of a prefilled project would be an empty file that
    no importer takes back: it is refused with what would export the predictions."""
    out = tmp_path / "out.csv"
    assert main(["export", str(_predicted_only(tmp_path)), "--format", "csv", "--out", str(out)])
    err = capsys.readouterr().err
    assert "no manual labels" in err and "2 frames of predicted joints" in err
    assert "--frames all" in err and "Traceback" not in err
    assert not out.exists()


def test_export_of_an_empty_project_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = Document.new(VideoRef("clip.mp4", None, 40, 30.0, 320, 240), PENN_ACTION)
    save_project(doc, tmp_path / "empty.annot.json")
    out = tmp_path / "out.npz"
    argv = ["export", str(tmp_path / "empty.annot.json"), "--format", "npz", "--frames", "all"]
    assert main([*argv, "--out", str(out)])
    assert "nothing to export: no labels yet" in capsys.readouterr().err
    assert not out.exists()


def test_predictions_reach_cvat_as_keys_of_an_auto_track(tmp_path: Path) -> None:
    """CVAT recomputes non-key shapes by its own interpolation, so the estimator's joints are
    keys; a person with nothing but predictions is CVAT's ``auto`` track and reads back as
    predicted (it wrote no track at all before)."""
    out = tmp_path / "all.xml"
    argv = ["export", str(_predicted_only(tmp_path)), "--format", "cvat-video", "--frames", "all"]
    assert main([*argv, "--out", str(out)]) == 0
    root = ET.parse(out).getroot()
    assert [t.get("source") for t in root.findall("track")] == ["auto"]
    keys = [s.get("frame") for s in root.findall("track/skeleton") if s.get("keyframe") == "1"]
    assert keys == ["10", "30"]
    inst = registry.get("cvat-video").read(out).instances[0]
    assert (inst.source[[10, 30]] == Source.PREDICTED).all()
    assert not (inst.source == Source.MANUAL).any()
    np.testing.assert_allclose(inst.poses[10, :, 0], 60.0 + np.arange(13), atol=0.01)


def test_cvat_track_of_labels_keeps_predicted_joints_as_keys(tmp_path: Path) -> None:
    """Labels at 0 and 39, a prediction at 20: three keys in a manual track (CVAT has one
    source per track, so the prediction reads back as a label)."""
    out = tmp_path / "mixed.xml"
    argv = ["export", str(_project(tmp_path, True)), "--format", "cvat-video", "--frames", "all"]
    assert main([*argv, "--out", str(out)]) == 0
    root = ET.parse(out).getroot()
    assert [t.get("source") for t in root.findall("track")] == ["manual"]
    keys = [s.get("frame") for s in root.findall("track/skeleton") if s.get("keyframe") == "1"]
    assert keys == ["0", "20", "39"]


def test_import_counts_the_predicted_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``estimate``'s output imported: the message names its predicted frames instead of
    "0 labelled frames" alone."""
    out = tmp_path / "all.npz"
    argv = ["export", str(_predicted_only(tmp_path)), "--format", "npz", "--frames", "all"]
    assert main([*argv, "--out", str(out)]) == 0
    video = tmp_path / "clip.mp4"
    make_video(video, n=40)
    capsys.readouterr()
    argv = ["import", str(out), "--video", str(video), "--out", str(tmp_path / "back.annot.json")]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "0 labelled frames and 2 frames of predicted joints of 1 person" in said
