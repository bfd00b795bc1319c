"""``annotator bench gui``: how responsive the desktop app is, measured on the real window.

Prints a table of:
- drag-to-redraw rate: a joint dragged on a frame between two labelled frames, through the
  same path as the mouse (overlay drag signal -> ``MoveJoint`` command -> live fill update ->
  overlay and joint list refresh -> synchronous repaint of the frame view);
- cached frame step latency: next-frame on frames already in the reader's cache, including
  the repaint;
- timeline repaint time for a long video (default 100,000 frames of mixed marks).

The video is a generated stick figure (``synth.figure``, ``--frames`` at ``--size``) unless
``--video`` is given. The video fills (``mv``, ``hpim+mv``) are timed once the window's
background motion extraction has delivered the fields (its time is printed; a second run reads
them from the cache).
``--predicted-every N`` first lays predicted joints on every N-th frame, as Prefill does, so the
drags also bring the fill's inputs (labels with the anchoring predictions) up to date.
``--screenshot PNG`` also saves the window with two frames labelled and the fill showing (the
README's picture). Timings depend on the machine and its load; run on a quiet machine:

    QT_QPA_PLATFORM=offscreen annotator bench gui
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from annotator.bench.headless import open_window
from annotator.synth.figure import figure_poses, render_figure_video

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow


def label_frames(window: MainWindow, truth: NDArray[np.float64], frames: list[int]) -> None:
    """Place every joint on ``frames`` through the overlay's click signal (as a user would)."""
    session = window.session
    assert session is not None and window.frame_view.overlay is not None
    overlay = window.frame_view.overlay
    for f in frames:
        session.go_to(f)
        session.set_joint(0)
        for j in range(truth.shape[1]):
            overlay.place_requested.emit(float(truth[f, j, 0]), float(truth[f, j, 1]))


def prefill_frames(window: MainWindow, truth: NDArray[np.float64], frames: list[int]) -> None:
    """Lay predicted joints on ``frames`` in one command, as a Prefill run does."""
    from annotator.core import commands as cmd

    session = window.session
    assert session is not None
    xy = truth[frames] + 2.0
    layer = np.concatenate([xy, np.ones((*xy.shape[:2], 1))], axis=2).astype(np.float32)
    session.push(cmd.SetPredicted(frames, layer, np.full(xy.shape[:2], 0.9, np.float32)))


def _ms(samples: list[float]) -> str:
    arr = np.array(samples) * 1000
    return f"median {np.median(arr):7.2f} ms   p95 {np.percentile(arr, 95):7.2f} ms"


def measure_drag(window: MainWindow, truth: NDArray[np.float64], moves: int) -> list[float]:
    """Seconds per drag step: command -> fill update -> overlay refresh -> repaint."""
    from annotator.gui.app import process_events

    session = window.session
    assert session is not None and window.frame_view.overlay is not None
    overlay = window.frame_view.overlay
    joint = 5  # a wrist: it moves the most
    start = session.pose_view().xy[joint].copy()
    viewport = window.frame_view.viewport()
    times = []
    overlay.drag_started.emit(joint)
    for k in range(moves):
        x = float(start[0] + 15 * np.sin(k / 7.0))
        y = float(start[1] + 10 * np.cos(k / 5.0))
        painted = overlay.paint_count
        t0 = time.perf_counter()
        overlay.drag_moved.emit(joint, x, y)
        process_events()  # the window applies the (coalesced) move and repaints
        if overlay.paint_count == painted:
            viewport.repaint()  # no paint happened in that turn: force one, counted
        times.append(time.perf_counter() - t0)
    overlay.drag_finished.emit(joint)
    session.undo()
    return times


def measure_steps(window: MainWindow, steps: int) -> list[float]:
    """Seconds per next-frame step on frames already in the reader's cache (with repaint)."""
    session = window.session
    assert session is not None
    viewport = window.frame_view.viewport()
    times = []
    span = min(steps, session.frame_count - 1, 24)
    for _ in range(max(1, steps // max(1, span))):
        session.go_to(0)
        for i in range(span):  # warm the cache over the span
            session.reader.frame(i)
        session.go_to(0)
        for _i in range(span):
            time.sleep(1 / 30)  # key auto-repeat pace: the reader's decode-ahead runs between
            cached = session.reader.cached(session.frame + 1)
            t0 = time.perf_counter()
            session.step(1)
            viewport.repaint()
            if cached:
                times.append(time.perf_counter() - t0)
    return times


def measure_timeline(window: MainWindow, frames: int, repeats: int = 20) -> tuple[list[float], int]:
    """Seconds per repaint of the timeline showing ``frames`` frames of mixed marks."""
    from annotator.gui.timeline import Timeline
    from annotator.gui.timeline_state import FrameStatus

    rng = np.random.default_rng(0)
    status = np.zeros(frames, dtype=np.int8)
    labelled = np.sort(rng.choice(frames, size=max(2, frames // 1000), replace=False))
    status[labelled[0] : labelled[-1]] = FrameStatus.FILLED
    status[labelled] = FrameStatus.LABELLED
    status[labelled[::3]] = FrameStatus.PARTIAL
    timeline = Timeline()
    timeline.resize(1000, 90)
    timeline.show()
    timeline.set_frame_count(frames)
    timeline.set_status(status)
    timeline.set_proposed(np.sort(rng.choice(frames, size=frames // 500, replace=False)))
    from annotator.gui.app import process_events

    process_events()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        timeline.viewport().repaint()
        times.append(time.perf_counter() - t0)
    rects = timeline.marks.last_paint_rects
    timeline.close()
    timeline.deleteLater()
    return times, rects


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video", type=Path, help="video to use (default: generated figure)")
    parser.add_argument("--moves", type=int, default=150, help="drag steps to time per method")
    parser.add_argument("--steps", type=int, default=96, help="cached frame steps to time")
    parser.add_argument("--timeline-frames", type=int, default=100_000)
    parser.add_argument(
        "--methods", help="comma-separated fill methods to drag with (default: all available)"
    )
    parser.add_argument("--screenshot", type=Path, help="also save the labelled window as PNG")
    parser.add_argument("--frames", type=int, default=120, help="frames of the generated video")
    parser.add_argument(
        "--label-every", type=int, help="label every N-th frame (default: three frames)"
    )
    parser.add_argument(
        "--quiet-app",
        action="store_true",
        help="start no background work on open (no motion fields: the video fills fall back "
        "to hpim), for long videos timed with the labels-only fills",
    )
    parser.add_argument(
        "--predicted-every",
        type=int,
        help="first prefill every N-th frame (the poses moved by 2 px, confidence 0.9), as "
        "Prefill does: the fill then also runs through the predictions",
    )
    parser.add_argument(
        "--size", default="640x480", help="WIDTHxHEIGHT of the generated video (e.g. 1280x720)"
    )


def _screenshot(
    window: MainWindow, truth: NDArray[np.float64], key_frames: list[int], out: Path
) -> None:
    """The README picture: proposals from the gate (uniform without it), the hpim+mv fill (pchip when
    the video has no motion fields) with the timeline's rows, a frame inside the fill with
    both wrists corrected by a drag (solid discs) among the filled joints (rings)."""
    from annotator.gui import proposal_panel
    from annotator.gui.app import wait_idle

    session = window.session
    assert session is not None
    from annotator.proposal import registry

    # The gate (registered by ``annotator`` before the app starts) shows its decisions and
    # logits as timeline rows; without it, the uniform baseline.
    proposal_panel.propose(window, session, "gate" if "gate" in registry.METHODS else "uniform")
    wait_idle(window)
    # Without fields, pchip: on this synthetic walk (keys 40 frames apart) it stays closest to
    # the figure of the labels-only fills.
    if session.fields is not None:
        session.set_method("hpim+mv")
    elif "pchip" in _methods(None):
        session.set_method("pchip")
    frame = key_frames[0] + (key_frames[1] - key_frames[0]) * 2 // 3
    session.go_to(frame)
    overlay = window.frame_view.overlay
    assert overlay is not None
    for joint in (5, 6):  # through the overlay's drag signals, as the mouse does
        overlay.drag_started.emit(joint)
        overlay.drag_moved.emit(joint, float(truth[frame, joint, 0]), float(truth[frame, joint, 1]))
        overlay.drag_finished.emit(joint)
    session.set_joint(7)
    wait_idle(window)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        raise OSError(f"cannot write {out}")
    print(f"screenshot: {out}")


def _methods(arg: str | None) -> list[str]:
    from annotator.gui.session import available_methods

    available = available_methods()
    if not arg:
        return available
    wanted = [m.strip() for m in arg.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in available]
    if unknown:
        from annotator.errors import UsageError

        raise UsageError(f"fill method {unknown[0]!r} is not available; choose from {available}")
    return wanted


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    methods = _methods(args.methods)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ANNOTATOR_DATA_HOME", str(Path(tmp) / "data"))
        if args.video is None:
            video = Path(tmp) / "figure.mp4"
            width, height = (int(v) for v in args.size.lower().split("x"))
            truth = render_figure_video(video, frames=args.frames, width=width, height=height)
        else:
            video = args.video
        t0 = time.perf_counter()
        # Opening waits for every background task, the motion extraction included.
        window = open_window(video, timeout_s=3600.0, quiet=args.quiet_app)
        opened = time.perf_counter() - t0
        session = window.session
        assert session is not None
        n = session.frame_count
        fields, walked = session.fields, session.walk_fields
        motion = (
            f"{fields.kind} fields, {len(fields)} frames; the video fills walk "
            + ("the optical flow" if walked is not fields else "the codec's vectors")
            if fields is not None and walked is not None
            else f"none: {session.motion_note or 'not extracted'}"
        )
        work = "no background work" if args.quiet_app else "motion extraction"
        print(f"opened with {work} in {opened:.1f} s (motion: {motion})")
        if args.video is not None:  # a real video: label a plausible figure, for timing only
            truth = figure_poses(n, session.reader.width, session.reader.height)
        if args.predicted_every:
            prefill_frames(window, truth, list(range(0, n, args.predicted_every)))
        key_frames = [n // 6, n // 2, (5 * n) // 6]
        if args.label_every:  # denser labels: shorter gaps, as with proposals
            key_frames = list(range(0, n, args.label_every))
        label_frames(window, truth, key_frames)
        print(
            f"annotator bench gui  (video {video.name if args.video else 'generated figure'}: "
            f"{session.reader.width}x{session.reader.height}, {n} frames, window "
            f"{window.width()}x{window.height()}, Qt platform {os.environ['QT_QPA_PLATFORM']}"
            + (
                f", {session.doc.predicted_frames(0).size} frames predicted"
                if args.predicted_every
                else ""
            )
            + ")"
        )
        print(f"{'measure':<40}{'time per update':<42}{'rate'}")
        for method in methods:
            session.set_method(method)
            session.go_to((key_frames[0] + key_frames[1]) // 2)
            measure_drag(window, truth, 3)  # warm-up: lazy imports, models
            drag = measure_drag(window, truth, args.moves)
            rate = 1.0 / statistics.median(drag)
            name = method + (" (as hpim: no fields)" if session.fill_fallback else "")
            print(f"{'drag -> ' + name + ' fill -> redraw':<40}{_ms(drag):<42}{rate:6.0f} fps")
        steps = measure_steps(window, args.steps)
        print(f"{'cached frame step (with redraw)':<40}{_ms(steps):<42}({len(steps)} steps)")
        timeline, rects = measure_timeline(window, args.timeline_frames)
        label = f"timeline repaint, {args.timeline_frames:,} frames"
        print(f"{label:<40}{_ms(timeline):<42}({rects} marks)")
        if args.screenshot:
            _screenshot(window, truth, key_frames, args.screenshot)
        session.history.set_clean()
        window.close()
    return 0
