"""The residual and score rows show what they claim: key frames do not spike the residual row
(their value is the codec's refresh, not motion), and a saturated proposal score (K-FPN's
network output) draws no row, with the timeline's tooltip saying why; the document keeps the
raw values (the gate reads them, ``annotator propose`` writes them)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PySide6 import QtCore

from annotator.core import commands as cmd
from annotator.core.document import Proposals
from annotator.gui import motion
from annotator.gui.timeline_rows import KEY_FRAME_NOTE, residual_row, score_row
from annotator.gui.timeline_state import scale_curve
from tests.gui.conftest import open_and_wait

WAIT_MS = 120_000  # extraction shares loaded CPU cores with other test runs
GOP = 6


def _short_gop_video(path: Path, frames: int = 36) -> Path:
    """MPEG-4 with a key frame every ``GOP`` frames, a textured picture panning right."""
    rng = np.random.default_rng(0)
    texture = rng.integers(30, 220, size=(96, 200, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        stream.codec_context.gop_size = GOP
        stream.bit_rate = 150_000
        for f in range(frames):
            image = np.ascontiguousarray(texture[:, f : f + 128])
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_residual_row_interpolates_key_frames_only() -> None:
    energy = np.array([np.nan, 1.0, 2.0, 9.0, 4.0, 5.0, 9.0])
    values, replaced = residual_row(energy, "IPPIPPI")
    assert replaced == 2  # frame 0 has no value to replace
    assert np.isnan(values[0])
    np.testing.assert_allclose(values[1:], [1.0, 2.0, 3.0, 4.0, 5.0, 5.0])
    # Unknown or mismatched picture types, or an intra-only stream: the raw values.
    for types in (None, "IPP", "IIIIPPI"):
        same, count = residual_row(energy, types)
        np.testing.assert_array_equal(same, energy)
        assert count == 0


def test_score_row_leaves_out_scores_without_per_frame_information() -> None:
    binary = np.zeros(64)
    binary[8::16] = 1.0
    values, note = score_row(binary, "kfpn")
    assert values is None and "saturated" in note and "K-FPN" in note
    values, note = score_row(np.full(10, 0.3), "uniform")
    assert values is None and "every frame" in note
    logits = np.sin(np.arange(64) / 5.0) * 20.0
    values, note = score_row(logits, "gate")
    assert values is not None and note == ""
    np.testing.assert_array_equal(values, logits)
    assert score_row(None) == (None, "")


def test_residual_row_on_a_short_gop_video(qtbot, window, tmp_path: Path) -> None:
    video = _short_gop_video(tmp_path / "gop.mp4")
    window.extract_motion_on_open = True
    open_and_wait(qtbot, window, video)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    session, timeline = window.session, window.timeline
    assert session.fields is not None and session.fields.kind == "mv"
    keys = np.flatnonzero(np.array(session.fields.picture_types) == "I")
    assert keys.tolist() == list(range(0, 36, GOP))
    inner = keys[1:]
    # The document keeps the codec's value (what the gate reads): a spike on key frames.
    raw = np.asarray(session.doc.residual_energy, dtype=np.float64)
    predicted = np.delete(np.arange(len(raw)), keys)
    assert raw[inner].min() > 3 * np.nanmax(raw[predicted])
    # The row shows each key frame between its neighbours, not the spike.
    row = timeline.marks.state.residual
    assert row is not None and "residual" in timeline.rows
    for k in inner[inner < len(raw) - 1]:
        low, high = sorted((row[k - 1], row[k + 1]))
        assert low - 1e-9 <= row[k] <= high + 1e-9
    np.testing.assert_allclose(row[predicted[1:]], scale_curve(raw[predicted[1:]]), atol=0.05)
    assert timeline.row_notes == {"residual": KEY_FRAME_NOTE}
    assert KEY_FRAME_NOTE in " ".join(timeline.toolTip().split())  # wrapped to 80 columns
    # Document -> widget: new energy is drawn the same way; no energy takes the row away.
    energy = np.ones(len(raw))
    energy[keys] = 50.0
    energy[0] = np.nan
    session.doc.set_residual_energy(energy)
    row = timeline.marks.state.residual
    assert row is not None and np.allclose(row[inner], 0.5)  # a flat row: the middle
    session.doc.set_residual_energy(None)
    assert "residual" not in timeline.rows and timeline.row_notes == {}
    # Widget -> document: a click on a key frame's place in the row seeks there.
    session.doc.set_residual_energy(raw)
    timeline.grab()
    box = timeline.getPlotItem().getViewBox()
    target = int(inner[2])
    scene = box.mapViewToScene(QtCore.QPointF(target + 0.5, 1.3))
    qtbot.mouseClick(
        timeline.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=timeline.mapFromScene(scene)
    )
    assert session.frame == target
    assert not window.reporter.errors


def test_saturated_scores_draw_no_row_and_logits_do(qtbot, window, figure_video) -> None:
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session, timeline = window.session, window.timeline
    n = session.frame_count
    saturated = np.zeros(n)
    saturated[5::16] = 1.0  # K-FPN's network output: 1 at fixed places of its windows
    session.push(cmd.AcceptProposals(Proposals((3, 20, 31), tuple(saturated), "kfpn")))
    state = timeline.marks.state
    assert state.proposed.tolist() == [3, 20, 31]  # the ticks are drawn
    assert state.scores is None and "scores" not in timeline.rows
    assert "saturated" in timeline.row_notes["scores"] and "saturated" in timeline.toolTip()
    # The document keeps the scores as proposed (the proposals file's contract).
    assert session.doc.proposals.scores == tuple(saturated)
    # A gate result's logits draw the curve, and the note goes.
    logits = np.sin(np.arange(n) / 3.0) * 10.0 - 2.0
    session.push(cmd.AcceptProposals(Proposals((0, 12, 39), tuple(logits), "gate")))
    state = timeline.marks.state
    assert state.scores is not None and "scores" in timeline.rows
    np.testing.assert_allclose(state.scores, (logits - logits.min()) / np.ptp(logits))
    assert "scores" not in timeline.row_notes
    timeline.marks.update()
    qtbot.waitUntil(lambda: timeline.marks.last_curve_points > 0, timeout=2000)
    # Widget -> document: undo (the user's Ctrl+Z) brings the saturated set and its note back.
    window.actions_by_id["undo"].trigger()
    assert session.doc.proposals.method == "kfpn"
    assert timeline.marks.state.scores is None and "scores" in timeline.row_notes
