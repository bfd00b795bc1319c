"""Every command does, undoes and redoes exactly; events name the right spans."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.codes import Visibility
from annotator.core.commands import (
    AcceptFill,
    AcceptProposals,
    AddInstance,
    Batch,
    ClearFrame,
    CopyPose,
    DeleteJoint,
    EditError,
    FlipLeftRight,
    MarkReviewed,
    MoveJoint,
    PlaceJoint,
    RemoveInstance,
    ReplaceContent,
    SetFlag,
    SetGate,
    SetSceneCut,
    SetSetting,
    SetVisibility,
)
from annotator.core.document import Change, Proposals
from annotator.core.history import Command, History
from annotator.core.skeleton import PENN_ACTION

from .helpers import content, make_doc

L_WRIST, R_WRIST = PENN_ACTION.index("L-wrist"), PENN_ACTION.index("R-wrist")


def _seeded():
    doc = make_doc()
    history = History(doc)
    history.push(PlaceJoint(5, L_WRIST, 10.5, 20.25))
    history.push(PlaceJoint(5, R_WRIST, 30.0, 40.0, Visibility.OCCLUDED))
    history.push(PlaceJoint(20, 0, 1.0, 2.0))
    history.clear()
    return doc, history


def _commands() -> list[Command]:
    fill = np.full((4, PENN_ACTION.num_joints, 3), np.nan, np.float32)
    fill[:, :, 2] = Visibility.UNLABELLED
    fill[:, :3] = (7.0, 8.0, Visibility.VISIBLE)
    poses = np.zeros((2, PENN_ACTION.num_joints, 3), np.float32)
    poses[:, :, 2] = Visibility.VISIBLE
    return [
        PlaceJoint(7, 3, 1.5, 2.5),
        MoveJoint(5, L_WRIST, 11.0, 21.0),
        DeleteJoint(5, R_WRIST),
        SetVisibility(5, L_WRIST, Visibility.OCCLUDED),
        SetVisibility(5, L_WRIST, Visibility.ABSENT),
        ClearFrame(5),
        CopyPose(12, "previous"),
        CopyPose(12, "next"),
        FlipLeftRight(5),
        AcceptProposals(Proposals((3, 5, 40), tuple(f / 60 for f in range(60)), "kfpn")),
        AcceptProposals(Proposals((5, 40), None, "kfpn"), poses),
        AcceptFill(18, fill),
        MarkReviewed(0, 10, "ann"),
        SetFlag(5, "wrist looks wrong"),
        SetSceneCut(30),
        SetGate(10, [1, 0, 1]),
        SetSetting("fill_method", "hpim"),
        AddInstance(),
        Batch("two", [PlaceJoint(1, 1, 1, 1), PlaceJoint(2, 2, 2, 2)]),
    ]


@pytest.mark.parametrize("command", _commands(), ids=lambda c: type(c).__name__)
def test_do_undo_redo(command: Command) -> None:
    doc, history = _seeded()
    before = content(doc)
    history.push(command)
    after = content(doc)
    assert after != before, "the command changed nothing"
    assert history.undo_text == command.text and command.text
    history.undo()
    assert content(doc) == before
    history.redo()
    assert content(doc) == after
    history.undo()
    assert content(doc) == before


def test_remove_instance_round_trip() -> None:
    doc, history = _seeded()
    history.push(AddInstance(track_id=7))
    history.push(PlaceJoint(3, 0, 5, 5, instance=1))
    before = content(doc)
    history.push(RemoveInstance(0))
    assert [i.track_id for i in doc.instances] == [7]
    assert doc.labelled_frames(0).tolist() == [3]
    history.undo()
    assert content(doc) == before
    with pytest.raises(EditError):
        History(doc).push(RemoveInstance(5))


def test_last_instance_cannot_be_removed() -> None:
    _doc, history = _seeded()
    with pytest.raises(EditError, match="at least one"):
        history.push(RemoveInstance(0))
    assert not history.can_undo


def test_place_move_values_and_text() -> None:
    doc, history = _seeded()
    history.push(MoveJoint(20, L_WRIST, 3.0, 4.0))  # unlabelled joint becomes visible
    assert doc.label(0, 20, L_WRIST) == (3.0, 4.0, Visibility.VISIBLE)
    assert history.undo_text == "Move L-wrist"
    history.push(MoveJoint(5, R_WRIST, 1.0, 1.0))  # keeps occluded
    assert doc.label(0, 5, R_WRIST)[2] == Visibility.OCCLUDED


def test_absent_and_visibility_rules() -> None:
    doc, history = _seeded()
    history.push(SetVisibility(5, L_WRIST, Visibility.ABSENT))
    x, y, v = doc.label(0, 5, L_WRIST)
    assert v == Visibility.ABSENT and np.isnan(x) and np.isnan(y)
    with pytest.raises(EditError, match="no position"):
        history.push(SetVisibility(5, L_WRIST, Visibility.VISIBLE))
    history.push(SetVisibility(5, L_WRIST, Visibility.VISIBLE, x=9.0, y=9.0))
    assert doc.label(0, 5, L_WRIST) == (9.0, 9.0, Visibility.VISIBLE)
    with pytest.raises(EditError):
        PlaceJoint(5, 0, float("nan"), 1.0)


def test_copy_pose_copies_nearest_labelled_frame() -> None:
    doc, history = _seeded()
    cmd = CopyPose(12, "previous")
    history.push(cmd)
    assert cmd.source_frame == 5
    assert np.array_equal(doc.manual()[12], doc.manual()[5], equal_nan=True)
    cmd = CopyPose(12, "next")
    history.push(cmd)
    assert cmd.source_frame == 20
    with pytest.raises(EditError, match="no labelled frame"):
        history.push(CopyPose(3, "previous"))


def test_copy_pose_keeps_the_joints_already_placed() -> None:
    doc, history = _seeded()
    history.push(PlaceJoint(12, L_WRIST, 7.0, 8.0))
    history.push(CopyPose(12, "previous"))
    assert doc.label(0, 12, L_WRIST) == (7.0, 8.0, Visibility.VISIBLE)
    others = [j for j in range(doc.manual().shape[1]) if j != L_WRIST]
    assert np.array_equal(doc.manual()[12, others], doc.manual()[5, others], equal_nan=True)
    history.undo()
    assert doc.label(0, 12, L_WRIST) == (7.0, 8.0, Visibility.VISIBLE)


def test_flip_swaps_left_and_right() -> None:
    doc, history = _seeded()
    left, right = doc.label(0, 5, L_WRIST), doc.label(0, 5, R_WRIST)
    history.push(FlipLeftRight(5))
    assert doc.label(0, 5, R_WRIST) == left and doc.label(0, 5, L_WRIST) == right


def test_accept_fill_keeps_manual_labels() -> None:
    doc, history = _seeded()
    fill = np.zeros((3, PENN_ACTION.num_joints, 3), np.float32)
    fill[:, :, 2] = Visibility.VISIBLE
    history.push(AcceptFill(4, fill))  # frames 4, 5, 6; frame 5 has two manual joints
    assert doc.label(0, 5, L_WRIST) == (10.5, 20.25, Visibility.VISIBLE)
    assert doc.label(0, 5, 0) == (0.0, 0.0, Visibility.VISIBLE)
    assert doc.frame_states().labelled[4:7].all()
    with pytest.raises(EditError):
        history.push(AcceptFill(59, fill))  # runs past the end


def test_accept_proposals_labels_only_unlabelled_frames() -> None:
    doc, history = _seeded()
    poses = np.ones((2, PENN_ACTION.num_joints, 3), np.float32)
    history.push(
        AcceptProposals(Proposals((5, 40), tuple(f / 60 for f in range(60)), "kfpn"), poses)
    )
    assert doc.proposals is not None and doc.proposals.frames == (5, 40)
    assert doc.label(0, 5, L_WRIST)[0] == 10.5  # manual label untouched
    assert doc.frame_states().labelled[40]
    with pytest.raises(EditError):
        history.push(AcceptProposals(Proposals((70,), None, "kfpn")))


def test_review_flags_cuts_gate_states() -> None:
    doc, history = _seeded()
    history.push(MarkReviewed(2, 4, "ann", at="2026-01-01T00:00:00+00:00"))
    history.push(SetFlag(3, "blurry"))
    history.push(SetSceneCut(10))
    history.push(SetGate(0, [0, 1]))
    states = doc.frame_states()
    assert states.reviewed.nonzero()[0].tolist() == [2, 3]
    assert doc.reviews[2].by == "ann"
    assert states.flagged.nonzero()[0].tolist() == [3] and doc.flags[3] == "blurry"
    assert states.scene_cut.nonzero()[0].tolist() == [10]
    assert states.gate[:3].tolist() == [0, 1, -1]
    assert states.partial[5] and states.partial[20] and not states.labelled[5]
    history.push(SetFlag(3, None))
    assert 3 not in doc.flags


def test_events_carry_spans() -> None:
    doc, history = _seeded()
    events: list[Change] = []
    unsubscribe = doc.subscribe(events.append)
    history.push(PlaceJoint(9, 4, 1, 1))
    history.push(ClearFrame(3, stop=8))
    history.push(FlipLeftRight(5))
    history.push(MarkReviewed(2, 6, "me"))
    history.push(SetSceneCut(11))
    history.push(AddInstance())
    history.undo()
    assert events == [
        Change("labels", 0, (9, 10), (4,)),
        Change("labels", 0, (3, 8), None),
        Change("labels", 0, (5, 6), None),
        Change("review", None, (2, 6)),
        Change("scene_cuts", None, (11, 12)),
        Change("instances", op=("insert", 1)),
        Change("instances", op=("remove", 1)),
    ]
    unsubscribe()
    history.undo()
    assert len(events) == 7


def test_failed_command_changes_nothing() -> None:
    doc, history = _seeded()
    before = content(doc)
    for bad in (
        PlaceJoint(99, 0, 1, 1),
        PlaceJoint(1, 40, 1, 1),
        ClearFrame(1, instance=3),
        Batch("x", [PlaceJoint(1, 1, 1, 1), PlaceJoint(1, 99, 1, 1)]),
    ):
        with pytest.raises(EditError):
            history.push(bad)
    assert content(doc) == before and not history.can_undo


def test_replace_content_restores_everything_in_one_step() -> None:
    doc, history = _seeded()
    source, source_history = _seeded()
    source_history.push(AddInstance(track_id=9))
    source_history.push(PlaceJoint(2, 2, 2.0, 2.0, instance=1))
    source_history.push(MarkReviewed(0, 3, "me"))
    source_history.push(SetSceneCut(40))
    source_history.push(SetSetting("k", 1))
    source_history.push(RemoveInstance(0))
    history.push(SetFlag(1, "mine"))
    history.push(SetSceneCut(12))
    before = content(doc)
    history.push(ReplaceContent(source))
    assert content(doc) == content(source)
    assert [i.track_id for i in doc.instances] == [9]
    history.undo()
    assert content(doc) == before
    with pytest.raises(EditError, match="frames"):
        history.push(ReplaceContent(make_doc(frames=10)))


def test_proposals_taken_in_are_named_as_a_proposers_run() -> None:
    _doc, history = _seeded()
    history.push(AcceptProposals(Proposals((3, 9), None, "kfpn")))
    assert history.undo_text == "Propose 2 frames (kfpn)"  # the panel's Accept is another step
