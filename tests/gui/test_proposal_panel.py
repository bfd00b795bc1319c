"""The Proposals dock, both ways: the panel's method, budget and buttons change the document's
proposals (never its labels); the document's proposals show in the panel; a method registered
in the proposal registry appears in its list without GUI edits."""

from __future__ import annotations

import time

import numpy as np
from PySide6 import QtCore

from annotator.core.progress import Cancelled
from annotator.core.proposal_plan import ACCEPTED
from annotator.errors import UsageError
from annotator.proposal import registry
from tests.gui.conftest import open_and_wait

LEFT = QtCore.Qt.MouseButton.LeftButton


def _label(session, truth, frame: int) -> None:  # type: ignore[no-untyped-def]
    session.go_to(frame)
    session.set_joint(0)
    for j in range(truth.shape[1]):
        session.place(*truth[frame, j])


def _click(qtbot, button) -> None:  # type: ignore[no-untyped-def]
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, LEFT)


def _run(qtbot, window, button) -> None:  # type: ignore[no-untyped-def]
    _click(qtbot, button)
    assert window.tasks.wait_idle(60)
    assert not window.reporter.errors, window.reporter.errors


def _listed(panel) -> list[int]:  # type: ignore[no-untyped-def]
    items = [panel.frames.item(k) for k in range(panel.frames.count())]
    return [int(i.data(QtCore.Qt.ItemDataRole.UserRole)) for i in items]


def test_run_with_the_chosen_method_and_budget(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, _truth = figure_video
    panel = window.proposals.panel
    assert not panel.run_button.isEnabled()  # nothing to propose for without a project
    open_and_wait(qtbot, window, video)
    assert [panel.method.itemData(k) for k in range(panel.method.count())] == list(registry.METHODS)
    assert panel.budget_frames(40) is None  # default: the method's own count
    panel.set_method("uniform")
    panel.set_budget("frames", 6)
    _run(qtbot, window, panel.run_button)
    proposals = window.session.doc.proposals
    expected = registry.propose(video, "uniform", 6)  # what ``annotator propose`` writes
    assert proposals is not None and proposals.method == "uniform"
    assert list(proposals.frames) == expected.frames and len(expected.frames) == 6
    assert window.timeline.marks.state.proposed.tolist() == expected.frames
    assert _listed(panel) == expected.frames
    assert "6 frames proposed by uniform, 0 labelled" in panel.info.text()
    assert "not accepted" in panel.info.text()
    assert window.actions_by_id["undo"].text().startswith("&Undo Propose 6 frames")
    # a share of the frames: 10 % of 40, rounded up as ``--budget 0.1``
    panel.set_budget("percent", 10)
    assert panel.budget_frames(40) == 4
    window.actions_by_id["run_proposals"].trigger()  # Ctrl+Shift+R: the panel's choice
    assert window.tasks.wait_idle(60)
    assert len(window.session.doc.proposals.frames) == 4


def test_extend_without_proposals_runs_the_method(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, figure_video[0])
    panel = window.proposals.panel
    panel.set_method("uniform")
    panel.set_budget("frames", 6)
    _run(qtbot, window, panel.extend_button)  # nothing to extend: it proposed one frame
    assert len(window.session.doc.proposals.frames) == 6


def test_document_proposals_show_in_the_panel(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session, panel = window.session, window.proposals.panel
    assert panel.frames.count() == 0 and not panel.accept_button.isEnabled()
    session.accept_proposals(np.asarray([3, 17, 31]), None, "kfpn")
    assert _listed(panel) == [3, 17, 31]
    assert panel.accept_button.isEnabled() and panel.clear_button.isEnabled()
    assert panel.frames.item(1).text() == "·  frame 17"
    _label(session, truth, 17)
    assert panel.frames.item(1).text() == "✓  frame 17"
    assert "3 frames proposed by kfpn, 1 labelled" in panel.info.text()
    rect = panel.frames.visualItemRect(panel.frames.item(2))
    qtbot.mouseClick(panel.frames.viewport(), LEFT, pos=rect.center())
    assert session.frame == 31  # a click on a listed frame goes there
    session.undo()  # the last joint of frame 17
    assert panel.frames.item(1).text() == "·  frame 17"
    while session.doc.proposals is not None:
        session.undo()
    assert panel.frames.count() == 0 and "no proposals" in panel.info.text()


def test_accept_extend_clear_keep_the_labels(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session, panel = window.session, window.proposals.panel
    _label(session, truth, 0)
    _label(session, truth, 39)
    labels = np.array(session.doc.manual(0))
    panel.set_method("uniform")
    panel.set_budget("frames", 4)
    _run(qtbot, window, panel.run_button)
    first = list(session.doc.proposals.frames)
    assert first == [0, 13, 26, 39]

    # Accept: the proposals become the frames to label; N visits the unlabelled ones first.
    session.go_to(5)
    _click(qtbot, panel.accept_button)
    assert session.doc.settings[ACCEPTED] is True
    assert session.frame in (13, 26) and window.timeline.marks.suggested == session.frame
    assert "accepted: N visits the 2 left first" in panel.info.text()
    assert window.actions_by_id["undo"].text() == "&Undo Accept 4 proposed frames to label"
    _label(session, truth, session.frame)
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_N)
    assert session.frame in (13, 26) and "accepted proposed frame" in (
        window.statusBar().currentMessage()
    )
    labels = np.array(session.doc.manual(0))

    # Extend: up to the larger budget, every proposed frame and label kept, still accepted.
    panel.set_budget("frames", 7)
    _run(qtbot, window, panel.extend_button)
    extended = list(session.doc.proposals.frames)
    assert len(extended) == 7 and set(first) <= set(extended)
    assert session.doc.settings[ACCEPTED] is True
    np.testing.assert_array_equal(np.asarray(session.doc.manual(0)), labels)
    # without a larger budget, Extend adds half as many again
    _run(qtbot, window, panel.extend_button)
    assert len(session.doc.proposals.frames) == 11
    assert set(extended) <= set(session.doc.proposals.frames)
    assert session.doc.proposals.method == "uniform"
    panel.set_method("kmeans")  # another method's frames join them
    panel.set_budget("frames", 13)
    _run(qtbot, window, panel.extend_button)
    assert session.doc.proposals.method == "uniform+kmeans"
    assert len(session.doc.proposals.frames) == 13
    np.testing.assert_array_equal(np.asarray(session.doc.manual(0)), labels)

    # Clear: no proposals, no plan, the labels as they were; one undo brings both back.
    before = session.doc.proposals
    _click(qtbot, panel.clear_button)
    assert session.doc.proposals is None and ACCEPTED not in session.doc.settings
    assert window.timeline.marks.state.proposed.size == 0 and panel.frames.count() == 0
    np.testing.assert_array_equal(np.asarray(session.doc.manual(0)), labels)
    session.undo()
    assert session.doc.proposals == before and session.doc.settings[ACCEPTED] is True

    # A fresh run replaces the proposals, which are not accepted until the user says so.
    panel.set_budget("auto")
    _run(qtbot, window, panel.run_button)
    assert ACCEPTED not in session.doc.settings
    np.testing.assert_array_equal(np.asarray(session.doc.manual(0)), labels)


def test_cancel_leaves_the_document_unchanged(qtbot, window, figure_video, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    session, panel = window.session, window.proposals.panel
    session.accept_proposals(np.asarray([4, 22]), None, "uniform")
    before = session.doc.proposals

    def slow(path, method, budget, device, progress, should_stop):  # type: ignore[no-untyped-def]
        for k in range(500):
            if should_stop():
                raise Cancelled("proposing")
            progress(k / 500)
            time.sleep(0.01)
        raise AssertionError("not cancelled")

    monkeypatch.setattr(registry, "propose", slow)
    _click(qtbot, panel.run_button)
    assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    _click(qtbot, panel.cancel_button)
    assert window.tasks.wait_idle(30)
    assert session.doc.proposals == before and not window.reporter.errors
    assert "cancelled" in window.statusBar().currentMessage()
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_a_registered_method_appears_and_runs(qtbot, window, figure_video, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def every_tenth(request: registry.Request) -> registry.Picked:
        return registry.Picked(list(range(0, request.source.frame_count, 10)), None, "cpu", None)

    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    panel = window.proposals.panel
    assert panel.method.findData("every_tenth") < 0
    monkeypatch.setitem(registry.METHODS, "every_tenth", every_tenth)
    window.actions_by_id["proposals_panel"].trigger()  # View > Proposals Panel
    assert window.proposal_dock.isVisible()
    assert panel.method.findText("every_tenth") >= 0
    panel.set_method("every_tenth")
    _run(qtbot, window, panel.run_button)
    assert list(window.session.doc.proposals.frames) == [0, 10, 20, 30]


def test_a_failing_method_reaches_the_user(qtbot, window, figure_video, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(request: registry.Request) -> registry.Picked:
        raise UsageError("this method needs a model file")

    video, _truth = figure_video
    open_and_wait(qtbot, window, video)
    monkeypatch.setitem(registry.METHODS, "broken", broken)
    panel = window.proposals.panel
    panel.set_methods(list(registry.METHODS))
    panel.set_method("broken")
    _click(qtbot, panel.run_button)
    assert window.tasks.wait_idle(30)
    assert window.reporter.errors == ["this method needs a model file"]
    assert window.session.doc.proposals is None
    _click(qtbot, panel.extend_button)  # Extend with nothing proposed runs like Run
    assert window.tasks.wait_idle(30)
    assert len(window.reporter.errors) == 2 and window.session.doc.proposals is None


def test_n_walks_the_accepted_proposals_from_the_first_label(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    """Before any label there is no fill to rank: accepted proposals still give N its frames,
    in frame order; N leaves a frame once every joint of it is labelled."""
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.accept_proposals(np.asarray([3, 17, 31]), None, "kfpn")
    window.actions_by_id["accept_proposals"].trigger()  # Tools > Accept Proposals
    assert session.frame == 3 and not window.reporter.errors
    _label(session, truth, 3)
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_N)
    assert session.frame == 17
    qtbot.waitUntil(lambda: window.timeline.marks.suggested == 17, timeout=3000)
    session.undo()  # the last joint of frame 3: it is to label again
    window.update_suggestion()
    assert window.timeline.marks.suggested == 3
    while session.doc.settings.get(ACCEPTED):
        session.undo()
    # without the plan (and one labelled frame at most), N cannot rank: it goes to the
    # proposed frames still to label, in frame order
    assert session.labelled_frames().size == 0
    session.go_to(17)  # the undos showed frame 3, where the labels were
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_N)
    assert session.frame == 3 and "a proposed frame" in window.statusBar().currentMessage()


def test_propose_again_as_soon_as_the_proposals_arrive(
    qtbot, window, figure_video, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The run is over when its proposals are shown: Propose pressed then starts the next one
    (the worker's own end, after it hands freed memory back, came later, and a Propose in
    between was refused as 'being proposed already'; a GUI test timed out on it once in a
    long run)."""
    from annotator.gui import workers

    monkeypatch.setattr(workers, "release_free_memory", lambda: time.sleep(1.0))
    open_and_wait(qtbot, window, figure_video[0])
    panel = window.proposals.panel
    panel.set_method("uniform")
    panel.set_budget("frames", 6)
    window.actions_by_id["run_proposals"].trigger()
    qtbot.waitUntil(lambda: window.session.doc.proposals is not None, timeout=30000)
    assert window.proposals.task is None
    panel.set_budget("frames", 4)
    window.actions_by_id["run_proposals"].trigger()
    assert window.proposals.task is not None  # started, not refused
    qtbot.waitUntil(lambda: len(window.session.doc.proposals.frames) == 4, timeout=30000)
    assert window.tasks.wait_idle(30)
