"""Labels read from a file merged into an open project (``formats.importing``, behind File >
Import Labels): labels written over the joints the file labels, predictions into the predicted
layer, new people added, one undo step; wrong joints or length refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from annotator.core.codes import Source, Visibility
from annotator.core.commands import PlaceJoint
from annotator.core.document import Document, VideoRef
from annotator.core.history import History
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.skeleton import COCO, PENN_ACTION
from annotator.errors import FormatError
from annotator.formats import registry
from annotator.formats._common import fit_frames
from annotator.formats.importing import merge_into, read_labels, summary, video_warnings

FRAMES = 30
J = PENN_ACTION.num_joints


def _doc() -> tuple[Document, History]:
    doc = Document.new(VideoRef("clip.mp4", None, FRAMES, 30.0, 320, 240), PENN_ACTION)
    history = History(doc)
    for j in range(J):
        history.push(PlaceJoint(4, j, 10.0 + j, 20.0))  # the user's own label
    history.push(PlaceJoint(8, 0, 1.0, 2.0))  # one joint on frame 8
    return doc, history


def _file_set(track_ids: tuple[int, ...] = (0,)) -> PoseSet:
    """Labels on frame 8 (joints 1-12, joint 0 left unlabelled) and 12, predictions on 20."""
    instances = []
    for track in track_ids:
        inst = PoseInstance.empty(track, FRAMES, J)
        inst.poses[8, 1:] = (100.0 + track, 50.0, Visibility.VISIBLE)
        inst.source[8, 1:] = Source.MANUAL
        inst.poses[12] = (110.0 + track, 60.0, Visibility.OCCLUDED)
        inst.source[12] = Source.MANUAL
        inst.poses[15] = (0.0, 0.0, Visibility.VISIBLE)  # a fill: not a label, left out
        inst.source[15] = Source.HPIM
        inst.poses[20] = (120.0 + track, 70.0, Visibility.VISIBLE)
        inst.source[20] = Source.PREDICTED
        inst.confidence = np.full((FRAMES, J), np.nan, np.float32)
        inst.confidence[20] = 0.7
        instances.append(inst)
    return PoseSet(PENN_ACTION, FRAMES, instances)


def test_merge_keeps_what_the_file_does_not_label_and_undoes_in_one_step() -> None:
    doc, history = _doc()
    before = np.array(doc.manual(0))
    history.push(merge_into(doc, _file_set(), "Import labels.csv"))
    manual = doc.manual(0)
    np.testing.assert_array_equal(manual[4], before[4])  # a frame the file does not touch
    assert tuple(manual[8, 0]) == (1.0, 2.0, Visibility.VISIBLE)  # a joint it leaves out
    assert (manual[8, 1:, 0] == 100.0).all() and (manual[12, :, 2] == Visibility.OCCLUDED).all()
    assert (manual[15, :, 2] == Visibility.UNLABELLED).all()  # fills are no labels
    assert list(doc.predicted_frames(0)) == [20]
    assert np.allclose(doc.predicted(0)[20, :, 0], 120.0)
    assert np.allclose(doc.confidence(0)[20], 0.7)
    assert history.undo_text == "Import labels.csv"
    history.undo()
    np.testing.assert_array_equal(doc.manual(0), before)
    assert len(doc.predicted_frames(0)) == 0


def test_a_person_the_project_lacks_is_added() -> None:
    doc, history = _doc()
    history.push(merge_into(doc, _file_set((0, 3)), "Import"))
    assert [i.track_id for i in doc.instances] == [0, 3]
    assert list(doc.labelled_frames(1)) == [8, 12] and list(doc.predicted_frames(1)) == [20]
    assert np.allclose(doc.manual(1)[12, :, 0], 113.0)
    history.undo()
    assert [i.track_id for i in doc.instances] == [0]


def test_nothing_to_merge_is_refused() -> None:
    doc, _history = _doc()
    empty = PoseSet(PENN_ACTION, FRAMES, [PoseInstance.empty(0, FRAMES, J)])
    with pytest.raises(FormatError, match="no labels or predicted joints"):
        merge_into(doc, empty, "Import")


def test_read_refuses_other_joints_and_labels_past_the_video(tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    registry.get("csv").write(_file_set(), out, frames="all")
    ps, name = read_labels(out, skeleton=PENN_ACTION, frame_count=40)
    assert name == "csv" and ps.frame_count == 40
    assert summary(ps) == "2 labelled frames and 1 frame of predicted joints of 1 person"
    with pytest.raises(FormatError, match="skeleton 'coco'"):
        read_labels(out, skeleton=COCO, frame_count=40)
    with pytest.raises(FormatError, match="the video has 20 frames"):
        read_labels(out, skeleton=PENN_ACTION, frame_count=20)


def test_padding_to_the_video_keeps_confidence_and_held() -> None:
    ps = _file_set()
    ps.instances[0].held = np.zeros((FRAMES, J), bool)
    ps.instances[0].held[15] = True
    padded = fit_frames(ps, FRAMES + 10).instances[0]
    assert padded.confidence is not None and np.allclose(padded.confidence[20], 0.7)
    assert np.isnan(padded.confidence[FRAMES:]).all()
    assert padded.held is not None and padded.held[15].all() and not padded.held[FRAMES:].any()


@pytest.mark.parametrize(
    ("name", "suffix"),
    [("coco", ".json"), ("cvat-video", ".xml"), ("npz", ".npz"), ("csv", ".csv")],
)
def test_a_file_for_a_longer_video_imports_when_its_labels_fit(
    name: str, suffix: str, tmp_path: Path
) -> None:
    # Labels up to frame 12 of a 50-frame video. COCO, CVAT and npz say how long their video
    # was and were refused ("the labels reach frame 49 ..."); CSV, which ends at its last
    # label, was imported: the same labels now read alike from every format.
    ps = fit_frames(_file_set(), 50)
    out = tmp_path / f"labels{suffix}"
    registry.get(name).write(replace(ps, width=320, height=240), out)
    read, _ = read_labels(out, skeleton=PENN_ACTION)
    said = video_warnings(read, FRAMES, 320, 240)
    if name == "csv":
        assert said == []
    else:
        assert said == [f"the file is for a 50-frame video; this one has {FRAMES}"]
    fitted = fit_frames(read, FRAMES)
    assert fitted.frame_count == FRAMES
    assert fitted.instances[0].manual_frames().tolist() == [8, 12]
    with pytest.raises(FormatError) as err:
        fit_frames(read, 10)
    longer = "" if name == "csv" else " (the file is for a 50-frame video)"
    assert str(err.value) == f"the labels reach frame 12 but the video has 10 frames{longer}"


def test_video_warnings_name_another_frame_size() -> None:
    ps = replace(_file_set(), width=320, height=240)
    assert video_warnings(ps, FRAMES, 640, 360) == [
        "the labels were made on 320x240 frames; the video is 640x360"
    ]
    assert video_warnings(ps, FRAMES, 320, 240) == []
    assert video_warnings(ps, FRAMES, 0, 0) == []  # a video of unknown size: nothing to say
