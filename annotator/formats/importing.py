"""One import path for ``annotator import`` and the app's File > Import Labels.

``read_labels`` reads a label file in any readable format (guessed from the file unless named),
checked against a skeleton when the caller has one (``--skeleton``, or the open project's) and
fitted to the video's length. ``merge_into`` turns what it read into one edit of an open
project, undone in one step: the file's manual labels are written over the project's on the
joints the file labels (other joints and frames keep theirs), its predicted joints (an
estimator's, e.g. ``annotator estimate``'s output) replace the predicted layer on their frames,
and a person the file has and the project does not (by track id) is added. Fills in the file
are not labels and are left out, as everywhere (the project recomputes them).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from annotator.core import commands as cmd
from annotator.core.codes import Source, Visibility
from annotator.core.document import Document, FloatArray, empty_labels, predicted_layer
from annotator.core.poseset import PoseSet
from annotator.core.skeleton import Skeleton
from annotator.errors import FormatError
from annotator.formats import registry
from annotator.formats._common import fit_frames


def read_labels(
    path: str | Path,
    *,
    name: str | None = None,
    skeleton: Skeleton | None = None,
    frame_count: int | None = None,
    advice: str = "give --format",
) -> tuple[PoseSet, str]:
    """(the file's pose set, its format's name). ``name``: the format (guessed when None;
    ``advice``: what to do when it cannot be); ``skeleton``: the joints the labels must have
    (files that do not name their joints take it); ``frame_count``: the video's, the labels
    fitted to it (``fit_frames``: refused past its end)."""
    src = Path(path)
    if not src.exists():
        raise FormatError(f"file not found: {src}")
    adaptor = registry.get(name) if name else registry.guess(src, advice)
    ps = adaptor.read(src, **({"skeleton": skeleton} if skeleton else {}))
    if skeleton is not None and ps.skeleton != skeleton:
        if ps.skeleton.joints != skeleton.joints:
            raise FormatError(
                f"{src.name}'s joints ({_joints(ps.skeleton)}) do not match skeleton "
                f"{skeleton.name!r} ({_joints(skeleton)})"
            )
        ps = replace(ps, skeleton=skeleton)
    if frame_count is not None:
        ps = fit_frames(ps, frame_count)
    return ps, adaptor.name


def video_warnings(ps: PoseSet, frame_count: int, width: int, height: int) -> list[str]:
    """What to tell the user when ``ps`` (as read, before ``fit_frames``) was made for another
    video than the one it goes onto (``frame_count`` frames of ``width`` x ``height``; 0 when
    unknown). The labels are imported as they are: a crop, a rescale or a trimmed copy cannot
    be told apart from another video, so this only warns (``annotator import`` on stderr,
    File > Import Labels on the status bar). A file that ends sooner says nothing: CSV and
    DeepLabCut tables end at their last label."""
    said = []
    if ps.width and ps.height and width and height and (ps.width, ps.height) != (width, height):
        said.append(
            f"the labels were made on {ps.width}x{ps.height} frames; the video is {width}x{height}"
        )
    if ps.frame_count > frame_count:
        said.append(f"the file is for a {ps.frame_count}-frame video; this one has {frame_count}")
    return said


def _joints(skeleton: Skeleton) -> str:
    names = skeleton.joints
    shown = ", ".join(names[:4])
    return f"{len(names)} joints: {shown}, …" if len(names) > 4 else f"{len(names)}: {shown}"


def _predicted_rows(values: FloatArray) -> np.ndarray:
    """Frames of a predicted layer (``predicted_layer``) with at least one joint in it."""
    return np.flatnonzero((values[:, :, 2] != Visibility.UNLABELLED).any(axis=1))


def counts(ps: PoseSet) -> tuple[int, int]:
    """Frames with a label, and frames with predicted joints, summed over the people: rows
    whose joints are all unlabelled count for nothing (a file of them was said to hold "412
    labelled frames")."""
    labelled = 0
    for inst in ps.instances:
        placed = (inst.source == Source.MANUAL) & (inst.poses[:, :, 2] != Visibility.UNLABELLED)
        labelled += int(placed.any(axis=1).sum())
    layers = (predicted_layer(inst) for inst in ps.instances)
    predicted = sum(len(_predicted_rows(layer[0])) for layer in layers if layer is not None)
    return labelled, predicted


def refuse_empty(ps: PoseSet, name: str) -> None:
    """``FormatError`` when ``ps`` holds neither a label nor a predicted joint."""
    if counts(ps) == (0, 0):
        raise FormatError(f"{name} holds no labels (no joint of any frame is labelled)")


def summary(ps: PoseSet) -> str:
    """What the file holds, e.g. "12 labelled frames of 1 person", with the frames of
    estimator predictions (which are not labels) when there are any."""
    labelled, predicted = counts(ps)
    text = f"{labelled} labelled frame{'' if labelled == 1 else 's'}"
    if predicted:
        text += f" and {predicted} frame{'' if predicted == 1 else 's'} of predicted joints"
    people = len(ps.instances)
    return f"{text} of {people} {'person' if people == 1 else 'people'}"


def merge_into(doc: Document, ps: PoseSet, text: str) -> cmd.Batch:
    """One command (``text`` its undo name) that writes ``ps`` into ``doc`` (see the module
    docstring); ``ps`` must have ``doc``'s joints and frame count (``read_labels``)."""
    if ps.skeleton.joints != doc.skeleton.joints:
        raise FormatError("the labels' joints do not match this project's skeleton")
    if ps.frame_count != doc.frame_count:
        raise FormatError(
            f"the labels cover {ps.frame_count} frames but the video has {doc.frame_count}"
        )
    index = {inst.track_id: k for k, inst in enumerate(doc.instances)}
    commands: list[cmd.Command] = []
    for inst in ps.instances:
        manual = (inst.source == Source.MANUAL) & (inst.poses[:, :, 2] != Visibility.UNLABELLED)
        layer = predicted_layer(inst)
        if not manual.any() and layer is None:
            continue
        k = index.get(inst.track_id)
        if k is None:
            k = index[inst.track_id] = len(index)
            commands.append(cmd.AddInstance(inst.track_id, doc.skeleton))
            block = empty_labels(*inst.source.shape)
        else:
            block = np.array(doc.manual(k), dtype=np.float32)
        if manual.any():
            frames = np.flatnonzero(manual.any(axis=1))
            lo, hi = int(frames[0]), int(frames[-1]) + 1
            block[manual] = inst.poses[manual]
            commands.append(cmd.SetLabels(lo, block[lo:hi], instance=k, text=text))
        if layer is not None:
            values, confidence = layer
            frames = _predicted_rows(values)
            commands.append(
                cmd.SetPredicted(frames.tolist(), values[frames], confidence[frames], instance=k)
            )
    if not commands:
        raise FormatError("the file holds no labels or predicted joints")
    return cmd.Batch(text, commands)
