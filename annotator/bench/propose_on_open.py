"""``annotator bench propose-on-open``: Propose Frames pressed right after a video opens.

Opening a video starts the app's own background work (motion fields, optical flow, the reading
for ``N``, which runs the backbone over the whole video). This opens ``VIDEO`` in the real
window (headless, the defaults, an empty cache folder), asks for K-FPN proposals as soon as
the project is open, and prints the seconds until the proposals arrive, until ``N``'s
descriptors arrive, and until every task has ended; ``--alone`` starts no background work on
open (the reference: Propose on its own). Timings depend on the machine and its load:

    QT_QPA_PLATFORM=offscreen annotator bench propose-on-open VIDEO

The module runs on its own too (``python annotator/bench/propose_on_open.py VIDEO``) and uses
only the window's public calls, so the same file times an older checkout.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from annotator.bench.headless import close_window, empty_cache, window_errors


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="the video to open")
    parser.add_argument("--method", default="kfpn", help="proposal method (default kfpn)")
    parser.add_argument(
        "--timeout", type=float, default=1200.0, help="give up after this many seconds"
    )
    parser.add_argument(
        "--alone",
        action="store_true",
        help="start no background work on open (the reference: Propose on its own)",
    )


def run(args: argparse.Namespace) -> int:
    video = Path(args.video)
    with empty_cache("propose-on-open-"):
        return _time(video, args.method, args.timeout, args.alone)


def _time(video: Path, method: str, timeout: float, alone: bool) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from annotator.gui import proposal_panel
    from annotator.gui.app import create_app, make_window, process_events

    app = create_app()
    window = make_window(headless=True)
    window.propose_on_open = False  # measured here: the user's Propose, not the app's own
    if alone:
        window.extract_motion_on_open = False
        window.rank_with_video_on_open = False
    marks: dict[str, float] = {}

    def errors() -> list[str]:
        return window_errors(window)

    start = time.monotonic()

    def wait(what: str, condition: Callable[[], bool]) -> bool:
        while time.monotonic() - start < timeout:
            process_events()
            if condition():
                marks[what] = time.monotonic() - start
                return True
            time.sleep(0.01)
        return False

    try:
        window.open_path(video)
        if not wait("open", lambda: window.session is not None or bool(errors())):
            print("the video did not open in time", file=sys.stderr)
            return 1
        session = window.session
        if session is None:
            print(f"cannot open {video}: {errors()}", file=sys.stderr)
            return 1
        asked = time.monotonic()
        proposal_panel.propose(window, session, method)
        names = [t.name for t in window.tasks.running]
        wait("proposals", lambda: window.proposals.task is None)
        proposed = marks.get("proposals", float("nan")) - (asked - start)
        wait("descriptors", lambda: session.video_descriptors is not None)
        wait("idle", lambda: not window.tasks.busy)
        proposals = session.doc.proposals
        print(f"video: {video.name}, {session.frame_count} frames; cores: {os.cpu_count()}")
        print(f"running when Propose was asked: {', '.join(names)}")
        print(f"opened in {marks['open']:.1f} s")
        print(f"Propose ({method}) to proposals: {proposed:.1f} s")
        for what in ("descriptors", "idle"):
            seen = f"{marks[what]:.1f} s" if what in marks else "not within the timeout"
            label = "N's descriptors" if what == "descriptors" else "every task ended"
            print(f"{label}: {seen} after opening began")
        print(f"proposed frames: {len(proposals.frames) if proposals is not None else 0}")
        if errors():
            print(f"errors: {errors()}")
        return 0 if proposals is not None and not errors() else 1
    finally:
        close_window(window)
        del app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
