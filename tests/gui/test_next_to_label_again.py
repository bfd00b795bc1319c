"""N pressed again on the frame it offered, nothing edited since: the next suggestion down the
ranking (or the accepted plan), the status bar saying which; any edit, or pressing N
elsewhere, starts again from the top. The ranking itself is the one protocol B calls."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from annotator.core.proposal_plan import ACCEPTED
from annotator.dynamics.ranking import rank_next_frames
from annotator.gui.next_label import NextOffers, ordinal, skip_distance
from tests.gui.conftest import open_and_wait


def _label(session, truth, frame: int) -> None:
    session.go_to(frame)
    session.set_joint(0)
    for j in range(truth.shape[1]):
        session.place(*truth[frame, j])


def _press_n(qtbot, window) -> str:
    window.frame_view.setFocus()
    qtbot.keyClick(window.frame_view, QtCore.Qt.Key.Key_N)
    return window.statusBar().currentMessage()


def test_ordinals() -> None:
    words = [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)]
    assert words == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "111th",
    ]


def _offers(ranking: list[int], apart: int, count: int) -> list[int]:
    """The frames N offers in a row: down the ranking, each skip passing over the frames
    within ``apart`` of those offered while others are left."""
    out: list[int] = []
    for _ in range(count):
        fresh = [f for f in ranking if f not in out]
        away = [f for f in fresh if all(abs(f - o) > apart for o in out)]
        out.append((away or fresh)[0])
    return out


def test_n_again_goes_down_the_ranking_and_an_edit_starts_over(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("hpim")
    for frame in (0, 20, 39):
        _label(session, truth, frame)
    session.go_to(7)
    full = rank_next_frames(np.asarray(session.doc.manual(0)), session.result, top=None)
    ranked = _offers([f for f, _ in full], skip_distance(session.fps), 4)
    assert len(set(ranked)) == 4

    message = _press_n(qtbot, window)
    assert session.frame == ranked[0]
    assert (
        message.startswith(f"frame {ranked[0]} is next to label: ") and "suggestion" not in message
    )
    message = _press_n(qtbot, window)  # the user skips it: blurred, person hidden
    assert session.frame == ranked[1]
    assert message.startswith(f"frame {ranked[1]} is next to label (2nd suggestion): ")
    assert "px²" in message
    assert window.timeline.marks.suggested == ranked[1]
    assert window.suggest_button.text() == f"next to label: {ranked[1]}"
    message = _press_n(qtbot, window)
    assert session.frame == ranked[2] and "(3rd suggestion)" in message
    # The button in the status bar is N too.
    window.suggest_button.click()
    assert session.frame == ranked[3] and "(4th suggestion)" in window.statusBar().currentMessage()

    # An edit (here undone at once: the labels, and so the ranking, are as before) starts over.
    session.go_to(ranked[3])
    session.place(*truth[ranked[3], 0])
    session.undo()
    again = rank_next_frames(np.asarray(session.doc.manual(0)), session.result, top=None)
    assert again == full
    message = _press_n(qtbot, window)
    assert session.frame == ranked[0] and "suggestion" not in message

    # Pressing N away from the offered frame starts over too.
    _press_n(qtbot, window)
    assert session.frame == ranked[1]
    session.go_to(ranked[1] + 1 if ranked[1] + 1 not in ranked[:2] else ranked[1] - 1)
    _press_n(qtbot, window)
    assert session.frame == ranked[0]

    # A real label on the offered frame: N ranks afresh, that frame is gone from the list.
    _label(session, truth, ranked[0])
    fresh = rank_next_frames(np.asarray(session.doc.manual(0)), session.result, top=1)[0][0]
    message = _press_n(qtbot, window)
    assert session.frame == fresh != ranked[0] and "suggestion" not in message
    assert not window.reporter.errors


def test_a_skipped_suggestion_is_followed_by_one_away_from_it() -> None:
    """The frames beside a skipped one share its blur or occlusion: the next offer is the best
    frame more than ``apart`` frames from those offered, while there is one."""

    class Doc:
        def subscribe(self, _callback):  # type: ignore[no-untyped-def]
            return lambda: None

    class Session:
        doc, instance, frame = Doc(), 0, 0

    session, offers = Session(), NextOffers()
    ranking = [155, 154, 156, 157, 158, 152, 250, 248, 312]
    picks = []
    for _ in range(4):
        frame, _place = offers.choose(session, ranking, apart=12)  # type: ignore[arg-type,misc]
        picks.append(frame)
        session.frame = frame
    assert picks == [155, 250, 312, 154]  # then back to the best left, near the first


def test_n_again_follows_the_accepted_plan(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session, panel = window.session, window.proposals.panel
    _label(session, truth, 0)
    _label(session, truth, 39)
    session.accept_proposals(np.asarray([0, 10, 20, 30, 39]), None, "uniform")
    session.go_to(5)
    qtbot.mouseClick(panel.accept_button, QtCore.Qt.MouseButton.LeftButton)  # goes to the first
    assert session.doc.settings[ACCEPTED] is True
    plan = session.plan_to_label()
    assert sorted(plan) == [10, 20, 30] and session.frame == plan[0]

    # On the frame Accept went to, N goes on to the plan's next frame, then the last, then round.
    message = _press_n(qtbot, window)
    assert session.frame == plan[1] and "(2nd suggestion)" in message
    assert "accepted proposed frame" in message and "3 frames of the proposals left" in message
    message = _press_n(qtbot, window)
    assert session.frame == plan[2] and "(3rd suggestion)" in message
    message = _press_n(qtbot, window)
    assert session.frame == plan[0] and "suggestion" not in message
    assert session.plan_to_label() == plan  # the plan's own order is untouched

    # Labelling an offered frame: N goes to the first accepted frame still to label.
    _press_n(qtbot, window)
    assert session.frame == plan[1]
    _label(session, truth, plan[1])
    left = session.plan_to_label()
    assert plan[1] not in left and len(left) == 2
    message = _press_n(qtbot, window)
    assert session.frame == left[0] and "2 frames of the proposals left" in message


def test_offers_start_over_for_another_person(qtbot, window, figure_video) -> None:
    video, truth = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    session.set_method("hpim")
    for frame in (0, 20, 39):
        _label(session, truth, frame)
    offers: NextOffers = window.next_offers
    _press_n(qtbot, window)
    _press_n(qtbot, window)
    assert len(offers.offered) == 2
    session.add_person()  # an edit, and another person
    assert offers.offered == []
