"""The timeline under the frame: labelled, partial and filled frames, proposals with the
proposer's score curve above them, the next frame to label, a playhead.

One painted item (``TimelineMarks``) draws every mark from one immutable ``TimelineState``: at
paint time it bins the visible frame range to the widget's pixel width (see
``timeline_state``), so its cost depends on the width, not on the frame count. Left click or drag seeks; the wheel zooms the frame axis; right or
middle drag pans; double click shows the whole video.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

from annotator.gui import theme
from annotator.gui.timeline_state import (
    FrameStatus,
    TimelineState,
    bin_curve,
    bin_edges,
    bin_status,
    runs,
    scale_scores,
)

_STATUS_BAND = {  # (y0, y1) of each status's band inside the 0..1 track
    FrameStatus.FILLED: (0.30, 0.70),
    FrameStatus.PARTIAL: (0.15, 0.85),
    FrameStatus.LABELLED: (0.05, 0.95),
}
_SCORE_BAND = (1.12, 1.55)  # (y0, y1) of the score curve, above the proposal ticks
_Y_RANGE = (-0.25, 1.05)  # without a score curve
_Y_RANGE_SCORES = (-0.25, 1.6)


class TimelineMarks(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph is untyped
    """All frame marks as one item; bins to pixels on every paint."""

    def __init__(self) -> None:
        super().__init__()
        self._state = TimelineState()
        self.last_paint_rects = 0  # for tests and the benchmark: rectangles drawn last paint
        self.last_curve_points = 0  # points of the score curve drawn last paint

    @property
    def state(self) -> TimelineState:
        return self._state

    def set_state(self, state: TimelineState) -> None:
        if len(state.status) != len(self._state.status):
            self.prepareGeometryChange()  # the bounding rect follows the frame count
        self._state = state
        self.update()

    def _change(self, **changes: Any) -> None:
        self.set_state(dataclasses.replace(self._state, **changes))

    def set_status(self, status: NDArray[np.int8]) -> None:
        scores = self._state.scores
        if scores is not None and len(scores) != len(status):
            scores = None  # another video: its scores come with its proposals
        self._change(status=status, scores=scores)

    def set_proposed(self, frames: NDArray[np.int64]) -> None:
        self._change(proposed=np.asarray(frames, dtype=np.int64))

    def set_scores(self, scores: NDArray[np.floating] | None) -> None:
        self._change(scores=scale_scores(scores))

    def set_suggested(self, frame: int | None) -> None:
        if frame != self._state.suggested:
            self._change(suggested=frame)

    @property
    def suggested(self) -> int | None:
        return self._state.suggested

    @property
    def status(self) -> NDArray[np.int8]:
        return self._state.status

    def boundingRect(self) -> QtCore.QRectF:
        return QtCore.QRectF(0.0, -0.2, float(max(1, len(self._state.status))), 1.8)

    def paint(self, painter: QtGui.QPainter, *args: Any) -> None:
        view = self.getViewBox()
        state = self._state
        if view is None or len(state.status) == 0:
            return
        (x0, x1), _ = view.viewRange()
        start = max(0, int(np.floor(x0)))
        stop = min(len(state.status), int(np.ceil(x1)) + 1)
        width_px = max(1, int(view.width()))
        edges = bin_edges(start, stop, width_px)
        marks = runs(bin_status(state.status, start, stop, width_px), edges)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        for run in marks:
            y0, y1 = _STATUS_BAND[FrameStatus(run.status)]
            painter.setBrush(theme.STATUS_COLORS[FrameStatus(run.status)])
            painter.drawRect(QtCore.QRectF(run.x0, y0, run.x1 - run.x0, y1 - y0))
        count = len(marks)
        self.last_curve_points = 0
        if state.scores is not None:
            xs, ys = bin_curve(state.scores, start, stop, width_px)
            y0, y1 = _SCORE_BAND
            pen = QtGui.QPen(theme.SCORE_COLOR)
            pen.setCosmetic(True)
            pen.setWidthF(1.2)
            painter.setPen(pen)
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawPolyline(
                QtGui.QPolygonF(
                    [
                        QtCore.QPointF(x, y0 + (y1 - y0) * y)
                        for x, y in zip(xs.tolist(), ys.tolist(), strict=True)
                    ]
                )
            )
            self.last_curve_points = len(xs)
        if len(state.proposed):
            # One tick per pixel at most: deduplicate proposals that share a pixel.
            lo, hi = np.searchsorted(state.proposed, [start, stop])
            shown = state.proposed[lo:hi].astype(np.float64)
            if len(shown) > width_px:
                pixels = np.unique((shown - start) * width_px // max(1, stop - start))
                shown = start + pixels * (stop - start) / width_px
            pen = QtGui.QPen(theme.PROPOSED_COLOR)
            pen.setCosmetic(True)
            pen.setWidth(2)
            painter.setPen(pen)
            for f in shown:
                painter.drawLine(QtCore.QPointF(f + 0.5, -0.15), QtCore.QPointF(f + 0.5, 0.05))
            count += len(shown)
        suggested = state.suggested
        if suggested is not None and start <= suggested < stop:
            pen = QtGui.QPen(theme.SUGGESTED_COLOR)
            pen.setCosmetic(True)
            pen.setWidth(2)
            pen.setStyle(QtCore.Qt.PenStyle.DashLine)
            painter.setPen(pen)
            x = suggested + 0.5
            painter.drawLine(QtCore.QPointF(x, -0.2), QtCore.QPointF(x, 1.0))
            count += 1
        self.last_paint_rects = count


class _SeekViewBox(pg.ViewBox):  # type: ignore[misc]  # pyqtgraph is untyped
    """Left button seeks, wheel zooms x, right/middle drag pans."""

    seek = QtCore.Signal(int)

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(x=True, y=False)

    def _emit_seek(self, scene_pos: QtCore.QPointF) -> None:
        self.seek.emit(int(np.floor(self.mapSceneToView(scene_pos).x())))

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            if ev.double():
                self.autoRange(padding=0)
            else:
                self._emit_seek(ev.scenePos())
        else:
            ev.ignore()

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self._emit_seek(ev.scenePos())
        else:
            # Pan with the other buttons, as a left drag would in a plain ViewBox.
            ev.accept()
            delta = self.mapSceneToView(ev.lastScenePos()) - self.mapSceneToView(ev.scenePos())
            self.translateBy(x=delta.x(), y=0)


class Timeline(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """The timeline widget. Emits ``seek(frame)``; the window sets status and playhead."""

    seek = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        self._box = _SeekViewBox()
        super().__init__(parent=parent, viewBox=self._box, background=theme.PANEL_BG)
        self.setMinimumHeight(64)
        self.setMaximumHeight(130)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.hideAxis("left")
        plot.setMenuEnabled(False)
        bottom = plot.getAxis("bottom")
        bottom.setTextPen(theme.TEXT_DIM)
        bottom.setPen(theme.TEXT_DIM)
        self._box.setYRange(*_Y_RANGE, padding=0)
        self.marks = TimelineMarks()
        self._box.addItem(self.marks)
        self.playhead = pg.InfiniteLine(
            pos=0, angle=90, movable=True, pen=pg.mkPen(theme.PLAYHEAD_COLOR, width=2)
        )
        self.playhead.setHoverPen(pg.mkPen(theme.PLAYHEAD_COLOR, width=4))
        self._box.addItem(self.playhead)
        self.playhead.sigDragged.connect(self._on_playhead_dragged)
        self._box.seek.connect(self._clamped_seek)
        self._frame_count = 0

    def set_frame_count(self, frame_count: int) -> None:
        self._frame_count = frame_count
        span = max(1, frame_count)
        self._box.setLimits(xMin=-0.5, xMax=span + 0.5, minXRange=min(10, span))
        self._box.setXRange(0, span, padding=0)

    def set_status(self, status: NDArray[np.int8]) -> None:
        self.marks.set_status(status)

    def set_proposed(self, frames: NDArray[np.int64]) -> None:
        self.marks.set_proposed(frames)

    def set_scores(self, scores: NDArray[np.floating] | None) -> None:
        """The proposer's score of every frame, drawn as a curve above the ticks (None: no
        curve, and the marks take the whole height)."""
        self.marks.set_scores(scores)
        y_range = _Y_RANGE if self.marks.state.scores is None else _Y_RANGE_SCORES
        self._box.setYRange(*y_range, padding=0)

    def set_suggested(self, frame: int | None) -> None:
        """Mark the next frame to label (None: no mark)."""
        self.marks.set_suggested(frame)

    def set_playhead(self, frame: int) -> None:
        self.playhead.blockSignals(True)
        self.playhead.setValue(frame + 0.5)
        self.playhead.blockSignals(False)

    def zoom_to(self, start: int, stop: int) -> None:
        self._box.setXRange(start, stop, padding=0)

    def _clamped_seek(self, frame: int) -> None:
        if self._frame_count:
            self.seek.emit(int(np.clip(frame, 0, self._frame_count - 1)))

    def _on_playhead_dragged(self) -> None:
        self._clamped_seek(int(np.floor(self.playhead.value())))
