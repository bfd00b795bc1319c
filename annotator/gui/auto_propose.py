"""Frames proposed when a video opens: the app's own K-FPN run, then the reading for ``N``.

When a video or a project without proposals opens and the preference "Propose frames when a
video opens" is on (``core.preferences``), ``start(window, session)`` runs the call
``annotator propose VIDEO`` makes with its defaults (``kfpn``, its natural count, the device
of Settings > Device: cuda when present) as a background task: status-bar progress, Esc
cancels it, a failure is one status-bar line (the user did not ask, so no dialog).

The backbone runs over the video once: this run computes every other frame's features
(``backbones.PROPOSAL_STEP``, cached by fingerprint), so the proposals arrive in about half
the time, and the reading for ``N`` (``video_ranking``) starts after it and runs the backbone
on the frames it left out (``features._complete``).

What the result does to the project:
- It is the app's own work, like the motion fields: it is not an undo step and does not
  mark the project modified. Ctrl+Z never takes it away, never skips over the user's last
  edit to do so, and no label can be lost through it. The proposals are saved with the
  project the next time it is saved; a user's later Propose or Clear is an undo step as
  usual, and undoing it brings these proposals back.
- It never replaces proposals: a project that has some gets no run, and when the user
  proposes (Propose Frames, the panel's Run or Extend) while it runs, its result is dropped
  (the user's run waits for the features this run computes instead of computing them again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from annotator.core import edits
from annotator.core.progress import Progress, ShouldStop
from annotator.gui import video_ranking
from annotator.gui.wording import plural
from annotator.gui.workers import Task, one_line

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow
    from annotator.gui.session import Session
    from annotator.proposal.registry import ProposalRun

TASK_NAME = "Proposing frames on open"
METHOD = "kfpn"  # the Proposals panel's and ``annotator propose``'s default
MESSAGE_MS = 8_000


def wanted(window: MainWindow, session: Session) -> bool:
    """Whether opening ``session`` proposes: the preference is on and it has no proposals."""
    return (
        window.propose_on_open
        and window.settings.prefs.propose_on_open
        and session.doc.proposals is None
    )


def start(window: MainWindow, session: Session) -> Task | None:
    """Propose ``session``'s frames in the background, then prepare ``N``'s reading from the
    cached features; None when opening does not propose (``wanted``)."""
    if not wanted(window, session):
        return None
    from annotator.proposal import registry

    path = str(session.doc.video.path)  # the original video, never the fast-seek copy
    device = window.settings.device()  # None: cuda when present, as Propose picks
    asked = {"user": False}

    def on_user_run() -> None:
        if window.session is session:
            asked["user"] = True

    window.proposals.run_started.connect(on_user_run)

    def job(progress: Progress, should_stop: ShouldStop) -> ProposalRun:
        return registry.propose(path, METHOD, None, device, progress, should_stop)

    def read_for_n() -> None:
        if window.session is session and window.rank_with_video_on_open:
            # Quietly: the proposals' line is what the user needs to read now.
            video_ranking.start(window, session, compute=False, announce=False)

    def done(result: ProposalRun) -> None:
        if window.session is not session:
            return  # another project was opened meanwhile
        if asked["user"] or session.doc.proposals is not None:
            read_for_n()  # the user's proposals win; the features are cached all the same
            return
        apply(window, session, result)
        read_for_n()

    def failed(message: str) -> None:
        if window.session is not session:
            return
        keys = window.settings.key_hint("propose")
        text = f"frames were not proposed on open ({message}); Propose Frames{keys} retries"
        window.statusBar().showMessage(one_line(text), MESSAGE_MS)
        if window.rank_with_video_on_open:  # quietly: its note would cover the failure's
            video_ranking.start(window, session, announce=False)

    def cancelled() -> None:
        if window.session is session:
            keys = window.settings.key_hint("propose")
            text = f"proposing on open cancelled: Propose Frames{keys} proposes when asked"
            window.statusBar().showMessage(text, MESSAGE_MS)

    task = window.tasks.start(TASK_NAME, job, done, failed, on_cancelled=cancelled, background=True)

    def on_session(opened: Session) -> None:
        if opened is not session:
            task.cancel()  # another project: its proposals are of no use now

    window.session_changed.connect(on_session)
    task.signals.ended.connect(lambda: _disconnect(window, on_user_run, on_session))
    return task


def _disconnect(window: MainWindow, on_user_run: Any, on_session: Any) -> None:
    try:
        window.proposals.run_started.disconnect(on_user_run)
        window.session_changed.disconnect(on_session)
    except (RuntimeError, TypeError):  # the window is going away
        pass


def apply(window: MainWindow, session: Session, result: ProposalRun) -> None:
    """Show ``result`` as the project's proposals, outside the undo history (the module)."""
    command = edits.accept_proposals(
        session.doc,
        np.asarray(result.frames, dtype=np.int64),
        result.scores,
        result.method,
        session.instance,
        gate=result.gate,
    )
    command.do(session.doc)  # not ``session.push``: no undo step, not a user's edit
    window.device_label.setText(f"proposals: {result.method} on {result.device}")
    n = len(result.frames)
    hint = window.settings.key_hint  # the user's own bindings
    prefill = f" or let the estimator prefill them{hint('prefill')}"
    jump = [window.settings.shortcuts.keys(a) for a in ("prev_proposed", "next_proposed")]
    jumps = f" ({jump[0][0]} and {jump[1][0]} jump between them)" if all(jump) else ""
    window.statusBar().showMessage(
        f"{n} {plural(n, 'frame')} proposed on open in {result.seconds:.1f} s: label them "
        f"first{jumps}{prefill}",
        MESSAGE_MS,
    )
