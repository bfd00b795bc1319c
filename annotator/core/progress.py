"""One vocabulary for long work in every package: how it reports progress and how it stops.

A long function takes ``progress: Progress | None`` and ``should_stop: ShouldStop | None``.
``progress(fraction)`` says how much is done (0..1, never decreasing); a stage of a larger job
gets ``part(progress, lo, hi)``, which maps its own 0..1 into that share. ``should_stop()`` is
polled between units of work; when it turns true the function raises ``Cancelled`` and keeps
nothing partial (no half-written cache, no stray file). Training, which runs for minutes in a
terminal, also takes ``report(line)``: a line of status text for a person, not a fraction. The GUI's worker passes its own
callbacks and treats ``Cancelled`` as cancelled, not failed; the command line passes none.
"""

from __future__ import annotations

from collections.abc import Callable

from annotator.errors import AnnotatorError

Progress = Callable[[float], None]
ShouldStop = Callable[[], bool]
Report = Callable[[str], None]


class Cancelled(AnnotatorError):
    """``should_stop()`` turned true: the caller asked for it and nothing failed."""

    def __init__(self, what: str = "the work") -> None:
        super().__init__(f"{what} was cancelled")


def check_stop(should_stop: ShouldStop | None, what: str = "the work") -> None:
    """Raise ``Cancelled`` when ``should_stop()`` says so."""
    if should_stop is not None and should_stop():
        raise Cancelled(what)


def part(progress: Progress | None, lo: float, hi: float) -> Progress | None:
    """``progress`` for one stage of a job: the stage's 0..1 becomes ``lo``..``hi``."""
    if progress is None:
        return None
    outer = progress

    def scaled(fraction: float) -> None:
        outer(lo + (hi - lo) * min(max(fraction, 0.0), 1.0))

    return scaled


def report(progress: Progress | None, done: int, total: int | None) -> None:
    """``progress(done / total)``; nothing when there is no callback or the total is unknown."""
    if progress is not None and total is not None and total > 0:
        progress(min(max(done / total, 0.0), 1.0))
