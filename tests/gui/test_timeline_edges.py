"""The timeline's frame axis keeps a small margin each side of the whole video, so that the
first and last frames' marks and the playhead on them stand clear of the plot's edges, and
clicks at (or beyond) either end still seek to the right frame."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from annotator.gui.timeline import Timeline, edge_margin
from annotator.gui.timeline_state import FrameStatus

FRAMES = 100


def _timeline(qtbot) -> Timeline:
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.resize(600, 90)
    timeline.show()
    qtbot.waitExposed(timeline)
    timeline.set_frame_count(FRAMES)
    status = np.zeros(FRAMES, dtype=np.int8)
    status[[0, FRAMES - 1]] = FrameStatus.LABELLED
    timeline.set_status(status)
    qtbot.wait(20)
    return timeline


def _pixel_x(timeline: Timeline, x: float) -> float:
    """Where frame coordinate ``x`` is on the widget, in pixels."""
    box = timeline.getPlotItem().getViewBox()
    return float(timeline.mapFromScene(box.mapViewToScene(QtCore.QPointF(x, 0.5))).x())


def _click(qtbot, timeline: Timeline, x: float) -> int:
    box = timeline.getPlotItem().getViewBox()
    pos = timeline.mapFromScene(box.mapViewToScene(QtCore.QPointF(x, 0.5)))
    with qtbot.waitSignal(timeline.seek, timeout=2000) as blocker:
        qtbot.mouseClick(timeline.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    return int(blocker.args[0])


def _clear_of_edges(timeline: Timeline, lo: float, hi: float, px: float = 3.0) -> bool:
    box = timeline.getPlotItem().getViewBox()
    rect = timeline.mapFromScene(box.sceneBoundingRect()).boundingRect()
    return (
        _pixel_x(timeline, lo) >= rect.left() + px and _pixel_x(timeline, hi) <= rect.right() - px
    )


def test_the_whole_video_has_a_margin_each_side(qtbot) -> None:
    timeline = _timeline(qtbot)
    (x0, x1), _ = timeline.getPlotItem().getViewBox().viewRange()
    pad = edge_margin(FRAMES)
    assert pad >= 0.5
    assert np.isclose(x0, -pad) and np.isclose(x1, FRAMES + pad)
    # Frame 0's mark [0, 1) and the last frame's [99, 100) are a few pixels inside the plot.
    assert _clear_of_edges(timeline, 0.0, float(FRAMES))
    # The playhead on either end frame is inside too (document -> widget).
    for frame in (0, FRAMES - 1):
        timeline.set_playhead(frame)
        assert _clear_of_edges(timeline, timeline.playhead.value(), timeline.playhead.value())


def test_a_long_video_keeps_a_margin_of_pixels(qtbot) -> None:
    assert edge_margin(10) == 0.5  # short: half a frame
    assert edge_margin(100_000) > 500  # long: a fraction of the video, several pixels wide


def test_clicks_at_both_ends_seek_to_the_end_frames(qtbot) -> None:
    timeline = _timeline(qtbot)
    assert _click(qtbot, timeline, 0.5) == 0
    assert _click(qtbot, timeline, FRAMES - 0.5) == FRAMES - 1
    assert _click(qtbot, timeline, 1.5) == 1
    pad = edge_margin(FRAMES)
    # A click in a margin goes to the nearest end, never outside the video.
    assert _click(qtbot, timeline, -pad / 2) == 0
    assert _click(qtbot, timeline, FRAMES + pad / 2) == FRAMES - 1


def test_whole_timeline_and_double_click_keep_the_margin(qtbot) -> None:
    timeline = _timeline(qtbot)
    box = timeline.getPlotItem().getViewBox()
    pad = edge_margin(FRAMES)
    timeline.zoom_to(20, 40)
    assert np.allclose(box.viewRange()[0], (20, 40))
    timeline.zoom_to(0, FRAMES)  # View > Show Whole Timeline
    assert np.allclose(box.viewRange()[0], (-pad, FRAMES + pad))
    timeline.zoom_to(20, 40)
    pos = timeline.mapFromScene(box.mapViewToScene(QtCore.QPointF(30, 0.5)))
    left = QtCore.Qt.MouseButton.LeftButton
    qtbot.mouseClick(timeline.viewport(), left, pos=pos)  # pyqtgraph's double click: a
    qtbot.mouseDClick(timeline.viewport(), left, pos=pos)  # press, then a double press
    qtbot.mouseRelease(timeline.viewport(), left, pos=pos)
    qtbot.waitUntil(lambda: np.allclose(box.viewRange()[0], (-pad, FRAMES + pad)), timeout=2000)
