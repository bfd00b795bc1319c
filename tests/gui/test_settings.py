"""Tools > Settings: preferences and shortcuts, both directions, stored app-wide, applied live.

Every test has its own settings file: ``ANNOTATOR_DATA_HOME`` is a fresh folder per test
(tests/conftest.py), and ``settings.store()`` lives there.
"""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from annotator.gui import settings as settings_mod
from annotator.gui import theme
from annotator.gui.keymap import ACTIONS
from annotator.gui.settings_dialog import SettingsDialog
from tests.gui.conftest import open_and_wait

Button = QtWidgets.QDialogButtonBox.StandardButton


def _dialog(qtbot, window) -> SettingsDialog:
    """The dialog as the user opens it: the Settings action (Tools menu, Ctrl+,)."""
    window.actions_by_id["settings"].trigger()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def _click(qtbot, dialog: SettingsDialog, which: Button) -> None:
    qtbot.mouseClick(dialog.buttons.button(which), QtCore.Qt.MouseButton.LeftButton)


def _stored(name: str) -> object:
    return settings_mod.store().value(f"{settings_mod.GROUP}/{name}")


def _new_window(qtbot):
    from annotator.gui.app import make_window

    win = make_window(headless=True)
    win.extract_motion_on_open = False
    qtbot.addWidget(win)
    return win


def test_settings_action_is_in_tools_with_ctrl_comma(window) -> None:
    action = window.actions_by_id["settings"]
    assert action.shortcut() == QtGui.QKeySequence("Ctrl+,")
    tools = [m for m in window.menuBar().findChildren(QtWidgets.QMenu) if m.title() == "&Tools"]
    assert action in tools[0].actions()


def test_dialog_changes_apply_live_and_persist(qtbot, window, figure_video) -> None:
    open_and_wait(qtbot, window, figure_video[0])
    overlay, journal = window.frame_view.overlay, window.session.journal
    assert overlay.marker_radius == theme.JOINT_RADIUS and journal.fsync_interval == 0.5
    dialog = _dialog(qtbot, window)
    dialog.marker_size.setValue(9.0)
    dialog.overlay_opacity.setValue(0.5)
    dialog.autosave_interval.setValue(2.0)
    dialog.theme.setCurrentText("light")
    painted = overlay.paint_count
    _click(qtbot, dialog, Button.Apply)
    # The window, at once: markers redrawn at the new size, the journal's interval, the theme.
    assert overlay.marker_radius == 9.0 and overlay.opacity() == pytest.approx(0.5)
    qtbot.waitUntil(lambda: overlay.paint_count > painted)
    assert journal.fsync_interval == 2.0
    app = QtWidgets.QApplication.instance()
    assert app.palette().color(QtGui.QPalette.ColorRole.Window) == theme.LIGHT_WINDOW_BG
    assert "#f3f4f6" in app.styleSheet()
    # Stored app-wide, and a new window (a restart) starts with them.
    assert float(_stored("marker_size")) == 9.0 and _stored("theme") == "light"
    _click(qtbot, dialog, Button.Ok)
    assert not dialog.isVisible()
    again = _new_window(qtbot)
    assert again.settings.prefs.marker_size == 9.0
    assert again.settings.prefs.autosave_interval == 2.0
    again.close()
    theme.apply(app, "dark")


def test_stored_settings_show_in_the_dialog_and_the_window(qtbot, figure_video) -> None:
    stored = settings_mod.store()
    for name, value in (
        ("marker_size", 12.5),
        ("overlay_opacity", 0.4),
        ("frame_cache", 200),
        ("proposal_budget", 25.0),
        ("fill_method", "linear"),
        ("theme", "dark"),
    ):
        stored.setValue(f"{settings_mod.GROUP}/{name}", value)
    stored.sync()
    win = _new_window(qtbot)
    win.show()
    dialog = _dialog(qtbot, win)
    assert dialog.marker_size.value() == 12.5
    assert dialog.overlay_opacity.value() == pytest.approx(0.4)
    assert dialog.frame_cache.value() == 200
    assert dialog.proposal_budget.value() == 25.0
    assert dialog.fill_method.currentText() == "linear"
    assert dialog.theme.currentText() == "dark"
    dialog.reject()
    # Where they are used: a new video opens with the fill, the cache size and the markers.
    open_and_wait(qtbot, win, figure_video[0])
    assert win.session.method == "linear"
    assert win.session.reader._cache.capacity == 200
    assert win.frame_view.overlay.marker_radius == 12.5
    # The propose dialog offers a quarter of the 40 frames.
    win.reporter.item = "uniform"
    win.actions_by_id["propose"].trigger()
    qtbot.waitUntil(lambda: len(win.session.proposed) > 0, timeout=30000)
    assert len(win.session.proposed) == 10
    win.session.history.set_clean()
    win.close()


def test_bad_stored_values_are_refused_with_a_message(qtbot) -> None:
    stored = settings_mod.store()
    stored.setValue(f"{settings_mod.GROUP}/marker_size", "huge")
    stored.setValue(f"{settings_mod.GROUP}/theme", "purple")
    stored.setValue(f"{settings_mod.GROUP}/fill_method", "hpim+mvv")  # a typo
    stored.setValue("shortcuts/save", '["Ctrl+O"]')  # Open Video's key
    stored.sync()
    win = _new_window(qtbot)
    (message,) = win.reporter.errors
    assert "Marker size" in message and "purple" in message and "Open Video" in message
    assert "'hpim+mvv' is not offered here" in message and "one of auto, linear" in message
    assert "\n" not in message
    assert win.settings.prefs.marker_size == theme.JOINT_RADIUS
    assert win.settings.prefs.fill_method == "auto" and win.settings.fill_method() is None
    assert win.actions_by_id["save"].shortcut() == QtGui.QKeySequence("Ctrl+S")
    win.close()


def test_a_setting_not_offered_here_is_refused(qtbot, window) -> None:
    dialog = _dialog(qtbot, window)
    dialog.fill_method.addItem("no-such-fill")  # as if the list were stale
    dialog.fill_method.setCurrentText("no-such-fill")
    _click(qtbot, dialog, Button.Apply)
    assert window.reporter.errors and "Fill method" in window.reporter.errors[-1]
    assert window.settings.prefs.fill_method == "auto"
    assert _stored("fill_method") is None
    dialog.reject()


def _set_key(qtbot, dialog: SettingsDialog, action_id: str, key: str, replace=True) -> None:
    dialog.tabs.setCurrentIndex(1)
    dialog.select(action_id)
    dialog.key_edit.setKeySequence(QtGui.QKeySequence(key))
    text = "Set" if replace else "Add"
    button = next(
        b for b in dialog.findChildren(QtWidgets.QPushButton) if b.text().replace("&", "") == text
    )
    qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)


def test_shortcut_edit_rebinds_the_action_and_the_help_listing(qtbot, window) -> None:
    dialog = _dialog(qtbot, window)
    _set_key(qtbot, dialog, "save", "Ctrl+Alt+S")
    _set_key(qtbot, dialog, "extract_motion", "Ctrl+M")  # had no key
    assert window.actions_by_id["save"].shortcut() == QtGui.QKeySequence("Ctrl+S")  # not yet
    _click(qtbot, dialog, Button.Ok)
    assert window.actions_by_id["save"].shortcuts() == [QtGui.QKeySequence("Ctrl+Alt+S")]
    assert window.actions_by_id["extract_motion"].shortcut() == QtGui.QKeySequence("Ctrl+M")
    assert "Ctrl+Alt+S" in window.actions_by_id["save"].toolTip()  # on the toolbar
    assert settings_mod.store().value("shortcuts/save") == '["Ctrl+Alt+S"]'
    # Help > Keyboard Shortcuts lists the user's keys.
    window.actions_by_id["shortcuts"].trigger()
    from annotator.gui.dialogs import ShortcutsDialog

    help_dialog = window.findChild(ShortcutsDialog)
    table = help_dialog.table
    rows = {table.item(r, 1).text(): table.item(r, 2).text() for r in range(table.rowCount())}
    assert rows["Save Project"] == "Ctrl+Alt+S"
    assert rows["Extract Motion Fields"] == "Ctrl+M"
    help_dialog.close()
    # A restart binds them at start.
    again = _new_window(qtbot)
    assert again.actions_by_id["save"].shortcut() == QtGui.QKeySequence("Ctrl+Alt+S")
    again.close()


def test_tips_and_hints_name_the_users_keys(qtbot, window) -> None:
    assert window.play_button.toolTip() == "play / pause (Space)"
    assert "(Ctrl+O)" in window.frame_view.hint.text()
    dialog = _dialog(qtbot, window)
    _set_key(qtbot, dialog, "play", "P")
    _set_key(qtbot, dialog, "open_video", "Ctrl+Alt+O")
    _set_key(qtbot, dialog, "add_person", "Ctrl+Alt+N")
    _click(qtbot, dialog, Button.Ok)
    assert window.play_button.toolTip() == "play / pause (P)"
    assert (
        window.frame_view.hint.text() == "Open a video or project (Ctrl+Alt+O) or drop a file here"
    )
    assert window.people_bar.add_button.toolTip() == "add a person (Ctrl+Alt+N)"
    assert window.cancel_button.toolTip() == "cancel background work (Esc)"


def test_the_new_key_works_on_the_window(qtbot, window) -> None:
    dialog = _dialog(qtbot, window)
    _set_key(qtbot, dialog, "timeline_all", "Ctrl+9")
    _click(qtbot, dialog, Button.Ok)
    fired: list[bool] = []
    window.actions_by_id["timeline_all"].setEnabled(True)
    window.actions_by_id["timeline_all"].triggered.connect(lambda *_: fired.append(True))
    window.activateWindow()
    window.frame_view.setFocus()
    qtbot.keyClick(
        window.frame_view, QtCore.Qt.Key.Key_9, QtCore.Qt.KeyboardModifier.ControlModifier
    )
    assert fired


def test_a_conflicting_shortcut_is_refused(qtbot, window) -> None:
    dialog = _dialog(qtbot, window)
    _set_key(qtbot, dialog, "save", "Ctrl+O")
    assert window.reporter.errors[-1] == (
        "File > Save Project: Ctrl+O is already the shortcut of File > Open Video"
    )
    assert dialog.keys.keys("save") == ("Ctrl+S",)
    assert dialog.table.item(dialog.table.currentRow(), 2).text() == "Ctrl+S"
    _click(qtbot, dialog, Button.Ok)
    assert window.actions_by_id["save"].shortcut() == QtGui.QKeySequence("Ctrl+S")
    assert window.actions_by_id["open_video"].shortcut() == QtGui.QKeySequence("Ctrl+O")


def test_a_key_moved_to_an_action_listed_before_its_old_one_is_kept(qtbot, window) -> None:
    """K cleared on Review > Next Frame to Review, then set on Navigate > Play / Pause: OK
    takes it, and a restart keeps it (both refused it: the changes were taken one by one
    onto the defaults, and Play came first, while K was still the other one's)."""
    dialog = _dialog(qtbot, window)
    dialog.tabs.setCurrentIndex(1)
    dialog.select("review_next")
    dialog.clear_keys()
    _set_key(qtbot, dialog, "play", "K")
    assert window.reporter.errors == []
    _click(qtbot, dialog, Button.Ok)
    assert window.reporter.errors == []
    assert window.actions_by_id["play"].shortcuts() == [QtGui.QKeySequence("K")]
    assert window.actions_by_id["review_next"].shortcuts() == []
    again = _new_window(qtbot)
    assert again.actions_by_id["play"].shortcuts() == [QtGui.QKeySequence("K")]
    assert again.actions_by_id["review_next"].shortcuts() == []
    again.close()


def test_reset_brings_back_the_default(qtbot, window) -> None:
    dialog = _dialog(qtbot, window)
    _set_key(qtbot, dialog, "redo", "Ctrl+Alt+R")
    assert dialog.keys.keys("redo") == ("Ctrl+Alt+R",)
    reset = next(b for b in dialog.findChildren(QtWidgets.QPushButton) if b.text() == "&Reset")
    qtbot.mouseClick(reset, QtCore.Qt.MouseButton.LeftButton)
    assert dialog.keys.keys("redo") == ("Ctrl+Shift+Z", "Ctrl+Y")
    _set_key(qtbot, dialog, "redo", "Ctrl+Alt+R")
    _click(qtbot, dialog, Button.Apply)
    assert settings_mod.store().value("shortcuts/redo") == '["Ctrl+Alt+R"]'
    _click(qtbot, dialog, Button.RestoreDefaults)
    _click(qtbot, dialog, Button.Ok)
    assert window.actions_by_id["redo"].shortcuts() == [
        QtGui.QKeySequence("Ctrl+Shift+Z"),
        QtGui.QKeySequence("Ctrl+Y"),
    ]
    assert settings_mod.store().value("shortcuts/redo") is None  # only changes are stored


def test_every_action_is_reachable_by_keyboard(window) -> None:
    """Each action is in a menu of the menu bar (whose title has a mnemonic) or has a key."""
    bar_menus = [a.menu() for a in window.menuBar().actions() if a.menu() is not None]
    titles = [m.title() for m in bar_menus]
    assert all("&" in t for t in titles), titles
    mnemonics = [t[t.index("&") + 1].lower() for t in titles]
    assert len(mnemonics) == len(set(mnemonics)), titles
    in_menu = {id(a) for m in bar_menus for a in m.actions()}
    for spec in ACTIONS:
        action = window.actions_by_id[spec.id]
        assert id(action) in in_menu or not action.shortcut().isEmpty(), spec.id


def test_theme_switch_changes_the_palette(qtbot, window) -> None:
    app = QtWidgets.QApplication.instance()
    window_bg = QtGui.QPalette.ColorRole.Window
    dialog = _dialog(qtbot, window)
    dialog.theme.setCurrentText("light")
    _click(qtbot, dialog, Button.Apply)
    assert app.palette().color(window_bg) == theme.LIGHT_WINDOW_BG
    assert window.joint_list._text.color() == theme.LIGHT_TEXT
    assert _ink(window.actions_by_id["save"].icon()) < 80  # dark icons on the light toolbar
    dialog.theme.setCurrentText("dark")
    _click(qtbot, dialog, Button.Ok)
    assert app.palette().color(window_bg) == theme.WINDOW_BG
    assert window.joint_list._text.color() == theme.TEXT
    assert _ink(window.actions_by_id["save"].icon()) > 180


def _ink(icon: QtGui.QIcon) -> int:
    """The lightness of an icon's most opaque pixel (its drawing colour)."""
    image = icon.pixmap(20, 20).toImage()
    pixels = [image.pixelColor(x, y) for x in range(20) for y in range(20)]
    return max(pixels, key=lambda c: c.alpha()).lightness()


def test_system_theme_follows_the_desktop(qtbot, window, monkeypatch) -> None:
    """With "system" (the default) a change of the desktop's scheme restyles the app."""
    app = QtWidgets.QApplication.instance()
    window_bg = QtGui.QPalette.ColorRole.Window
    assert window.settings.prefs.theme == "system"
    monkeypatch.setattr(theme, "system_scheme", lambda: "light")
    app.styleHints().colorSchemeChanged.emit(QtCore.Qt.ColorScheme.Light)
    assert app.palette().color(window_bg) == theme.LIGHT_WINDOW_BG
    # A manual choice overrides the system's.
    dialog = _dialog(qtbot, window)
    dialog.theme.setCurrentText("dark")
    _click(qtbot, dialog, Button.Ok)
    app.styleHints().colorSchemeChanged.emit(QtCore.Qt.ColorScheme.Light)
    assert app.palette().color(window_bg) == theme.WINDOW_BG


def test_proposals_run_on_the_chosen_device(qtbot, window, figure_video, monkeypatch) -> None:
    from annotator.proposal import registry

    asked: list[object] = []
    real = registry.propose

    def recording(video, method, budget, device, *args, **kwargs):
        asked.append(device)
        return real(video, method, budget, "cpu" if device is None else device, *args, **kwargs)

    monkeypatch.setattr(registry, "propose", recording)
    open_and_wait(qtbot, window, figure_video[0])
    window.reporter.item = "uniform"
    window.actions_by_id["propose"].trigger()
    qtbot.waitUntil(lambda: len(window.session.proposed) > 0, timeout=30000)
    dialog = _dialog(qtbot, window)
    offered = [dialog.device.itemText(i) for i in range(dialog.device.count())]
    assert offered[:2] == ["auto", "cpu"] and ("cuda" in offered) == _cuda()
    dialog.device.setCurrentText("cpu")
    _click(qtbot, dialog, Button.Ok)
    window.actions_by_id["propose"].trigger()
    # the second run waits for the app's own background work: give a loaded machine time
    qtbot.waitUntil(lambda: len(asked) == 2 and not window.tasks.running, timeout=120_000)
    assert asked == [None, "cpu"]  # auto lets the proposer pick (cuda when present)


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def test_settings_that_cannot_be_saved_say_so(qtbot, window) -> None:
    path = settings_mod.store().fileName()
    QtCore.QDir().mkpath(path)  # a folder where the file should be: it cannot be written
    dialog = _dialog(qtbot, window)
    dialog.marker_size.setValue(11.0)
    _click(qtbot, dialog, Button.Apply)
    assert "cannot be saved" in window.reporter.errors[-1]
    assert window.settings.prefs.marker_size == theme.JOINT_RADIUS  # nothing half-applied
    dialog.reject()


def test_the_joint_menu_shows_the_users_keys(qtbot, window, figure_video) -> None:
    from annotator.core.codes import Visibility
    from tests.gui.conftest import click_image

    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    dialog = _dialog(qtbot, window)
    _set_key(qtbot, dialog, "mark_absent", "Ctrl+Shift+X")
    _set_key(qtbot, dialog, "toggle_occluded", "F7")
    _click(qtbot, dialog, Button.Ok)
    session = window.session
    click_image(window, *truth[0, 0])  # the head placed
    click_image(window, *truth[0, 0], button=QtCore.Qt.MouseButton.RightButton)
    texts = [a.text() for a in window.context_menu.actions()]
    assert "Mark Absent\tCtrl+Shift+X" in texts and "Toggle Visible / Occluded\tF7" in texts
    assert not any(t.startswith("Mark Absent\tX") for t in texts)  # not the default
    assert "Delete Label\tDelete" in texts  # unchanged keys as the keymap writes them
    absent = next(a for a in window.context_menu.actions() if a.text().startswith("Mark Absent"))
    absent.trigger()
    window.context_menu.close()
    assert session.doc.label(0, 0, 0)[2] == Visibility.ABSENT


def test_stored_shortcuts_that_cannot_be_used_are_named_and_the_rest_kept() -> None:
    from annotator.gui import shortcuts as shortcuts_mod

    store = settings_mod.store()
    store.setValue("shortcuts/save", "[oops")  # not JSON: it said only "Expecting value..."
    store.setValue("shortcuts/review_next", "[]")
    store.setValue("shortcuts/play", '["K"]')  # K moved from review_next: no conflict
    store.setValue("shortcuts/fit", '["Ctrl+O"]')  # Open Video's: refused
    keys, problems = shortcuts_mod.load(store)
    assert keys.keys("play") == ("K",) and keys.keys("review_next") == ()
    assert keys.keys("save") == ("Ctrl+S",) and keys.keys("fit") == ("F",)
    assert problems == [
        "shortcut of 'save' is not a list of keys; keeping the default",
        "View > Fit Frame to Window: Ctrl+O is already the shortcut of File > Open Video; "
        "keeping the default",
    ]


def test_a_stored_cuda_device_runs_on_the_cpu_where_there_is_none(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Settings shared with a GPU machine: cuda stored, none here. The proposals run on the
    CPU, said once (every run failed with 'cuda was asked for', on open too)."""
    import dataclasses

    monkeypatch.setattr(settings_mod, "device_choices", lambda: ["auto", "cpu"])
    window.settings.prefs = dataclasses.replace(window.settings.prefs, device="cuda")
    assert window.settings.device() == "cpu"
    assert "no CUDA GPU" in window.statusBar().currentMessage()
    window.statusBar().clearMessage()
    assert window.settings.device() == "cpu"
    assert window.statusBar().currentMessage() == ""  # once
    monkeypatch.setattr(settings_mod, "device_choices", lambda: ["auto", "cpu", "cuda"])
    assert window.settings.device() == "cuda"
