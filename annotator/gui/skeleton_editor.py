"""Tools > Skeleton Editor: add, rename and delete joints, edges and left/right pairs of a
skeleton template, load one from JSON and save it as JSON.

The editing itself is ``core.skeleton_edit.SkeletonDraft`` (no Qt); the dialog only gathers
input and shows the draft. A refused edit (a duplicate name, an edge to a joint that does
not exist) leaves the draft as it was and shows why on the dialog's message line.

The editor edits templates, never the open project: a project keeps the skeleton its labels
were made with, so nothing here can drop a label. It starts from the open project's skeleton
(or Penn Action's); a saved template is used for a new project by choosing *From JSON…* when
a video is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from annotator.core.paths import data_dir
from annotator.core.skeleton import PENN_ACTION, Skeleton
from annotator.core.skeleton_edit import SkeletonDraft
from annotator.errors import AnnotatorError

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow

NOTE = (
    "Templates are for new projects (Open Video > From JSON…). The open project keeps its "
    "skeleton, so no label is ever lost here."
)


def _button(text: str, slot: object, layout: QtWidgets.QBoxLayout) -> QtWidgets.QPushButton:
    button = QtWidgets.QPushButton(text)
    button.setAutoDefault(False)
    button.clicked.connect(slot)
    layout.addWidget(button)
    return button


class SkeletonEditor(QtWidgets.QDialog):
    """The dialog; ``draft`` is the skeleton being edited."""

    def __init__(self, skeleton: Skeleton, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Skeleton Editor")
        self.draft = SkeletonDraft.of(skeleton)
        self.saved_to: Path | None = None
        layout = QtWidgets.QVBoxLayout(self)
        form = QtWidgets.QFormLayout()
        self.name = QtWidgets.QLineEdit(self.draft.name)
        self.name.editingFinished.connect(self._name_edited)
        form.addRow("Name", self.name)
        layout.addLayout(form)
        columns = QtWidgets.QHBoxLayout()
        layout.addLayout(columns, 1)
        columns.addLayout(self._joints_column(), 1)
        columns.addLayout(self._pairs_column("Edges", "edge"), 1)
        columns.addLayout(self._pairs_column("Left / right pairs", "pair"), 1)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #eb5757")
        layout.addWidget(self.message)
        note = QtWidgets.QLabel(NOTE)
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QtWidgets.QHBoxLayout()
        _button("Load JSON…", self._load_clicked, buttons)
        _button("Save JSON…", self._save_clicked, buttons)
        buttons.addStretch(1)
        _button("Close", self.accept, buttons)
        layout.addLayout(buttons)
        self.resize(760, 460)
        self._show()

    # -- layout ------------------------------------------------------------------------------
    def _joints_column(self) -> QtWidgets.QVBoxLayout:
        column = QtWidgets.QVBoxLayout()
        column.addWidget(QtWidgets.QLabel("Joints (in label order)"))
        self.joints = QtWidgets.QListWidget()
        self.joints.currentRowChanged.connect(self._joint_selected)
        column.addWidget(self.joints, 1)
        self.joint_name = QtWidgets.QLineEdit()
        self.joint_name.setPlaceholderText("joint name (Enter adds it)")
        self.joint_name.returnPressed.connect(self.add_joint)  # a name typed, then Enter
        column.addWidget(self.joint_name)
        row = QtWidgets.QHBoxLayout()
        self.add_joint_button = _button("Add", self.add_joint, row)
        self.rename_button = _button("Rename", self.rename_joint, row)
        self.delete_joint_button = _button("Delete", self.delete_joint, row)
        column.addLayout(row)
        return column

    def _pairs_column(self, title: str, kind: str) -> QtWidgets.QVBoxLayout:
        column = QtWidgets.QVBoxLayout()
        column.addWidget(QtWidgets.QLabel(title))
        listing = QtWidgets.QListWidget()
        column.addWidget(listing, 1)
        first, second = QtWidgets.QComboBox(), QtWidgets.QComboBox()
        column.addWidget(first)
        column.addWidget(second)
        row = QtWidgets.QHBoxLayout()
        add = _button("Add", self.add_edge if kind == "edge" else self.add_pair, row)
        delete = _button("Delete", self.delete_edge if kind == "edge" else self.delete_pair, row)
        column.addLayout(row)
        if kind == "edge":
            self.edges, self.edge_a, self.edge_b = listing, first, second
            self.add_edge_button, self.delete_edge_button = add, delete
        else:
            self.pairs, self.pair_left, self.pair_right = listing, first, second
            self.add_pair_button, self.delete_pair_button = add, delete
        return column

    # -- showing the draft -------------------------------------------------------------------
    def _show(self) -> None:
        d = self.draft
        row = self.joints.currentRow()
        self.joints.clear()
        self.joints.addItems([f"{k}  {name}" for k, name in enumerate(d.joints)])
        self.joints.setCurrentRow(min(max(row, 0), len(d.joints) - 1))
        for listing, pairs, sep in ((self.edges, d.edges, "—"), (self.pairs, d.symmetry, "↔")):
            listing.clear()
            listing.addItems([f"{d.joints[a]} {sep} {d.joints[b]}" for a, b in pairs])
        for combo in (self.edge_a, self.edge_b, self.pair_left, self.pair_right):
            keep = combo.currentIndex()
            combo.clear()
            combo.addItems(list(d.joints))
            combo.setCurrentIndex(min(max(keep, 0), len(d.joints) - 1))
        self.name.setText(d.name)

    def _name_edited(self) -> None:
        if self.name.text().strip() != self.draft.name and not self._edit(
            self.draft.set_name, self.name.text()
        ):
            self.name.setText(self.draft.name)  # the field shows the name the draft keeps

    def done(self, result: int) -> None:
        # The name field reports "editing finished" when focus leaves it, also while the
        # dialog is being torn down: stop listening first.
        self.name.editingFinished.disconnect(self._name_edited)
        super().done(result)

    def _joint_selected(self, row: int) -> None:
        if 0 <= row < len(self.draft.joints):
            self.joint_name.setText(self.draft.joints[row])

    def _edit(self, fn: object, *args: object) -> bool:
        """Apply one draft edit; a refused one shows its reason and changes nothing."""
        try:
            fn(*args)  # type: ignore[operator]
        except AnnotatorError as err:
            self.message.setText(str(err))
            return False
        self.message.setText("")
        self._show()
        return True

    # -- edits (buttons) ---------------------------------------------------------------------
    def add_joint(self) -> None:
        if self._edit(self.draft.add_joint, self.joint_name.text()):
            self.joints.setCurrentRow(len(self.draft.joints) - 1)

    def rename_joint(self) -> None:
        self._edit(self.draft.rename_joint, self.joints.currentRow(), self.joint_name.text())

    def delete_joint(self) -> None:
        self._edit(self.draft.delete_joint, self.joints.currentRow())

    def add_edge(self) -> None:
        self._edit(self.draft.add_edge, self.edge_a.currentIndex(), self.edge_b.currentIndex())

    def delete_edge(self) -> None:
        self._edit(self.draft.delete_edge, self.edges.currentRow())

    def add_pair(self) -> None:
        self._edit(
            self.draft.add_pair, self.pair_left.currentIndex(), self.pair_right.currentIndex()
        )

    def delete_pair(self) -> None:
        self._edit(self.draft.delete_pair, self.pairs.currentRow())

    # -- files -------------------------------------------------------------------------------
    def folder(self) -> Path:
        """Where templates are suggested: the per-user skeleton folder."""
        return data_dir("skeletons")

    def ask_save_path(self) -> str | None:
        start = str(self.folder() / f"{self.draft.name}.json")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save skeleton template", start, "Skeleton (*.json)"
        )
        return str(path) or None

    def ask_load_path(self) -> str | None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Load skeleton template", str(self.folder()), "Skeleton (*.json)"
        )
        return str(path) or None

    def save_to(self, path: str | Path) -> bool:
        """Save the draft as a JSON template; False (with the reason shown) if refused."""
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.saved_to = self.draft.save(path)
        except (AnnotatorError, OSError) as err:
            self.message.setText(str(err))
            return False
        self.message.setText("")
        return True

    def load_from(self, path: str | Path) -> bool:
        """Replace the draft by the template at ``path``; False (reason shown) if invalid."""
        try:
            self.draft = SkeletonDraft.load(path)
        except AnnotatorError as err:
            self.message.setText(str(err))
            return False
        self.message.setText("")
        self._show()
        return True

    def _save_clicked(self) -> None:
        self.name.editingFinished.emit()  # a name typed but not yet confirmed counts
        path = self.ask_save_path()
        if path:
            self.save_to(path)

    def _load_clicked(self) -> None:
        path = self.ask_load_path()
        if path:
            self.load_from(path)


def act_skeleton_editor(window: MainWindow) -> None:
    """Open the editor on the open project's skeleton (or Penn Action's)."""
    skeleton = window.session.skeleton if window.session is not None else PENN_ACTION
    dialog = SkeletonEditor(skeleton, window)
    dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
