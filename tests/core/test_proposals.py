"""Proposals in the document follow the proposals file contract: one score per video frame."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.core.commands import AcceptProposals, EditError
from annotator.core.document import Proposals
from annotator.core.history import History
from annotator.core.store import load_project, save_project

from .helpers import make_doc


def test_one_score_per_video_frame_is_accepted_and_saved(tmp_path: Path) -> None:
    doc = make_doc(frames=60)
    scores = tuple(round(0.01 * f, 3) for f in range(60))  # what K-FPN returns
    History(doc).push(AcceptProposals(Proposals((4, 31, 59), scores, "kfpn")))
    assert doc.proposals is not None and doc.proposals.scores == scores
    assert doc.proposals.score_of(31) == pytest.approx(0.31)
    path = tmp_path / "p.annot.json"
    save_project(doc, path)
    again = load_project(path)
    assert again.proposals == doc.proposals


def test_scores_of_the_wrong_length_are_refused() -> None:
    doc = make_doc(frames=60)
    with pytest.raises(EditError, match="one score per video frame"):
        History(doc).push(AcceptProposals(Proposals((4, 31), tuple([0.5] * 59), "kfpn")))
    with pytest.raises(ValueError, match="one score per video frame"):
        Proposals((4, 31), (0.5, 0.7), "kfpn")  # one per proposed frame: the old mistake
    assert doc.proposals is None
