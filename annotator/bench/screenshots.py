"""``annotator bench screenshots``: the README's pictures of the app, in both themes.

Opens the bundled sample video (``resources/samples/taiji.mp4``) in the real window at
1280x800, lets the background work finish (index, motion fields), proposes frames with the
app's proposer (the gate where its model is installed), labels a few of the proposed frames
with the poses the bundled pose estimator finds there (placed through the overlay's click
signal, as a user's clicks are: they are manual labels), keeps the default fill, shows a frame
inside the fill with both wrists corrected by a drag, and saves the window once per theme::

    QT_QPA_PLATFORM=offscreen annotator bench screenshots --out docs

writes ``docs/screenshot-dark.png`` and ``docs/screenshot-light.png``. The settings it uses
go to a temporary per-user folder, never the user's own.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from annotator.core.paths import shipped_dir
from annotator.errors import UsageError

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow

SAMPLE = "samples/taiji.mp4"
LABELLED = 4  # proposed frames labelled from the estimator
WRISTS = (5, 6)  # Penn Action's wrists: dragged onto the estimator's guess on the shown frame


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video", type=Path, help=f"video (default: resources/{SAMPLE})")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder for the PNGs")
    parser.add_argument(
        "--labelled", type=int, default=LABELLED, help="proposed frames to label (at least 2)"
    )


def estimated_labels(video: Path, frames: list[int], skeleton: str) -> NDArray[np.float32]:
    """(F, J, 3) labels in the project's layout from the bundled estimator on ``frames``."""
    from annotator.estimation.observations import observations
    from annotator.estimation.registry import create
    from annotator.video import open_video

    with open_video(video) as reader:
        estimates = create("blazepose").run(reader, frames, None, None)
        manual, _confidence = observations(estimates, reader.frame_count, skeleton)
    return np.asarray(manual, dtype=np.float32)


def place(window: MainWindow, labels: NDArray[np.float32], frames: list[int]) -> None:
    """Place every joint with a position on ``frames`` through the overlay's click signal."""
    session = window.session
    overlay = window.frame_view.overlay
    assert session is not None and overlay is not None
    for f in frames:
        session.go_to(f)
        for j in range(labels.shape[1]):
            x, y, _vis = labels[f, j]
            if np.isfinite(x) and np.isfinite(y):
                session.set_joint(j)
                overlay.place_requested.emit(float(x), float(y))


def _pick(proposed: NDArray[np.int64], count: int, frame_count: int) -> list[int]:
    """``count`` proposed frames spread over the video (uniform frames when too few)."""
    frames = sorted(int(f) for f in proposed)
    if len(frames) < count:
        frames = sorted(set(frames) | set(np.linspace(0, frame_count - 1, count).astype(int)))
    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    return sorted({frames[k] for k in picks})


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    video = args.video or shipped_dir("resources") / SAMPLE
    if not Path(video).is_file():
        raise UsageError(f"video not found: {video}")
    if args.labelled < 2:
        raise UsageError("--labelled must be at least 2 (the fill runs between labels)")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ANNOTATOR_DATA_HOME"] = str(Path(tmp) / "data")
        _shoot(Path(video), args.out, args.labelled)
    return 0


def _shoot(video: Path, out: Path, count: int) -> None:
    from annotator.gui import proposal_panel
    from annotator.gui.app import create_app, make_window, wait_idle
    from annotator.proposal import registry

    app = create_app()
    window = make_window(headless=True)
    window.resize(1280, 800)
    window.show()
    window.open_path(video)
    wait_idle(window, 600.0)
    session = window.session
    if session is None:
        raise UsageError(f"{video} did not open: {getattr(window.reporter, 'errors', [])}")
    method = "gate" if "gate" in registry.METHODS else "uniform"
    proposal_panel.propose(window, session, method)
    wait_idle(window, 600.0)
    frames = _pick(np.asarray(session.proposed), count, session.frame_count)
    # The frame shown: inside the widest gap between labels, where the fill is least sure.
    gaps = np.diff(frames)
    k = int(np.argmax(gaps))
    shown = frames[k] + int(gaps[k]) // 2
    labels = estimated_labels(video, [*frames, shown], session.skeleton.name)
    place(window, labels, frames)
    wait_idle(window, 600.0)
    session.go_to(shown)
    overlay = window.frame_view.overlay
    assert overlay is not None
    for joint in WRISTS:  # corrected by a drag, as the mouse does: manual among filled joints
        x, y, _vis = labels[shown, joint]
        if np.isfinite(x) and np.isfinite(y) and joint < session.skeleton.num_joints:
            overlay.drag_started.emit(joint)
            overlay.drag_moved.emit(joint, float(x), float(y))
            overlay.drag_finished.emit(joint)
    wait_idle(window, 600.0)
    window.update_suggestion()
    session.set_joint(min(7, session.skeleton.num_joints - 1))
    window.frame_view.fit()
    window.statusBar().clearMessage()  # timing notes would differ from run to run
    print(
        f"{video.name}: {session.frame_count} frames, proposals: {method} "
        f"({len(session.proposed)} frames), labelled {frames}, fill: {session.method}, "
        f"shown frame {session.frame}"
    )
    out.mkdir(parents=True, exist_ok=True)
    for scheme in ("dark", "light"):
        prefs = dataclasses.replace(window.settings.prefs, theme=scheme)
        window.settings.update(prefs)  # as Settings > Theme does
        wait_idle(window, 60.0)
        path = out / f"screenshot-{scheme}.png"
        if not window.grab().save(str(path)):
            raise OSError(f"cannot write {path}")
        print(f"screenshot: {path}")
    session.history.set_clean()
    window.close()
    app.processEvents()
