"""The app's main flow with its defaults, on the bundled sample video, as a new user runs it:
open -> the app proposes frames on open (default method and budget, no user action) -> the
timeline's marks are the frames
``annotator propose`` writes -> label two proposed frames by mouse -> the fill appears ->
N (next frame to label) three times, labelling each -> save -> export COCO with every frame
-> reopen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtWidgets

from annotator.core.codes import Source, Visibility
from annotator.gui.dialogs import ExportRequest
from annotator.gui.timeline_state import FrameStatus
from tests.gui.conftest import click_image, open_and_wait

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "taiji.mp4"


def _label_by_mouse(window, offset: float) -> None:  # type: ignore[no-untyped-def]
    """Click every joint of the skeleton once, at a plausible standing pose."""
    session = window.session
    session.set_joint(0)
    n = session.skeleton.num_joints
    for j in range(n):
        x = 280.0 + offset + 60.0 * np.cos(2 * np.pi * j / n)
        y = 180.0 + 120.0 * np.sin(2 * np.pi * j / n)
        click_image(window, x, y)


def _labelled(window) -> list[int]:  # type: ignore[no-untyped-def]
    manual = np.asarray(window.session.doc.manual(0))
    return np.flatnonzero((manual[:, :, 2] != Visibility.UNLABELLED).all(axis=1)).tolist()


def test_main_flow_with_defaults_on_the_sample(qtbot, window, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from annotator import cli

    # 1. Open the sample video (the default skeleton), as the app opens it: proposing on open
    # is on by default (the other GUI tests turn it off).
    window.propose_on_open = True
    open_and_wait(qtbot, window, SAMPLE)
    session = window.session
    assert session.frame_count == 240

    # 2. The app proposes with the default method (kfpn) and budget (its natural count).
    # K-FPN on CPU takes seconds on a quiet machine, minutes on a loaded one: wait for it.
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=600000)
    assert not window.reporter.errors, window.reporter.errors
    proposals = session.doc.proposals
    assert proposals is not None
    assert proposals.method == "kfpn"
    assert proposals.scores is not None and len(proposals.scores) == 240

    # 3. The timeline's marks are the frames ``annotator propose`` writes for the video.
    out = tmp_path / "p.json"
    assert cli.main(["propose", str(SAMPLE), "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    marks = window.timeline.marks.state.proposed.tolist()
    assert marks == written["frames"] == list(proposals.frames)
    np.testing.assert_allclose(proposals.scores, written["scores"], rtol=1e-5, atol=1e-6)
    # The sample's K-FPN score is saturated (only 0 or 1, at fixed places of the network's
    # windows): no score row, and the timeline's tooltip says why.
    assert set(written["scores"]) == {0.0, 1.0}
    assert window.timeline.marks.state.scores is None
    assert "saturated" in window.timeline.row_notes["scores"]

    # 4. Label two proposed frames by mouse, reached with ] (next proposed frame).
    window.frame_view.setFocus()
    session.go_to(0)
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_BracketRight)
    first = session.frame
    assert first == marks[1]
    _label_by_mouse(window, 0.0)
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_BracketRight)
    second = session.frame
    assert second == marks[2]
    _label_by_mouse(window, 30.0)
    assert _labelled(window) == [first, second]

    # 5. The fill appears between them (and the pose is held outside them).
    middle = (first + second) // 2
    session.go_to(middle)
    shown = window.frame_view.overlay.pose
    assert (shown.source == Source.from_label(session.method)).all()
    assert not shown.held_mask().any()
    status = window.timeline.marks.state.status
    assert (status[first + 1 : second] == FrameStatus.FILLED).all()
    session.go_to(second + 1)
    assert window.frame_view.overlay.pose.held_mask().all()

    # 6. N three times, each time labelling the frame it goes to.
    visited = []
    for k in range(3):
        QtWidgets.QApplication.processEvents()
        ranked = session.rank_to_label(top=1)
        qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_N)
        assert session.frame == ranked[0][0]
        assert "is next to label" in window.statusBar().currentMessage()
        visited.append(session.frame)
        _label_by_mouse(window, 10.0 * k)
    assert len(set(visited)) == 3 and not set(visited) & {first, second}
    assert _labelled(window) == sorted([first, second, *visited])
    final = np.array(session.doc.manual(0))

    # 7. Save (File > Save asks where the first time).
    project = tmp_path / "taiji.annot.json"
    window.reporter.save_path = str(project)  # the save dialog's answer
    window.actions_by_id["save"].trigger()
    assert project.is_file() and not session.dirty

    # 8. Export COCO with every frame (no images: none is named).
    coco = tmp_path / "taiji.json"
    window.reporter.export = ExportRequest("coco", str(coco), "all", None)
    window.actions_by_id["export"].trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=30000)
    assert not window.reporter.errors, window.reporter.errors
    doc = json.loads(coco.read_text())
    assert sorted(i["frame_index"] for i in doc["images"]) == list(range(240))
    assert all(i["file_name"] == "" for i in doc["images"])
    by_frame = {a["image_id"] - 1: a for a in doc["annotations"]}
    assert set(by_frame[first]["source"]) == {"manual"}
    assert set(by_frame[middle]["source"]) == {session.method}
    labelled = _labelled(window)
    for f in (*range(labelled[0]), *range(labelled[-1] + 1, 240)):
        assert all(by_frame[f]["held"]), f  # before the first or after the last label
    assert not any(by_frame[middle]["held"])

    # 9. Reopen in a fresh window: the same labels, proposals and score row (none).
    from annotator.gui.app import make_window

    other = make_window(headless=True)
    qtbot.addWidget(other)
    other.show()
    open_and_wait(qtbot, other, project)
    np.testing.assert_array_equal(np.asarray(other.session.doc.manual(0)), final)
    assert other.session.doc.proposals == proposals
    assert other.timeline.marks.state.proposed.tolist() == marks
    assert other.timeline.marks.state.scores is None
    assert other.timeline.row_notes["scores"] == window.timeline.row_notes["scores"]
    assert other.fill_panel.info.text().startswith("5 labelled frames;")
    other.close()
    other.tasks.shutdown()
