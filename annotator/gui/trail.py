"""The selected joint's trail: where it is over the neighbouring frames, drawn on the image.

A faint polyline through the joint's positions on the frames around the current one
(``review_state.trail``), with a small solid dot where a frame has a manual label and a small
ring where the value is filled; marks fade with their distance in frames. The item only paints
the ``JointSeries`` it is handed (``ReviewController`` hands a new one on seek, joint change and
edits); like the skeleton overlay it draws in device pixels, so it keeps its size at any zoom,
and it takes no mouse events (clicks reach the overlay underneath).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from annotator.gui.review_state import JointSeries

DOT_RADIUS = 2.4  # device pixels: a filled value
MANUAL_RADIUS = 3.4  # a manual label, a little larger and solid


class TrailItem(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph is untyped
    """Paints one joint's trail; ``series`` is None when there is nothing to show."""

    def __init__(self) -> None:
        super().__init__()
        self.series: JointSeries | None = None
        self.current = 0
        self._color = QtGui.QColor("#ffffff")
        self._bounds = QtCore.QRectF()
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)

    def set_trail(self, series: JointSeries | None, current: int, color: str) -> None:
        self.prepareGeometryChange()
        self.series, self.current = series, int(current)
        self._color = QtGui.QColor(color)
        self._bounds = QtCore.QRectF()
        if series is not None:
            ok = np.isfinite(series.x) & np.isfinite(series.y)
            if ok.any():
                x, y = series.x[ok], series.y[ok]
                self._bounds = QtCore.QRectF(
                    float(x.min()), float(y.min()), float(np.ptp(x)), float(np.ptp(y))
                )
        self.update()

    def marks(self) -> list[tuple[int, float, float, bool]]:
        """(frame, x, y, manual) of every mark drawn, the current frame left out."""
        s = self.series
        if s is None:
            return []
        ok = np.isfinite(s.x) & np.isfinite(s.y) & (s.frames != self.current)
        return [
            (int(f), float(x), float(y), bool(m))
            for f, x, y, m in zip(s.frames[ok], s.x[ok], s.y[ok], s.manual[ok], strict=True)
        ]

    def boundingRect(self) -> QtCore.QRectF:
        # Markers are painted in device pixels around the points: a margin in image pixels
        # keeps them inside the repainted area at any reasonable zoom.
        return self._bounds.adjusted(-20, -20, 20, 20)

    def paint(self, painter: QtGui.QPainter, *args: Any) -> None:
        s = self.series
        if s is None:
            return
        transform = painter.transform()
        span = max(1, int(np.abs(s.frames - self.current).max(initial=1)))
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        points = [
            transform.map(QtCore.QPointF(float(x), float(y))) if np.isfinite(x) and np.isfinite(y)
            else None
            for x, y in zip(s.x.tolist(), s.y.tolist(), strict=True)
        ]  # fmt: skip
        line = QtGui.QColor(self._color)
        line.setAlpha(110)
        painter.setPen(QtGui.QPen(line, 1.3))
        for a, b in itertools.pairwise(points):
            if a is not None and b is not None:
                painter.drawLine(a, b)
        for f, p, manual in zip(s.frames.tolist(), points, s.manual.tolist(), strict=True):
            if p is None or f == self.current:
                continue
            color = QtGui.QColor(self._color)
            color.setAlpha(int(255 - 165 * abs(f - self.current) / span))
            if manual:
                painter.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255, color.alpha()), 1.0))
                painter.setBrush(color)
            else:
                painter.setPen(QtGui.QPen(color, 1.2))
                painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            radius = MANUAL_RADIUS if manual else DOT_RADIUS
            painter.drawEllipse(p, radius, radius)
        painter.restore()
