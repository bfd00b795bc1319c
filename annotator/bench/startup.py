"""``annotator bench startup``: seconds from starting the program to the first frame shown.

Starts the desktop app on a video ``--runs`` times (after ``--warmup`` untimed runs, so the
disk cache is as warm as on a user's second launch) and prints each run and the median. Each
run sets ``ANNOTATOR_STARTUP_PROBE`` (see :mod:`annotator.gui.startup_probe`): the app writes
the monotonic clock when its frame view has painted the first frame, then quits; the figure
is that time minus the moment this benchmark started the process. The program is this
Python's ``-m annotator`` unless ``--program`` names another one, e.g. the frozen build::

    xvfb-run -a annotator bench startup resources/samples/taiji.mp4
    xvfb-run -a annotator bench startup --program dist/annotator/annotator

Without a display the app renders offscreen (``QT_QPA_PLATFORM=offscreen``), said in the
output. Timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from annotator.core.paths import shipped_dir
from annotator.errors import AnnotatorError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", nargs="?", help="video to open (default: the shipped sample)")
    parser.add_argument(
        "--program",
        help="the program to start (a command line; default: this Python's -m annotator)",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds one run may take (default 120)"
    )


def default_program() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "annotator"]


def time_once(program: list[str], video: Path, timeout: float) -> tuple[float, float]:
    """Seconds from starting ``program VIDEO`` to its first painted frame, and the CPU
    seconds the whole run used (it quits right after that frame)."""
    with tempfile.TemporaryDirectory(prefix="annotator-startup-") as tmp:
        stamp = Path(tmp, "first-frame")
        env = dict(os.environ, ANNOTATOR_STARTUP_PROBE=str(stamp))
        if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
            env.setdefault("QT_QPA_PLATFORM", "offscreen")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        done = subprocess.run(
            [*program, str(video)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0 or not stamp.is_file():
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise AnnotatorError(
                f"{shlex.join(program)} exited {done.returncode} without showing a frame: {last}"
            )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return float(stamp.read_text()) - start, cpu


def run(args: argparse.Namespace) -> int:
    video = Path(args.video or shipped_dir("resources") / "samples" / "taiji.mp4")
    if not video.is_file():
        raise AnnotatorError(f"video file not found: {video}")
    if args.runs < 1 or args.warmup < 0:
        raise AnnotatorError("--runs must be at least 1 and --warmup at least 0")
    program = shlex.split(args.program) if args.program else default_program()
    display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    platform = os.environ.get("QT_QPA_PLATFORM") or ("default" if display else "offscreen")
    print(f"program: {shlex.join(program)}")
    print(f"video:   {video}")
    print(f"display: {display or 'none'} (Qt platform {platform}); cores: {os.cpu_count()}")
    for _ in range(args.warmup):
        time_once(program, video, args.timeout)
    times, cpus = [], []
    for index in range(args.runs):
        seconds, cpu = time_once(program, video, args.timeout)
        times.append(seconds)
        cpus.append(cpu)
        load = os.getloadavg()[0]
        print(
            f"run {index + 1}: {seconds:.2f} s to the first frame ({cpu:.2f} CPU s; load {load:.1f})"
        )
    print(
        f"median of {len(times)}: {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}; {args.warmup} warm-up run(s) not counted); "
        f"median CPU {statistics.median(cpus):.2f} s"
    )
    return 0
