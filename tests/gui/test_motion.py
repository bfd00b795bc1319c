"""Motion fields in the app: extracted in the background on open, the video fills in the
method list, ``hpim+mv`` the default once fields exist, hpim when there are none, cancel,
the per-frame residual energy in the document, and gate decisions through ``SetGate``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest

from annotator.core.codes import Source
from annotator.core.paths import cache_dir
from annotator.errors import VideoError
from annotator.gui import motion
from annotator.propagation import LiveFill, fill_with
from annotator.propagation.registry import VideoSource
from annotator.video.motion_store import MotionStore
from tests.gui.conftest import open_and_wait

WAIT_MS = 120_000  # extraction shares two loaded CPU cores with other test runs


def _open_with_motion(qtbot, window, path: Path) -> list[str]:
    """Open ``path`` with extraction on; the names of the tasks the open started."""
    window.extract_motion_on_open = True
    started: list[str] = []
    window.tasks.started.connect(lambda task: started.append(task.name))
    open_and_wait(qtbot, window, path)
    return started


def _label(session, truth, frames=(5, 30)) -> None:
    from annotator.core import commands as cmd

    for f in frames:
        values = np.concatenate([truth[f], np.ones((truth.shape[1], 1))], axis=1)
        session.push(cmd.SetLabels(f, values[None].astype(np.float32)))


def test_open_extracts_fields_and_switches_to_hpim_mv(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    assert motion.TASK_NAME in _open_with_motion(qtbot, window, video)
    session = window.session
    combo = window.fill_panel.combo
    methods = [combo.itemText(k) for k in range(combo.count())]
    assert "mv" in methods and "hpim+mv" in methods
    # Before the fields arrive the video fill is not there yet: the app fills with hpim.
    assert session.fields is None or session.method == "hpim+mv"
    _label(session, truth)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)

    assert session.fields is not None and session.fields.kind == "mv"
    # the session keeps the disk store written while extracting, not the fields in memory
    assert isinstance(session.fields, MotionStore)
    assert session.fields.path.parent == cache_dir("motion") and session.fields.path.is_file()
    assert session.method == "hpim+mv"
    assert combo.currentText() == "hpim+mv"
    # then the optical flow the fill walks (gui/motion_flow.py)
    assert "Optical flow ready" in window.statusBar().currentMessage()
    assert session.fill_fields is not None and session.fill_fields.kind == "flow"
    # The live fill is hpim+mv between the labels, and equals the one-shot fill on the flow.
    manual = session.manual()
    source = session.engine.result.source
    assert (source[6:30] == Source.HPIM_MV).all()
    flow = VideoSource(video, session.fill_fields)
    expected = fill_with(manual, flow, "hpim+mv", fps=session.fps)
    np.testing.assert_allclose(
        session.engine.result.poses[6:30], expected.poses[6:30], atol=1e-3, equal_nan=True
    )
    # Its variance feeds the uncertainty shown and the N ranking.
    assert session.ranking_problem() is None
    assert session.pose_view(17).sigma is not None
    assert session.rank_to_label(top=1)
    # Residual energy per frame went into the document (frame 0 has no previous frame).
    energy = np.asarray(session.doc.residual_energy)
    assert energy.shape == (40,) and np.isnan(energy[0]) and np.isfinite(energy[1:]).all()
    assert "filled live (hpim+mv)" in window.fill_panel.info.text()


def test_a_chosen_method_is_kept_when_fields_arrive(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    _open_with_motion(qtbot, window, video)
    session = window.session
    window.fill_panel.combo.setCurrentText("linear")  # the user's choice, by the widget
    assert session.method == "linear"
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    assert session.fields is not None
    assert session.method == "linear"
    # Choosing hpim+mv later fills with the fields; undo goes back to linear.
    _label(session, truth)
    window.fill_panel.combo.setCurrentText("hpim+mv")
    assert (session.engine.result.source[6:30] == Source.HPIM_MV).all()
    session.undo()
    assert session.method == "linear" and window.fill_panel.combo.currentText() == "linear"


def test_video_fill_without_fields_is_hpim_with_a_note(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)  # extraction off: no fields
    session = window.session
    _label(session, truth)
    window.fill_panel.combo.setCurrentText("mv")
    assert session.method == "mv" and session.fill_fallback
    assert (session.engine.result.source[6:30] == Source.HPIM).all()
    assert "as hpim" in window.fill_panel.info.text()


def test_cancel_stops_extraction_and_keeps_hpim(qtbot, window, figure_video) -> None:
    video, _truth = figure_video
    window.extract_motion_on_open = True
    # Hold the job at its first progress report so that the cancel surely comes first.
    import annotator.video.motion_cache as motion_mod

    real = motion_mod.open_motion

    def slow(path, *, progress=None, should_stop=None, **kw):
        import time

        from annotator.core.progress import Cancelled

        while should_stop is not None and not should_stop():
            time.sleep(0.01)
        raise Cancelled("motion extraction")

    motion_mod.open_motion = slow
    try:
        open_and_wait(qtbot, window, video)
        assert window.cancel_button.isVisible()
        window.cancel_button.click()
        qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    finally:
        motion_mod.open_motion = real
    session = window.session
    assert session.fields is None and session.method == "hpim"
    assert "cancelled" in window.statusBar().currentMessage()
    assert not window.reporter.errors
    # It can be started again from the Tools menu, and then delivers.
    window.actions_by_id["extract_motion"].trigger()
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    assert session.fields is not None and session.method == "hpim+mv"


def test_failed_extraction_is_one_status_line_and_hpim(
    qtbot, window, figure_video, monkeypatch: pytest.MonkeyPatch
) -> None:
    import annotator.video.motion_cache as motion_mod

    def broken(path, **kw):
        raise VideoError("cannot decode packet 3 of figure.mp4")

    monkeypatch.setattr(motion_mod, "open_motion", broken)
    video, truth = figure_video
    _open_with_motion(qtbot, window, video)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    session = window.session
    message = window.statusBar().currentMessage()
    assert message.startswith("No motion fields: cannot decode packet 3")
    assert "\n" not in message and "Traceback" not in message
    assert not window.reporter.errors  # a status line, not a dialog
    assert session.fields is None and session.method == "hpim"
    assert np.isnan(np.asarray(session.doc.residual_energy)).all()
    _label(session, truth)
    assert (session.engine.result.source[6:30] == Source.HPIM).all()


def _intra_only_video(path: Path, frames: int = 12) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.codec_context.gop_size = 1
        for f in range(frames):
            image = np.zeros((64, 96, 3), dtype=np.uint8)
            image[20:40, 10 + 3 * f : 30 + 3 * f] = 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_video_without_vectors_says_so(qtbot, window, tmp_path: Path) -> None:
    """An intra-only stream has no motion vectors: the fields come from optical flow, and
    the status line says why."""
    video = _intra_only_video(tmp_path / "intra.mp4")
    _open_with_motion(qtbot, window, video)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    session = window.session
    assert session.fields is not None and session.fields.kind == "flow"
    message = window.statusBar().currentMessage()
    assert "optical flow" in message and "intra-only" in message
    assert not window.reporter.errors


def test_gate_decisions_reach_the_document_and_undo(qtbot, window, figure_video) -> None:
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    gate = np.zeros(40, dtype=int)
    gate[[3, 17, 30]] = 1
    run = SimpleNamespace(
        frames=[3, 17, 30], scores=list(np.linspace(-1, 1, 40)), method="gate", gate=gate
    )
    session.accept_proposals(np.asarray(run.frames), run.scores, run.method, run.gate)
    assert np.asarray(session.doc.gate).tolist() == gate.tolist()
    assert session.proposed.tolist() == [3, 17, 30]
    session.undo()  # one step takes back the proposals and the decisions
    assert (np.asarray(session.doc.gate) == -1).all()
    assert session.doc.proposals is None
    session.redo()
    assert np.asarray(session.doc.gate).tolist() == gate.tolist()


def test_propose_job_passes_the_gate_field(qtbot, window, figure_video, monkeypatch) -> None:
    """The propose worker hands a result's ``gate`` (the proposals contract) to the document,
    whatever method produced it."""
    from annotator.gui import proposal_panel
    from annotator.proposal import registry

    gate = [0] * 40
    gate[10] = gate[25] = 1

    def fake(path, method, budget, device, progress, should_stop):
        return SimpleNamespace(
            frames=[10, 25], scores=None, method=method, gate=gate, device="cpu", seconds=0.1
        )

    monkeypatch.setattr(registry, "propose", fake)
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    proposal_panel.propose(window, window.session, "uniform")
    assert window.tasks.wait_idle(60)
    assert np.asarray(window.session.doc.gate).tolist() == gate
    assert not window.reporter.errors


def test_bad_gate_decisions_are_refused(qtbot, window, figure_video) -> None:
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    with pytest.raises(Exception, match="gate decisions"):
        session.accept_proposals(np.asarray([1]), None, "gate", [0, 1, 2])
    assert session.doc.proposals is None and (np.asarray(session.doc.gate) == -1).all()


@pytest.mark.parametrize("method", ["linear", "pchip", "hpim"])
def test_a_one_joint_update_equals_the_full_update(method, figure_video) -> None:
    """The session refills only the edited joint: the result must be the full update's."""
    from annotator.dynamics.fill import FillEngine

    _video, truth = figure_video
    manual = np.full((40, truth.shape[1], 3), np.nan)
    manual[:, :, 2] = 0
    for f in (3, 20, 36):
        manual[f, :, :2], manual[f, :, 2] = truth[f], 1
    full, partial = FillEngine(method, fps=25.0), FillEngine(method, fps=25.0)
    full.reset(manual)
    partial.reset(manual)
    manual[11, 5, :2], manual[11, 5, 2] = truth[11, 5] + 3.0, 1
    full.update(manual, (11, 11))
    partial.update(manual, (11, 11), joints=(5,))
    for name in ("poses", "source", "held", "variance"):
        a, b = getattr(full.result, name), getattr(partial.result, name)
        if a is None:
            assert b is None
        else:
            np.testing.assert_array_equal(a, b)


def test_a_slow_video_fill_says_why_once(qtbot, window, figure_video, monkeypatch) -> None:
    from annotator.gui import session as session_mod

    video, truth = figure_video
    _open_with_motion(qtbot, window, video)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    session = window.session
    assert session.method == "hpim+mv"
    monkeypatch.setattr(session_mod, "SLOW_FILL_S", 0.0)  # every update counts as slow
    _label(session, truth, frames=(5,))  # one slow update alone: perhaps the first's caches
    assert "fill took" not in window.statusBar().currentMessage()
    _label(session, truth, frames=(30,))  # a second in a row
    assert "fill took" in window.statusBar().currentMessage()
    window.statusBar().clearMessage()
    _label(session, truth, frames=(15, 20))
    assert window.statusBar().currentMessage() == ""  # once per project


def test_edits_during_extraction_reach_the_prepared_fill(
    qtbot, window, figure_video, monkeypatch
) -> None:
    """The first hpim+mv fill is built off the GUI thread from the labels at open; labels
    placed while the fields were extracted are applied when they arrive."""
    import threading

    import annotator.video.motion_cache as motion_mod

    real = motion_mod.open_motion
    release = threading.Event()

    def held(path, **kw):
        release.wait(60)
        return real(path, **kw)

    monkeypatch.setattr(motion_mod, "open_motion", held)
    video, truth = figure_video
    _open_with_motion(qtbot, window, video)
    session = window.session
    _label(session, truth, frames=(4, 33))
    assert session.fields is None
    release.set()
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    assert isinstance(session.engine, LiveFill)
    expected = fill_with(
        session.manual(), VideoSource(video, session.fill_fields), "hpim+mv", fps=session.fps
    )
    np.testing.assert_allclose(
        session.engine.result.poses, expected.poses, atol=1e-3, equal_nan=True
    )
    assert (session.engine.result.source[5:33] == Source.HPIM_MV).all()


def test_the_gate_method_writes_its_decisions(qtbot, window, figure_video) -> None:
    """A propose run with the ``gate`` method (registered as ``annotator`` does before the
    app starts): its 0/1 decisions reach the document with the proposals, one undo step."""
    from annotator.cli.methods import install
    from annotator.gui import proposal_panel

    install()
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    proposal_panel.propose(window, session, "gate")
    assert window.tasks.wait_idle(WAIT_MS / 1000)
    assert not window.reporter.errors, window.reporter.errors
    gate = np.asarray(session.doc.gate)
    assert set(gate.tolist()) <= {0, 1} and session.doc.proposals.method == "gate"
    assert np.flatnonzero(gate == 1).tolist() == list(session.doc.proposals.frames)
    assert "gate" in window.timeline.rows
    session.undo()
    assert (np.asarray(session.doc.gate) == -1).all() and session.doc.proposals is None
