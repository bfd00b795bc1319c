"""Every action has a handler, no shortcut is bound twice, and docs/gui.md lists the keymap."""

from __future__ import annotations

import re
from pathlib import Path

from annotator.gui import window_actions
from annotator.gui.keymap import ACTIONS, shortcuts_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "gui.md"


def test_every_action_has_exactly_one_handler_in_the_table() -> None:
    ids = [s.id for s in ACTIONS]
    assert sorted(window_actions.HANDLERS) == sorted(ids)  # none missing, none left over
    assert all(callable(h) for h in window_actions.HANDLERS.values())


def test_no_key_is_bound_twice() -> None:
    keys = [k.lower() for s in ACTIONS for k in s.keys]
    assert len(keys) == len(set(keys))


def test_docs_list_the_shortcuts() -> None:
    assert shortcuts_markdown() in DOC.read_text(encoding="utf-8")


def test_shortcuts_dialog_lists_every_key(qtbot) -> None:
    from annotator.gui.dialogs import ShortcutsDialog

    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    table = dialog.findChild(__import__("PySide6.QtWidgets").QtWidgets.QTableWidget)
    texts = {table.item(r, 2).text() for r in range(table.rowCount())}
    for spec in ACTIONS:
        if spec.keys:
            assert ", ".join(spec.keys) in texts


def test_toolbar_actions_have_icons() -> None:
    from annotator.gui import theme
    from annotator.gui.keymap import TOOLBAR, by_id

    for action_id in TOOLBAR:
        if action_id != "|":
            assert not theme.icon(by_id(action_id).icon).isNull(), action_id


def test_no_two_items_of_a_menu_share_a_letter(window) -> None:  # type: ignore[no-untyped-def]
    """Alt, the menu's letter, then an item's letter runs the item; two items with one
    letter only highlight each other in turn."""
    for top in window.menuBar().actions():
        menu = top.menu()
        letters = [
            found.group(1).lower()
            for action in menu.actions()
            if (found := re.search(r"&(\w)", action.text()))
        ]
        assert len(letters) == len(set(letters)), (top.text(), letters)
