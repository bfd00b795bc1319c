"""File > Export offers what ``annotator export`` does (manual labels or every frame, frame
images or not) through the same writer path; held values are drawn apart and flagged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from annotator.core import commands as cmd
from annotator.core.codes import Visibility
from annotator.gui import opening
from annotator.gui.dialogs import ExportDialog, ExportRequest
from tests.gui.conftest import open_and_wait


def _label(session, truth, frames) -> None:  # type: ignore[no-untyped-def]
    labels = np.full((1, truth.shape[1], 3), np.nan, dtype=np.float32)
    labels[0, :, 2] = Visibility.VISIBLE
    for f in frames:
        labels[0, :, :2] = truth[f]
        session.push(cmd.SetLabels(f, labels))


def test_export_dialog_defaults_to_every_frame_without_images(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    _label(session, truth, (10, 30))
    project = tmp_path / "elsewhere" / "walk.annot.json"
    project.parent.mkdir()
    opening.save(window, session, ask_path=False, path=project)
    window.actions_by_id["export"].trigger()  # the dialog's defaults (RecordingReporter)
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    assert not window.reporter.errors
    # Suggested beside the project, not the video, once the project has a file.
    assert window.reporter.export_bases == [str(project.parent / "walk")]
    out = project.parent / "walk.json"  # COCO, the registry's first writable format
    doc = json.loads(out.read_text())
    frames = sorted(i["frame_index"] for i in doc["images"])
    assert frames == list(range(40))  # every frame: labels, fill and held values
    assert all(i["file_name"] == "" for i in doc["images"])  # no images written or named
    by_frame = {a["image_id"] - 1: a for a in doc["annotations"]}
    assert set(by_frame[10]["source"]) == {"manual"} and not any(by_frame[10]["held"])
    assert set(by_frame[20]["source"]) == {session.method} and not any(by_frame[20]["held"])
    assert all(by_frame[35]["held"]) and all(by_frame[2]["held"])


def test_export_dialog_manual_frames_and_images(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    _label(window.session, truth, (10, 30))
    out = tmp_path / "manual.json"
    window.reporter.export = ExportRequest("coco", str(out), "manual", "png")
    window.actions_by_id["export"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    assert not window.reporter.errors
    doc = json.loads(out.read_text())
    assert sorted(i["frame_index"] for i in doc["images"]) == [10, 30]
    for image in doc["images"]:
        assert (tmp_path / image["file_name"]).is_file()


def test_export_dialog_widgets(qtbot) -> None:  # type: ignore[no-untyped-def]
    choices = opening.export_choices()
    dialog = ExportDialog(choices, "dlc", "/data/walk")
    qtbot.addWidget(dialog)
    assert dialog.request() == ExportRequest("dlc", "/data/walk_dlc", "all", "png")
    dialog.format.setCurrentIndex(dialog.format.findData("npz"))
    assert not dialog.images.isEnabled()
    dialog.manual_only.setChecked(True)
    assert dialog.request() == ExportRequest("npz", "/data/walk.npz", "manual", None)
    dialog.format.setCurrentIndex(dialog.format.findData("coco"))
    dialog.images.setChecked(True)
    dialog.image_type.setCurrentText("png")
    assert dialog.request() == ExportRequest("coco", "/data/walk.json", "manual", "png")


def test_held_values_are_drawn_and_listed_apart(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    _label(session, truth, (10, 30))
    session.go_to(35)  # after the last label: held
    pose = window.frame_view.overlay.pose
    assert pose.held_mask().all()
    assert window.joint_list.state_text(0) == ("visible", "held")
    session.go_to(20)  # between labels: filled
    assert not window.frame_view.overlay.pose.held_mask().any()
    assert window.joint_list.state_text(0) == ("visible", session.method)
    session.go_to(10)
    assert window.joint_list.state_text(0) == ("visible", "manual")
    texts = [w.text() for w in window.legend.findChildren(type(window.frame_total))]
    assert any(t.startswith("held value") for t in texts)
    info = window.fill_panel.info.text()
    assert info.endswith("; 19 held (no label on one side)")  # 0-9, 31-39
    assert info.startswith("2 labelled frames;")


def test_file_dialogs_start_in_the_project_folder(
    qtbot, window, figure_video, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from PySide6 import QtWidgets

    asked: list[str] = []

    def fake_dialog(_parent, _title, start, _filters):  # type: ignore[no-untyped-def]
        asked.append(start)
        return "", ""

    def fake_save(_title, _filters, suggested):  # type: ignore[no-untyped-def]
        asked.append(suggested)

    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", fake_dialog)
    monkeypatch.setattr(window.reporter, "choose_save_path", fake_save)  # Save's dialog
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    window.actions_by_id["open_video"].trigger()
    assert asked == [str(video.parent)]  # before any save: the video's folder
    project = tmp_path / "projects" / "walk.annot.json"
    project.parent.mkdir()
    opening.save(window, window.session, ask_path=False, path=project)
    window.actions_by_id["open_video"].trigger()
    window.actions_by_id["open_project"].trigger()
    window.actions_by_id["save_as"].trigger()
    assert asked[1:] == [str(project.parent), str(project.parent), str(project)]


def test_export_of_nothing_says_what_would_export(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Prefilled but not yet corrected: "Manual labels only" would write an empty file, so the
    export is refused with a message naming the predicted frames and "Every frame"."""
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    values = np.zeros((1, truth.shape[1], 3), dtype=np.float32)
    values[0, :, :2] = truth[12]
    values[0, :, 2] = Visibility.VISIBLE
    window.session.push(cmd.SetPredicted([12], values, np.full((1, truth.shape[1]), 0.9)))
    out = tmp_path / "manual.csv"
    window.reporter.export = ExportRequest("csv", str(out), "manual", None)
    window.actions_by_id["export"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    assert len(window.reporter.errors) == 1
    said = window.reporter.errors[0]
    assert "no manual labels" in said and "1 frame of predicted joints" in said
    assert '"Every frame"' in said and not out.exists()
    window.reporter.export = ExportRequest("csv", str(out), "all", None)
    window.actions_by_id["export"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    assert len(window.reporter.errors) == 1 and out.is_file()
