"""History: merging of drags, the 1000-step limit, clean state and notifications."""

from __future__ import annotations

import numpy as np

from annotator.core.commands import MoveJoint, PlaceJoint, SetLabels
from annotator.core.history import History

from .helpers import content, make_doc


def test_a_drag_is_one_undo_step() -> None:
    doc = make_doc()
    history = History(doc)
    history.push(PlaceJoint(4, 2, 1.0, 1.0))
    before = content(doc)
    for k in range(50):
        history.push(MoveJoint(4, 2, 1.0 + k, 2.0, drag=1))
    assert history.undo_count == 2
    assert doc.label(0, 4, 2)[:2] == (50.0, 2.0)
    history.undo()
    assert content(doc) == before
    history.redo()
    assert doc.label(0, 4, 2)[:2] == (50.0, 2.0)


def test_separate_drags_and_seal_split_steps() -> None:
    doc = make_doc()
    history = History(doc)
    history.push(MoveJoint(4, 2, 1.0, 1.0, drag=1))
    history.push(MoveJoint(4, 2, 2.0, 1.0, drag=2))  # a new drag id
    history.push(MoveJoint(4, 2, 3.0, 1.0, drag=2))
    history.seal()  # mouse released
    history.push(MoveJoint(4, 2, 4.0, 1.0, drag=2))
    history.push(MoveJoint(4, 3, 4.0, 1.0, drag=2))  # another joint never merges
    assert history.undo_count == 4


def test_limit_keeps_the_newest_thousand_steps() -> None:
    doc = make_doc(frames=2000)
    history = History(doc)
    assert history.limit >= 1000
    for f in range(1100):
        history.push(PlaceJoint(f, 0, float(f), 0.0))
    assert history.undo_count == 1000
    while history.can_undo:
        history.undo()
    assert doc.labelled_frames().tolist() == list(range(100))
    assert not history.is_clean  # the saved (empty) state fell off the bottom


def test_clean_state_tracking() -> None:
    doc = make_doc()
    history = History(doc)
    calls: list[int] = []
    history.subscribe(lambda: calls.append(1))
    assert history.is_clean
    history.push(PlaceJoint(1, 0, 1, 1))
    assert not history.is_clean
    history.set_clean()
    history.push(MoveJoint(1, 0, 2, 2, drag=1))
    history.push(MoveJoint(1, 0, 3, 3, drag=1))
    assert not history.is_clean
    history.undo()
    assert history.is_clean  # the drag never merged into the saved step
    history.undo()
    assert not history.is_clean
    history.redo()
    assert history.is_clean
    history.undo()
    history.push(PlaceJoint(2, 0, 1, 1))  # the saved state is now unreachable
    while history.can_undo:
        history.undo()
        assert not history.is_clean
    assert len(calls) >= 8
    assert history.redo_text == "Place head"


def test_bulk_edits_are_bounded_by_memory() -> None:
    doc = make_doc(frames=1000)
    history = History(doc, memory_limit=1_000_000)
    fill = np.zeros((1000, 13, 3), np.float32)
    fill[:, :, 2] = 1
    history.push(PlaceJoint(0, 0, 1, 1))
    for k in range(4):  # each holds ~2 x 156 kB for undo/redo
        fill[:, :, 0] = k
        history.push(SetLabels(0, fill, text=f"bulk {k}"))
    assert history.nbytes <= 1_000_000
    assert history.undo_count == 3 and history.undo_text == "bulk 3"
    history.undo()
    assert doc.label(0, 5, 0)[0] == 2.0


def test_memory_accounting_matches_the_stacks() -> None:
    doc = make_doc(frames=100)
    history = History(doc)
    fill = np.zeros((100, 13, 3), np.float32)
    fill[:, :, 2] = 1
    history.push(SetLabels(0, fill))
    for k in range(5):
        history.push(MoveJoint(3, 1, float(k), 1.0, drag=1))
    history.undo()
    history.undo()
    history.redo()
    history.push(PlaceJoint(5, 5, 1.0, 1.0))
    assert history._held == sum(c.nbytes for c in history._undo)


def test_set_unsaved_leaves_no_clean_state_until_the_next_save() -> None:
    doc = make_doc()
    history = History(doc)
    history.push(PlaceJoint(4, 2, 1.0, 1.0))
    history.set_clean()
    history.set_unsaved()  # a change no command recorded (a relocated video)
    assert not history.is_clean
    history.undo()
    history.redo()
    assert not history.is_clean  # no undo or redo reaches the saved state
    history.set_clean()
    assert history.is_clean
