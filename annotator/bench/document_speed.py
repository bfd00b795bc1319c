"""Speed of the document at scale: ``annotator bench document [--frames 100000]``.

Prints wall-clock and CPU time (milliseconds; CPU time is the steadier figure on a shared
machine) for the operations the GUI does on every edit (place,
drag, frame states) and the rare bulk ones (accept a fill over every frame, save, load, journal
snapshot, recovery) on a COCO-skeleton (17 joints) document. A benchmark, not a test; run it on
a quiet machine for figures worth quoting.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from annotator.core.commands import AcceptFill, MoveJoint, PlaceJoint
from annotator.core.document import Document, VideoRef
from annotator.core.history import History
from annotator.core.journal import RecoveryJournal, find_recovery
from annotator.core.skeleton import COCO
from annotator.core.store import load_project, save_project


def _time(label: str, fn: Callable[[], Any], repeat: int = 1) -> Any:
    start, cpu = time.perf_counter(), time.process_time()
    result = None
    for _ in range(repeat):
        result = fn()
    ms = (time.perf_counter() - start) / repeat * 1000.0
    cpu_ms = (time.process_time() - cpu) / repeat * 1000.0
    note = f"  (mean of {repeat})" if repeat > 1 else ""
    print(f"{label:<46}{ms:>12.3f} ms wall{cpu_ms:>12.3f} ms CPU{note}")
    return result


def measure(frames: int) -> None:
    folder = tempfile.mkdtemp(prefix="annotator-perf-")
    video = VideoRef(os.path.join(folder, "v.mp4"), "1-perf", frames, 30.0, 1280, 720)
    doc: Document = _time(
        f"new document, {frames} frames x 17 joints", lambda: Document.new(video, COCO)
    )
    history = History(doc)
    journal = RecoveryJournal(doc, directory=folder)
    counter = iter(range(1 << 30))

    def place() -> None:
        k = next(counter)
        history.push(PlaceJoint((k * 7919) % frames, k % 17, float(k % 1000), 5.0))

    def drag() -> None:
        k = next(counter)
        history.push(MoveJoint(frames // 2, 3, float(k % 1000), 7.0, drag="perf"))

    _time("place a joint (command, event, journal)", place, 2000)
    _time("one drag step (merged into one undo step)", drag, 2000)
    _time("frame states for the timeline", doc.frame_states, 50)
    _time("labelled frames", doc.labelled_frames, 200)
    fill = np.random.default_rng(0).uniform(0, 1000, (frames, 17, 3)).astype(np.float32)
    fill[:, :, 2] = 1
    _time("accept a fill over every frame", lambda: history.push(AcceptFill(0, fill)))
    _time("undo it", history.undo)
    _time("redo it", history.redo)
    project = os.path.join(folder, "p.annot.json")
    _time("save the fully labelled project", lambda: save_project(doc, project))
    print(f"{'  file size':<46}{os.path.getsize(project) / 1e6:>12.1f} MB")
    _time("load it", lambda: load_project(project))
    found = find_recovery(video.path, folder, video.fingerprint)
    assert found is not None
    _time("restore from the recovery journal", found.restore)
    journal.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=100_000, help="video length in frames")


def run(args: argparse.Namespace) -> int:
    measure(args.frames)
    return 0
