"""The dock panels: the joint list, the fill method choice and the colour legend.

Panels only display state handed to them and emit what the user asked for; the window turns
requests into session calls (and so into history commands).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from annotator.core.codes import SOURCE_NAMES, Source, Visibility
from annotator.core.skeleton import Skeleton
from annotator.gui import theme
from annotator.gui.overlay import PoseView, diamond
from annotator.gui.timeline_state import FrameStatus

_VIS_TEXT = {
    Visibility.UNLABELLED: "—",
    Visibility.VISIBLE: "visible",
    Visibility.OCCLUDED: "occluded",
    Visibility.ABSENT: "absent",
}


def _canvas(size: int) -> QtGui.QPixmap:
    """A transparent pixmap drawn at 3x so it stays sharp on high-DPI screens."""
    pix = QtGui.QPixmap(size * 3, size * 3)
    pix.setDevicePixelRatio(3.0)
    pix.fill(QtCore.Qt.GlobalColor.transparent)
    return pix


def _shape_drawer(shape: dict[str, bool]) -> Callable[[QtGui.QColor], QtGui.QIcon]:
    """``_swatch`` of one marker shape, in a colour given later (the theme's text colour)."""
    return lambda color: _swatch(color, **shape)


def _swatch(
    color: QtGui.QColor,
    ring: bool = False,
    size: int = 14,
    thin: bool = False,
    dotted: bool = False,
) -> QtGui.QIcon:
    pix = _canvas(size)
    painter = QtGui.QPainter(pix)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    r = size / 2 - 2
    centre = QtCore.QPointF(size / 2, size / 2)
    if ring:
        pen = QtGui.QPen(color, 1.5 if dotted else 1.0 if thin else 2.5)
        if dotted:
            pen.setStyle(theme.HELD_STYLE)
        painter.setPen(pen)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
    else:
        painter.setPen(QtGui.QPen(QtGui.QColor("#ffffff"), 1.2))
        painter.setBrush(color)
    painter.drawEllipse(centre, r, r)
    painter.end()
    return QtGui.QIcon(pix)


class JointList(QtWidgets.QTreeWidget):
    """One row per joint: name, state and source on the current frame; the current joint."""

    joint_selected = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["Joint", "State", "Source"])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # keys belong to the frame view
        header = self.header()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self._shown: dict[int, tuple[int, int, bool]] = {}
        self._text = QtGui.QBrush(theme.TEXT)
        self._dim = QtGui.QBrush(theme.TEXT_DIM)
        self.itemClicked.connect(
            lambda item, _col: self.joint_selected.emit(self.indexOfTopLevelItem(item))
        )

    def set_skeleton(self, skeleton: Skeleton) -> None:
        self.clear()
        self._shown.clear()
        for name, color in zip(skeleton.joints, skeleton.colors, strict=True):
            item = QtWidgets.QTreeWidgetItem([name, "—", ""])
            item.setIcon(0, _swatch(QtGui.QColor(color)))
            self.addTopLevelItem(item)

    def show_pose(self, pose: PoseView) -> None:
        # Only rows whose state changed are touched: this runs on every step of a drag.
        held = pose.held_mask().tolist()
        for j, (vis, src) in enumerate(
            zip(pose.visibility.tolist(), pose.source.tolist(), strict=True)
        ):
            if self._shown.get(j) == (vis, src, held[j]):
                continue
            self._shown[j] = (vis, src, held[j])
            item = self.topLevelItem(j)
            assert item is not None
            item.setText(1, _VIS_TEXT[Visibility(vis)] if 0 <= vis <= 3 else "?")
            # A held value is no fill: the source column says so rather than the method.
            item.setText(2, "held" if held[j] else "" if src == Source.NONE else SOURCE_NAMES[src])
            item.setToolTip(
                2,
                "held from the nearest label (before the first or after the last label)"
                if held[j]
                else "",
            )
            manual = src == Source.MANUAL
            font = item.font(0)
            font.setItalic(not manual and src != Source.NONE)
            brush = self._text if manual else self._dim
            for col in range(3):
                item.setFont(col, font)
                item.setForeground(col, brush)

    def set_text_colors(self, text: QtGui.QColor, dim: QtGui.QColor) -> None:
        """Manual rows' and filled rows' text colours (the theme's); rows are redrawn."""
        self._text, self._dim = QtGui.QBrush(text), QtGui.QBrush(dim)
        manual = QtGui.QBrush(text)
        for j, (_vis, src, _held) in self._shown.items():
            item = self.topLevelItem(j)
            if item is not None:
                for col in range(3):
                    item.setForeground(col, manual if src == Source.MANUAL else self._dim)

    def set_current(self, joint: int) -> None:
        item = self.topLevelItem(joint)
        if item is not None:
            self.setCurrentItem(item)
            self.scrollToItem(item)

    def state_text(self, joint: int) -> tuple[str, str]:
        item = self.topLevelItem(joint)
        assert item is not None
        return item.text(1), item.text(2)


class FillPanel(QtWidgets.QWidget):
    """The fill method choice (a visible, explicit choice) and a line about the last fill."""

    method_chosen = QtCore.Signal(str)

    def __init__(
        self, methods: Sequence[str], current: str, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        layout = QtWidgets.QFormLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        self.combo = QtWidgets.QComboBox()
        self.combo.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.combo.addItems(list(methods))
        self.combo.setCurrentText(current)
        self.combo.setToolTip("how frames between labelled frames are filled, live")
        self.combo.currentTextChanged.connect(self.method_chosen.emit)
        layout.addRow("Fill method", self.combo)
        self.info = QtWidgets.QLabel("label two frames to start the fill")
        self.info.setWordWrap(True)
        # A wrapped label in a dock does not ask for its height: keep room for three lines.
        self.info.setMinimumHeight(3 * self.info.fontMetrics().lineSpacing() + 4)
        self.info.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        self.info.setStyleSheet(f"color: {theme.TEXT_DIM.name()}")
        layout.addRow(self.info)

    def set_method(self, name: str) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentText(name)
        self.combo.blockSignals(False)

    def set_info(self, text: str) -> None:
        self.info.setText(text)


class Legend(QtWidgets.QWidget):
    """What the marks mean: manual, filled and held joints, fill sources, timeline colours.

    Two columns, so that at 1280x800 the joint list above keeps room for a 17-joint skeleton.
    """

    def __init__(self, sources: Sequence[str], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QGridLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setHorizontalSpacing(12)
        layout.setVerticalSpacing(3)
        self._grid = layout
        self._next = 0  # the next free cell, counted row by row
        # The marker shapes, drawn in the theme's text colour (``set_neutral``).
        self._neutral: list[tuple[QtWidgets.QLabel, Callable[[QtGui.QColor], QtGui.QIcon]]] = []
        for text, tip, shape in (
            ("manual label (solid)", "", {}),
            ("filled (ring, dashed edge)", "", {"ring": True}),
            (
                "held value (dotted ring)",
                "before the first or after the last label the pose is held, not filled",
                {"ring": True, "thin": True, "dotted": True},
            ),
            ("fill uncertainty (2σ)", "", {"ring": True, "thin": True}),
        ):
            pic = self._add(_swatch(theme.TEXT, **shape), text, tip)
            self._neutral.append((pic, _shape_drawer(shape)))
        pic = self._add(
            _diamond(theme.TEXT),
            "predicted (diamond)",
            "the pose estimator's joint (Tools > Prefill, File > Import Labels): drag it or "
            "accept the frame (Ctrl+Return) to make it a manual label; its frames are marked "
            "in red on the timeline",
        )
        self._neutral.append((pic, _diamond))
        for name in sources:
            src = Source.from_label(name)
            self._add(_swatch(theme.SOURCE_COLORS[src]), f"source: {name}", small=True)
        for status in (FrameStatus.LABELLED, FrameStatus.PARTIAL, FrameStatus.FILLED):
            self._add(_bar(theme.STATUS_COLORS[status]), theme.STATUS_NAMES[status])
        self._add(_bar(theme.PROPOSED_COLOR, thin=True), "proposed frame")
        self._add(
            _curve(theme.SCORE_COLOR),
            "proposal score",
            "the proposer's score of each frame (the gate's logits, K-FPN's network output); "
            "not drawn when it is saturated (only its lowest or highest value, as K-FPN's "
            "often is), since it then says nothing about single frames: the timeline's "
            "tooltip says so",
        )
        self._add(_bar(theme.SUGGESTED_COLOR, thin=True), "next frame to label (N)")
        # The timeline's optional rows (View menu), named on its left edge too.
        self._add(
            _curve(theme.RESIDUAL_COLOR),
            "residual energy",
            "per frame, the motion the codec's vectors did not explain (from the motion "
            "fields); key (intra) frames have no prediction, so the row shows them "
            "interpolated from their neighbours instead of the codec's refresh",
        )
        self._add(_bar(theme.GATE_COLOR), "gate: label this frame", "G / Shift+G jump to them")
        self._add(
            _heat(),
            "fill uncertainty",
            "largest fill standard deviation per frame, hotter = less sure; J / Shift+J jump "
            "to each unlabelled stretch's most uncertain frame",
        )
        # One entry for the spans row's two marks, so the predicted marker's entry above
        # costs the joint list no room at 1280x800.
        self._add(
            _bar(theme.HELD_COLOR, tick=theme.FLAG_COLOR),
            "held span, flagged / reviewed (tick)",
            "grey where the pose is only held; a red tick on each frame flagged for review, a "
            "green one (lower half) on each frame marked reviewed",
        )
        layout.setRowStretch(layout.rowCount(), 1)
        layout.setColumnStretch(1, 1)
        layout.setColumnStretch(3, 1)

    def set_neutral(self, color: QtGui.QColor) -> None:
        """Redraw the marker shapes in ``color`` (the theme's text colour)."""
        for pic, draw in self._neutral:
            pic.setPixmap(draw(color).pixmap(14, 14))

    def _add(
        self, icon: QtGui.QIcon, text: str, tip: str = "", small: bool = False
    ) -> QtWidgets.QLabel:
        row, col = divmod(self._next, 2)
        self._next += 1
        pic = QtWidgets.QLabel()
        pic.setPixmap(icon.pixmap(10 if small else 14, 10 if small else 14))
        pic.setFixedWidth(18)
        label = QtWidgets.QLabel(text)
        label.setToolTip(tip)
        self._grid.addWidget(pic, row, 2 * col)
        self._grid.addWidget(label, row, 2 * col + 1)
        return pic

    def texts(self) -> list[str]:
        """The entries' texts, in order (for tests)."""
        out = []
        for k in range(self._grid.count()):
            item = self._grid.itemAt(k)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QtWidgets.QLabel) and widget.text():
                out.append(widget.text())
        return out


def _diamond(color: QtGui.QColor, size: int = 14) -> QtGui.QIcon:
    """The predicted joint's marker, as the overlay draws it."""
    pix = _canvas(size)
    painter = QtGui.QPainter(pix)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setPen(QtGui.QPen(theme.SOURCE_COLORS[Source.PREDICTED], 1.5))
    painter.setBrush(QtGui.QColor(color.red(), color.green(), color.blue(), 150))
    painter.drawPolygon(diamond(QtCore.QPointF(size / 2, size / 2), size / 2 - 1.5))
    painter.end()
    return QtGui.QIcon(pix)


def _curve(color: QtGui.QColor) -> QtGui.QIcon:
    pix = _canvas(14)
    painter = QtGui.QPainter(pix)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setPen(QtGui.QPen(color, 1.5))
    points = [QtCore.QPointF(x, y) for x, y in ((0, 11), (4, 8), (7, 10), (10, 3), (14, 6))]
    painter.drawPolyline(points)
    painter.end()
    return QtGui.QIcon(pix)


def _heat() -> QtGui.QIcon:
    """The uncertainty strip's colour ramp, cool to hot."""
    pix = _canvas(14)
    painter = QtGui.QPainter(pix)
    for k in range(7):
        painter.fillRect(2 * k, 3, 2, 8, theme.heat_color(1 + k * 11 // 6))
    painter.end()
    return QtGui.QIcon(pix)


def _bar(color: QtGui.QColor, thin: bool = False, tick: QtGui.QColor | None = None) -> QtGui.QIcon:
    pix = _canvas(14)
    painter = QtGui.QPainter(pix)
    if thin:
        painter.fillRect(6, 0, 2, 14, color)
    else:
        painter.fillRect(0, 3, 14, 8, color)
    if tick is not None:
        painter.fillRect(10, 0, 2, 14, tick)
    painter.end()
    return QtGui.QIcon(pix)
