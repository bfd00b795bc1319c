"""Opening a video proposes its frames with the defaults, as the app's own background work
(gui/auto_propose.py): the frames ``annotator propose`` writes, no undo step, never replacing
proposals a project has or the user's own, and off with the preference."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from annotator.core.progress import Cancelled
from annotator.core.store import save_project
from annotator.gui import auto_propose
from annotator.gui import settings as settings_mod
from annotator.gui.settings_dialog import SettingsDialog
from annotator.proposal import registry
from tests.gui.conftest import click_image, open_and_wait

Button = QtWidgets.QDialogButtonBox.StandardButton


@pytest.fixture
def auto(window):  # type: ignore[no-untyped-def]
    """The test window with proposing on open on (the other GUI tests turn it off), and the
    names of the tasks it starts."""
    window.propose_on_open = True
    started: list[str] = []
    window.tasks.started.connect(lambda task: started.append(task.name))
    window.started_names = started
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    window.status_messages = messages
    return window


class Gate:
    """Holds the run on open (``kfpn`` on the video) until ``release``; the user's runs, and
    the run once released, are the real ``registry.propose``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.open = threading.Event()
        self.fail: str | None = None
        real = registry.propose

        def propose(video: Any, method: str = "kfpn", *args: Any, **kwargs: Any) -> Any:
            if method == auto_propose.METHOD and not self.open.is_set():
                self.entered.set()
                should_stop = args[3] if len(args) > 3 else kwargs.get("should_stop")
                while not self.open.wait(0.02):
                    if should_stop is not None and should_stop():
                        raise Cancelled("proposing")
                if self.fail is not None:
                    from annotator.errors import AnnotatorError

                    raise AnnotatorError(self.fail)
            return real(video, method, *args, **kwargs)

        monkeypatch.setattr(registry, "propose", propose)

    def release(self) -> None:
        self.open.set()


def _idle(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    # K-FPN on the CPU: seconds on a quiet machine, a minute on a loaded one.
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=300_000)
    assert not window.reporter.errors, window.reporter.errors


def test_opening_a_video_proposes_what_annotator_propose_writes(
    qtbot, auto, figure_video, tmp_path: Path, monkeypatch
) -> None:
    from annotator import cli
    from annotator.proposal import backbones

    seen: list[int] = []  # frames the backbone ran on, over every run

    class Counting(backbones.Backbone):
        def __call__(self, frames: np.ndarray) -> np.ndarray:
            seen.append(len(frames))
            return super().__call__(frames)

    monkeypatch.setattr(backbones, "Backbone", Counting)
    video, _ = figure_video
    auto.rank_with_video_on_open = True  # as the app opens videos
    open_and_wait(qtbot, auto, video)
    session = auto.session
    assert auto_propose.TASK_NAME in auto.started_names  # no user action
    assert "Reading the video for N" not in auto.started_names  # it follows the proposals
    _idle(qtbot, auto)
    proposals = session.doc.proposals
    assert proposals is not None and proposals.method == "kfpn"
    out = tmp_path / "p.json"
    assert cli.main(["propose", str(video), "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    # The document, the timeline's orange ticks and the Proposals panel show those frames.
    assert list(proposals.frames) == written["frames"]
    assert auto.timeline.marks.state.proposed.tolist() == written["frames"]
    assert auto.proposals.panel.frames.count() == len(written["frames"])
    np.testing.assert_allclose(proposals.scores, written["scores"], rtol=1e-5, atol=1e-6)
    n = len(written["frames"])
    assert any(f"{n} frames proposed on open" in m for m in auto.status_messages)
    assert any("prefill them (Ctrl+Shift+P)" in m for m in auto.status_messages)
    assert auto.device_label.text().startswith("proposals: kfpn on")
    # The app's own work: no undo step, nothing to save.
    assert not session.history.can_undo and not session.dirty
    assert not auto.actions_by_id["undo"].isEnabled()
    # Then the reading for N, from the features this run cached (no second backbone run).
    assert auto.started_names.index(auto_propose.TASK_NAME) < auto.started_names.index(
        "Reading the video for N"
    )
    assert session.video_descriptors is not None
    assert sum(seen) == 40  # the backbone ran over the 40 frames once (the CLI read the cache)
    # The reading arrived without taking the proposals' line off the status bar: nothing
    # but its timing out ('') followed it.
    last = max(i for i, m in enumerate(auto.status_messages) if "proposed on open" in m)
    assert set(auto.status_messages[last + 1 :]) <= {""}, auto.status_messages[last:]


def test_a_project_keeps_its_proposals_and_one_without_gets_them(
    qtbot, window, figure_video, tmp_path: Path
) -> None:
    video, _ = figure_video
    open_and_wait(qtbot, window, video)  # proposing on open off (the fixture)
    session = window.session
    bare = tmp_path / "bare.annot.json"
    save_project(session.doc, bare)
    session.accept_proposals(np.array([3, 20, 31]), None, "uniform")
    with_them = tmp_path / "with.annot.json"
    save_project(session.doc, with_them)
    session.mark_saved(with_them)

    window.propose_on_open = True
    started: list[str] = []
    window.tasks.started.connect(lambda task: started.append(task.name))
    open_and_wait(qtbot, window, with_them)
    _idle(qtbot, window)
    assert auto_propose.TASK_NAME not in started
    assert window.session.doc.proposals is not None
    assert list(window.session.doc.proposals.frames) == [3, 20, 31]
    assert window.timeline.marks.state.proposed.tolist() == [3, 20, 31]

    open_and_wait(qtbot, window, bare)  # saved without proposals: proposed on open
    _idle(qtbot, window)
    assert auto_propose.TASK_NAME in started
    proposals = window.session.doc.proposals
    assert proposals is not None and proposals.method == "kfpn" and proposals.frames
    assert not window.session.dirty


def _settings_dialog(qtbot, window) -> SettingsDialog:  # type: ignore[no-untyped-def]
    window.actions_by_id["settings"].trigger()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def test_the_preference_off_proposes_nothing_on_open(qtbot, auto, figure_video) -> None:
    dialog = _settings_dialog(qtbot, auto)
    assert dialog.propose_on_open.isChecked()  # on by default
    dialog.propose_on_open.setChecked(False)
    qtbot.mouseClick(dialog.buttons.button(Button.Ok), QtCore.Qt.MouseButton.LeftButton)
    assert auto.settings.prefs.propose_on_open is False
    stored = settings_mod.store().value(f"{settings_mod.GROUP}/propose_on_open")
    assert str(stored).lower() == "false"
    assert settings_mod.load_preferences(settings_mod.store())[0].propose_on_open is False

    open_and_wait(qtbot, auto, figure_video[0])
    _idle(qtbot, auto)
    assert auto_propose.TASK_NAME not in auto.started_names
    assert auto.session.doc.proposals is None
    assert auto.timeline.marks.state.proposed.tolist() == []
    # The dialog shows the stored choice again.
    dialog = _settings_dialog(qtbot, auto)
    assert not dialog.propose_on_open.isChecked()
    dialog.reject()


def test_the_users_propose_during_the_run_on_open_wins(
    qtbot, auto, figure_video, monkeypatch
) -> None:
    gate = Gate(monkeypatch)
    open_and_wait(qtbot, auto, figure_video[0])
    session = auto.session
    assert gate.entered.wait(30)
    panel = auto.proposals.panel
    panel.set_method("uniform")
    panel.set_budget("frames", 5)
    qtbot.mouseClick(panel.run_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.doc.proposals is not None, timeout=30_000)
    mine = session.doc.proposals
    assert mine.method == "uniform" and len(mine.frames) == 5
    gate.release()
    _idle(qtbot, auto)
    assert session.doc.proposals == mine  # the run on open was dropped
    assert auto.timeline.marks.state.proposed.tolist() == list(mine.frames)
    assert session.history.undo_text.startswith("Propose 5 frames")


def test_proposals_the_user_cleared_during_the_run_on_open_stay_cleared(
    qtbot, auto, figure_video, monkeypatch
) -> None:
    gate = Gate(monkeypatch)
    open_and_wait(qtbot, auto, figure_video[0])
    session = auto.session
    assert gate.entered.wait(30)
    panel = auto.proposals.panel
    panel.set_method("uniform")
    qtbot.mouseClick(panel.run_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.clear_button.isEnabled(), timeout=30_000)
    qtbot.mouseClick(panel.clear_button, QtCore.Qt.MouseButton.LeftButton)
    assert session.doc.proposals is None
    gate.release()
    _idle(qtbot, auto)
    assert session.doc.proposals is None  # the user's choice, not the run on open's
    assert panel.frames.count() == 0


def test_undo_takes_the_users_edits_never_the_proposals_on_open(
    qtbot, auto, figure_video, monkeypatch
) -> None:
    gate = Gate(monkeypatch)
    video, truth = figure_video
    open_and_wait(qtbot, auto, video)
    session = auto.session
    assert gate.entered.wait(30)
    click_image(auto, *truth[0, 0])  # labelled while frames are being proposed
    assert session.history.undo_count == 1
    gate.release()
    _idle(qtbot, auto)
    proposals = session.doc.proposals
    assert proposals is not None and proposals.method == "kfpn"
    assert session.history.undo_count == 1  # the label alone
    click_image(auto, *truth[0, 1])  # and one after
    auto.actions_by_id["undo"].trigger()
    auto.actions_by_id["undo"].trigger()
    assert not session.history.can_undo and not session.dirty
    assert session.doc.proposals == proposals  # the proposals stay
    assert auto.timeline.marks.state.proposed.tolist() == list(proposals.frames)
    auto.actions_by_id["redo"].trigger()
    assert session.manual()[0, 0, 2] != 0  # the user's label is back
    assert session.doc.proposals == proposals


def test_esc_cancels_and_a_failure_is_one_status_line(qtbot, auto, figure_video, monkeypatch):  # type: ignore[no-untyped-def]
    gate = Gate(monkeypatch)
    open_and_wait(qtbot, auto, figure_video[0])
    assert gate.entered.wait(30)
    assert auto.task_label.text()  # the status bar names the running task
    auto.actions_by_id["cancel_tasks"].trigger()  # Esc
    _idle(qtbot, auto)
    assert auto.session.doc.proposals is None
    assert any("proposing on open cancelled" in m for m in auto.status_messages)

    gate.entered.clear()
    gate.fail = "the K-FPN model file is damaged"
    open_and_wait(qtbot, auto, figure_video[0])
    assert gate.entered.wait(30)
    gate.release()
    _idle(qtbot, auto)  # no dialog: the reporter recorded no error
    assert auto.session.doc.proposals is None
    failed = [m for m in auto.status_messages if "not proposed on open" in m]
    assert len(failed) == 1 and "damaged" in failed[0] and "\n" not in failed[0]


def test_opening_another_project_cancels_the_run_on_open(
    qtbot, auto, figure_video, monkeypatch
) -> None:
    gate = Gate(monkeypatch)
    runs: list[Any] = []
    auto.tasks.started.connect(
        lambda task: runs.append(task) if task.name == auto_propose.TASK_NAME else None
    )
    open_and_wait(qtbot, auto, figure_video[0])
    first = auto.session
    assert gate.entered.wait(30) and len(runs) == 1
    open_and_wait(qtbot, auto, figure_video[0])  # the same video again: a new project
    assert auto.session is not first and len(runs) == 2
    assert runs[0].cancelled and not runs[1].cancelled
    gate.release()
    _idle(qtbot, auto)
    assert first.doc.proposals is None  # the first project got nothing
    assert auto.session.doc.proposals is not None
