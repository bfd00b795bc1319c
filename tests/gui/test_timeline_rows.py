"""Timeline rows: the gate's decisions, residual energy, fill uncertainty and held/flagged
spans, each shown when its data exist and toggled from the View menu; G and J jump to gated
and uncertain frames. Pure functions first, then the window in both directions."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from annotator.core import commands as cmd
from annotator.gui.keymap import ROW_ACTIONS
from annotator.gui.timeline_state import (
    HEAT_LEVELS,
    FrameStatus,
    TimelineState,
    bin_curve,
    frame_uncertainty,
    heat_levels,
    scale_curve,
    uncertain_frames,
)
from tests.gui.conftest import open_and_wait


def test_rows_appear_with_their_data_and_hide_on_request() -> None:
    status = np.zeros(6, dtype=np.int8)
    assert TimelineState(status=status).visible_rows() == []
    gate = np.full(6, -1, dtype=np.int8)
    assert TimelineState(status=status, gate=gate).visible_rows() == []  # no decision yet
    gate[2] = 1
    state = TimelineState(
        status=status,
        gate=gate,
        residual=np.array([np.nan, 1, 2, 3, 2, 1.0]),
        scores=np.linspace(0, 1, 6),
        held=np.array([1, 0, 0, 0, 0, 0], dtype=bool),
    )
    assert state.visible_rows() == ["spans", "residual", "gate", "scores"]
    hidden = TimelineState(status=status, gate=gate, hidden=frozenset({"gate"}))
    assert hidden.visible_rows() == []


def test_curves_skip_unknown_frames_and_heat_is_quantised() -> None:
    values = np.array([np.nan, 0.2, np.nan, 0.8])
    xs, ys = bin_curve(values, 0, 4, 10)
    assert xs.tolist() == [1.5, 3.5] and ys.tolist() == [0.2, 0.8]
    xs, ys = bin_curve(values, 0, 4, 2)  # a bin with one unknown frame keeps its value
    assert ys.tolist() == [0.2, 0.8]
    levels = heat_levels(np.array([np.nan, 0.0, 5.0, 10.0]), 0, 4, 10, top=10.0)
    assert levels.tolist() == [0, 1, HEAT_LEVELS // 2, HEAT_LEVELS]
    scaled = scale_curve(np.array([np.nan, 2.0, 4.0]))
    assert scaled is not None and np.isnan(scaled[0]) and scaled[1:].tolist() == [0.0, 1.0]
    assert scale_curve(np.full(3, np.nan)) is None


def test_uncertainty_per_frame_and_its_peaks() -> None:
    manual = np.zeros((7, 2, 3))
    manual[[0, 3, 6], :, 2] = 1  # labelled frames
    variance = np.array([[0, 0], [4, 1], [9, 16], [0, 0], [1, 1], [25, 0], [0, 0.0]])
    sigma = frame_uncertainty(variance, manual)
    assert sigma is not None
    assert np.isnan(sigma[[0, 3, 6]]).all() and sigma[[1, 2, 4, 5]].tolist() == [2, 4, 1, 5]
    status = np.where(manual[:, :, 2].all(axis=1), FrameStatus.LABELLED, FrameStatus.FILLED).astype(
        np.int8
    )
    assert uncertain_frames(sigma, status).tolist() == [2, 5]
    assert frame_uncertainty(None, manual) is None


def _label(session, truth, frames) -> None:
    for f in frames:
        values = np.concatenate([truth[f], np.ones((truth.shape[1], 1))], axis=1)
        session.push(cmd.SetLabels(f, values[None].astype(np.float32)))


def test_gate_row_follows_the_document_and_its_toggle(qtbot, window, figure_video) -> None:
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session, timeline = window.session, window.timeline
    assert "gate" not in timeline.rows
    height = timeline.height()
    gate = np.zeros(40, dtype=int)
    gate[[8, 20, 33]] = 1
    session.accept_proposals(np.asarray([8, 20, 33]), None, "gate", gate)
    assert "gate" in timeline.rows and timeline.height() > height
    assert timeline.marks.state.gate is not None and timeline.marks.state.gate[20] == 1
    # The View menu hides and shows it again.
    action = window.actions_by_id[ROW_ACTIONS["gate"]]
    action.trigger()
    assert not action.isChecked() and "gate" not in timeline.rows
    action.trigger()
    assert "gate" in timeline.rows
    # G and Shift+G walk the accepted frames.
    session.go_to(0)
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_G)
    assert session.frame == 8
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_G)
    assert session.frame == 20
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_G, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert session.frame == 8
    session.undo()  # the decisions leave with the proposals, and so does the row
    assert "gate" not in timeline.rows


def test_residual_uncertainty_and_spans_rows(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session, timeline = window.session, window.timeline
    energy = np.linspace(0, 5, 40)
    energy[0] = np.nan
    session.doc.set_residual_energy(energy)  # what set_motion derives from the fields
    assert "residual" in timeline.rows
    _label(session, truth, (10, 30))
    session.set_method("hpim")
    qtbot.waitUntil(lambda: "uncertainty" in timeline.rows, timeout=5000)
    uncertainty = timeline.marks.state.uncertainty
    assert uncertainty is not None and np.isnan(uncertainty[[10, 30]]).all()
    assert np.isfinite(uncertainty[11:30]).all()
    # Frames before the first label are held: the spans row shows them.
    held = timeline.marks.state.held
    assert held is not None and held[:10].all() and not held[11:30].any()
    assert "spans" in timeline.rows
    # J goes to the most uncertain frame between the labels.
    session.go_to(10)
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_J)
    peak = 11 + int(np.nanargmax(uncertainty[11:30]))
    assert session.frame == peak
    # A flag shows in the spans row; switching the fill to one without variance drops the
    # uncertainty row.
    session.push(cmd.SetFlag(25, "check the wrist"))
    assert timeline.marks.state.flagged.tolist() == [25]
    session.set_method("linear")
    qtbot.waitUntil(lambda: "uncertainty" not in timeline.rows, timeout=5000)
    window.timeline.grab()  # paints every row without error
    assert set(timeline.marks.last_rows) == set(timeline.rows)


def test_row_toggles_are_remembered(qtbot) -> None:
    from annotator.gui.main_window import MainWindow

    first = MainWindow(remember_layout=True)
    qtbot.addWidget(first)
    first.actions_by_id[ROW_ACTIONS["residual"]].trigger()  # off
    assert "residual" in first.timeline.marks.state.hidden
    first.close()
    second = MainWindow(remember_layout=True)
    qtbot.addWidget(second)
    assert not second.actions_by_id[ROW_ACTIONS["residual"]].isChecked()
    assert second.actions_by_id[ROW_ACTIONS["gate"]].isChecked()
    assert second.timeline.marks.state.hidden == frozenset({"residual"})
    second.close()
