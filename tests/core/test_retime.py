"""A project survives a re-index of its video: labels follow their timestamps."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.commands import (
    AcceptProposals,
    MarkReviewed,
    PlaceJoint,
    SetFlag,
    SetGate,
    SetSceneCut,
)
from annotator.core.document import Document, Proposals, VideoRef
from annotator.core.history import History
from annotator.core.retime import needs_retime, retime
from annotator.core.skeleton import PENN_ACTION
from annotator.errors import ProjectError


def _doc() -> Document:
    ts = np.arange(30) / 30.0
    doc = Document.new(VideoRef("v.mp4", None, 30, 30.0, 64, 48), PENN_ACTION, ts)
    h = History(doc)
    h.push(PlaceJoint(3, 0, 1.0, 2.0))
    h.push(PlaceJoint(20, 5, 3.0, 4.0))
    h.push(AcceptProposals(Proposals((3, 20), tuple(f / 30 for f in range(30)), "kfpn")))
    h.push(MarkReviewed(20, 21, "me", at="t"))
    h.push(SetFlag(21, "why"))
    h.push(SetSceneCut(10))
    h.push(SetGate(22, [1]))
    return doc


def test_dropped_leading_frames_shift_everything() -> None:
    doc = _doc()
    new_ts = np.arange(2, 30) / 30.0  # the re-indexed video lost its first two frames
    assert needs_retime(doc, new_ts) and not needs_retime(doc, doc.timestamps)
    out = retime(doc, new_ts)
    assert out.frame_count == 28
    assert out.labelled_frames().tolist() == [1, 18]
    assert out.label(0, 18, 5) == doc.label(0, 20, 5)
    assert out.proposals is not None and out.proposals.frames == (1, 18)
    # one score per video frame: the new frames keep the scores of their times
    np.testing.assert_allclose(out.proposals.scores, np.arange(2, 30) / 30)
    assert list(out.reviews) == [18] and list(out.flags) == [19]
    assert out.scene_cuts == (8,) and out.gate[20] == 1


def test_small_timestamp_jitter_is_tolerated() -> None:
    doc = _doc()
    out = retime(doc, doc.timestamps + 0.004)
    assert out.labelled_frames().tolist() == [3, 20]


def test_a_label_without_a_matching_frame_is_an_error() -> None:
    doc = _doc()
    new_ts = np.concatenate([np.arange(0, 10), np.arange(21, 30)]) / 30.0  # frames 10-20 gone
    with pytest.raises(ProjectError, match=r"0\.667 s \(frame 20\)"):
        retime(doc, new_ts)
