"""Small dialogs: the skeleton chooser (built-in or JSON) and the PySide6 guard."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets

from annotator.core.paths import data_dir
from annotator.core.skeleton import BUILTIN
from annotator.gui import _none_guard
from annotator.gui.dialogs import SkeletonDialog


def test_choose_a_builtin_skeleton(qtbot) -> None:
    dialog = SkeletonDialog()
    qtbot.addWidget(dialog)
    names = [
        dialog.list.item(i).data(QtCore.Qt.ItemDataRole.UserRole)
        for i in range(dialog.list.count())
    ]
    assert names[: len(BUILTIN)] == list(BUILTIN)
    dialog.list.setCurrentRow(names.index("coco"))
    dialog.accept()
    assert dialog.skeleton is BUILTIN["coco"]


def test_the_shipped_and_the_users_templates_are_offered(qtbot) -> None:
    # The user's own, where the skeleton editor saves them.
    mine = data_dir("skeletons") / "mouse.json"
    mine.write_text(json.dumps({"name": "mouse", "joints": ["nose", "tail"], "edges": [[0, 1]]}))
    dialog = SkeletonDialog()
    qtbot.addWidget(dialog)
    names = [
        dialog.list.item(i).data(QtCore.Qt.ItemDataRole.UserRole)
        for i in range(dialog.list.count())
    ]
    assert {"upper_body", "hand", "blazepose_33", "mouse"} <= set(names)
    dialog.list.setCurrentRow(names.index("upper_body"))
    dialog.accept()
    assert dialog.skeleton is not None and dialog.skeleton.name == "upper_body"


def test_skeleton_from_json_and_a_bad_one(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "mouse.json"
    good.write_text(json.dumps({"name": "mouse", "joints": ["nose", "tail"], "edges": [[0, 1]]}))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    chosen = [str(bad)]
    monkeypatch.setattr(
        QtWidgets.QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (chosen[0], ""))
    )
    dialog = SkeletonDialog()
    qtbot.addWidget(dialog)
    dialog._load_json()
    assert "bad.json is not valid JSON" in dialog.error.text()  # shown, the dialog stays
    assert dialog.result() == 0
    chosen[0] = str(good)
    dialog._load_json()
    assert dialog.skeleton is not None and dialog.skeleton.joints == ("nose", "tail")


def test_singleton_guard_is_safe() -> None:
    # Applied at import; applying again only ever raises reference counts.
    before = sys.getrefcount(None)
    _none_guard.apply()
    assert sys.getrefcount(None) >= before - 4
    assert isinstance(_none_guard.leaks_singletons(), bool)
