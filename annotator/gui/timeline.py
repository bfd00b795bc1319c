"""The timeline under the frame: labelled, partial and filled frames, proposals, the next
frame to label, a playhead, and above them optional rows (``timeline_state.ROWS``): the
proposer's score curve, the gate's decisions, the residual energy, the fill uncertainty as a
heat strip and the held or flagged spans, each named on the left axis. What the residual and
score rows draw is decided by ``timeline_rows`` (key frames interpolated, saturated scores left
out); the widget's tooltip says why (``row_notes``).

One painted item (``TimelineMarks``) draws every mark from one immutable ``TimelineState``: at
paint time it bins the visible frame range to the widget's pixel width (see
``timeline_state``), so its cost depends on the width, not on the frame count. Left click or drag seeks; the wheel zooms the frame axis; right or
middle drag pans; double click shows the whole video. Shift+drag selects a span of frames
(Shift+click: from the current frame, or the selection's anchor, to the clicked one), drawn as
a shaded band; a plain click (or ``clear_span``: Esc in the window) clears it.

The whole video is shown with a small margin each side (``edge_margin``) so that the first
and last frames' marks and the playhead on them are not cut by the plot's edges; a click in
that margin seeks to the nearest end.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

from annotator.gui import theme
from annotator.gui.timeline_rows import KEY_FRAME_NOTE, residual_row, score_row
from annotator.gui.timeline_state import (
    ROW_NAMES,
    ROWS,
    FrameStatus,
    TimelineState,
    bin_curve,
    bin_edges,
    bin_status,
    heat_levels,
    runs,
    scale_curve,
    scale_scores,
)

_STATUS_BAND = {  # (y0, y1) of each status's band inside the 0..1 track
    FrameStatus.FILLED: (0.30, 0.70),
    FrameStatus.PREDICTED: (0.22, 0.78),
    FrameStatus.PARTIAL: (0.15, 0.85),
    FrameStatus.LABELLED: (0.05, 0.95),
}
_ROW_BASE = 1.12  # the first row's bottom, above the frame track
_ROW_STEP = 0.5  # one row: 0.4 of content and a gap
_ROW_HEIGHT = 0.4
_Y_BOTTOM, _Y_TOP_PAD = -0.25, 0.05
_PX_PER_UNIT = 40  # the frame track keeps its height; each row adds 20 px
_AXIS_PX = 26  # the frame axis under the marks
_EDGE_FRACTION = 0.01  # margin each side of the whole video: about 8 px of an 800 px timeline


def edge_margin(frame_count: int) -> float:
    """Frames of empty axis left and right of the whole video: half a frame, or a small
    fraction of the video when that is more, so that frame 0 and the last frame stand clear
    of the edges at any length."""
    return max(0.5, _EDGE_FRACTION * max(1, frame_count))


def row_band(index: int) -> tuple[float, float]:
    """(y0, y1) of the ``index``-th visible row, counted from the bottom."""
    y0 = _ROW_BASE + index * _ROW_STEP
    return y0, y0 + _ROW_HEIGHT


def y_range(rows: int) -> tuple[float, float]:
    """The y range that shows the frame track and ``rows`` rows."""
    # With rows, room above the top one so the axis can print its name (a tick label that
    # would overflow the plot is not drawn).
    top = 1.0 + _Y_TOP_PAD if rows == 0 else row_band(rows - 1)[1] + 3 * _Y_TOP_PAD
    return _Y_BOTTOM, top


def _cosmetic_pen(color: QtGui.QColor, width: float) -> QtGui.QPen:
    pen = QtGui.QPen(color)
    pen.setCosmetic(True)
    pen.setWidthF(width)
    return pen


PER_FRAME = ("gate", "residual", "uncertainty", "held")  # set_rows's rows: a value per frame


class TimelineMarks(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph is untyped
    """All frame marks as one item; bins to pixels on every paint."""

    def __init__(self) -> None:
        super().__init__()
        self._state = TimelineState()
        self.last_paint_rects = 0  # for tests and the benchmark: rectangles drawn last paint
        self.last_curve_points = 0  # points of the score curve drawn last paint
        self.last_rows: list[str] = []  # the rows drawn last paint, bottom to top

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
        state, n = self._state, len(status)
        if n == len(state.status):
            self._change(status=status)
            return
        # Another video: its per-frame rows and marks come with it; until then none of the
        # previous video's (another length) is kept, and no mark lies past its last frame.
        rows: dict[str, Any] = dict.fromkeys(("scores", *PER_FRAME))
        for name in ("proposed", "flagged", "reviewed"):
            frames = getattr(state, name)
            rows[name] = frames[frames < n]
        if state.suggested is not None and state.suggested >= n:
            rows["suggested"] = None
        self._change(status=status, **rows)

    def set_proposed(self, frames: NDArray[np.int64]) -> None:
        self._change(proposed=np.asarray(frames, dtype=np.int64))

    def set_scores(self, scores: NDArray[np.floating] | None) -> None:
        self._change(scores=scale_scores(scores))

    def set_rows(self, **rows: Any) -> None:
        """Replace some row data (``gate``, ``residual``, ``uncertainty``, ``held``,
        ``flagged``, ``hidden``); a per-frame row of another length is dropped (another
        video's, until its own arrives)."""
        n = len(self._state.status)
        for name in PER_FRAME:
            value = rows.get(name)
            if value is not None and len(value) != n:
                rows[name] = None
        if "residual" in rows:
            rows["residual"] = scale_curve(rows["residual"])
        self._change(**rows)

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
        top = y_range(len(ROWS))[1]
        return QtCore.QRectF(0.0, -0.2, float(max(1, len(self._state.status))), top + 0.2)

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
        self.last_rows = state.visible_rows()
        for index, row in enumerate(self.last_rows):
            band = row_band(index)
            if row == "scores" and state.scores is not None:
                self.last_curve_points = self._curve(
                    painter, state.scores, start, stop, width_px, band, theme.SCORE_COLOR
                )
            elif row == "residual" and state.residual is not None:
                self._curve(
                    painter, state.residual, start, stop, width_px, band, theme.RESIDUAL_COLOR
                )
            elif row == "gate" and state.gate is not None:
                count += self._gate(painter, state.gate, start, stop, width_px, band)
            elif row == "uncertainty" and state.uncertainty is not None:
                count += self._heat(painter, state.uncertainty, start, stop, width_px, band)
            elif row == "spans":
                count += self._spans(painter, state, start, stop, width_px, band)
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

    # -- rows ------------------------------------------------------------------------------
    @staticmethod
    def _curve(
        painter: QtGui.QPainter,
        values: NDArray[np.float64],
        start: int,
        stop: int,
        bins: int,
        band: tuple[float, float],
        color: QtGui.QColor,
    ) -> int:
        xs, ys = bin_curve(values, start, stop, bins)
        y0, y1 = band
        painter.setPen(_cosmetic_pen(color, 1.2))
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawPolyline(
            QtGui.QPolygonF(
                [
                    QtCore.QPointF(x, y0 + (y1 - y0) * y)
                    for x, y in zip(xs.tolist(), ys.tolist(), strict=True)
                ]
            )
        )
        return len(xs)

    @staticmethod
    def _gate(
        painter: QtGui.QPainter,
        gate: NDArray[np.int8],
        start: int,
        stop: int,
        bins: int,
        band: tuple[float, float],
    ) -> int:
        """Accepted frames full height, rejected ones a thin dim band, undecided nothing."""
        shifted = (gate.astype(np.int16) + 1).astype(np.int8)  # 0 none, 1 no, 2 yes
        marks = runs(bin_status(shifted, start, stop, bins), bin_edges(start, stop, bins))
        y0, y1 = band
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        for run in marks:
            if run.status == 2:
                painter.setBrush(theme.GATE_COLOR)
                painter.drawRect(QtCore.QRectF(run.x0, y0, run.x1 - run.x0, y1 - y0))
            else:
                mid = (y0 + y1) / 2
                painter.setBrush(theme.GATE_REJECTED_COLOR)
                painter.drawRect(QtCore.QRectF(run.x0, mid - 0.04, run.x1 - run.x0, 0.08))
        return len(marks)

    @staticmethod
    def _heat(
        painter: QtGui.QPainter,
        values: NDArray[np.float64],
        start: int,
        stop: int,
        bins: int,
        band: tuple[float, float],
    ) -> int:
        """The fill uncertainty, hotter where larger; the scale is the video's largest value,
        so colours compare across the whole timeline, not just the visible part."""
        finite = values[np.isfinite(values)]
        top = float(finite.max()) if len(finite) else 1.0
        levels = heat_levels(values, start, stop, bins, top)
        marks = runs(levels, bin_edges(start, stop, bins))
        y0, y1 = band
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        for run in marks:
            painter.setBrush(theme.heat_color(run.status))
            painter.drawRect(QtCore.QRectF(run.x0, y0, run.x1 - run.x0, y1 - y0))
        return len(marks)

    @staticmethod
    def _spans(
        painter: QtGui.QPainter,
        state: TimelineState,
        start: int,
        stop: int,
        bins: int,
        band: tuple[float, float],
    ) -> int:
        """Held spans as a grey band, flagged frames as red ticks across the row, reviewed
        frames as green ticks on its lower half (a frame can be both)."""
        y0, y1 = band
        count = 0
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        if state.held is not None:
            held = state.held.astype(np.int8)
            marks = runs(bin_status(held, start, stop, bins), bin_edges(start, stop, bins))
            painter.setBrush(theme.HELD_COLOR)
            for run in marks:
                painter.drawRect(QtCore.QRectF(run.x0, y0 + 0.1, run.x1 - run.x0, 0.2))
            count += len(marks)
        lo, hi = np.searchsorted(state.flagged, [start, stop])
        painter.setPen(_cosmetic_pen(theme.FLAG_COLOR, 2.0))
        for f in state.flagged[lo:hi].tolist():
            painter.drawLine(QtCore.QPointF(f + 0.5, y0), QtCore.QPointF(f + 0.5, y1))
        count += int(hi - lo)
        lo, hi = np.searchsorted(state.reviewed, [start, stop])
        painter.setPen(_cosmetic_pen(theme.REVIEWED_COLOR, 2.0))
        middle = (y0 + y1) / 2
        for f in state.reviewed[lo:hi].tolist():
            painter.drawLine(QtCore.QPointF(f + 0.5, y0), QtCore.QPointF(f + 0.5, middle))
        return count + int(hi - lo)


def _shift(ev: Any) -> bool:
    return bool(ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)


class _SeekViewBox(pg.ViewBox):  # type: ignore[misc]  # pyqtgraph is untyped
    """Left button seeks, wheel zooms x, right/middle drag pans; with Shift, left click and
    drag pick a span (``span_click(frame)``, ``span_drag(from, to)``)."""

    seek = QtCore.Signal(int)
    span_click = QtCore.Signal(int)
    span_drag = QtCore.Signal(int, int)
    plain_click = QtCore.Signal()

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(x=True, y=False)
        self.whole: tuple[float, float] | None = None  # the whole video, margins included

    def _frame_at(self, scene_pos: QtCore.QPointF) -> int:
        return int(np.floor(self.mapSceneToView(scene_pos).x()))

    def _emit_seek(self, scene_pos: QtCore.QPointF) -> None:
        self.seek.emit(self._frame_at(scene_pos))

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            if ev.double():
                if self.whole is not None:
                    self.setXRange(*self.whole, padding=0)
                else:
                    self.autoRange(padding=0)
            elif _shift(ev):
                self.span_click.emit(self._frame_at(ev.scenePos()))
            else:
                self.plain_click.emit()
                self._emit_seek(ev.scenePos())
        else:
            ev.ignore()

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            if _shift(ev):
                start = self._frame_at(ev.buttonDownScenePos())
                self.span_drag.emit(start, self._frame_at(ev.scenePos()))
            else:
                self._emit_seek(ev.scenePos())
        else:
            # Pan with the other buttons, as a left drag would in a plain ViewBox.
            ev.accept()
            delta = self.mapSceneToView(ev.lastScenePos()) - self.mapSceneToView(ev.scenePos())
            self.translateBy(x=delta.x(), y=0)


class Timeline(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """The timeline widget. Emits ``seek(frame)`` and ``span_changed(span)`` (the selected
    frames as a half-open ``(start, stop)``, or None); the window sets status and playhead."""

    seek = QtCore.Signal(int)
    span_changed = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        self._box = _SeekViewBox()
        super().__init__(parent=parent, viewBox=self._box, background=theme.PANEL_BG)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        bottom = plot.getAxis("bottom")
        bottom.setTextPen(theme.TEXT_DIM)
        bottom.setPen(theme.TEXT_DIM)
        # The left axis names the rows (its ticks are the rows' centres).
        left = plot.getAxis("left")
        left.setTextPen(theme.TEXT_DIM)
        left.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
        left.setStyle(tickLength=0)
        left.setWidth(92)
        self._rows: tuple[str, ...] = ()
        self._notes: dict[str, str] = {}
        self.marks = TimelineMarks()
        self._box.addItem(self.marks)
        self.playhead = pg.InfiniteLine(
            pos=0, angle=90, movable=True, pen=pg.mkPen(theme.PLAYHEAD_COLOR, width=2)
        )
        self.playhead.setHoverPen(pg.mkPen(theme.PLAYHEAD_COLOR, width=4))
        self._box.addItem(self.playhead)
        self._cut_lines: list[pg.InfiniteLine] = []
        self.playhead.sigDragged.connect(self._on_playhead_dragged)
        self._box.seek.connect(self._clamped_seek)
        self._frame_count = 0
        # The selected span: a shaded band behind the marks (no handles: Shift+drag again).
        self._span: tuple[int, int] | None = None
        self._anchor = 0
        self.span_band = pg.LinearRegionItem(
            movable=False, brush=pg.mkBrush(theme.SPAN_COLOR), pen=pg.mkPen(theme.SPAN_COLOR)
        )
        self.span_band.setZValue(-10)
        self.span_band.hide()
        self._box.addItem(self.span_band, ignoreBounds=True)
        self._box.span_click.connect(self._on_span_click)
        self._box.span_drag.connect(self.select_span)
        self._box.plain_click.connect(self.clear_span)
        self._layout_rows()

    def set_frame_count(self, frame_count: int) -> None:
        self.clear_span()  # another video
        self._frame_count = frame_count
        span = max(1, frame_count)
        pad = edge_margin(span)
        self._box.whole = (-pad, span + pad)
        self._box.setLimits(xMin=-pad, xMax=span + pad, minXRange=min(10, span))
        self._box.setXRange(-pad, span + pad, padding=0)

    def set_status(self, status: NDArray[np.int8]) -> None:
        self.marks.set_status(status)

    def set_proposed(self, frames: NDArray[np.int64]) -> None:
        self.marks.set_proposed(frames)

    def set_scores(self, scores: NDArray[np.floating] | None, method: str = "") -> None:
        """The proposer's score of every frame, drawn as a curve in its row (None: no row).
        A score with no per-frame information (``timeline_rows.score_row``: saturated or
        constant) gets no row; the tooltip says why. ``method``: the proposer, for that."""
        values, note = score_row(scores, method)
        self._set_note("scores", note)
        self.marks.set_scores(values)
        self._layout_rows()

    def set_residual(
        self, energy: NDArray[np.floating] | None, picture_types: Sequence[str] | None
    ) -> None:
        """The residual energy row; key frames (``picture_types`` "I") show the value
        interpolated from their neighbours (``timeline_rows.residual_row``), as their own
        measures the codec's refresh, not motion; the tooltip says so."""
        if energy is None:
            self._set_note("residual", "")
            self.set_rows(residual=None)
            return
        values, replaced = residual_row(energy, picture_types)
        self._set_note("residual", KEY_FRAME_NOTE if replaced else "")
        self.set_rows(residual=values)

    @property
    def row_notes(self) -> dict[str, str]:
        """Why a row is not drawn, or draws something other than its raw values."""
        return dict(self._notes)

    def _set_note(self, row: str, note: str) -> None:
        if note:
            self._notes[row] = note
        else:
            self._notes.pop(row, None)
        # Plain-text tooltips do not wrap: wrap each note to a readable width.
        lines = (textwrap.fill(f"{ROW_NAMES[r]}: {n}", 80) for r, n in self._notes.items())
        self.setToolTip("\n\n".join(lines))

    def set_rows(self, **rows: Any) -> None:
        """Row data (see ``TimelineMarks.set_rows``); the widget grows or shrinks so that
        every row keeps its height."""
        self.marks.set_rows(**rows)
        self._layout_rows()

    def set_hidden(self, hidden: frozenset[str]) -> None:
        """Rows the user switched off (names of ``timeline_state.ROWS``)."""
        self.set_rows(hidden=frozenset(hidden))

    @property
    def rows(self) -> tuple[str, ...]:
        """The rows shown now, bottom to top."""
        return self._rows

    def _layout_rows(self) -> None:
        rows = tuple(self.marks.state.visible_rows())
        if rows == self._rows and self.minimumHeight() > 0:
            return
        self._rows = rows
        lo, hi = y_range(len(rows))
        self._box.setYRange(lo, hi, padding=0)
        ticks = [(0.5, "frames")] + [
            ((a + b) / 2, ROW_NAMES[row])
            for row, (a, b) in zip(rows, map(row_band, range(len(rows))), strict=True)
        ]
        self.getPlotItem().getAxis("left").setTicks([ticks, []])
        self.setFixedHeight(_AXIS_PX + 8 + round((hi - lo) * _PX_PER_UNIT))

    def set_scene_cuts(self, cuts: Sequence[int]) -> None:
        """A dashed line at each scene cut, between the last frame of a shot and the first of
        the next (cut ``f``: at ``f``)."""
        for line in self._cut_lines:
            self._box.removeItem(line)
        pen = pg.mkPen(theme.CUT_COLOR, width=2, style=QtCore.Qt.PenStyle.DashLine)
        self._cut_lines = [pg.InfiniteLine(pos=float(f), angle=90, pen=pen) for f in cuts]
        for line in self._cut_lines:
            line.setToolTip(f"scene cut before frame {int(line.value())}")
            self._box.addItem(line, ignoreBounds=True)

    def set_suggested(self, frame: int | None) -> None:
        """Mark the next frame to label (None: no mark)."""
        self.marks.set_suggested(frame)

    def set_playhead(self, frame: int) -> None:
        self.playhead.blockSignals(True)
        self.playhead.setValue(frame + 0.5)
        self.playhead.blockSignals(False)
        self._follow(frame)

    def _follow(self, frame: int) -> None:
        """Zoomed in, keep the current frame in view as video editors do: a frame past the
        right edge (playing, stepping, a jump) turns the page so that it sits near the left
        edge, one before the left edge near the right edge (the view stayed where it was and
        the playhead left it)."""
        (x0, x1), _ = self._box.viewRange()
        width = x1 - x0
        if not self._frame_count or (frame >= x0 and frame + 1 <= x1):
            return
        lo = frame - 0.1 * width if frame + 1 > x1 else frame + 1 - 0.9 * width
        pad = edge_margin(self._frame_count)
        lo = min(max(lo, -pad), self._frame_count + pad - width)
        self._box.setXRange(lo, lo + width, padding=0)

    def zoom_to(self, start: int, stop: int) -> None:
        """Show frames ``[start, stop)``; an end of the video keeps its margin."""
        lo, hi = float(start), float(stop)
        if self._frame_count:
            pad = edge_margin(self._frame_count)
            lo = -pad if start <= 0 else lo
            hi = self._frame_count + pad if stop >= self._frame_count else hi
        self._box.setXRange(lo, hi, padding=0)

    # -- the selected span ------------------------------------------------------------------
    @property
    def span(self) -> tuple[int, int] | None:
        """The selected frames, half-open ``(start, stop)``; None when nothing is selected."""
        return self._span

    def select_span(self, first: int, last: int) -> None:
        """Select the frames from ``first`` to ``last`` (both included, either order);
        ``first`` stays the anchor a later Shift+click extends from."""
        if not self._frame_count:
            return
        top = self._frame_count - 1
        a, b = (int(np.clip(f, 0, top)) for f in (first, last))
        self._anchor = a
        span = (min(a, b), max(a, b) + 1)
        self.span_band.setRegion(span)
        self.span_band.show()
        if span != self._span:
            self._span = span
            self.span_changed.emit(span)

    def clear_span(self) -> None:
        self.span_band.hide()
        if self._span is not None:
            self._span = None
            self.span_changed.emit(None)

    def _on_span_click(self, frame: int) -> None:
        anchor = self._anchor if self._span is not None else int(np.floor(self.playhead.value()))
        self.select_span(anchor, frame)

    def _clamped_seek(self, frame: int) -> None:
        if self._frame_count:
            self.seek.emit(int(np.clip(frame, 0, self._frame_count - 1)))

    def _on_playhead_dragged(self) -> None:
        self._clamped_seek(int(np.floor(self.playhead.value())))
