"""``annotator bench open-long``: the app's resident memory while it opens a long video.

Opening a video starts the app's own background work: motion fields, proposals on open
(K-FPN over the backbone's features) and the reading for ``N`` (the ranking's descriptors).
On a long video each of these runs over every frame, and what any of them holds for the
whole video at once shows in the process's resident memory. This opens ``VIDEO`` in the real
window (headless, the defaults, an empty cache folder or ``--cache DIR``, kept, so that a
second run finds the features and motion stores on disk), waits until every background task
has ended, and meanwhile samples the process's resident memory (``VmRSS`` of
``/proc/self/status``) every 0.2 s from a thread; the peak is the kernel's high-water mark
(``VmHWM``, reset just before opening where the kernel allows it) or the largest sample if
higher. It prints the frames and size, the seconds until the app was idle, the peak and the
resident memory after the tasks, and which tasks ran. Linux only (the figures read
``/proc``); timings depend on the machine and its load:

    QT_QPA_PLATFORM=offscreen annotator bench open-long VIDEO
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

from annotator.bench.headless import close_window, empty_cache, headless_window, window_errors

SAMPLE_S = 0.2  # between two resident-memory samples
SETTLE_S = 1.0  # no task running this long: the app is idle (a handler may chain one)
STATUS = Path("/proc/self/status")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="the video to open")
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="give up after this many seconds"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="use and keep this cache folder instead of an empty one: a second run measures "
        "the app with the features and motion stores already on disk",
    )


def status_mib(field: str) -> float | None:
    """A memory figure of this process in MiB (``VmRSS``, ``VmHWM``), None where unreadable."""
    try:
        text = STATUS.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0  # kB
    return None


def reset_peak() -> bool:
    """Reset the kernel's ``VmHWM`` to the current resident memory (Linux 4.0 and later)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class MemorySampler:
    """Samples ``VmRSS`` every ``SAMPLE_S`` on a thread, keeping the largest sample."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = status_mib("VmRSS")
            if rss is not None:
                self.peak = max(self.peak, rss)
                self.samples += 1
            self._stop.wait(SAMPLE_S)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        print("--timeout must be positive", file=sys.stderr)
        return 2
    with empty_cache("open-long-", args.cache):
        return _measure(Path(args.video), args.timeout)


def _measure(video: Path, timeout: float) -> int:
    window = headless_window()
    from annotator.gui.app import process_events

    tasks: list[tuple[str, float]] = []  # name, start (monotonic)
    durations: dict[int, float] = {}

    def started(task: object) -> None:
        tasks.append((str(getattr(task, "name", task)), time.monotonic()))

    def ended(task: object) -> None:
        name = str(getattr(task, "name", task))
        for k, (seen, t0) in enumerate(tasks):
            if seen == name and k not in durations:
                durations[k] = time.monotonic() - t0
                break

    window.tasks.started.connect(started)
    window.tasks.ended.connect(ended)
    before = status_mib("VmRSS")
    hwm_reset = reset_peak()
    try:
        with MemorySampler() as sampler:
            start = time.monotonic()
            window.open_path(video)
            idle_since: float | None = None
            while time.monotonic() - start < timeout:
                process_events()
                session = window.session
                busy = window.tasks.busy or (session is not None and not session.loader.idle)
                opened = session is not None or bool(window_errors(window))
                now = time.monotonic()
                if busy or not opened:
                    idle_since = None
                elif idle_since is None:
                    idle_since = now
                elif now - idle_since >= SETTLE_S:
                    break
                time.sleep(0.01)
            idle = (idle_since if idle_since is not None else time.monotonic()) - start
            timed_out = idle_since is None
            after = status_mib("VmRSS")
        hwm = status_mib("VmHWM")
        session = window.session
        if session is None:
            print(f"cannot open {video}: {window_errors(window)}", file=sys.stderr)
            return 1
        peak = max(sampler.peak, hwm if hwm_reset and hwm is not None else 0.0)
        reader = session.reader
        print(
            f"video: {video.name}, {session.frame_count} frames, {reader.width}x{reader.height}; "
            f"cores: {os.cpu_count()}; load average at the end: {os.getloadavg()[0]:.1f}"
        )
        state = "not idle within the timeout" if timed_out else "idle"
        print(f"{state} after {idle:.1f} s")
        print(
            f"resident memory, MiB: before opening {_mib(before)}, peak {peak:.0f} "
            f"({'VmHWM' if hwm_reset else 'largest sample'}, {sampler.samples} samples), "
            f"after the tasks {_mib(after)}"
        )
        ran = [
            f"{name} ({durations[k]:.1f} s)" if k in durations else f"{name} (still running)"
            for k, (name, _) in enumerate(tasks)
        ]
        print(f"tasks: {'; '.join(ran) if ran else 'none'}")
        errors = window_errors(window)
        if errors:
            print(f"errors: {errors}")
        return 0 if not errors and not timed_out else 1
    finally:
        close_window(window)


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
