"""Time each writable format on a long synthetic track: ``annotator bench formats``.

Prints write and read seconds and file size per format for one person on ``--frames`` frames
of a 13-joint skeleton, every frame filled (the ``--frames all`` export). A figure printer,
not a test: run it on a quiet machine for numbers worth comparing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.skeleton import PENN_ACTION
from annotator.formats import registry


def synthetic(frames: int, seed: int = 0) -> PoseSet:
    """One person, every joint visible; every 10th frame manual, the rest ``hpim``-filled."""
    rng = np.random.default_rng(seed)
    inst = PoseInstance.empty(0, frames, PENN_ACTION.num_joints)
    inst.poses[:, :, :2] = rng.uniform(0, 500, (frames, PENN_ACTION.num_joints, 2))
    inst.poses[:, :, 2] = Visibility.VISIBLE
    inst.source[:] = Source.HPIM
    inst.source[::10] = Source.MANUAL
    return PoseSet(PENN_ACTION, frames, [inst], fps=30.0, width=640, height=480)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=10_000)


def run(args: argparse.Namespace) -> int:
    ps = synthetic(args.frames)
    print(f"{args.frames} frames x {PENN_ACTION.num_joints} joints, all frames exported")
    print(f"{'format':<12}{'write s':>9}{'read s':>9}{'MB':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for adaptor in registry.all_formats():
            if not adaptor.can_write or adaptor.is_folder:
                continue
            out = Path(folder) / f"labels{adaptor.extensions[0]}"
            start = time.perf_counter()
            adaptor.write(ps, out, frames="all")
            wrote = time.perf_counter() - start
            start = time.perf_counter()
            adaptor.read(out)
            read = time.perf_counter() - start
            size = out.stat().st_size / 1e6
            print(f"{adaptor.name:<12}{wrote:>9.2f}{read:>9.2f}{size:>8.1f}")
    return 0
