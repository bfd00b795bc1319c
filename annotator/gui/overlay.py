"""The skeleton drawn over the frame, and the mouse gestures on it.

The overlay paints an immutable ``PoseView`` (one frame's joints with their visibility and
source) handed to it by the window; it never edits data. Mouse gestures become signals: a
click asks to place the current joint, a drag on a joint asks to move it
(start / move / finish, so the window can merge one drag into one undo step), a right click
asks for the context menu. Joints are drawn at a fixed size in screen pixels whatever the
zoom, so markers are painted in device coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui

from annotator.core.codes import Source, Visibility
from annotator.core.skeleton import Skeleton
from annotator.gui import theme

if TYPE_CHECKING:
    from annotator.gui.people import PersonPose


@dataclass(frozen=True)
class PoseView:
    """One frame's pose as the overlay shows it."""

    xy: NDArray[np.float64]  # (J, 2), NaN where there is no position
    visibility: NDArray[np.int8]  # (J,) Visibility codes
    source: NDArray[np.int8]  # (J,) Source codes
    sigma: NDArray[np.float64] | None = None  # (J,) fill's standard deviation, pixels; NaN none
    # (J,) True where the value is only held from the nearest label (before the first or after
    # the last one): not a fill between labels, so it is drawn apart.
    held: NDArray[np.bool_] | None = None

    @classmethod
    def empty(cls, num_joints: int) -> PoseView:
        return cls(
            np.full((num_joints, 2), np.nan),
            np.zeros(num_joints, dtype=np.int8),
            np.full(num_joints, Source.NONE, dtype=np.int8),
        )

    def shown(self) -> NDArray[np.bool_]:
        """Joints drawn: those with a finite position that are not absent."""
        finite = np.isfinite(self.xy).all(axis=1)
        return np.asarray(finite & (self.visibility != Visibility.ABSENT), dtype=np.bool_)

    def held_mask(self) -> NDArray[np.bool_]:
        """(J,) True for held values (never for manual labels)."""
        if self.held is None:
            return np.zeros(len(self.source), dtype=np.bool_)
        return np.asarray(self.held & (self.source != Source.MANUAL), dtype=np.bool_)


class _Style:
    """Pens and brushes for one skeleton, built once (painting runs on every drag step)."""

    def __init__(self, skeleton: Skeleton) -> None:
        colors = [QtGui.QColor(c) for c in skeleton.colors]
        white = QtGui.QColor("#ffffff")
        self.outline = QtGui.QPen(white, 1.5)
        self.cross = QtGui.QPen(white, 1.2)
        self.current = QtGui.QPen(theme.CURRENT_JOINT, 1.5, QtCore.Qt.PenStyle.DotLine)
        self.solid = [QtGui.QBrush(c) for c in colors]
        self.faded = [QtGui.QBrush(QtGui.QColor(c.red(), c.green(), c.blue(), 90)) for c in colors]
        self.ring = [QtGui.QPen(c, 2.5) for c in colors]
        dashed = [QtGui.QPen(c, 2.0, QtCore.Qt.PenStyle.DashLine) for c in colors]
        self.edge = [(d, QtGui.QPen(c, 2.0)) for d, c in zip(dashed, colors, strict=True)]
        self.source = {int(s): QtGui.QBrush(c) for s, c in theme.SOURCE_COLORS.items()}
        # Held values: a thin dotted, dimmed ring with no source dot, and dotted edges.
        self.held = [
            QtGui.QPen(QtGui.QColor(c.red(), c.green(), c.blue(), 150), 1.5, theme.HELD_STYLE)
            for c in colors
        ]
        self.spread = [
            QtGui.QPen(QtGui.QColor(c.red(), c.green(), c.blue(), 110), 1.0) for c in colors
        ]
        # Predicted joints (the estimator's guess, to correct): a diamond in the joint's colour,
        # half transparent, outlined in the predicted source colour.
        self.predicted = QtGui.QPen(theme.SOURCE_COLORS[Source.PREDICTED], 1.5)
        self.guess = [QtGui.QBrush(QtGui.QColor(c.red(), c.green(), c.blue(), 150)) for c in colors]


def diamond(centre: QtCore.QPointF, r: float) -> QtGui.QPolygonF:
    """The predicted joint's marker: a square on its corner, ``r`` from centre to corner."""
    x, y = centre.x(), centre.y()
    return QtGui.QPolygonF(
        [
            QtCore.QPointF(x, y - r),
            QtCore.QPointF(x + r, y),
            QtCore.QPointF(x, y + r),
            QtCore.QPointF(x - r, y),
        ]
    )


class SkeletonOverlay(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph is untyped
    """Paints one pose; turns mouse gestures into requests (signals)."""

    place_requested = QtCore.Signal(float, float)  # image x, y
    drag_started = QtCore.Signal(int)  # joint
    drag_moved = QtCore.Signal(int, float, float)  # joint, image x, y
    drag_finished = QtCore.Signal(int)
    menu_requested = QtCore.Signal(object, object)  # joint or None, QPoint (screen)

    def __init__(self, skeleton: Skeleton) -> None:
        super().__init__()
        self._skeleton = skeleton
        self._style = _Style(skeleton)
        self._pose = PoseView.empty(skeleton.num_joints)
        self._current = 0
        self._bounds = QtCore.QRectF(0, 0, 1, 1)
        self._dragging: int | None = None
        self._people: tuple[PersonPose, ...] = ()  # every person, when there are several
        self.spread_all = False  # uncertainty circles for every joint, not just the current one
        self.marker_radius = theme.JOINT_RADIUS  # screen pixels (Settings > Marker size)
        self.paint_count = 0  # redraws, counted for the benchmark and tests

    # -- state handed in by the window -------------------------------------------------------
    def set_bounds(self, width: int, height: int) -> None:
        self.prepareGeometryChange()
        self._bounds = QtCore.QRectF(0, 0, width, height)

    def set_pose(self, pose: PoseView) -> None:
        self._pose = pose
        self.update()

    def set_people(self, people: Sequence[PersonPose]) -> None:
        """Every person on this frame (``people.py``): the others are drawn dimmed under the
        active one's pose, which stays the only one that can be picked."""
        self._people = tuple(people)
        self.update()

    @property
    def people(self) -> tuple[PersonPose, ...]:
        return self._people

    def set_marker_style(self, radius: float, opacity: float) -> None:
        """Marker radius (screen pixels) and the skeleton's opacity over the frame."""
        self.marker_radius = float(radius)
        self.setOpacity(float(opacity))
        self.update()

    def set_current_joint(self, joint: int) -> None:
        self._current = joint
        self.update()

    @property
    def pose(self) -> PoseView:
        return self._pose

    @property
    def dragging(self) -> int | None:
        return self._dragging

    # -- geometry ----------------------------------------------------------------------------
    def boundingRect(self) -> QtCore.QRectF:
        # The whole image (plus a margin for joints dragged just outside) catches clicks.
        m = 0.25 * max(self._bounds.width(), self._bounds.height())
        return self._bounds.adjusted(-m, -m, m, m)

    def joint_at(self, pos: QtCore.QPointF) -> int | None:
        """The joint drawn nearest ``pos`` (item coordinates) within the pick radius."""
        shown = np.flatnonzero(self._pose.shown())
        if len(shown) == 0:
            return None
        view = self.getViewWidget()
        if view is None:
            return None
        to_device = self.sceneTransform() * view.viewportTransform()  # item -> view pixels
        target = to_device.map(pos)
        best, best_d = None, max(theme.PICK_RADIUS, self.marker_radius + 4)
        for j in shown:
            p = to_device.map(QtCore.QPointF(*self._pose.xy[j]))
            d = float(np.hypot(p.x() - target.x(), p.y() - target.y()))
            if d <= best_d:
                best, best_d = int(j), d
        return best

    # -- painting ----------------------------------------------------------------------------
    def paint(self, painter: QtGui.QPainter, *args: Any) -> None:
        self.paint_count += 1
        pose = self._pose
        shown = pose.shown()
        transform = painter.transform()
        if len(self._people) > 1:
            from annotator.gui import people

            painter.save()
            painter.resetTransform()
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            people.paint_others(
                painter, transform, self._skeleton, self._people, theme.JOINT_RADIUS
            )
            painter.restore()
        if not shown.any():
            self._paint_tags(painter, transform)
            return
        pts = [
            transform.map(QtCore.QPointF(float(x), float(y))) if ok else None
            for (x, y), ok in zip(pose.xy.tolist(), shown.tolist(), strict=True)
        ]
        manual = (pose.source == Source.MANUAL).tolist()
        held = pose.held_mask().tolist()
        occluded = (pose.visibility == Visibility.OCCLUDED).tolist()
        sources = pose.source.tolist()
        style = self._style
        painter.save()
        painter.resetTransform()  # draw markers in device pixels: constant size at any zoom
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        for a, b in self._skeleton.edges:
            pa, pb = pts[a], pts[b]
            if pa is not None and pb is not None:
                pen = (
                    style.held[b] if held[a] or held[b] else style.edge[b][manual[a] and manual[b]]
                )
                painter.setPen(pen)
                painter.drawLine(pa, pb)
        r = self.marker_radius
        no_brush = QtCore.Qt.BrushStyle.NoBrush
        if pose.sigma is not None:
            # The fill's uncertainty: a faint 2-sigma circle, in image pixels scaled to screen
            # (the current joint's only, unless asked for all: they overlap a lot).
            scale = math.hypot(transform.m11(), transform.m12())
            painter.setBrush(no_brush)
            for j, (p, sd) in enumerate(zip(pts, pose.sigma.tolist(), strict=True)):
                wanted = self.spread_all or j == self._current
                if (
                    wanted
                    and p is not None
                    and not manual[j]
                    and math.isfinite(sd)
                    and 2 * sd * scale > r
                ):
                    painter.setPen(style.spread[j])
                    painter.drawEllipse(p, 2 * sd * scale, 2 * sd * scale)
        for j, p in enumerate(pts):
            if p is None:
                continue
            if manual[j]:
                painter.setPen(style.outline)
                painter.setBrush(style.faded[j] if occluded[j] else style.solid[j])
                painter.drawEllipse(p, r, r)
            elif sources[j] == Source.PREDICTED:
                painter.setPen(style.predicted)
                painter.setBrush(style.guess[j])
                painter.drawPolygon(diamond(p, r * 1.35))
            elif held[j]:
                painter.setPen(style.held[j])
                painter.setBrush(no_brush)
                painter.drawEllipse(p, r, r)
            else:
                painter.setPen(style.ring[j])
                painter.setBrush(no_brush)
                painter.drawEllipse(p, r, r)
                painter.setPen(QtCore.Qt.PenStyle.NoPen)
                painter.setBrush(style.source.get(sources[j], style.source[Source.NONE]))
                painter.drawEllipse(p, 2.0, 2.0)
            if occluded[j]:
                painter.setPen(style.cross)
                d = r * 0.7
                painter.drawLine(p + QtCore.QPointF(-d, -d), p + QtCore.QPointF(d, d))
            if j == self._current:
                painter.setPen(style.current)
                painter.setBrush(no_brush)
                painter.drawEllipse(p, r + 4, r + 4)
        painter.restore()
        self._paint_tags(painter, transform)

    def _paint_tags(self, painter: QtGui.QPainter, transform: QtGui.QTransform) -> None:
        """Each person's ``#track`` tag, over every pose (only with several people)."""
        if len(self._people) > 1:
            from annotator.gui import people

            painter.save()
            painter.resetTransform()
            people.paint_tags(painter, transform, self._people)
            painter.restore()

    # -- mouse -------------------------------------------------------------------------------
    def mouseClickEvent(self, ev: Any) -> None:
        # A click always places the current joint, even over another marker: joints often
        # overlap (crossed legs), so a click that sometimes selected would be unpredictable.
        # Joints are chosen with the joint list, the keys, the right-click menu or a drag.
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            p = ev.pos()
            self.place_requested.emit(float(p.x()), float(p.y()))
        elif ev.button() == QtCore.Qt.MouseButton.RightButton:
            ev.accept()
            self.menu_requested.emit(self.joint_at(ev.pos()), ev.screenPos().toPoint())
        else:
            ev.ignore()

    def mouseDragEvent(self, ev: Any) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            joint = self.joint_at(ev.buttonDownPos())
            if joint is None:
                ev.ignore()  # not on a joint: let the view pan
                return
            self._dragging = joint
            self.drag_started.emit(joint)
        if self._dragging is None:
            ev.ignore()
            return
        ev.accept()
        p = ev.pos()
        self.drag_moved.emit(self._dragging, float(p.x()), float(p.y()))
        if ev.isFinish():
            joint, self._dragging = self._dragging, None
            self.drag_finished.emit(joint)
