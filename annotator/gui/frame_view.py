"""The frame view: the current video frame with the skeleton overlay; wheel zoom, drag pan.

Frames are row-major RGB arrays, shown with ``ImageItem(axisOrder="row-major")`` in a view box
with y pointing down, so image and joint coordinates are the same pixels. pyqtgraph's global
configuration is never changed.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

from annotator.core.skeleton import Skeleton
from annotator.gui import theme
from annotator.gui.overlay import SkeletonOverlay


class FrameImage(pg.ImageItem):  # type: ignore[misc]  # pyqtgraph is untyped
    """A row-major RGB ``ImageItem`` that keeps its picture in the painter's native format.

    pyqtgraph wraps uint8 RGB as ``Format_RGB888``, which the raster painter converts on every
    paint; converting once per frame to ``Format_RGB32`` makes each repaint (a joint drag
    repaints the frame too) several times cheaper.
    """

    def __init__(self) -> None:
        super().__init__(axisOrder="row-major")
        # Keep the scaled picture as a device pixmap: repaints that only change the overlay
        # (every step of a joint drag) then blit it instead of rescaling the frame.
        self.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def render(self) -> None:
        super().render()
        image: QtGui.QImage | None = getattr(self, "qimage", None)
        if image is not None and image.format() != QtGui.QImage.Format.Format_RGB32:
            self.qimage = image.convertToFormat(QtGui.QImage.Format.Format_RGB32)


class FrameView(pg.GraphicsView):  # type: ignore[misc]  # pyqtgraph is untyped
    """Shows one frame and the overlay; ``fit()`` fits the image to the window."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent=parent, background=theme.FRAME_BG)
        self.box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.01)
        self.setCentralItem(self.box)
        self.image = FrameImage()
        self.box.addItem(self.image)
        self.overlay: SkeletonOverlay | None = None
        self._size = (0, 0)
        self.hint = QtWidgets.QLabel(  # the window names the user's key (``refresh_key_hints``)
            "Open a video or project or drop a file here", self.viewport()
        )
        self.hint.setStyleSheet(f"color: {theme.TEXT_DIM.name()}; font-size: 13pt")
        self.hint.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)

    def set_skeleton(self, skeleton: Skeleton) -> SkeletonOverlay:
        if self.overlay is not None:
            self.box.removeItem(self.overlay)
        self.overlay = SkeletonOverlay(skeleton)
        self.overlay.setZValue(10)
        self.overlay.set_bounds(*self._size)
        self.box.addItem(self.overlay)
        return self.overlay

    def resizeEvent(self, event: QtGui.QResizeEvent | None) -> None:
        super().resizeEvent(event)
        hint = getattr(self, "hint", None)  # pyqtgraph calls this during construction
        if hint is not None:
            hint.setGeometry(self.viewport().rect())

    def set_frame(self, frame: NDArray[np.uint8]) -> None:
        self.hint.hide()
        height, width = frame.shape[:2]
        # uint8 RGB with no levels takes pyqtgraph's direct QImage path (no per-pixel rescale).
        self.image.setImage(frame, autoLevels=False, levels=None)
        if (width, height) != self._size:
            self._size = (width, height)
            if self.overlay is not None:
                self.overlay.set_bounds(width, height)
            self.box.setLimits(
                xMin=-width, xMax=2 * width, yMin=-height, yMax=2 * height, minXRange=8
            )
            self.fit()

    def fit(self) -> None:
        if self._size != (0, 0):
            w, h = self._size
            self.box.setRange(xRange=(0, w), yRange=(0, h), padding=0.01)

    def zoom(self, factor: float) -> None:
        """Zoom about the view's centre (factor > 1 zooms in)."""
        self.box.scaleBy((1 / factor, 1 / factor))
