"""The Prefill action: the pose estimator's guess on the frames to label, to correct.

*Tools > Prefill* runs the estimator (``estimation.registry``, ``ESTIMATOR`` by default) in a
worker with progress and cancel, on the span selected on the timeline (Shift+drag) when there
is one, else on the proposed frames when there are proposals, else on the current frame; the
status bar says which. A selection comes first because it is the user's latest, explicit
choice; Esc or a click on the timeline clears it, and proposals apply again. Its joints arrive in the document's predicted layer
with their confidence, and frames with joints below ``estimation.prefill.LOW_CONFIDENCE`` are
flagged for review with the joints named: all of it one command, so one undo takes the whole
run back. A run that fails (no model runtime, a skeleton the estimator cannot map) reaches the
user through the window's reporter; a cancelled run changes nothing.

The estimator opens its own reader of the original video, as the proposers do: the view's
reader belongs to its decoding thread.

A proposed frame far from the last estimated one gets its region as in ``annotator estimate``
(``docs/estimation.md``): once the session has the video's codec motion store
(``Session.fields``, the one the gate and the residual row read), the last pose is carried
along it (``propagation.carry.motion_carry``, never across the document's scene cuts), so
only the first such frame runs the person detector; without that store (still extracting,
a codec without motion vectors, the flow fallback) the detector runs on each.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from annotator.core import commands as cmd
from annotator.core.codes import Visibility
from annotator.core.progress import Progress, ShouldStop
from annotator.estimation.carry import Carry
from annotator.estimation.prefill import (
    Layer,
    estimate_layer,
    low_confidence_flags,
)
from annotator.gui.review_state import review_again
from annotator.gui.timeline_state import FrameStatus
from annotator.gui.wording import plural
from annotator.gui.workers import Task

if TYPE_CHECKING:
    from annotator.gui.services import WindowServices
    from annotator.gui.session import Session

ESTIMATOR = "blazepose"  # the registry name Prefill runs


def target_frames(session: Session, span: tuple[int, int] | None = None) -> tuple[list[int], str]:
    """The frames to prefill and how to name them: the frames of ``span`` (half-open, the
    timeline's selection) if given, else the proposed frames if any, else the current frame;
    frames where the active person is labelled whole are left out (the estimate would lie
    hidden under the labels, and flag the user's own joints for review)."""
    if span is not None and span[1] > span[0]:
        a, b = span
        frames, what = list(range(a, b)), f"frames {a}–{b - 1}"
    elif len(session.proposed):
        n = len(session.proposed)
        frames = [int(f) for f in session.proposed]
        what = f"the {n} proposed {plural(n, 'frame')}"
    else:
        frames, what = [session.frame], f"frame {session.frame}"
    status = session.status
    todo = [f for f in frames if status[f] != FrameStatus.LABELLED]
    if len(todo) < len(frames):
        done = len(frames) - len(todo)
        what += f" ({done} labelled left out)" if todo else " (all labelled)"
    return todo, what


def motion_carry(session: Session) -> Carry | None:
    """The walk that carries a key frame's region along ``session``'s codec motion store, or
    None (the detector) while the session has no such store."""
    from annotator.video.motion_store import MotionStore

    fields = session.fields
    if not isinstance(fields, MotionStore) or fields.kind != "mv":
        return None
    from annotator.propagation.carry import motion_carry as carry_along

    return carry_along(fields, session.doc.scene_cuts)


def apply(
    session: Session,
    frames: Sequence[int],
    values: NDArray[Any],
    confidence: NDArray[Any],
) -> dict[int, str]:
    """Put an estimator run into the document as one undo step: the predicted layer on
    ``frames`` and a review flag on each frame with low-confidence joints. Returns the flags."""
    # Only the joints the user has not placed are flagged: a hand label needs no review.
    labelled = session.manual()[list(frames), :, 2] != Visibility.UNLABELLED
    unsure = np.where(labelled, np.nan, np.asarray(confidence, dtype=np.float64))
    flags = low_confidence_flags(frames, values, unsure, session.skeleton.joints)
    n = len(frames)
    text = f"Prefill {n} {plural(n, 'frame')}"
    commands: list[cmd.Command] = [
        cmd.SetPredicted(frames, values, confidence, session.instance, text=text)
    ]
    if flags:
        commands.append(cmd.AddFlags(flags))
        commands += review_again(session.doc.reviews, list(flags))
    session.push(cmd.Batch(text, commands))
    session.history.seal()
    return flags


_RUNNING: weakref.WeakSet[Session] = weakref.WeakSet()  # sessions with a Prefill under way


def start(
    window: WindowServices, session: Session, span: tuple[int, int] | None = None
) -> Task | None:
    """Run the estimator on ``target_frames`` in a worker; the result arrives as one command
    (None, and the status bar says why, when every one of them is labelled already or a
    Prefill of this session is under way: a second press ran the same frames twice, two
    undo steps)."""
    if session in _RUNNING:
        esc = window.settings.key_hint("cancel_tasks")
        window.show_status(f"Prefill is running already: wait, or cancel it{esc}", 4000)
        return None
    frames, what = target_frames(session, span)
    if not frames:
        window.show_status(f"Nothing to prefill: {what}", 6000)
        return None
    skeleton = session.skeleton.name
    path = str(session.doc.video.path)
    estimator = ESTIMATOR
    carry = motion_carry(session)

    def job(progress: Progress, should_stop: ShouldStop) -> Layer:
        from annotator.video import open_video

        reader = open_video(path, build_index=False)
        try:
            return estimate_layer(
                reader,
                frames,
                skeleton,
                estimator=estimator,
                carry=carry,
                progress=progress,
                should_stop=should_stop,
            )
        finally:
            reader.close()

    def done(result: Layer) -> None:
        _RUNNING.discard(session)
        if window.session is not session:
            return  # another project was opened meanwhile
        rows, values, confidence, est = result
        flags = apply(session, [int(f) for f in rows], values, confidence)
        found = int((np.asarray(values)[:, :, 2] != 0).any(axis=1).sum())
        text = f"Prefilled {what}: a person on {found} of {len(rows)}"
        carried = int(np.count_nonzero(est.carried))
        if carried:
            text += f" ({carried} {plural(carried, 'region')} carried along the motion)"
        if flags:
            text += f"; {len(flags)} flagged for review (unsure joints)"
        window.show_status(text, 8000)

    def failed(message: str) -> None:
        _RUNNING.discard(session)
        window.reporter.error(message)

    def cancelled() -> None:
        _RUNNING.discard(session)
        window.show_status("Prefill cancelled: nothing changed", 4000)

    window.show_status(f"Prefill: estimating poses on {what}…", 8000)
    _RUNNING.add(session)
    try:
        return window.tasks.start(
            f"Prefill ({estimator}, {what})", job, done, failed, on_cancelled=cancelled
        )
    except BaseException:
        _RUNNING.discard(session)
        raise
