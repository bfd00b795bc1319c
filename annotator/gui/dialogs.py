"""Small dialogs and the user-facing reporter (errors, questions) the window talks through.

The window never calls ``QMessageBox`` directly: it asks its ``Reporter``. The default one
shows real dialogs; tests pass a ``RecordingReporter`` that records messages and answers
questions without blocking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PySide6 import QtCore, QtWidgets

from annotator.core.paths import data_dir
from annotator.core.skeleton import BUILTIN, Skeleton, templates
from annotator.errors import AnnotatorError
from annotator.gui.keymap import ACTIONS

SaveChoice = Literal["save", "discard", "cancel"]


@dataclass(frozen=True)
class ProposeRequest:
    """What the propose dialog asks for: a method and a budget (None: the method's own
    default, K-FPN's natural count)."""

    method: str
    budget: int | None = None


@dataclass(frozen=True)
class ExportRequest:
    """What the export dialog asks for; the same choices as ``annotator export``."""

    format: str
    path: str
    frames: str = "all"  # 'manual' or 'all' (filled values with their source, held flagged)
    images: str | None = None  # an image type to write the frames too, or None


@dataclass(frozen=True)
class ExportChoice:
    """One format the export dialog offers."""

    name: str
    description: str
    extensions: tuple[str, ...]
    is_folder: bool
    image_types: tuple[str, ...]


class Reporter:
    """Shows errors and asks questions with real dialogs."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        self.parent = parent

    def error(self, message: str, title: str = "Error") -> None:
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Critical, title, message, parent=self.parent
        )
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # window-modal but non-blocking: background work keeps running

    def ask(self, question: str, title: str = "Question") -> bool:
        answer = QtWidgets.QMessageBox.question(self.parent, title, question)
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def ask_save(self, question: str, title: str = "Unsaved changes") -> SaveChoice:
        """Save / Discard / Cancel; Esc and closing the box mean Cancel (keep working)."""
        return save_discard_cancel(self.parent, question, title)

    def ask_text(self, question: str, title: str = "Question", text: str = "") -> str | None:
        """A line of text from the user (stripped; ``text`` offered to start with); None when
        cancelled or left empty."""
        answer, ok = QtWidgets.QInputDialog.getText(
            self.parent, title, question, QtWidgets.QLineEdit.EchoMode.Normal, text
        )
        return answer.strip() or None if ok else None

    def choose_proposal(
        self, methods: Sequence[str], frame_count: int, budget: int | None = None
    ) -> ProposeRequest | None:
        """``budget``: the frames the dialog offers first (None: the method's own)."""
        return ProposeDialog.choose(self.parent, methods, frame_count, budget)

    def choose_export(
        self, formats: Sequence[ExportChoice], chosen: str | None, base: str
    ) -> ExportRequest | None:
        """Format, frames, images and where; ``base``: the path to suggest, less extension."""
        return ExportDialog.choose(self.parent, formats, chosen, base)

    def choose_skeleton(self) -> Skeleton | None:
        return SkeletonDialog.choose(self.parent)

    def locate_file(self, title: str, filters: str, start: str = "") -> str | None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.parent, title, start, filters)
        return str(path) or None

    def choose_save_path(self, title: str, filters: str, suggested: str) -> str | None:
        """Where to write a new file (the review exports); None when the user cancels."""
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.parent, title, suggested, filters)
        return str(path) or None


class RecordingReporter(Reporter):
    """For tests and ``--screenshot``: records instead of showing; fixed answers."""

    def __init__(
        self, answer: bool = False, skeleton: Skeleton | None = None, item: str | None = None
    ) -> None:
        super().__init__(None)
        self.item = item
        self.located: str | None = None
        self.errors: list[str] = []
        self.questions: list[str] = []
        self.answer = answer
        self.skeleton = skeleton
        self.save_choice: SaveChoice = "cancel"  # what an Esc would answer
        self.budget: int | None = None  # the propose dialog's default
        # The export dialog's answer; None answers with its defaults at the suggested path.
        self.export: ExportRequest | None = None
        self.export_bases: list[str] = []  # the paths the export dialog suggested
        # The save dialog's answer (review exports); None answers with the suggested path.
        self.save_path: str | None = None
        self.text: str | None = None  # what ``ask_text`` answers (None: cancelled)

    def error(self, message: str, title: str = "Error") -> None:
        self.errors.append(message)

    def ask(self, question: str, title: str = "Question") -> bool:
        self.questions.append(question)
        return self.answer

    def ask_save(self, question: str, title: str = "Unsaved changes") -> SaveChoice:
        self.questions.append(question)
        return self.save_choice

    def ask_text(self, question: str, title: str = "Question", text: str = "") -> str | None:
        self.questions.append(question)
        return None if self.text is None else self.text.strip() or None

    def choose_proposal(
        self, methods: Sequence[str], frame_count: int, budget: int | None = None
    ) -> ProposeRequest | None:
        """What the real dialog answers to OK: its defaults, unless ``item`` names another
        method or ``budget`` is set."""
        self.questions.append("Propose frames to label")
        if not methods:
            return None
        dialog = ProposeDialog(methods, frame_count, budget=budget)
        if self.item is not None and self.item in methods:
            dialog.method.setCurrentText(self.item)
        if self.budget is not None:
            dialog.budget.setValue(self.budget)
        request = dialog.request()
        dialog.deleteLater()
        return request

    def choose_export(
        self, formats: Sequence[ExportChoice], chosen: str | None, base: str
    ) -> ExportRequest | None:
        self.export_bases.append(base)
        if self.export is not None:
            return self.export
        dialog = ExportDialog(formats, chosen, base)
        request = dialog.request()
        dialog.deleteLater()
        return request

    def choose_skeleton(self) -> Skeleton | None:
        return self.skeleton or BUILTIN["penn_action"]

    def locate_file(self, title: str, filters: str, start: str = "") -> str | None:
        self.questions.append(title)
        return self.located

    def choose_save_path(self, title: str, filters: str, suggested: str) -> str | None:
        self.questions.append(title)
        return self.save_path or suggested


def save_discard_cancel(
    parent: QtWidgets.QWidget | None, question: str, title: str = "Unsaved changes"
) -> SaveChoice:
    """A modal Save / Discard / Cancel box. Esc (the escape button) is Cancel, so no key
    press ever throws edits away; Save is the default button."""
    box = save_box(parent, question, title)
    box.exec()
    return save_box_choice(box)


def save_box(parent: QtWidgets.QWidget | None, question: str, title: str) -> QtWidgets.QMessageBox:
    buttons = QtWidgets.QMessageBox.StandardButton
    box = QtWidgets.QMessageBox(
        QtWidgets.QMessageBox.Icon.Warning,
        title,
        question,
        buttons.Save | buttons.Discard | buttons.Cancel,
        parent,
    )
    box.setDefaultButton(buttons.Save)
    box.setEscapeButton(buttons.Cancel)
    return box


def save_box_choice(box: QtWidgets.QMessageBox) -> SaveChoice:
    clicked = box.clickedButton()
    buttons = QtWidgets.QMessageBox.StandardButton
    if clicked is box.button(buttons.Save):
        return "save"
    if clicked is box.button(buttons.Discard):
        return "discard"
    return "cancel"


class ProposeDialog(QtWidgets.QDialog):
    """Tools > Propose Frames: the method and how many frames (default: the method's own)."""

    DEFAULT_TEXT = "method's default"

    def __init__(
        self,
        methods: Sequence[str],
        frame_count: int,
        parent: QtWidgets.QWidget | None = None,
        budget: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Propose frames to label")
        layout = QtWidgets.QFormLayout(self)
        self.method = QtWidgets.QComboBox()
        self.method.addItems(list(methods))
        layout.addRow("Method", self.method)
        # 0 stands for "no budget": K-FPN then proposes its natural count (the frames its
        # network expects to need), the baselines 10 % of the frames, as ``annotator propose``.
        self.budget = QtWidgets.QSpinBox()
        self.budget.setRange(0, max(1, frame_count))
        self.budget.setSpecialValueText(self.DEFAULT_TEXT)
        self.budget.setSuffix(" frames")
        self.budget.setValue(budget or 0)  # Settings > Proposal budget
        self.budget.setToolTip(
            "how many frames to propose; the default is kfpn's natural count "
            "(uniform and kmeans: 10 % of the frames)"
        )
        layout.addRow("Budget", self.budget)
        self.hint = QtWidgets.QLabel()
        self.hint.setWordWrap(True)
        layout.addRow(self.hint)
        self.method.currentTextChanged.connect(self._update_hint)
        self.budget.valueChanged.connect(lambda _v: self._update_hint(self.method.currentText()))
        self._frame_count = frame_count
        self._update_hint(self.method.currentText())
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def _update_hint(self, method: str) -> None:
        if self.budget.value():
            text = f"{self.budget.value()} of {self._frame_count} frames"
        elif method == "kfpn":
            text = "K-FPN chooses how many frames the video needs (its natural count)"
        else:
            text = f"10 % of the {self._frame_count} frames"
        self.hint.setText(text)

    def request(self) -> ProposeRequest:
        budget = self.budget.value()
        return ProposeRequest(self.method.currentText(), budget or None)

    @classmethod
    def choose(
        cls,
        parent: QtWidgets.QWidget | None,
        methods: Sequence[str],
        frame_count: int,
        budget: int | None = None,
    ) -> ProposeRequest | None:
        dialog = cls(methods, frame_count, parent, budget)
        ok = dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted
        return dialog.request() if ok else None


class ExportDialog(QtWidgets.QDialog):
    """File > Export: format, manual labels or every frame, frame images, destination."""

    def __init__(
        self,
        formats: Sequence[ExportChoice],
        chosen: str | None,
        base: str,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(560)
        self._formats = {f.name: f for f in formats}
        self._base = base
        layout = QtWidgets.QFormLayout(self)
        self.format = QtWidgets.QComboBox()
        for f in formats:
            self.format.addItem(f.description, f.name)
        if chosen in self._formats:
            self.format.setCurrentIndex(self.format.findData(chosen))
        layout.addRow("Format", self.format)
        self.all_frames = QtWidgets.QRadioButton("Every frame: the labels and the fill")
        self.all_frames.setToolTip(
            "each value with its source (manual, hpim, ...); npz and COCO also flag the values "
            "held before the first or after the last label"
        )
        self.manual_only = QtWidgets.QRadioButton("Manual labels only")
        self.all_frames.setChecked(True)
        frames = QtWidgets.QVBoxLayout()
        frames.addWidget(self.all_frames)
        frames.addWidget(self.manual_only)
        layout.addRow("Frames", frames)
        images = QtWidgets.QHBoxLayout()
        self.images = QtWidgets.QCheckBox("Write the frame images")
        self.image_type = QtWidgets.QComboBox()
        images.addWidget(self.images)
        images.addWidget(self.image_type)
        images.addStretch(1)
        layout.addRow("Images", images)
        where = QtWidgets.QHBoxLayout()
        self.path = QtWidgets.QLineEdit()
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        layout.addRow("Save to", where)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addRow(self.buttons)
        ok = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.path.textChanged.connect(lambda text: ok.setEnabled(bool(text.strip())))
        self.format.currentIndexChanged.connect(lambda _i: self._format_changed())
        self.images.toggled.connect(lambda on: self.image_type.setEnabled(on))
        self._format_changed()

    def _choice(self) -> ExportChoice:
        return self._formats[str(self.format.currentData())]

    def _format_changed(self) -> None:
        choice = self._choice()
        self.images.setEnabled(bool(choice.image_types))
        # DeepLabCut's labeled-data folder expects its images; COCO's are optional.
        self.images.setChecked(choice.name == "dlc")
        self.image_type.clear()
        self.image_type.addItems(list(choice.image_types))
        self.image_type.setEnabled(self.images.isChecked())
        suffix = "" if choice.is_folder or not choice.extensions else choice.extensions[0]
        self.path.setText(self._base + ("_" + choice.name if choice.is_folder else suffix))

    def _browse(self) -> None:
        choice = self._choice()
        if choice.is_folder:
            path = QtWidgets.QFileDialog.getExistingDirectory(
                self, "Export to folder", str(Path(self._base).parent)
            )
        else:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, "Export", self.path.text(), choice_filter(choice)
            )
        if path:
            self.path.setText(path)

    def request(self) -> ExportRequest | None:
        path = self.path.text().strip()
        if not path:
            return None
        choice = self._choice()
        if choice.extensions and not choice.is_folder and not path.endswith(choice.extensions):
            path += choice.extensions[0]
        images = self.image_type.currentText() if self.images.isChecked() else None
        frames = "all" if self.all_frames.isChecked() else "manual"
        return ExportRequest(choice.name, path, frames, images or None)

    @classmethod
    def choose(
        cls,
        parent: QtWidgets.QWidget | None,
        formats: Sequence[ExportChoice],
        chosen: str | None,
        base: str,
    ) -> ExportRequest | None:
        dialog = cls(formats, chosen, base, parent)
        ok = dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted
        return dialog.request() if ok else None


def choice_filter(choice: ExportChoice) -> str:
    if choice.is_folder or not choice.extensions:
        return f"{choice.description} (*)"
    return f"{choice.description} ({' '.join('*' + e for e in choice.extensions)})"


class SkeletonDialog(QtWidgets.QDialog):
    """Choose a skeleton: the built-ins, the templates shipped with the app, the user's own
    (saved by the skeleton editor), or one loaded from a JSON file."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Skeleton for the new project")
        self.skeleton: Skeleton | None = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("Joints to label in this video:"))
        self.list = QtWidgets.QListWidget()
        self.choices: dict[str, Skeleton] = dict(BUILTIN)
        for found in (templates(), templates(data_dir("skeletons"))):
            for name, skel in found.items():
                self.choices.setdefault(name, skel)
        for name, skel in self.choices.items():
            item = QtWidgets.QListWidgetItem(f"{name}  ({skel.num_joints} joints)")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout.addWidget(self.list)
        self.error = QtWidgets.QLabel()
        self.error.setStyleSheet("color: #eb5757")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        load = buttons.addButton("From JSON…", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        load.clicked.connect(self._load_json)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _load_json(self) -> None:
        mine = str(data_dir("skeletons"))  # where the skeleton editor saves templates
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Skeleton template", mine, "Skeleton (*.json)"
        )
        if not path:
            return
        try:
            self.skeleton = Skeleton.from_json(path)
        except AnnotatorError as err:
            self.error.setText(str(err))
            return
        super().accept()

    def accept(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.skeleton = self.choices[item.data(QtCore.Qt.ItemDataRole.UserRole)]
        super().accept()

    @classmethod
    def choose(cls, parent: QtWidgets.QWidget | None) -> Skeleton | None:
        dialog = cls(parent)
        ok = dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted
        return dialog.skeleton if ok else None


class ShortcutsDialog(QtWidgets.QDialog):
    """Help > Keyboard Shortcuts: the keymap table plus the mouse gestures."""

    MOUSE: Sequence[tuple[str, str]] = (
        ("Click on the frame", "place the current joint, then advance to the next"),
        ("Drag a joint", "move it (a filled joint becomes manual on this frame)"),
        ("Right-click", "joint menu: visible/occluded, absent, delete, choose joint"),
        ("Wheel / drag on empty image", "zoom / pan the frame"),
        (
            "Click or drag on the timeline",
            "seek; wheel zooms, right-drag pans, double-click shows all",
        ),
    )

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        keys: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """``keys``: the user's keys per action id (default: the keymap's)."""
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        layout = QtWidgets.QVBoxLayout(self)
        table = QtWidgets.QTableWidget(0, 3)
        table.setHorizontalHeaderLabels(["Menu", "Action", "Keys"])
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().lineSpacing() + 8)
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        chosen = {s.id: tuple(s.keys) for s in ACTIONS} | dict(keys or {})
        rows = [
            (s.menu, s.text.replace("&", ""), ", ".join(chosen[s.id]))
            for s in ACTIONS
            if chosen[s.id]
        ]
        rows += [("Mouse", what, gesture) for gesture, what in self.MOUSE]
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(table)
        self.table = table
        # Wide enough for every column (no key cut off), as tall as the screen allows.
        margins = layout.contentsMargins()
        width = (
            sum(table.columnWidth(c) for c in range(table.columnCount()))
            + table.verticalScrollBar().sizeHint().width()
            + 2 * table.frameWidth()
            + margins.left()
            + margins.right()
            + 8
        )
        screen = (parent.screen() if parent is not None else None) or (
            QtWidgets.QApplication.primaryScreen()
        )
        available = screen.availableGeometry() if screen is not None else None
        max_w = available.width() - 40 if available is not None else width
        max_h = available.height() - 80 if available is not None else 620
        self.resize(min(width, max_w), min(720, max_h))
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
