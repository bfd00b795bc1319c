"""Navigate > Next Frame to Label (N), and N pressed again: the next suggestion.

N goes to the frame the fill's ranking puts first (``Session.rank_to_label``) or, with an
accepted plan, to the first accepted proposed frame still to label (``Session.plan_to_label``,
in the plan's own order); before two frames are labelled (nothing to rank), to the proposed
frames not yet labelled, in frame order. A user who does not want to label the frame N
offered (blurred, the person hidden) presses N again on it: ``NextOffers`` remembers the frames N offered since the
document last changed, and N goes to the best one not offered yet, down the ranking (more
than half a second from the frames offered while there are such: ``skip_distance``) or the
plan; past the last it starts again from the first. Standing on the frame the window already
marks as next to label (the N marker, or where Accept in the Proposals dock went) counts as
its offer, so N there goes on to the next one. Any change to the document (an edit, an
undo), another person or another project starts from the top again, as does pressing N on a
frame other than the one it offered. The ranking itself is not changed (bench protocol B calls
it); only which of its frames N visits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from annotator.gui.wording import plural

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow
    from annotator.gui.session import Session

STATUS_MS = 6000


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class NextOffers:
    """The frames N offered in a row, on the frame it offered last, with no edit since."""

    def __init__(self) -> None:
        self._session: Session | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._instance = -1
        self.offered: list[int] = []

    def reset(self) -> None:
        self.offered.clear()

    def _watch(self, session: Session) -> None:
        if session is not self._session:
            if self._unsubscribe is not None:
                self._unsubscribe()
            self._session = session
            self._unsubscribe = session.doc.subscribe(lambda _change: self.reset())
            self.reset()
        if session.instance != self._instance:
            self._instance = session.instance
            self.reset()

    def choose(
        self,
        session: Session,
        candidates: list[int],
        shown: int | None = None,
        apart: int = 0,
    ) -> tuple[int, int] | None:
        """The frame to offer from ``candidates`` (best first) and its place among this run of
        offers (1: the first suggestion); None when there is no candidate. A press on a frame
        other than the last offered one starts a new run. ``shown``: the frame the window marks
        as next to label; standing on it when it is the first candidate counts as its offer
        (the marker, or Accept in the Proposals dock, offered it already). ``apart``: after a
        skip, the best candidate more than this many frames from every frame offered, when
        there is one (the frames beside a skipped one are skipped for the same reason: the
        same blur or occlusion)."""
        self._watch(session)
        if not candidates:
            return None
        if not self.offered or self.offered[-1] != session.frame:
            self.reset()
            if shown == session.frame == candidates[0]:
                self.offered.append(shown)
        fresh = [f for f in candidates if f not in self.offered]
        if not fresh:  # every candidate was offered: round again from the first
            self.reset()
            fresh = candidates
        if apart > 0 and self.offered:
            away = [f for f in fresh if min(abs(f - o) for o in self.offered) > apart]
            fresh = away or fresh
        self.offered.append(fresh[0])
        return fresh[0], len(self.offered)


def _ranked(session: Session, offers: NextOffers, marked: int | None) -> list[tuple[int, float]]:
    """The first two of the ranking, (frame, score) best first; on a frame offered or
    ``marked`` (a skip) all of it, to find a frame away from those offered."""
    skipping = session.frame in offers.offered or session.frame == marked
    return session.rank_to_label(top=None if skipping else 2)


def skip_distance(fps: float) -> int:
    """Frames around a skipped suggestion that N passes over: half a second, about as long
    as a motion blur or a passing occlusion lasts."""
    return max(1, round(0.5 * (fps if fps > 0 else 25.0)))


def _nth(place: int) -> str:
    return "" if place == 1 else f" ({ordinal(place)} suggestion)"


def _go(window: MainWindow, frame: int, place: int, why: str) -> None:
    """Mark ``frame`` as next to label, go there and say why (``place``: its suggestion)."""
    window.show_suggestion(frame)
    window.need_session().go_to(frame)
    window.show_status(f"frame {frame} is next to label{_nth(place)}: {why}", STATUS_MS)


def act_next_to_label(window: MainWindow) -> None:
    """N: go to the next frame to label (see the module's docstring)."""
    session = window.need_session()
    offers = window.next_offers
    plan = session.plan_to_label()  # accepted proposals first (core.proposal_plan)
    if plan:
        picked = offers.choose(session, plan, window.timeline.marks.suggested)
        assert picked is not None
        n = len(plan)
        why = f"an accepted proposed frame ({n} {plural(n, 'frame')} of the proposals left)"
        _go(window, *picked, why)
        return
    problem = session.ranking_problem()
    if problem is not None:
        # Before the fill can rank, the proposals on the timeline are the frames to label.
        picked = offers.choose(
            session, session.proposed_to_label(), window.timeline.marks.suggested
        )
        if picked is None:
            window.show_status(problem, 5000)
            return
        _go(
            window,
            *picked,
            "a proposed frame (until two frames are labelled and the fill can rank)",
        )
        return
    marked = window.timeline.marks.suggested
    ranked = _ranked(session, offers, marked)
    picked = offers.choose(
        session, [f for f, _ in ranked], marked, apart=skip_distance(session.fps)
    )
    if picked is None:
        window.show_suggestion(None)
        window.show_status("no filled frame is left to label", 4000)
        return
    frame = picked[0]
    if session.held_on(frame):
        why = "before the first or after the last label the pose is only held"
    else:
        weighted = (
            ", weighted by the video's changes" if session.video_descriptors is not None else ""
        )
        why = f"the fill is least sure there (score {dict(ranked)[frame]:.0f} px²{weighted})"
    _go(window, *picked, why)
