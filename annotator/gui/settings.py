"""The app-wide settings of a window: stored with ``QSettings``, applied live.

``WindowSettings`` loads the preferences (``core/preferences.py``) and the shortcuts
(``shortcuts.py``) from ``settings.ini`` in the per-user data folder (``ANNOTATOR_DATA_HOME``
moves it, as the tests do), tells the user about stored values it refused, and applies them to
the window: theme, marker size and opacity at once, the autosave interval to the open
project's journal, the rest where it is used (the fill method and frame cache when a video
opens, the device and budget when frames are proposed).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from annotator.core import preferences as prefs_mod
from annotator.core.paths import data_dir
from annotator.core.preferences import FIELDS, Preferences, SettingError
from annotator.gui import shortcuts as keys_mod
from annotator.gui import theme
from annotator.gui.keymap import TOOLBAR, by_id
from annotator.gui.shortcuts import Shortcuts

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow
    from annotator.gui.session import Session

log = logging.getLogger(__name__)

FILE = "settings.ini"
GROUP = "app"


def store() -> QtCore.QSettings:
    """The app-wide settings file (all projects share it); ``SettingError`` when the per-user
    data folder cannot be made."""
    try:
        folder = data_dir()
    except OSError as err:
        raise SettingError(f"the settings folder cannot be made: {err}") from None
    return QtCore.QSettings(str(folder / FILE), QtCore.QSettings.Format.IniFormat)


def device_choices() -> list[str]:
    """auto, cpu, and cuda only where torch reports a CUDA device."""
    choices = [prefs_mod.AUTO, "cpu"]
    try:
        import torch

        if torch.cuda.is_available():
            choices.append("cuda")
    except ImportError:  # no torch: proposals fall back to what needs none
        pass
    return choices


def method_choices() -> list[str]:
    from annotator.gui.session import available_methods

    return [prefs_mod.AUTO, *available_methods()]


def known_methods() -> list[str]:
    """Every fill method's name, whether or not it can be built here (no model is loaded): a
    stored name outside these is a typo or a removed method, refused when the settings load;
    a known one whose model is missing falls back when a video opens."""
    from annotator.dynamics.fill import METHODS
    from annotator.propagation import FILL_METHODS

    return [prefs_mod.AUTO, *METHODS, *FILL_METHODS]


def load_preferences(settings: QtCore.QSettings) -> tuple[Preferences, list[str]]:
    settings.beginGroup(GROUP)
    try:
        raw = {name: settings.value(name) for name in FIELDS if settings.contains(name)}
    finally:
        settings.endGroup()
    return prefs_mod.from_mapping(raw, {"fill_method": known_methods()})


def save_preferences(settings: QtCore.QSettings, prefs: Preferences) -> None:
    settings.beginGroup(GROUP)
    try:
        for name, value in prefs_mod.to_mapping(prefs).items():
            settings.setValue(name, value)
    finally:
        settings.endGroup()


def _sync(settings: QtCore.QSettings) -> None:
    """Write now (Qt replaces the file atomically); ``SettingError`` when it cannot."""
    settings.sync()
    if settings.status() != QtCore.QSettings.Status.NoError:
        raise SettingError(f"the settings cannot be saved to {settings.fileName()}")


class WindowSettings(QtCore.QObject):
    """The window's preferences and shortcuts; ``update`` validates, stores and applies."""

    changed = QtCore.Signal(object)  # the new Preferences

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._said_no_cuda = False
        try:
            qs = store()
            self.prefs, problems = load_preferences(qs)
            self.shortcuts, key_problems = keys_mod.load(qs)
            problems += key_problems
            where = qs.fileName()
        except SettingError as err:
            self.prefs, self.shortcuts = Preferences(), Shortcuts()
            problems, where = [str(err)], "defaults used"
        if problems:
            window.reporter.error(
                f"Some stored settings were refused ({where}): " + "; ".join(problems)
            )
        keys_mod.apply(window.actions_by_id, self.shortcuts)
        self._apply(self.prefs, None)
        window.session_changed.connect(self._on_session)
        hints = QtWidgets.QApplication.styleHints()
        if hints is not None:
            hints.colorSchemeChanged.connect(self._on_system_scheme)

    # -- changes from the dialog -----------------------------------------------------------
    def update(self, prefs: Preferences, choices: dict[str, Sequence[str]] | None = None) -> None:
        """Check ``prefs`` (``SettingError`` names the first bad value; nothing changes then),
        store them and apply them to the window."""
        checked = prefs_mod.validated(prefs, choices)
        qs = store()
        save_preferences(qs, checked)
        _sync(qs)
        old, self.prefs = self.prefs, checked
        self._apply(checked, old)
        self.changed.emit(checked)

    def update_shortcuts(self, shortcuts: Shortcuts) -> None:
        qs = store()
        keys_mod.save(qs, shortcuts)
        _sync(qs)
        self.shortcuts = shortcuts
        keys_mod.apply(self._window.actions_by_id, shortcuts)
        refresh = getattr(self._window, "refresh_key_hints", None)
        if refresh is not None:
            refresh()

    def key_hint(self, action_id: str) -> str:
        """`` (KEY)``: the first key the user bound to ``action_id``, for a tip or message
        that names it (written out, it went stale once the key was rebound); "" unbound."""
        keys = self.shortcuts.keys(action_id)
        return f" ({keys[0]})" if keys else ""

    # -- what the window and its helpers ask -----------------------------------------------
    def fill_method(self) -> str | None:
        """The method a new project starts with (None: the app's choice for the video)."""
        method = self.prefs.fill_method
        return None if method == prefs_mod.AUTO else method

    def device(self) -> str | None:
        """Where the proposals run: None for the app's choice (cuda when present). A stored
        cuda on a machine without CUDA (settings shared with a GPU machine) runs on the CPU,
        said once on the status bar (it failed every proposal run, on open too)."""
        device = self.prefs.device
        if device == prefs_mod.AUTO:
            return None
        if device.startswith("cuda") and "cuda" not in device_choices():
            if not self._said_no_cuda:
                self._said_no_cuda = True
                self._window.statusBar().showMessage(
                    "Settings > Device is cuda, but this machine has no CUDA GPU: the "
                    "proposals run on the CPU",
                    8000,
                )
            return "cpu"
        return device

    # -- applying --------------------------------------------------------------------------
    def _apply(self, new: Preferences, old: Preferences | None) -> None:
        if old is None or new.theme != old.theme:
            self._apply_theme()
        self._apply_overlay()
        session = self._window.session
        if session is not None:
            self._apply_journal(session)

    def _apply_theme(self) -> None:
        app = QtWidgets.QApplication.instance()
        if not isinstance(app, QtWidgets.QApplication):
            return
        scheme = theme.apply(app, self.prefs.theme)
        window = self._window
        text, dim = theme.text_colors(scheme)
        window.joint_list.set_text_colors(text, dim)
        window.legend.set_neutral(text)
        for action_id in TOOLBAR:
            if action_id != "|":
                window.actions_by_id[action_id].setIcon(theme.icon(by_id(action_id).icon, scheme))

    def _on_system_scheme(self, _scheme: object) -> None:
        # The theme is the whole application's: follow the stored choice (another window,
        # closed or not, may have changed it since this one read it).
        stored, _problems = load_preferences(store())
        if stored.theme != self.prefs.theme:
            self.prefs = dataclasses.replace(self.prefs, theme=stored.theme)
        if self.prefs.theme == "system":
            self._apply_theme()

    def _apply_overlay(self) -> None:
        overlay = self._window.frame_view.overlay
        if overlay is not None:
            overlay.set_marker_style(self.prefs.marker_size, self.prefs.overlay_opacity)

    def _apply_journal(self, session: Session) -> None:
        if session.journal is not None:
            session.journal.fsync_interval = self.prefs.autosave_interval

    def _on_session(self, session: Session) -> None:
        self._apply_overlay()  # each project draws on a new overlay
        self._apply_journal(session)
