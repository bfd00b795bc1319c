"""The review dock's widget: the queue of frames to review, with the reason for each.

It shows what it is handed (``set_items``, ``set_current``) and turns clicks into requests
(``go_to``, ``step``, ``mark``); the controller (``review.py``) owns the logic. The reviewer's
name and the uncertainty threshold are edited here and read by the controller.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtWidgets

from annotator.gui import theme
from annotator.gui.review_state import DEFAULT_THRESHOLD_PX, ReviewItem

FRAME_ROLE = QtCore.Qt.ItemDataRole.UserRole


class ReviewPanel(QtWidgets.QWidget):
    """Review mode's dock; see the module docstring."""

    go_to = QtCore.Signal(int)  # a row was clicked: its frame
    step = QtCore.Signal(bool)  # next (True) / previous (False) item
    mark = QtCore.Signal()  # mark the current frame reviewed
    threshold_changed = QtCore.Signal(float)

    def __init__(self, reviewer: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.reason = QtWidgets.QLabel("")
        self.reason.setWordWrap(True)
        self.reason.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        layout.addWidget(self.reason)
        self.list = QtWidgets.QListWidget()
        self.list.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # keys stay with the frame
        self.list.setWordWrap(True)  # reasons are sentences: wrap them, never scroll sideways
        self.list.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemClicked.connect(lambda item: self.go_to.emit(int(item.data(FRAME_ROLE))))
        layout.addWidget(self.list, 1)
        buttons = QtWidgets.QHBoxLayout()
        self.prev_button = QtWidgets.QPushButton("◀ Previous")
        self.next_button = QtWidgets.QPushButton("Next ▶")
        self.mark_button = QtWidgets.QPushButton("Mark Reviewed")
        for button in (self.prev_button, self.next_button, self.mark_button):
            button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
            buttons.addWidget(button)
        self.prev_button.clicked.connect(lambda: self.step.emit(False))
        self.next_button.clicked.connect(lambda: self.step.emit(True))
        self.mark_button.clicked.connect(self.mark.emit)
        layout.addLayout(buttons)
        form = QtWidgets.QFormLayout()
        self.reviewer = QtWidgets.QLineEdit(reviewer)
        self.reviewer.setToolTip("recorded with each frame marked reviewed")
        form.addRow("Reviewer", self.reviewer)
        self.threshold = QtWidgets.QDoubleSpinBox()
        self.threshold.setRange(0.5, 1000.0)
        self.threshold.setDecimals(1)
        self.threshold.setSuffix(" px")
        self.threshold.setValue(DEFAULT_THRESHOLD_PX)
        self.threshold.setToolTip(
            "a filled frame is uncertain when a joint's standard deviation exceeds this"
        )
        self.threshold.valueChanged.connect(lambda v: self.threshold_changed.emit(float(v)))
        form.addRow("Uncertain above σ", self.threshold)
        layout.addLayout(form)
        self.summary = QtWidgets.QLabel("")
        self.summary.setStyleSheet(f"color: {theme.TEXT_DIM.name()}")
        layout.addWidget(self.summary)

    def set_items(self, items: Sequence[ReviewItem], reviewed: int) -> None:
        self.list.clear()
        for item in items:
            row = QtWidgets.QListWidgetItem(f"frame {item.frame} — {item.text}")
            row.setData(FRAME_ROLE, item.frame)
            row.setToolTip(item.text)
            if item.flagged:
                row.setForeground(theme.FLAG_COLOR)
            self.list.addItem(row)
        left = len(items)
        self.summary.setText(
            f"{left} to review, {reviewed} reviewed" if left or reviewed else "nothing to review"
        )

    def set_current(self, frame: int, item: ReviewItem | None, reviewed_by: str | None) -> None:
        """Highlight ``frame``'s row and say why it is in the queue (or that it is not)."""
        if item is not None:
            self.reason.setText(f"frame {frame}: {item.text}")
        elif reviewed_by is not None:
            self.reason.setText(f"frame {frame}: reviewed by {reviewed_by}")
        else:
            self.reason.setText(f"frame {frame}: not in the review queue")
        self.list.clearSelection()
        for row in range(self.list.count()):
            entry = self.list.item(row)
            if int(entry.data(FRAME_ROLE)) == frame:
                entry.setSelected(True)
                self.list.scrollToItem(entry)
                break

    def rows(self) -> list[str]:
        """The queue's rows as shown (for tests)."""
        return [self.list.item(r).text() for r in range(self.list.count())]
