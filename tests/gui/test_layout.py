"""At 1280x800 nothing the user needs is clipped: every joint of a 17-joint skeleton in the
joint list with its full name, the fill line, the whole shortcut sheet's width."""

from __future__ import annotations

from PySide6 import QtWidgets

from annotator.core.skeleton import BUILTIN
from annotator.gui.dialogs import ShortcutsDialog
from tests.gui.conftest import open_and_wait


def test_joint_list_and_fill_line_fit_at_1280x800(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    window.reporter.skeleton = BUILTIN["coco"]
    window.resize(1280, 800)
    open_and_wait(qtbot, window, figure_video[0])
    QtWidgets.QApplication.processEvents()
    joints = window.joint_list
    viewport = joints.viewport().rect()
    metrics = joints.fontMetrics()
    for j, name in enumerate(BUILTIN["coco"].joints):
        item = joints.topLevelItem(j)
        rect = joints.visualItemRect(item)
        assert viewport.contains(rect), f"row {name} is cut off"
        text_room = joints.columnWidth(0) - joints.iconSize().width() - 12
        assert metrics.horizontalAdvance(name) <= text_room, f"{name} is elided"
    area = window.legend_dock.widget()  # the legend whole, not scrolled, at this size
    assert not area.horizontalScrollBar().isVisible() and not area.verticalScrollBar().isVisible()
    info = window.fill_panel.info
    info.setText("2 labelled frames; 159 filled live (hpim); 79 held (no label on one side)")
    QtWidgets.QApplication.processEvents()
    assert info.height() >= info.heightForWidth(info.width())
    assert info.visibleRegion().boundingRect().height() >= info.heightForWidth(info.width())


def test_shortcut_sheet_shows_every_column(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    table = dialog.findChild(QtWidgets.QTableWidget)
    assert table.horizontalHeader().length() <= table.viewport().width()
    assert dialog.height() <= 800 and dialog.width() <= 1280
    keys = table.columnCount() - 1
    widest = max(
        table.fontMetrics().horizontalAdvance(table.item(r, keys).text())
        for r in range(table.rowCount())
    )
    assert table.columnWidth(keys) >= widest
    dialog.close()


def test_a_narrow_window_keeps_whom_the_clicks_label(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    """With two people and Review mode open the window still fits half of a 1920 px screen
    (the legend scrolls instead of setting the width), and at 960 px the people bar still
    names the active person."""
    open_and_wait(qtbot, window, figure_video[0])
    window.actions_by_id["add_person"].trigger()
    window.actions_by_id["review_mode"].trigger()
    window.resize(960, 600)
    QtWidgets.QApplication.processEvents()
    assert window.minimumSizeHint().width() <= 960
    assert window.width() == 960
    combo = window.people_bar.combo
    shown = combo.width() - 12 - 40  # less the colour icon, the arrow and margins
    assert combo.currentText().startswith("person #1")
    assert combo.fontMetrics().horizontalAdvance("person #1") <= shown
