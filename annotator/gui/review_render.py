"""Frames with the skeleton painted in, for sharing a review (overlay video, contact sheet).

The look follows the frame view's overlay (``overlay.py``): manual labels are solid discs with
a white outline and solid edges, filled values are rings in the joint's colour with a dot of
the fill's source colour and dashed edges, held values dotted rings. Sizes scale with the
picture, not the screen. Painting uses ``QPainter`` on a ``QImage``, which Qt allows off the
GUI thread, so the export worker renders while the window stays responsive.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui

from annotator.core.codes import Source, Visibility
from annotator.core.skeleton import Skeleton
from annotator.gui import theme
from annotator.gui.review_state import PoseTrack

CAPTION_BG = QtGui.QColor(0, 0, 0, 150)
SHEET_BG = QtGui.QColor("#15171b")


def to_qimage(rgb: NDArray[np.uint8]) -> QtGui.QImage:
    """An (H, W, 3) RGB array as a paintable QImage (a copy)."""
    image = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = image.shape[:2]
    wrapped = QtGui.QImage(image.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888)
    return wrapped.convertToFormat(QtGui.QImage.Format.Format_ARGB32_Premultiplied)


def to_array(image: QtGui.QImage) -> NDArray[np.uint8]:
    """A QImage as an (H, W, 3) RGB array (a copy)."""
    rgb = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    h, w, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    buffer = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * h)
    out: NDArray[np.uint8] = buffer.reshape(h, stride)[:, : 3 * w].reshape(h, w, 3).copy()
    return out


def marker_radius(width: int, height: int) -> float:
    """Joint marker radius in image pixels: readable on a small clip, modest on a large one."""
    return max(2.5, min(width, height) / 70)


def paint_pose(
    painter: QtGui.QPainter, skeleton: Skeleton, track: PoseTrack, frame: int, radius: float
) -> None:
    """Paint ``track``'s pose of ``frame`` in image coordinates (the painter's)."""
    xy, vis, src, _sigma, held = track.frame(frame)
    shown = np.isfinite(xy).all(axis=1) & (vis != Visibility.ABSENT)
    manual = src == Source.MANUAL
    colors = [QtGui.QColor(c) for c in skeleton.colors]
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    width = max(1.0, radius * 0.4)
    for a, b in skeleton.edges:
        if not (shown[a] and shown[b]):
            continue
        if held[a] or held[b]:
            style = theme.HELD_STYLE
        elif manual[a] and manual[b]:
            style = QtCore.Qt.PenStyle.SolidLine
        else:
            style = QtCore.Qt.PenStyle.DashLine
        painter.setPen(QtGui.QPen(colors[b], width, style))
        painter.drawLine(QtCore.QPointF(*xy[a]), QtCore.QPointF(*xy[b]))
    for j in np.flatnonzero(shown).tolist():
        p = QtCore.QPointF(*xy[j])
        color = colors[j]
        if manual[j]:
            fill = QtGui.QColor(color)
            if vis[j] == Visibility.OCCLUDED:
                fill.setAlpha(90)
            painter.setPen(QtGui.QPen(QtGui.QColor("#ffffff"), max(1.0, radius * 0.25)))
            painter.setBrush(fill)
            painter.drawEllipse(p, radius, radius)
        elif held[j]:
            painter.setPen(QtGui.QPen(color, max(1.0, radius * 0.25), theme.HELD_STYLE))
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawEllipse(p, radius, radius)
        else:
            painter.setPen(QtGui.QPen(color, max(1.0, radius * 0.4)))
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawEllipse(p, radius, radius)
            painter.setPen(QtCore.Qt.PenStyle.NoPen)
            dot = theme.SOURCE_COLORS.get(Source(int(src[j])), theme.SOURCE_COLORS[Source.NONE])
            painter.setBrush(dot)
            painter.drawEllipse(p, radius * 0.4, radius * 0.4)


def paint_caption(painter: QtGui.QPainter, text: str, width: int, height: int) -> None:
    """``text`` on a dark band across the top of a ``width`` x ``height`` picture."""
    font = QtGui.QFont()
    font.setPixelSize(max(9, min(22, height // 14)))
    painter.setFont(font)
    metrics = QtGui.QFontMetrics(font)
    band = metrics.height() + 4
    painter.fillRect(QtCore.QRectF(0, 0, width, band), CAPTION_BG)
    painter.setPen(QtGui.QColor("#ffffff"))
    painter.drawText(
        QtCore.QRectF(4, 0, width - 8, band),
        int(QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft),
        metrics.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, width - 8),
    )


def frame_caption(track: PoseTrack, frame: int) -> str:
    """ "frame N · labelled" / "frame N · filled, σ ≤ M px" / "frame N" for a tile or frame."""
    labelled = track.labelled()[frame]
    if labelled.all():
        return f"frame {frame} · labelled"
    parts = [f"frame {frame}"]
    if labelled.any():
        parts.append(f"{int(labelled.sum())} labelled")
    if track.variance is not None:
        var = np.where(labelled, np.nan, track.variance[frame])
        if np.isfinite(var).any():
            parts.append(f"σ ≤ {float(np.sqrt(np.nanmax(var))):.0f} px")
    return " · ".join(parts)


def render_frame(
    rgb: NDArray[np.uint8],
    skeleton: Skeleton,
    tracks: Sequence[PoseTrack],
    frame: int,
    caption: str | None,
) -> NDArray[np.uint8]:
    """``rgb`` with every track's pose of ``frame`` painted on it, the first on top (and
    ``caption`` across the top, if any)."""
    image = to_qimage(rgb)
    painter = QtGui.QPainter(image)
    radius = marker_radius(image.width(), image.height())
    try:
        for track in reversed(tracks):  # the first on top
            paint_pose(painter, skeleton, track, frame, radius)
        if caption:
            paint_caption(painter, caption, image.width(), image.height())
    finally:
        painter.end()
    return to_array(image)


def compose_sheet(
    frames: Sequence[tuple[int, NDArray[np.uint8]]],
    skeleton: Skeleton,
    tracks: Sequence[PoseTrack],
    columns: int,
    tile_width: int,
    gap: int = 4,
) -> QtGui.QImage:
    """A contact sheet: each (index, rgb) frame scaled to ``tile_width``, every track's pose
    (the first on top) and the first track's caption painted at tile size (so markers and
    text stay readable), in a grid of ``columns``, ``gap`` pixels apart; the sheet's size is
    ``sheet_size``."""
    if not frames:
        raise ValueError("a contact sheet needs at least one frame")
    first = frames[0][1]
    th = tile_height(first.shape[1], first.shape[0], tile_width)
    width, height = sheet_size(len(frames), columns, tile_width, th, gap)
    sheet = QtGui.QImage(width, height, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    sheet.fill(SHEET_BG)
    painter = QtGui.QPainter(sheet)
    radius = marker_radius(tile_width, th)
    try:
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
        for k, (index, rgb) in enumerate(frames):
            r, c = divmod(k, columns)
            x0, y0 = gap + c * (tile_width + gap), gap + r * (th + gap)
            painter.save()
            painter.translate(x0, y0)
            painter.setClipRect(QtCore.QRectF(0, 0, tile_width, th))
            painter.drawImage(QtCore.QRectF(0, 0, tile_width, th), to_qimage(rgb))
            scale = tile_width / max(1, rgb.shape[1])
            painter.save()
            painter.scale(scale, th / max(1, rgb.shape[0]))
            for track in reversed(tracks):  # the first on top
                paint_pose(painter, skeleton, track, index, radius / scale)
            painter.restore()
            paint_caption(painter, frame_caption(tracks[0], index), tile_width, th)
            painter.restore()
    finally:
        painter.end()
    return sheet


def tile_height(width: int, height: int, tile_width: int) -> int:
    """A tile's height for a ``width`` x ``height`` frame shown ``tile_width`` wide."""
    return max(1, round(height * tile_width / max(1, width)))


def sheet_size(
    count: int, columns: int, tile_width: int, tile_h: int, gap: int = 4
) -> tuple[int, int]:
    """(width, height) in pixels of a sheet of ``count`` tiles in ``columns`` columns."""
    rows = -(-count // columns)
    return columns * (tile_width + gap) + gap, rows * (tile_h + gap) + gap
