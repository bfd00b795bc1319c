"""One computation of a video's backbone features at a time, shared by whoever asks for them.

The app can ask for the same video's features twice at once: the reading for ``N`` that starts
when a video opens (``gui/video_ranking.py``) and the user's Propose Frames. Both would run the
backbone over the whole video, each at half speed. ``computing_once(key, device, ...)`` lets
the first caller compute; a caller that arrives while it runs (same cache file, same kind of
device) waits for it, its progress following the first one's, and then reads the cache the
first one wrote. If the first stops without writing it (cancelled, failed), the waiter computes
the features itself. A waiter stops waiting as soon as its own ``should_stop`` says so.

A caller on another kind of device (Propose on cuda, the reading for ``N`` on the CPU) does
not wait: the GPU would finish long before the CPU run it waited for.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from annotator.core.progress import Progress, ShouldStop, check_stop

POLL_S = 0.05  # how often a waiter checks its cancel and copies the progress


class _Run:
    """The computation of one cache file on one kind of device, and who waits for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # held by the caller computing
        self.fraction = 0.0  # its progress, for the waiters' bars
        self.users = 0  # callers computing or waiting


_RUNS: dict[tuple[Path, str], _Run] = {}
_GUARD = threading.Lock()


@contextlib.contextmanager
def computing_once(
    key: Path,
    device: str,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> Iterator[Progress]:
    """Enter once no other thread computes ``key`` on ``device`` (waiting for one that does);
    yields the progress to compute with, which also feeds the waiters' bars. On entering the
    caller reads the cache again: the computation it waited for may have written it.
    Raises ``Cancelled`` when ``should_stop`` says so while waiting."""
    ident = (key, device)
    with _GUARD:
        run = _RUNS.setdefault(ident, _Run())
        run.users += 1
    try:
        while not run.lock.acquire(timeout=POLL_S):
            check_stop(should_stop, "feature extraction")
            if progress is not None:
                progress(run.fraction)
        try:

            def shared(fraction: float) -> None:
                run.fraction = fraction
                if progress is not None:
                    progress(fraction)

            yield shared
        finally:
            run.lock.release()
    finally:
        with _GUARD:
            run.users -= 1
            if run.users == 0:
                del _RUNS[ident]


def is_running(key: Path, device: str) -> bool:
    """Whether a thread computes (or waits to compute) ``key`` on ``device`` now."""
    with _GUARD:
        return (key, device) in _RUNS
