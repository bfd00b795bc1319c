"""``annotator bench seek-while-busy``: how quickly frames show while the app works on its own.

Opening a video starts the app's own background work (motion fields, optical flow, proposals
on open, the reading for ``N``), which can hold every core for minutes on a long video. A user
meanwhile looks around the video. This opens ``VIDEO`` in the real window (headless, the
defaults, an empty cache folder), then every ``--interval`` seconds asks for a random frame as
a timeline click does (``Session.go_to``) and times each request until the frame loader
delivers that frame; requests overtaken by a newer one before their frame arrived are counted
apart (the loader skips them, as it should). ``--quiet-app`` starts no background work on open
(the reference); ``--background-nice N`` runs the background threads N steps nicer than the
app (Linux; 0 is how the app ran before ``gui.workers.BACKGROUND_NICE``). Timings depend on the
machine and its load:

    QT_QPA_PLATFORM=offscreen annotator bench seek-while-busy VIDEO --seconds 60
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from annotator.bench.headless import (
    close_window,
    empty_cache,
    headless_window,
    start_no_background_work,
    window_errors,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="the video to open")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to seek")
    parser.add_argument(
        "--interval", type=float, default=0.2, help="seconds between two seek requests"
    )
    parser.add_argument("--quiet-app", action="store_true", help="start no background work on open")
    parser.add_argument(
        "--background-nice",
        type=int,
        default=None,
        help="nice steps of the background threads (default: the app's)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random frames")


def run(args: argparse.Namespace) -> int:
    if args.seconds <= 0 or args.interval <= 0:
        print("--seconds and --interval must be positive", file=sys.stderr)
        return 2
    with empty_cache("seek-while-busy-"):
        return _measure(args)


def _measure(args: argparse.Namespace) -> int:
    window = headless_window()
    from annotator.gui.app import process_events

    if args.quiet_app:
        start_no_background_work(window)
    if args.background_nice is not None:
        window.tasks.background_nice = args.background_nice
    try:
        window.open_path(Path(args.video))
        deadline = time.monotonic() + 60.0
        while window.session is None and not window_errors(window) and time.monotonic() < deadline:
            process_events()
            time.sleep(0.01)
        session = window.session
        if session is None:
            print(f"cannot open {args.video}: {window_errors(window)}", file=sys.stderr)
            return 1
        asked: dict[int, float] = {}
        shown: list[float] = []

        def ready(index: int, _image: Any) -> None:
            if index in asked:
                shown.append(time.monotonic() - asked.pop(index))

        session.loader.ready.connect(ready)
        rng = random.Random(args.seed)
        requests = 0
        busy_samples = 0
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            frame = rng.randrange(session.frame_count)
            if frame != session.frame:
                asked[frame] = time.monotonic()
                session.go_to(frame)
                requests += 1
            busy_samples += bool(window.tasks.running)
            tick = time.monotonic() + args.interval
            while time.monotonic() < tick:
                process_events()
                time.sleep(0.002)
        running = ", ".join(sorted({t.name for t in window.tasks.running})) or "none"
        nice = "none started" if args.quiet_app else f"nice +{window.tasks.background_nice}"
        _print(args, session.frame_count, requests, shown, busy_samples, running, nice)
        return 0 if shown and not window_errors(window) else 1
    finally:
        close_window(window)


def _print(
    args: argparse.Namespace,
    frames: int,
    requests: int,
    shown: list[float],
    busy_samples: int,
    running: str,
    nice: str,
) -> None:
    ms = sorted(1000.0 * s for s in shown)
    print(
        f"video: {Path(args.video).name}, {frames} frames; cores: {os.cpu_count()}; "
        f"load average at the end: {os.getloadavg()[0]:.1f}"
    )
    print(
        f"background work: {nice}; busy during {100.0 * busy_samples / max(requests, 1):.0f} % "
        f"of the requests; still running at the end: {running}"
    )
    print(
        f"seek requests: {requests} (one every {args.interval:.2f} s for {args.seconds:.0f} s); "
        f"frames shown: {len(ms)}; overtaken before shown: {requests - len(ms)}"
    )
    if ms:
        p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
        print(
            f"request to frame shown, ms: median {statistics.median(ms):.0f}, "
            f"p90 {p90:.0f}, max {ms[-1]:.0f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
