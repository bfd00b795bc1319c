"""The proposal plan's rules (``core.proposal_plan``) and clearing proposals as a command."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator.core.commands import AcceptProposals, Batch, ClearProposals, SetSetting
from annotator.core.document import Proposals
from annotator.core.history import History
from annotator.core.proposal_plan import ACCEPTED, extend_frames, extend_target, plan_order
from annotator.core.store import load_project, save_project

from .helpers import make_doc


def test_extend_target_is_the_budget_when_larger_else_half_as_many_again() -> None:
    assert extend_target(10, 25, 100) == 25
    assert extend_target(10, 8, 100) == 15  # a smaller budget cannot shrink the set
    assert extend_target(10, None, 100) == 15
    assert extend_target(1, None, 100) == 2  # at least one more
    assert extend_target(90, None, 100) == 100  # never more than the video has


def test_extend_keeps_every_frame_and_adds_the_farthest_candidates() -> None:
    # 20 is next to 21 (already proposed): the far candidates 60 and 90 come first.
    assert extend_frames((0, 21, 40), (20, 60, 90), 5) == (0, 21, 40, 60, 90)
    assert extend_frames((0, 21, 40), (20, 60, 90), 4) == (0, 21, 40, 90)
    # the candidates run out: fewer than the target, and existing frames stay beyond it
    assert extend_frames((0, 50), (50, 10), 6) == (0, 10, 50)
    assert extend_frames((0, 10, 20), (30,), 2) == (0, 10, 20)


def test_extend_breaks_distance_ties_by_score() -> None:
    scores = np.zeros(101)
    scores[75] = 1.0
    # 25 and 75 are both 25 frames from the set: the higher score wins
    assert extend_frames((0, 50, 100), (25, 75), 4, scores) == (0, 50, 75, 100)
    assert extend_frames((0, 50, 100), (25, 75), 4) == (0, 25, 50, 100)  # else earlier


def test_plan_order_ranked_first_then_by_frame_skipping_labelled() -> None:
    labelled = np.zeros(50, dtype=bool)
    labelled[10] = True
    plan = (3, 10, 20, 40)
    assert plan_order(plan, labelled) == [3, 20, 40]
    assert plan_order(plan, labelled, [(40, 9.0), (25, 5.0), (20, 1.0)]) == [40, 20, 3]


def test_clear_proposals_and_the_plan_in_one_undo_step(tmp_path: Path) -> None:
    doc = make_doc(frames=30)
    history = History(doc)
    history.push(AcceptProposals(Proposals((2, 9, 20), None, "uniform")))
    history.push(SetSetting(ACCEPTED, True))
    path = tmp_path / "p.annot.json"
    save_project(doc, path)
    assert load_project(path).settings[ACCEPTED] is True  # the plan is saved
    history.push(Batch("Clear", [ClearProposals(), SetSetting(ACCEPTED, None)]))
    assert doc.proposals is None and ACCEPTED not in doc.settings
    history.undo()
    assert doc.proposals == Proposals((2, 9, 20), None, "uniform")
    assert doc.settings[ACCEPTED] is True
