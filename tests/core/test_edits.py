"""The editing rules of ``core/edits.py``, run on a document and its history with no Qt."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from annotator.core import edits
from annotator.core.codes import Visibility
from annotator.core.commands import PlaceJoint, SetSetting
from annotator.core.document import Document
from annotator.core.history import History
from annotator.core.proposal_plan import ACCEPTED
from annotator.errors import AnnotatorError
from tests.core.helpers import make_doc


def _labelled(*frames: int) -> tuple[History, Document]:
    doc = make_doc(frames=20)
    history = History(doc)
    for f in frames:
        history.push(PlaceJoint(f, 0, 10.0 + f, 20.0))
    return history, doc


def test_toggle_occluded_flips_and_skips_joints_without_a_position() -> None:
    history, doc = _labelled(3)
    command = edits.toggle_occluded(3, 0, Visibility.VISIBLE, (13.0, 20.0), 0)
    assert command is not None
    history.push(command)
    assert doc.label(0, 3, 0)[2] == Visibility.OCCLUDED
    back = edits.toggle_occluded(3, 0, Visibility.OCCLUDED, (13.0, 20.0), 0)
    history.push(back)
    assert doc.label(0, 3, 0)[2] == Visibility.VISIBLE
    assert edits.toggle_occluded(3, 1, Visibility.ABSENT, (0.0, 0.0), 0) is None
    assert edits.toggle_occluded(3, 1, Visibility.UNLABELLED, (0.0, 0.0), 0) is None


def test_toggle_occluded_makes_a_filled_joint_a_label_where_it_is_shown() -> None:
    history, doc = _labelled()
    history.push(edits.toggle_occluded(5, 2, Visibility.VISIBLE, (40.0, 50.0), 0))
    x, y, vis = doc.label(0, 5, 2)
    assert (x, y, vis) == (40.0, 50.0, Visibility.OCCLUDED)


def test_delete_and_clear_only_when_there_is_a_label() -> None:
    history, doc = _labelled(4)
    assert edits.delete_label(doc.manual(), 4, 1, 0) is None  # joint 1 has no label
    assert edits.clear_frame(doc.manual(), 5, 0) is None  # frame 5 has none
    history.push(edits.delete_label(doc.manual(), 4, 0, 0))
    assert doc.label(0, 4, 0)[2] == Visibility.UNLABELLED
    history.undo()
    history.push(edits.clear_frame(doc.manual(), 4, 0))
    assert (doc.manual()[4, :, 2] == Visibility.UNLABELLED).all()


def test_copy_takes_the_nearest_labelled_frame_earlier_on_a_tie() -> None:
    history, doc = _labelled(2, 10)
    assert edits.copy_from_nearest(make_doc(frames=20), 5, 0) is None  # nothing labelled
    tie = edits.copy_from_nearest(doc, 6, 0)  # 4 frames from each
    assert tie is not None
    history.push(tie)
    assert tie.source_frame == 2 and doc.label(0, 6, 0)[0] == 12.0
    later = edits.copy_from_nearest(doc, 9, 0)
    history.push(later)
    assert later.source_frame == 10 and doc.label(0, 9, 0)[0] == 20.0


def test_accept_fill_needs_an_unlabelled_joint_with_a_value() -> None:
    history, doc = _labelled(1)
    shown = np.zeros((doc.skeleton.num_joints, 3), dtype=np.float32)
    assert edits.accept_fill(doc.manual()[7], shown, 7, 0) is None  # the fill shows nothing
    shown[1] = (30.0, 31.0, Visibility.VISIBLE)
    command = edits.accept_fill(doc.manual()[7], shown, 7, 0)
    history.push(command)
    assert doc.label(0, 7, 1) == (30.0, 31.0, Visibility.VISIBLE)


def test_accept_proposals_with_gate_is_one_step_and_drops_the_accepted_plan() -> None:
    history, doc = _labelled()
    history.push(SetSetting(ACCEPTED, True))
    gate = np.zeros(20, dtype=np.int8)
    gate[[4, 9]] = 1
    history.push(edits.accept_proposals(doc, [4, 9], None, "gate", 0, gate=gate))
    assert doc.proposals is not None and doc.proposals.frames == (4, 9)
    assert list(np.flatnonzero(doc.gate == 1)) == [4, 9]
    assert not doc.settings.get(ACCEPTED)
    history.undo()  # one undo takes all of it back
    assert doc.proposals is None and doc.settings.get(ACCEPTED)
    assert not (doc.gate == 1).any()
    kept = edits.accept_proposals(doc, [3], [0.5] * 20, "uniform", 0, keep_plan=True)
    history.push(kept)
    assert doc.settings.get(ACCEPTED) and doc.proposals.frames == (3,)


def test_accept_proposals_refuses_a_gate_of_the_wrong_length() -> None:
    _, doc = _labelled()
    with pytest.raises(AnnotatorError, match="3 gate decisions"):
        edits.accept_proposals(doc, [1], None, "gate", 0, gate=[0, 1, 0])


def test_the_rules_import_and_run_without_qt() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from annotator.core import edits\n"
        "from tests.core.helpers import make_doc\n"
        "assert edits.copy_from_nearest(make_doc(frames=5), 2, 0) is None\n"
        "assert 'PySide6' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
