"""Carry a document over to a re-indexed video by presentation time (CONTRACTS.md: frames and time).

Every stored frame reference carries its timestamp. When the video's frames are indexed
differently from when the project was saved (a corrected demuxer, a remuxed copy, dropped
duplicate frames), ``retime`` moves each label and frame state to the frame of the new index
with the same presentation time. Nothing is dropped silently: a reference with no frame close
enough in time, or two references landing on one frame, raises ``ProjectError``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from annotator.core.document import Document, Proposals, empty_confidence, empty_labels
from annotator.errors import ProjectError


def needs_retime(doc: Document, timestamps: ArrayLike, tolerance: float = 1e-3) -> bool:
    """True when ``timestamps`` (the video's, as read now) differ from the document's."""
    ts = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    if ts.shape != doc.timestamps.shape:
        return True
    return bool(np.abs(ts - doc.timestamps).max(initial=0.0) > tolerance)


def _frame_map(
    old: NDArray[np.float64], new: NDArray[np.float64], tolerance: float
) -> NDArray[np.int64]:
    """For each old frame, the new frame at the same time, or -1 when none is close enough."""
    idx = np.clip(np.searchsorted(new, old), 0, new.size - 1)
    prev = np.clip(idx - 1, 0, new.size - 1)
    nearer = np.where(np.abs(new[prev] - old) < np.abs(new[idx] - old), prev, idx)
    return np.where(np.abs(new[nearer] - old) <= tolerance, nearer, -1).astype(np.int64)


def retime(doc: Document, timestamps: ArrayLike, tolerance: float | None = None) -> Document:
    """A new document on the video indexed by ``timestamps``; labels follow their times.

    ``tolerance`` (seconds) defaults to a third of the new median frame interval.
    """
    new_ts = np.array(timestamps, dtype=np.float64).reshape(-1)
    if new_ts.size == 0 or not np.isfinite(new_ts).all() or (np.diff(new_ts) < 0).any():
        raise ProjectError("the video's timestamps must be finite and non-decreasing")
    if tolerance is None:
        step = float(np.median(np.diff(new_ts))) if new_ts.size > 1 else 1.0
        tolerance = max(step / 3.0, 1e-6)
    old_ts = np.asarray(doc.timestamps)
    mapping = _frame_map(old_ts, new_ts, tolerance)

    def target(frame: int, what: str) -> int:
        new = int(mapping[frame])
        if new < 0:
            raise ProjectError(
                f"{what} at {old_ts[frame]:.3f} s (frame {frame}) has no frame at that time "
                "in the video; is it the same video?"
            )
        return new

    video = replace(doc.video, frame_count=int(new_ts.size))
    out = Document(video, doc.skeleton, new_ts)
    for i, inst in enumerate(doc.instances):
        frames = doc.labelled_frames(i)
        moved = np.array([target(int(f), "a label") for f in frames], dtype=np.int64)
        if np.unique(moved).size != moved.size:
            raise ProjectError("two labelled frames fall on one frame of the re-indexed video")
        labels = empty_labels(new_ts.size, inst.skeleton.num_joints)
        labels[moved] = doc.manual(i)[frames]
        guessed = doc.predicted_frames(i)
        to = np.array([target(int(f), "a predicted pose") for f in guessed], dtype=np.int64)
        predicted = empty_labels(new_ts.size, inst.skeleton.num_joints)
        confidence = empty_confidence(new_ts.size, inst.skeleton.num_joints)
        predicted[to] = doc.predicted(i)[guessed]
        confidence[to] = doc.confidence(i)[guessed]
        out.insert_instance(i, inst, labels, predicted, confidence)
    if doc.proposals is not None:
        p = doc.proposals
        pairs = sorted({target(f, "a proposed frame"): k for k, f in enumerate(p.frames)}.items())
        # Scores are one per video frame: each new frame takes the score at its time.
        scores = (
            None
            if p.scores is None
            else tuple(float(v) for v in np.interp(new_ts, old_ts, np.asarray(p.scores)))
        )
        out.set_proposals(Proposals(tuple(f for f, _ in pairs), scores, p.method))
    gate = np.full(new_ts.size, -1, dtype=np.int8)
    for f in np.flatnonzero(doc.gate >= 0).tolist():
        gate[target(f, "a gate decision")] = doc.gate[f]
    out.set_gate(0, gate)
    out.set_flags(0, new_ts.size, {target(f, "a flag"): r for f, r in doc.flags.items()})
    out.set_reviews(0, new_ts.size, {target(f, "a review"): r for f, r in doc.reviews.items()})
    for f in doc.scene_cuts:
        out.set_scene_cut(target(f, "a scene cut"), True)
    for key, value in doc.settings.items():
        out.set_setting(key, value)
    return out
