"""Timeline: the pure state functions, and the widget in both directions (status -> marks;
click/drag -> seek), staying cheap at 100,000 frames."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore

from annotator.core.codes import Source, Visibility
from annotator.gui.timeline import Timeline, edge_margin
from annotator.gui.timeline_state import (
    FrameStatus,
    bin_edges,
    bin_status,
    frame_status,
    next_marked,
    runs,
)


def test_frame_status_from_labels_and_fill() -> None:
    manual = np.full((6, 3, 3), np.nan, dtype=np.float32)
    manual[:, :, 2] = Visibility.UNLABELLED
    manual[0, :, 2] = Visibility.VISIBLE  # all joints
    manual[5, 0, 2] = Visibility.ABSENT  # one joint: absent is a label
    source = np.full((6, 3), Source.NONE, dtype=np.int8)
    source[1:4, :] = Source.LINEAR
    status = frame_status(manual, source)
    e, f, p, lab = FrameStatus.EMPTY, FrameStatus.FILLED, FrameStatus.PARTIAL, FrameStatus.LABELLED
    assert status.tolist() == [lab, f, f, f, e, p]


def test_bins_take_the_strongest_mark_and_runs_merge() -> None:
    status = np.zeros(1000, dtype=np.int8)
    status[100:600] = FrameStatus.FILLED
    status[100] = FrameStatus.LABELLED
    status[599] = FrameStatus.PARTIAL
    binned = bin_status(status, 0, 1000, 10)
    e, f, p, lab = FrameStatus.EMPTY, FrameStatus.FILLED, FrameStatus.PARTIAL, FrameStatus.LABELLED
    assert binned.tolist() == [e, lab, f, f, f, p, e, e, e, e]
    marks = runs(binned, bin_edges(0, 1000, 10))
    assert [(m.x0, m.x1, m.status) for m in marks] == [
        (100.0, 200.0, lab),
        (200.0, 500.0, f),
        (500.0, 600.0, p),
    ]
    # Fewer frames than pixels: one bin per frame.
    assert bin_status(status, 95, 105, 100).tolist() == status[95:105].tolist()


def test_next_marked_frame() -> None:
    frames = np.array([3, 10, 20])
    assert next_marked(frames, 10, forward=True) == 20
    assert next_marked(frames, 10, forward=False) == 3
    assert next_marked(frames, 20, forward=True) is None
    assert next_marked(np.array([], dtype=np.int64), 0, forward=True) is None


def test_widget_paints_aggregated_marks_for_100k_frames(qtbot) -> None:
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.resize(800, 90)
    timeline.show()
    qtbot.waitExposed(timeline)
    n = 100_000
    status = np.zeros(n, dtype=np.int8)
    status[::7] = FrameStatus.LABELLED  # a label every 7 frames: 14,286 labelled frames
    status[50_000:] = FrameStatus.EMPTY
    timeline.set_frame_count(n)
    timeline.set_status(status)
    timeline.set_proposed(np.arange(0, n, 13))
    qtbot.wait(20)  # let the view box apply its new range
    t0 = time.perf_counter()
    timeline.viewport().repaint()
    elapsed = time.perf_counter() - t0
    # One mark per run of pixels, not per frame: a handful of rectangles plus <= 1 tick/pixel.
    assert 0 < timeline.marks.last_paint_rects <= 1 + timeline.width()
    assert elapsed < 1.0  # generous: a per-frame item would take far longer
    # Zooming in shows individual frames.
    timeline.zoom_to(0, 50)
    qtbot.wait(20)
    timeline.viewport().repaint()
    assert timeline.marks.last_paint_rects >= 8


def test_click_and_drag_seek(qtbot) -> None:
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.resize(600, 90)
    timeline.show()
    qtbot.waitExposed(timeline)
    timeline.set_frame_count(100)
    timeline.set_status(np.zeros(100, dtype=np.int8))
    qtbot.wait(20)
    box = timeline.getPlotItem().getViewBox()
    scene_pos = box.mapViewToScene(QtCore.QPointF(40.5, 0.5))
    pos = timeline.mapFromScene(scene_pos)
    with qtbot.waitSignal(timeline.seek, timeout=2000) as blocker:
        qtbot.mouseClick(timeline.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [40]
    # Model -> widget: the playhead follows the current frame.
    timeline.set_playhead(70)
    assert timeline.playhead.value() == 70.5


def test_zoomed_in_the_view_keeps_the_current_frame(qtbot) -> None:
    """Playing or stepping past the edge of a zoomed-in timeline turns the page (the view
    stayed put and the playhead left it); within the view nothing moves."""
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.resize(600, 90)
    timeline.show()
    timeline.set_frame_count(100)
    timeline.zoom_to(10, 30)
    box = timeline.getPlotItem().getViewBox()

    def view() -> tuple[float, float]:
        (x0, x1), _ = box.viewRange()
        return x0, x1

    timeline.set_playhead(20)
    assert view() == pytest.approx((10, 30))
    timeline.set_playhead(30)  # one past the right edge: it now sits near the left edge
    x0, x1 = view()
    assert x0 <= 30 and x1 >= 31 and x0 > 25 and x1 - x0 == pytest.approx(20)
    timeline.set_playhead(20)  # back before the left edge: near the right edge
    x0, x1 = view()
    assert x0 <= 20 and x1 >= 21 and x1 < 25 and x1 - x0 == pytest.approx(20)
    timeline.set_playhead(99)  # the end: the view stops at the video's margin
    x0, x1 = view()
    assert x0 <= 99 and 100 <= x1 <= 100 + edge_margin(100) + 1e-9


def test_held_values_are_not_filled_spans() -> None:
    manual = np.full((5, 1, 3), np.nan, dtype=np.float32)
    manual[:, :, 2] = Visibility.UNLABELLED
    manual[1, 0, 2] = manual[3, 0, 2] = Visibility.VISIBLE
    source = np.full((5, 1), Source.LINEAR, dtype=np.int8)
    source[[1, 3]] = Source.MANUAL
    held = np.zeros((5, 1), dtype=bool)
    held[[0, 4]] = True
    empty, filled, labelled = FrameStatus.EMPTY, FrameStatus.FILLED, FrameStatus.LABELLED
    assert frame_status(manual, source, held).tolist() == [empty, labelled, filled, labelled, empty]


def test_frames_of_the_estimators_joints_are_their_own_status() -> None:
    """A frame whose values include the estimator's joints (Prefill, an import) and no label
    is PREDICTED: drawn apart from the fill, for review; a label on it still wins."""
    manual = np.full((5, 2, 3), np.nan, dtype=np.float32)
    manual[:, :, 2] = Visibility.UNLABELLED
    manual[[0, 4], :, 2] = manual[2, 0, 2] = Visibility.VISIBLE
    source = np.full((5, 2), Source.HPIM, dtype=np.int8)
    source[[0, 4]] = Source.MANUAL
    source[1, 1] = source[2, 1] = Source.PREDICTED
    assert frame_status(manual, source).tolist() == [
        FrameStatus.LABELLED,
        FrameStatus.PREDICTED,
        FrameStatus.PARTIAL,
        FrameStatus.FILLED,
        FrameStatus.LABELLED,
    ]


def test_window_with_a_100k_frame_video(qtbot) -> None:
    from annotator.core import commands as cmd
    from annotator.core.document import Document
    from annotator.core.skeleton import PENN_ACTION
    from annotator.gui import opening
    from annotator.gui.app import make_window
    from annotator.gui.session import Session
    from annotator.video.synthetic import SyntheticVideo

    n = 100_000
    frames = np.zeros((n, 4, 6, 3), dtype=np.uint8)
    reader = SyntheticVideo(frames, fps=30.0)
    doc = Document.new(opening.video_ref(reader), PENN_ACTION, reader.timestamps)
    window = make_window(headless=True)
    qtbot.addWidget(window)
    window.show()
    session = Session(reader, doc, method="linear")
    window.set_session(session)
    pose = np.zeros((1, 13, 3), dtype=np.float32)
    pose[0, :, 0], pose[0, :, 1], pose[0, :, 2] = 2.0, 2.0, Visibility.VISIBLE
    t0 = time.perf_counter()
    session.push(cmd.SetLabels(10, pose))
    session.push(cmd.SetLabels(n - 10, pose))
    elapsed = time.perf_counter() - t0
    qtbot.wait(20)  # the timeline's view box applies its range
    window.timeline.viewport().repaint()
    status = window.timeline.marks.status
    assert status[10] == status[n - 10] == FrameStatus.LABELLED
    assert (status[11 : n - 10] == FrameStatus.FILLED).all()
    assert 0 < window.timeline.marks.last_paint_rects <= 5
    assert elapsed < 5.0  # generous bound for a loaded machine; the bench gives figures
    session.go_to(n // 2)
    assert window.frame_spin.value() == n // 2
    session.history.set_clean()
    window.close()
