"""File > Import Labels (Ctrl+I): a label file or an estimator's output merged into the open
project in a worker, one undo step; a bad file is one message and changes nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from annotator.core import commands as cmd
from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.store import save_project
from annotator.formats import registry
from annotator.gui import opening
from annotator.gui.timeline_state import FrameStatus
from tests.gui.conftest import open_and_wait
from tests.gui.test_export_dialog import _label


def _estimate_like(skeleton, frames: int, truth) -> PoseSet:  # type: ignore[no-untyped-def]
    """What ``annotator estimate`` leaves: predictions on 10 and 30, filled between; one
    label on frame 20 (a corrected joint set)."""
    inst = PoseInstance.empty(0, frames, skeleton.num_joints)
    inst.poses[:, :, :2] = truth
    inst.poses[:, :, 2] = Visibility.VISIBLE
    inst.source[:] = Source.HPIM
    inst.source[[10, 30]] = Source.PREDICTED
    inst.source[20] = Source.MANUAL
    inst.confidence = np.full((frames, skeleton.num_joints), np.nan, np.float32)
    inst.confidence[[10, 30]] = 0.8
    return PoseSet(skeleton, frames, [inst])


def test_import_merges_labels_and_predictions_in_one_undo_step(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    _label(session, truth, (5,))  # the user's own label
    labels = tmp_path / "poses.npz"
    registry.get("npz").write(
        _estimate_like(session.doc.skeleton, session.doc.frame_count, truth), labels, frames="all"
    )
    window.reporter.located = str(labels)
    window.actions_by_id["import_labels"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    assert not window.reporter.errors
    doc = session.doc
    assert list(doc.labelled_frames(0)) == [5, 20]  # mine kept, the file's added, no fill
    assert list(doc.predicted_frames(0)) == [10, 30]
    assert np.allclose(doc.confidence(0)[10], 0.8)
    np.testing.assert_allclose(doc.manual(0)[20, :, :2], truth[20], atol=1e-3)
    assert (
        "1 labelled frame and 2 frames of predicted joints" in window.statusBar().currentMessage()
    )
    status = window.timeline.marks.status  # the estimator's frames stand apart, to review
    assert status[10] == status[30] == FrameStatus.PREDICTED
    assert status[20] == FrameStatus.LABELLED and status[15] == FrameStatus.FILLED
    window.actions_by_id["undo"].trigger()  # one step takes it all back
    assert list(doc.labelled_frames(0)) == [5] and len(doc.predicted_frames(0)) == 0


def test_import_of_a_bad_file_is_one_message_and_changes_nothing(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    bad = tmp_path / "labels.csv"
    bad.write_text("frame,time,track,joint,x,y,visibility,source\n0,0,0,nose,1,2,visible,manual\n")
    window.reporter.located = str(bad)
    window.actions_by_id["import_labels"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    assert len(window.reporter.errors) == 1 and "\n" not in window.reporter.errors[0]
    assert "nose" in window.reporter.errors[0]
    assert len(window.session.doc.labelled_frames(0)) == 0
    assert not window.session.history.can_undo
    unknown = tmp_path / "labels.txt"
    unknown.write_text("not labels")
    window.reporter.located = str(unknown)
    window.actions_by_id["import_labels"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    said = window.reporter.errors[-1]
    assert "cannot tell the format of labels.txt" in said and "--format" not in said


def test_a_file_without_labels_is_refused(qtbot, window, figure_video, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, figure_video[0])
    doc = window.session.doc
    empty = PoseSet(doc.skeleton, doc.frame_count, [PoseInstance.empty(0, doc.frame_count, 13)])
    labels = tmp_path / "empty.npz"
    registry.get("npz").write(empty, labels, frames="all")
    window.reporter.located = str(labels)
    window.actions_by_id["import_labels"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    assert window.reporter.errors == [
        "empty.npz holds no labels (no joint of any frame is labelled)"
    ]
    assert not window.session.history.can_undo


def test_a_label_file_opened_as_a_video_says_how_to_import_it(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Before, "not a video file that can be read, or it is truncated or corrupt"; with
    unsaved edits it asked to save them first, for nothing."""
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    labels = tmp_path / "poses.npz"
    doc = window.session.doc
    registry.get("npz").write(
        _estimate_like(doc.skeleton, doc.frame_count, truth), labels, frames="all"
    )
    window.session.push(cmd.SetLabels(5, np.array(doc.manual(0)[7:8])))  # an unsaved edit
    session = window.session
    window.open_path(labels)
    assert window.reporter.errors == [
        "poses.npz is a label file (npz), not a video: File > Import Labels (Ctrl+I) brings it "
        "into this project"
    ]
    assert window.session is session and not window.reporter.questions


def test_a_missing_file_is_said_before_asking_to_save(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A recent entry whose file was moved: one message, no Save / Discard question first."""
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    window.session.push(cmd.PlaceJoint(3, 0, 20.0, 30.0))  # an unsaved edit
    session = window.session
    gone = tmp_path / "moved.annot.json"
    window.open_path(gone)
    assert window.reporter.errors == [f"file not found: {gone}"]
    assert window.session is session and not window.reporter.questions


def test_labels_made_on_another_frame_size_are_merged_with_a_warning(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """``annotator import`` warned; the app merged such a file without a word."""
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    doc = window.session.doc
    assert (doc.video.width, doc.video.height) == (160, 120)
    ps = _estimate_like(doc.skeleton, doc.frame_count, truth)
    labels = tmp_path / "labels.json"
    registry.get("coco").write(replace(ps, width=320, height=240), labels)
    window.reporter.located = str(labels)
    window.actions_by_id["import_labels"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    assert not window.reporter.errors
    assert list(doc.labelled_frames(0)) == [20]
    said = window.statusBar().currentMessage()
    assert said.startswith("imported 1 labelled frame of 1 person from labels.json (coco)")
    assert said.endswith("; warning: the labels were made on 320x240 frames; the video is 160x120")
    registry.get("coco").write(replace(ps, width=160, height=120), labels)  # the same size
    window.actions_by_id["import_labels"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10000)
    assert "warning" not in window.statusBar().currentMessage()


def test_a_label_file_opened_as_a_project_says_how_to_import_it(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A COCO .json opened or dropped was read as a project: "not an annotator project (no
    'schema' field)"."""
    video, truth = figure_video
    labels = tmp_path / "labels.json"
    open_and_wait(qtbot, window, video)
    doc = window.session.doc
    registry.get("coco").write(_estimate_like(doc.skeleton, doc.frame_count, truth), labels)
    session = window.session
    window.open_path(labels)
    assert window.reporter.errors == [
        "labels.json is a label file (coco), not a project: File > Import Labels (Ctrl+I) "
        "brings it into this project"
    ]
    assert window.session is session and not window.reporter.questions
    window.reporter.errors.clear()
    assert opening.open_refusal(labels, has_project=False) == (
        "labels.json is a label file (coco), not a project: open its video, then File > "
        "Import Labels (Ctrl+I)"
    )
    # a project saved under a plain .json name is still a project, whatever it holds
    project = tmp_path / "take.json"
    save_project(doc, project)
    assert opening.open_refusal(project, has_project=True) is None
