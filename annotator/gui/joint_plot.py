"""The joint plot dock: the selected joint's x and y over time, one pyqtgraph plot each.

Each plot shows the track the frame view shows (manual labels, else the fill) as a curve, the
manual labels as solid dots, and the fill's uncertainty band (value ± 2σ, from the fill's
variance) where the fill estimates one; a vertical line marks the current frame. A click on
a plot asks to seek there (``seek``); dragging a manual dot up or down asks to move that label
(``drag_started`` / ``drag_moved`` / ``drag_finished``: the controller turns one drag into one
undo step through ``MoveJoint``). The widget only paints the ``JointSeries`` it is handed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

from annotator.gui import theme
from annotator.gui.review_state import JointSeries

AXES: tuple[str, ...] = ("x", "y")
PICK_PX = 8.0  # how near (device pixels) a press must be to a manual dot to drag it
BAND_SIGMAS = 2.0
BAND_COLOR = QtGui.QColor(86, 204, 242, 60)  # the fill's ±2σ band


class BandItem(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph is untyped
    """A filled band between ``lower`` and ``upper`` over frames, broken where either is NaN."""

    def __init__(self, color: QtGui.QColor) -> None:
        super().__init__()
        self._path = QtGui.QPainterPath()
        self._brush = QtGui.QBrush(color)
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)

    def set_band(
        self, frames: NDArray[np.float64], lower: NDArray[np.float64], upper: NDArray[np.float64]
    ) -> None:
        self.prepareGeometryChange()
        path = QtGui.QPainterPath()
        ok = np.isfinite(lower) & np.isfinite(upper)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.astype(np.int8), [0]))))
        for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            xs, lo, hi = frames[a:b], lower[a:b], upper[a:b]
            if b - a == 1:  # a single frame: a thin bar, so a lone uncertain frame shows
                xs = np.array([xs[0] - 0.3, xs[0] + 0.3])
                lo, hi = np.repeat(lo, 2), np.repeat(hi, 2)
            polygon = QtGui.QPolygonF(
                [QtCore.QPointF(float(x), float(v)) for x, v in zip(xs, hi, strict=True)]
                + [
                    QtCore.QPointF(float(x), float(v))
                    for x, v in zip(xs[::-1], lo[::-1], strict=True)
                ]
            )
            path.addPolygon(polygon)
            path.closeSubpath()
        self._path = path
        self.update()

    @property
    def empty(self) -> bool:
        return self._path.isEmpty()

    def boundingRect(self) -> QtCore.QRectF:
        return self._path.boundingRect()

    def paint(self, painter: QtGui.QPainter, *args: Any) -> None:
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(self._brush)
        painter.drawPath(self._path)


class _PickBox(pg.ViewBox):  # type: ignore[misc]  # pyqtgraph is untyped
    """A view box whose left drags start on a manual dot move that dot; other drags pan."""

    def __init__(self, plot: JointPlot, axis: str) -> None:
        super().__init__(enableMenu=False)
        self._plot, self._axis = plot, axis
        self._dragging: int | None = None

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        if ev.isStart():
            self._dragging = self._plot.manual_at(self._axis, ev.buttonDownScenePos())
            if self._dragging is not None:
                self.disableAutoRange()
                self._plot.drag_started.emit(self._dragging)
        if self._dragging is None:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        value = float(self.mapSceneToView(ev.scenePos()).y())
        self._plot.drag_moved.emit(self._dragging, self._axis, value)
        if ev.isFinish():
            frame, self._dragging = self._dragging, None
            self._plot.drag_finished.emit(frame)


class JointPlot(QtWidgets.QWidget):
    """x and y of one joint over time; see the module docstring."""

    seek = QtCore.Signal(int)
    drag_started = QtCore.Signal(int)  # frame of the manual dot
    drag_moved = QtCore.Signal(int, str, float)  # frame, "x" or "y", new value (px)
    drag_finished = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.title = QtWidgets.QLabel("no joint")
        layout.addWidget(self.title)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(theme.PANEL_BG)
        layout.addWidget(self.view, 1)
        self.series: JointSeries | None = None
        self.boxes: dict[str, _PickBox] = {}
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.dots: dict[str, pg.ScatterPlotItem] = {}
        self.bands: dict[str, BandItem] = {}
        self.playheads: dict[str, pg.InfiniteLine] = {}
        for row, axis in enumerate(AXES):
            box = _PickBox(self, axis)
            plot = self.view.addPlot(row=row, col=0, viewBox=box)
            plot.setLabel("left", f"{axis} (px)")
            # pixels, never "x (px) (x0.001)" over an empty plot
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            if axis == "y":
                box.invertY(True)  # up on the plot is up in the image
                plot.setLabel("bottom", "frame")
                box.setXLink(self.boxes["x"])
            else:  # the plots share their frame axis: numbered once, under the lower one
                plot.getAxis("bottom").setStyle(showValues=False)
            self.bands[axis] = BandItem(BAND_COLOR)
            plot.addItem(self.bands[axis])
            self.curves[axis] = plot.plot(
                [], [], pen=pg.mkPen(theme.TEXT, width=1.2), connect="finite", antialias=True
            )
            self.dots[axis] = pg.ScatterPlotItem(
                size=8, pen=pg.mkPen("#ffffff", width=1), brush=pg.mkBrush(theme.TEXT)
            )
            plot.addItem(self.dots[axis])
            self.playheads[axis] = pg.InfiniteLine(
                0, angle=90, pen=pg.mkPen(theme.PLAYHEAD_COLOR, width=1), movable=False
            )
            plot.addItem(self.playheads[axis])
            self.boxes[axis], self.plots[axis] = box, plot
        self.view.scene().sigMouseClicked.connect(self._on_click)

    # -- state handed in by the controller ---------------------------------------------------
    def set_series(self, series: JointSeries | None, title: str, color: str, fit: bool) -> None:
        """Show ``series`` (None: nothing); ``fit``: frame the whole track (a new joint)."""
        self.series = series
        self.title.setText(title)
        empty = np.zeros(0)
        for axis in AXES:
            if series is None:
                self.curves[axis].setData(empty, empty)
                self.dots[axis].setData(empty, empty)
                self.bands[axis].set_band(empty, empty, empty)
                continue
            frames = series.frames.astype(np.float64)
            values = series.x if axis == "x" else series.y
            self.curves[axis].setData(frames, values, connect="finite")
            manual = series.manual & np.isfinite(values)
            self.dots[axis].setData(frames[manual], values[manual], brush=pg.mkBrush(color))
            # The band pinches to the labels (no uncertainty there) instead of stopping short;
            # a fill without a variance has no band at all.
            sigma = series.sigma
            if np.isfinite(sigma).any():
                sigma = np.where(manual, 0.0, sigma)
            spread = BAND_SIGMAS * sigma
            self.bands[axis].set_band(frames, values - spread, values + spread)
            if fit:
                self.boxes[axis].enableAutoRange()

    def set_playhead(self, frame: int) -> None:
        for line in self.playheads.values():
            line.setValue(frame)

    # -- picking -------------------------------------------------------------------------------
    def manual_at(self, axis: str, scene_pos: QtCore.QPointF) -> int | None:
        """The frame of the manual dot nearest ``scene_pos`` on ``axis``'s plot, within
        ``PICK_PX`` device pixels; None when there is none."""
        s = self.series
        if s is None:
            return None
        values = s.x if axis == "x" else s.y
        ok = s.manual & np.isfinite(values)
        if not ok.any():
            return None
        box = self.boxes[axis]
        best, best_d = None, PICK_PX
        for f, v in zip(s.frames[ok].tolist(), values[ok].tolist(), strict=True):
            p = box.mapViewToScene(QtCore.QPointF(f, v))
            d = float(np.hypot(p.x() - scene_pos.x(), p.y() - scene_pos.y()))
            if d <= best_d:
                best, best_d = int(f), d
        return best

    def _on_click(self, ev: Any) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        for box in self.boxes.values():
            if box.sceneBoundingRect().contains(ev.scenePos()):
                frame = round(float(box.mapSceneToView(ev.scenePos()).x()))
                self.seek.emit(int(frame))
                return

    def scene_point(self, axis: str, frame: float, value: float) -> QtCore.QPoint:
        """Where (frame, value) of ``axis``'s plot is on the view's viewport (for tests and
        the screenshot script)."""
        scene = self.boxes[axis].mapViewToScene(QtCore.QPointF(frame, value))
        point: QtCore.QPoint = self.view.mapFromScene(scene)
        return point
