"""Tools > Skeleton Editor: edits through its buttons reach the draft and a saved JSON that
loads back equal; refused edits show why and change nothing; the open project's skeleton
and labels are never touched."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6 import QtCore

from annotator.core.codes import Visibility
from annotator.core.skeleton import PENN_ACTION, Skeleton, load_skeleton
from annotator.gui.skeleton_editor import SkeletonEditor
from tests.gui.conftest import click_image, open_and_wait

Left = QtCore.Qt.MouseButton.LeftButton


def _editor(window) -> SkeletonEditor:  # type: ignore[no-untyped-def]
    window.actions_by_id["skeleton_editor"].trigger()
    editor = window.findChild(SkeletonEditor)
    assert editor is not None and editor.isVisible()
    return editor


def test_edits_in_the_editor_save_json_that_loads_back_equal(
    qtbot, window, figure_video, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    click_image(window, *truth[0, 0])  # a label the editor must not touch
    editor = _editor(window)
    assert editor.draft.to_skeleton() == window.session.skeleton  # starts from the project's
    assert editor.joints.count() == 13 and editor.edges.count() == len(PENN_ACTION.edges)
    editor.name.setText("penn_neck")
    editor.name.editingFinished.emit()
    editor.joint_name.setText("neck")
    qtbot.mouseClick(editor.add_joint_button, Left)
    assert editor.joints.count() == 14 and editor.joints.currentRow() == 13
    editor.edge_a.setCurrentIndex(0)
    editor.edge_b.setCurrentIndex(13)
    qtbot.mouseClick(editor.add_edge_button, Left)
    assert editor.edges.item(editor.edges.count() - 1).text() == "head — neck"
    editor.joints.setCurrentRow(0)
    editor.joint_name.setText("head_top")
    qtbot.mouseClick(editor.rename_button, Left)
    editor.pairs.setCurrentRow(0)
    qtbot.mouseClick(editor.delete_pair_button, Left)  # L/R shoulder
    editor.pair_left.setCurrentIndex(1)
    editor.pair_right.setCurrentIndex(2)
    qtbot.mouseClick(editor.add_pair_button, Left)
    assert editor.message.text() == ""
    out = tmp_path / "penn_neck.json"
    editor.ask_save_path = lambda: str(out)  # type: ignore[method-assign]  # the file dialog
    editor._save_clicked()
    back = load_skeleton(out)
    assert back == editor.draft.to_skeleton()
    assert back.name == "penn_neck" and back.joints[0] == "head_top" and back.joints[13] == "neck"
    assert (0, 13) in back.edges and back.symmetry[-1] == (1, 2)
    # The document -> widget direction: a template loaded shows in the lists.
    other = tmp_path / "mouse.json"
    other.write_text(json.dumps({"name": "mouse", "joints": ["nose", "tail"], "edges": [[0, 1]]}))
    editor.ask_load_path = lambda: str(other)  # type: ignore[method-assign]
    editor._load_clicked()
    assert [editor.joints.item(k).text() for k in range(2)] == ["0  nose", "1  tail"]
    assert editor.edges.item(0).text() == "nose — tail" and editor.name.text() == "mouse"
    # The project is untouched: its skeleton and its label.
    assert window.session.skeleton == PENN_ACTION
    assert window.session.doc.label(0, 0, 0)[2] == Visibility.VISIBLE
    editor.close()


def test_bad_edits_are_refused_with_a_reason(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    editor = _editor(window)  # no project open: starts from Penn Action
    assert editor.draft.to_skeleton() == PENN_ACTION
    editor.joint_name.setText("head")
    qtbot.mouseClick(editor.add_joint_button, Left)
    assert "already a joint named 'head'" in editor.message.text()
    assert editor.joints.count() == 13
    editor.edge_a.setCurrentIndex(3)
    editor.edge_b.setCurrentIndex(3)
    qtbot.mouseClick(editor.add_edge_button, Left)
    assert "two different joints" in editor.message.text()
    editor.edge_b.setCurrentIndex(5)  # L-elbow — L-wrist exists
    qtbot.mouseClick(editor.add_edge_button, Left)
    assert "already joined" in editor.message.text()
    editor.pair_left.setCurrentIndex(1)  # L-shoulder is paired already
    editor.pair_right.setCurrentIndex(4)
    qtbot.mouseClick(editor.add_pair_button, Left)
    assert "already paired" in editor.message.text()
    editor.name.setText("  ")
    editor.name.editingFinished.emit()
    assert "needs a name" in editor.message.text()
    assert editor.name.text() == PENN_ACTION.name  # shows the name it keeps, not an empty field
    assert editor.draft.to_skeleton() == PENN_ACTION
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "joints": ["a", "b"], "edges": [[0, 5]]}))
    assert not editor.load_from(bad)
    assert "edge (0, 5)" in editor.message.text()
    assert editor.draft.to_skeleton() == PENN_ACTION  # the draft stays
    editor.joint_name.setText("ok")
    qtbot.mouseClick(editor.add_joint_button, Left)
    assert editor.message.text() == ""  # a good edit clears the message
    editor.close()


def test_deleting_a_joint_in_the_editor_renumbers_its_edges(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    editor = _editor(window)
    editor.joints.setCurrentRow(0)  # head: two edges
    qtbot.mouseClick(editor.delete_joint_button, Left)
    skeleton: Skeleton = editor.draft.to_skeleton()
    assert skeleton.joints == PENN_ACTION.joints[1:]
    assert len(skeleton.edges) == len(PENN_ACTION.edges) - 2  # (0,1) and (0,2) went
    assert editor.edges.item(0).text() == "L-shoulder — R-shoulder"
    editor.close()


def test_a_joint_name_typed_and_entered_is_added(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    editor = _editor(window)
    count = editor.joints.count()
    editor.joint_name.clear()
    qtbot.keyClicks(editor.joint_name, "chin")
    qtbot.keyClick(editor.joint_name, QtCore.Qt.Key.Key_Return)
    assert editor.joints.count() == count + 1 and editor.draft.joints[-1] == "chin"
    assert editor.isVisible()  # Enter added the joint; it did not close the editor
