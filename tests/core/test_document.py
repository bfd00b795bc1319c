"""The document itself: construction, read-only views, frame states and PoseSet conversion."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.codes import Visibility
from annotator.core.commands import AddInstance, PlaceJoint
from annotator.core.document import Document, VideoRef
from annotator.core.history import History
from annotator.core.poseset import PoseSet
from annotator.core.skeleton import COCO, PENN_ACTION
from annotator.errors import ProjectError

from .helpers import make_doc


def test_new_document_defaults() -> None:
    doc = make_doc(frames=10)
    assert [i.track_id for i in doc.instances] == [0]
    assert doc.manual().shape == (10, PENN_ACTION.num_joints, 3)
    assert (doc.manual()[:, :, 2] == Visibility.UNLABELLED).all()
    assert np.isnan(doc.manual()[:, :, :2]).all()
    assert doc.timestamps[3] == pytest.approx(0.1)
    assert doc.labelled_frames().size == 0 and doc.proposals is None


def test_views_are_read_only() -> None:
    doc = make_doc(frames=10)
    with pytest.raises(ValueError):
        doc.manual()[0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        doc.timestamps[0] = 1.0
    with pytest.raises(ValueError):
        doc.gate[0] = 1


@pytest.mark.parametrize(
    ("frames", "timestamps", "message"),
    [
        (0, None, "1 to"),
        (3, [0.0, 0.1], "3 frames"),
        (3, [0.0, 0.2, 0.1], "non-decreasing"),
        (3, [0.0, float("nan"), 0.1], "finite"),
    ],
)
def test_bad_videos_are_refused(frames: int, timestamps: list[float] | None, message: str) -> None:
    with pytest.raises(ProjectError, match=message):
        Document.new(VideoRef("v.mp4", None, frames, 30.0, 1, 1), COCO, timestamps)


def test_positions_are_kept_to_a_thousandth_of_a_pixel() -> None:
    doc = make_doc(frames=10)
    History(doc).push(PlaceJoint(1, 0, 10.123456, 3.9999))
    x, y, _ = doc.label(0, 1, 0)
    assert x == pytest.approx(10.123, abs=1e-5) and y == pytest.approx(4.0, abs=1e-5)


def test_frame_states_and_navigation() -> None:
    doc = make_doc(frames=10)
    history = History(doc)
    for j in range(PENN_ACTION.num_joints):
        history.push(PlaceJoint(2, j, 1.0, 1.0))
    history.push(PlaceJoint(6, 0, 1.0, 1.0))
    filled = np.zeros((10, PENN_ACTION.num_joints), np.int8)
    filled[3:6] = 1
    states = doc.frame_states(filled=filled)
    assert states.labelled.nonzero()[0].tolist() == [2]
    assert states.partial.nonzero()[0].tolist() == [6]
    assert states.filled.nonzero()[0].tolist() == [3, 4, 5]
    assert states.labelled_joints[[2, 6, 7]].tolist() == [13, 1, 0]
    assert doc.nearest_labelled(5, "previous") == 2 and doc.nearest_labelled(5, "next") == 6
    assert doc.nearest_labelled(2, "previous") is None and doc.nearest_labelled(6, "next") is None


def test_pose_set_conversion_rules() -> None:
    doc = make_doc(frames=10)
    history = History(doc)
    history.push(AddInstance(skeleton=COCO))
    with pytest.raises(ProjectError, match="one skeleton"):
        doc.to_pose_set()
    ps = PoseSet(PENN_ACTION, 12, [])
    assert Document.from_pose_set(ps).labelled_frames().size == 0
    with pytest.raises(ProjectError, match="12 frames"):
        Document.from_pose_set(ps, VideoRef("v.mp4", None, 10, 30.0, 1, 1))


def test_subscriber_errors_do_not_break_edits() -> None:
    doc = make_doc(frames=10)
    seen: list[str] = []

    def broken(change: object) -> None:
        raise RuntimeError("view bug")

    doc.subscribe(broken)
    doc.subscribe(lambda change: seen.append(change.kind))
    History(doc).push(PlaceJoint(1, 0, 1.0, 1.0))
    assert seen == ["labels"] and doc.labelled_frames().tolist() == [1]


def test_residual_energy_is_derived_state_with_an_event() -> None:
    doc = make_doc(frames=4)
    assert np.isnan(doc.residual_energy).all()  # unknown until motion fields arrive
    seen = []
    doc.subscribe(seen.append)
    doc.set_residual_energy([np.nan, 1.5, 2.0, 0.5])
    assert doc.residual_energy[1:].tolist() == [1.5, 2.0, 0.5]
    assert [c.kind for c in seen] == ["residual"]
    with pytest.raises(ValueError):
        doc.residual_energy[1] = 0.0
    with pytest.raises(ValueError, match="one value per frame"):
        doc.set_residual_energy([1.0, 2.0])
    doc.set_residual_energy(None)
    assert np.isnan(doc.residual_energy).all()
