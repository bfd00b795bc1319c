"""Keys typed in the main window's text fields (the frame box, the docks' name and number
fields): the window's own keys must not act while the user types there.

- ``Esc`` abandons the edit (a number box shows its value again) and gives the keys back to
  the frame; it does not reach the window's ``Esc``, which cancels background work (typing a
  frame number and thinking better of it cancelled the motion fields and proposals on open).
- ``Tab`` / ``Shift+Tab`` move the focus as in any form (the frame box goes to the number
  typed); they do not switch to another person, silently.
- ``Enter``, once the field has taken it, gives the keys back to the frame, as the frame box
  does: ``D`` after naming the reviewer typed "d" into the name, which was saved so.

One application event filter (``install``) serves every such field of the window, the docks'
included, so a field added later behaves alike without wiring of its own.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

FIELDS = (QtWidgets.QLineEdit, QtWidgets.QAbstractSpinBox)
_KEYS = (QtCore.Qt.Key.Key_Escape, QtCore.Qt.Key.Key_Tab, QtCore.Qt.Key.Key_Backtab)
_ENTER = (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter)


class TextFieldKeys(QtCore.QObject):
    """See the module docstring; ``frame`` is the widget the keys go back to."""

    def __init__(self, window: QtWidgets.QWidget, frame: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.frame = frame

    def _field(self, watched: QtCore.QObject) -> QtWidgets.QWidget | None:
        """The text field ``watched`` is (a number box for its inner line), in this window."""
        parent = watched.parent()
        if isinstance(watched, QtWidgets.QLineEdit) and isinstance(
            parent, QtWidgets.QAbstractSpinBox
        ):
            watched = parent
        if not isinstance(watched, FIELDS) or watched.window() is not self.window:
            return None
        return watched

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind not in (QtCore.QEvent.Type.ShortcutOverride, QtCore.QEvent.Type.KeyPress):
            return False
        assert isinstance(event, QtGui.QKeyEvent)
        key = event.key()
        if key not in _KEYS and key not in _ENTER:
            return False
        field = self._field(watched)
        if field is None:
            return False
        if kind == QtCore.QEvent.Type.ShortcutOverride:
            if key in _KEYS:
                event.accept()  # the field's key, not the window's shortcut
            return False
        if key == QtCore.Qt.Key.Key_Escape:
            if isinstance(field, QtWidgets.QAbstractSpinBox):
                field.setProperty("value", field.property("value"))  # its value shown again
            self.frame.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
            return True
        if key in _ENTER:
            QtCore.QTimer.singleShot(0, self._back_to_frame)
        return False

    def _back_to_frame(self) -> None:
        focus = QtWidgets.QApplication.focusWidget()
        if focus is not None and self._field(focus) is not None:
            self.frame.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)


def install(window: QtWidgets.QWidget, frame: QtWidgets.QWidget) -> TextFieldKeys:
    """Watch the keys typed in ``window``'s text fields (see the module docstring)."""
    keys = TextFieldKeys(window, frame)
    app = QtWidgets.QApplication.instance()
    assert app is not None
    app.installEventFilter(keys)
    return keys
