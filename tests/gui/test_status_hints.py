"""Hints in the status bar are transient: the slow video fill's hint ("The hpim+mv fill took
1.0 s to follow that edit...") clears itself after ``HINT_MS``, while errors still go to the
Reporter as before."""

from __future__ import annotations

from PySide6 import QtWidgets

from annotator.gui import main_window, motion
from annotator.gui import session as session_mod
from tests.gui.conftest import open_and_wait

WAIT_MS = 120_000  # extraction shares two loaded CPU cores with other test runs


def _label(session, truth, frame: int) -> None:
    session.go_to(frame)
    session.set_joint(0)
    for j in range(truth.shape[1]):
        session.place(*truth[frame, j])


def test_slow_fill_hint_times_out(qtbot, window, figure_video, monkeypatch) -> None:
    video, truth = figure_video
    window.extract_motion_on_open = True
    open_and_wait(qtbot, window, video)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    assert window.tasks.wait_idle(60)
    session = window.session
    assert session.method == "hpim+mv"  # a video fill: its updates can lag
    monkeypatch.setattr(session_mod, "SLOW_FILL_S", -1.0)  # every update counts as slow
    monkeypatch.setattr(main_window, "HINT_MS", 400)
    timeouts: list[int] = []
    bar = window.statusBar()
    original = bar.showMessage

    def spy(message: str, timeout: int = 0) -> None:
        if "to follow that edit" in message:
            timeouts.append(timeout)
        original(message, timeout)

    monkeypatch.setattr(bar, "showMessage", spy)

    # The edit -> the hint in the status bar, with a timeout.
    _label(session, truth, 5)
    assert timeouts == [400]
    message = bar.currentMessage()
    assert message.startswith("The hpim+mv fill took ") and "to follow that edit" in message
    # ... which clears itself: nothing else replaced it.
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=3000)
    # Once per project: more slow edits do not bring it back.
    _label(session, truth, 30)
    QtWidgets.QApplication.processEvents()
    assert timeouts == [400] and "to follow that edit" not in bar.currentMessage()
    assert not window.reporter.errors


def test_the_hint_lasts_a_few_seconds() -> None:
    assert 3000 <= main_window.HINT_MS <= 10_000


def test_one_slow_update_alone_gives_no_hint(qtbot, window, figure_video, monkeypatch) -> None:
    """A video fill's first update often pays for caches being built: the hint waits for
    ``SLOW_UPDATES`` slow updates in a row, and a fast one in between starts the count again."""
    video, _truth = figure_video
    window.extract_motion_on_open = True
    open_and_wait(qtbot, window, video)
    qtbot.waitUntil(lambda: not motion.running(window), timeout=WAIT_MS)
    session = window.session
    assert session.method == "hpim+mv" and session_mod.SLOW_UPDATES == 2
    said: list[float] = []
    session.fill_slow.connect(said.append)
    slow, fast = session_mod.SLOW_FILL_S + 0.1, session_mod.SLOW_FILL_S / 2
    for seconds in (slow, fast, slow):
        session._note_update_time(seconds)
    assert said == []
    session._note_update_time(slow)
    assert said == [slow]
    session.set_method("hpim")  # a labels-only fill never hints
    for _ in range(3):
        session._note_update_time(slow)
    assert said == [slow]
