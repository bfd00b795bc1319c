"""Tools > Settings: the app-wide preferences and the keyboard shortcuts, in two tabs.

The dialog edits copies; Apply and OK hand them to the window's ``WindowSettings``, which
checks, stores and applies them live. A refused value or a shortcut that another action
already has is reported in one sentence and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from annotator.core.preferences import FIELDS, FILL_MOTIONS, THEMES, Preferences, SettingError
from annotator.gui.keymap import ACTIONS
from annotator.gui.settings import device_choices, method_choices
from annotator.gui.shortcuts import Shortcuts, normalise

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow

Button = QtWidgets.QDialogButtonBox.StandardButton


class SettingsDialog(QtWidgets.QDialog):
    """The settings of ``window`` (its ``settings``: a ``WindowSettings``)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Settings")
        self._window = window
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self._general_tab(), "&General")
        self.tabs.addTab(self._shortcuts_tab(), "&Shortcuts")
        self.buttons = QtWidgets.QDialogButtonBox(
            Button.Ok | Button.Cancel | Button.Apply | Button.RestoreDefaults
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(Button.Apply).clicked.connect(self.apply)
        self.buttons.button(Button.RestoreDefaults).clicked.connect(self.restore_defaults)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)
        self.show_preferences(window.settings.prefs)
        self.resize(720, 600)

    # -- general ---------------------------------------------------------------------------
    def _general_tab(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(page)
        self.device = QtWidgets.QComboBox()
        self.device.addItems(device_choices())
        self.fill_method = QtWidgets.QComboBox()
        self.fill_method.addItems(method_choices())
        self.proposal_budget = self._spin("proposal_budget", 1.0, 1)
        self.proposal_budget.setSpecialValueText("the method's own count")
        self.frame_cache = QtWidgets.QSpinBox()
        field = FIELDS["frame_cache"]
        self.frame_cache.setRange(int(field.low), int(field.high))
        self.frame_cache.setSuffix(f" {field.unit}")
        self.autosave_interval = self._spin("autosave_interval", 0.5, 1)
        self.marker_size = self._spin("marker_size", 0.5, 1)
        self.overlay_opacity = self._spin("overlay_opacity", 0.05, 2)
        self.theme = QtWidgets.QComboBox()
        self.theme.addItems(list(THEMES))
        self.fill_motion = QtWidgets.QComboBox()
        self.fill_motion.addItems(list(FILL_MOTIONS))
        self.propose_on_open = QtWidgets.QCheckBox()
        self.widgets: dict[str, QtWidgets.QWidget] = {
            "device": self.device,
            "fill_method": self.fill_method,
            "proposal_budget": self.proposal_budget,
            "frame_cache": self.frame_cache,
            "autosave_interval": self.autosave_interval,
            "marker_size": self.marker_size,
            "overlay_opacity": self.overlay_opacity,
            "theme": self.theme,
            "fill_motion": self.fill_motion,
            "propose_on_open": self.propose_on_open,
        }
        mnemonics = {
            "device": "&Device",
            "fill_method": "&Fill method",
            "proposal_budget": "Proposal &budget",
            "frame_cache": "Frame &cache",
            "autosave_interval": "A&utosave interval",
            "marker_size": "&Marker size",
            "overlay_opacity": "Overlay &opacity",
            "theme": "T&heme",
            "fill_motion": "Motion for the fi&ll",
            "propose_on_open": "&Propose frames when a video opens",
        }
        for name, widget in self.widgets.items():
            field = FIELDS[name]
            widget.setToolTip(field.tip)
            label = QtWidgets.QLabel(mnemonics.get(name, field.label))
            label.setBuddy(widget)
            form.addRow(label, widget)
        note = QtWidgets.QLabel(
            "The fill method, motion for the fill, frame cache and proposing on open apply to "
            "videos opened from now on (the Fill dock changes the open project's fill); the "
            "others apply at once."
        )
        note.setWordWrap(True)
        form.addRow(note)
        return page

    def _spin(self, name: str, step: float, decimals: int) -> QtWidgets.QDoubleSpinBox:
        field = FIELDS[name]
        spin = QtWidgets.QDoubleSpinBox()
        spin.setRange(field.low, field.high)
        spin.setSingleStep(step)
        spin.setDecimals(decimals)
        if field.unit:
            spin.setSuffix(f" {field.unit}")
        return spin

    def show_preferences(self, prefs: Preferences) -> None:
        """Put ``prefs`` in the widgets (a value not offered here shows the first choice)."""
        for combo, value in (
            (self.device, prefs.device),
            (self.fill_method, prefs.fill_method),
            (self.theme, prefs.theme),
            (self.fill_motion, prefs.fill_motion),
        ):
            index = combo.findText(value)
            combo.setCurrentIndex(max(0, index))
        self.proposal_budget.setValue(prefs.proposal_budget)
        self.frame_cache.setValue(prefs.frame_cache)
        self.autosave_interval.setValue(prefs.autosave_interval)
        self.marker_size.setValue(prefs.marker_size)
        self.overlay_opacity.setValue(prefs.overlay_opacity)
        self.propose_on_open.setChecked(prefs.propose_on_open)

    def preferences(self) -> Preferences:
        """The preferences the widgets show."""
        return Preferences(
            device=self.device.currentText(),
            fill_method=self.fill_method.currentText(),
            proposal_budget=self.proposal_budget.value(),
            frame_cache=self.frame_cache.value(),
            autosave_interval=self.autosave_interval.value(),
            marker_size=self.marker_size.value(),
            overlay_opacity=self.overlay_opacity.value(),
            theme=self.theme.currentText(),
            fill_motion=self.fill_motion.currentText(),
            propose_on_open=self.propose_on_open.isChecked(),
        )

    # -- shortcuts -------------------------------------------------------------------------
    def _shortcuts_tab(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(page)
        self.keys = Shortcuts(self._window.settings.shortcuts.as_dict())
        table = QtWidgets.QTableWidget(len(ACTIONS), 3)
        table.setHorizontalHeaderLabels(["Menu", "Action", "Keys"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        for row, spec in enumerate(ACTIONS):
            for col, text in enumerate((spec.menu, spec.text.replace("&", ""), "")):
                table.setItem(row, col, QtWidgets.QTableWidgetItem(text))
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().lineSpacing() + 8)
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        self.table = table
        layout.addWidget(table, 1)
        bar = QtWidgets.QHBoxLayout()
        self.key_edit = QtWidgets.QKeySequenceEdit()
        self.key_edit.setMaximumSequenceLength(1)
        self.key_edit.setToolTip("press the new key combination here")
        key_label = QtWidgets.QLabel("&New key:")
        key_label.setBuddy(self.key_edit)
        bar.addWidget(key_label)
        bar.addWidget(self.key_edit, 1)
        for text, slot in (
            ("Se&t", lambda: self.assign(replace=True)),
            ("&Add", lambda: self.assign(replace=False)),
            ("&Clear", self.clear_keys),
            ("&Reset", self.reset_keys),
        ):
            button = QtWidgets.QPushButton(text)
            button.setAutoDefault(False)
            button.clicked.connect(slot)
            bar.addWidget(button)
        layout.addLayout(bar)
        self._show_keys()
        table.selectRow(0)
        return page

    def _show_keys(self) -> None:
        for row, spec in enumerate(ACTIONS):
            item = self.table.item(row, 2)
            assert item is not None
            item.setText(", ".join(self.keys.keys(spec.id)))

    def select(self, action_id: str) -> None:
        ids = [spec.id for spec in ACTIONS]
        self.table.selectRow(ids.index(action_id))

    def selected(self) -> str | None:
        row = self.table.currentRow()
        return ACTIONS[row].id if 0 <= row < len(ACTIONS) else None

    def _refuse(self, err: SettingError) -> None:
        self._window.reporter.error(str(err), "Shortcut refused")

    def assign(self, replace: bool) -> bool:
        """Give the selected action the recorded key (instead of, or besides, its keys)."""
        action_id = self.selected()
        text = self.key_edit.keySequence().toString(QtGui.QKeySequence.SequenceFormat.PortableText)
        if action_id is None:
            return False
        try:
            key = normalise(text)
            keys = (key,) if replace else (*self.keys.keys(action_id), key)
            self.keys.set(action_id, keys)
        except SettingError as err:
            self._refuse(err)
            return False
        self.key_edit.clear()
        self._show_keys()
        return True

    def clear_keys(self) -> None:
        action_id = self.selected()
        if action_id is not None:
            self.keys.set(action_id, ())
            self._show_keys()

    def reset_keys(self) -> None:
        action_id = self.selected()
        if action_id is None:
            return
        try:
            self.keys.reset(action_id)
        except SettingError as err:
            self._refuse(err)
        self._show_keys()

    # -- buttons ---------------------------------------------------------------------------
    def restore_defaults(self) -> None:
        """Every setting and shortcut back to its default (applied with Apply or OK)."""
        self.show_preferences(Preferences())
        self.keys = Shortcuts()
        self._show_keys()

    def apply(self) -> bool:
        """Hand the shown settings to the window; False (and a message) when refused."""
        choices: dict[str, Sequence[str]] = {
            "device": device_choices(),
            "fill_method": method_choices(),
        }
        try:
            self._window.settings.update(self.preferences(), choices)
            self._window.settings.update_shortcuts(Shortcuts(self.keys.as_dict()))
        except SettingError as err:
            self._window.reporter.error(str(err), "Setting refused")
            return False
        return True

    def accept(self) -> None:
        if self.apply():
            super().accept()


def open_settings(window: MainWindow, tab: int = 0) -> SettingsDialog:
    """Show the dialog (non-blocking) on ``tab``."""
    dialog = SettingsDialog(window)
    dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.tabs.setCurrentIndex(tab)
    dialog.open()
    return dialog
