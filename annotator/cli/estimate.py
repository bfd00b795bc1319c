"""``annotator estimate VIDEO --out X.npz [--skeleton S] [--keyframes M|all] [--budget B] [--fill F]``

The seed papers' pipelines, automatic: key frames from any proposal method (K-FPN's paper:
``kfpn`` with ``--fill hpim``), the pose estimator on those frames only, the other frames
filled from them; or ``--keyframes all``, the estimator on every frame (the reference). The
output is the contract's fill layout (``poses``, ``source``, ``source_names``, ``held``,
``variance`` where the fill has one, and ``confidence``), with source ``predicted`` wherever a
value came from the estimator.

The fill treats the estimator's values as labels (its frames keep them exactly); the fill
engine has no weighted observations yet, so confidence does not weight them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.codes import SOURCE_NAMES, Source
from annotator.core.skeleton import BUILTIN
from annotator.errors import UsageError

BAR_WIDTH = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from annotator.dynamics.fill import DEFAULT_METHOD, METHODS
    from annotator.proposal.registry import METHODS as PROPOSERS
    from annotator.proposal.registry import parse_budget

    parser.add_argument("video", type=Path, help="the video to estimate poses in")
    parser.add_argument("--out", required=True, type=Path, help="fill file to write (.npz)")
    parser.add_argument(
        "--skeleton", default="penn_action", choices=sorted(BUILTIN), help="joints to output"
    )
    parser.add_argument(
        "--keyframes",
        default="kfpn",
        choices=[*sorted(PROPOSERS), "all"],
        help="frames the estimator runs on: a proposal method, or all (default kfpn)",
    )
    parser.add_argument(
        "--budget",
        type=parse_budget,
        default=None,
        help="key frames: a fraction of the frames (0.1) or a count (12)",
    )
    parser.add_argument("--fill", default=DEFAULT_METHOD, choices=METHODS, help="fill method")
    parser.add_argument("--estimator", default="blazepose", help="pose estimator (blazepose)")
    parser.add_argument("--threads", type=int, default=1, help="estimator threads (default 1)")
    parser.add_argument("--device", default=None, help="device for K-FPN proposals")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


class ProgressBar:
    """One line on stderr, redrawn in place: ``stage [#####-----] done/total``."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if stage != self._stage and self._stage:
            sys.stderr.write("\n")
        self._stage = stage
        filled = round(BAR_WIDTH * done / total)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        sys.stderr.write(f"\r{stage:<9} [{bar}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
            self._stage = ""
        sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    if args.out.suffix != ".npz":
        raise UsageError("--out must name a .npz file")
    if not args.video.is_file():
        raise UsageError(f"video not found: {args.video}")
    if args.threads < 1:
        raise UsageError("--threads must be at least 1")
    bar = ProgressBar(not args.no_progress)
    start = time.perf_counter()
    result = estimate_video(
        args.video,
        skeleton=args.skeleton,
        keyframes=args.keyframes,
        budget=args.budget,
        fill=args.fill,
        estimator=args.estimator,
        threads=args.threads,
        device=args.device,
        progress=bar,
    )
    write_npz(args.out, result)
    est = result["estimates"]
    print(
        f"estimated {len(est.frames)} of {result['frame_count']} frames "
        f"({est.detector_calls} detector and {est.landmark_calls} landmark calls), "
        f"filled the rest with {args.fill}, in {time.perf_counter() - start:.1f} s -> {args.out}"
    )
    return 0


def estimate_video(
    video: Path,
    *,
    skeleton: str = "penn_action",
    keyframes: str = "kfpn",
    budget: float | int | None = None,
    fill: str = "hpim",
    estimator: str = "blazepose",
    threads: int = 1,
    device: str | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """The whole pipeline; returns the fill arrays plus ``estimates``, ``keyframes`` and the
    seconds spent in each stage (``seconds``)."""
    from annotator.dynamics.fill import fill_track
    from annotator.estimation.observations import observations
    from annotator.estimation.registry import create
    from annotator.video import open_video

    seconds: dict[str, float] = {}
    reader = open_video(video, build_index=False)
    try:
        count, fps = reader.frame_count, float(reader.fps)
        t0 = time.perf_counter()
        if keyframes == "all":
            frames = list(range(count))
        else:
            from annotator.proposal.registry import propose

            frames = propose(reader, keyframes, budget, device, progress).frames
        seconds["keyframes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        est = create(estimator, threads=threads).run(reader, frames, progress)
        seconds["estimate"] = time.perf_counter() - t0
    finally:
        reader.close()
    t0 = time.perf_counter()
    manual, confidence = observations(est, count, skeleton)
    filled = fill_track(manual, fill, fps=fps)
    seconds["fill"] = time.perf_counter() - t0
    source = filled.source.copy()
    # The fill reports its labels as manual; here every label is the estimator's guess.
    source[source == Source.MANUAL] = Source.PREDICTED
    confidence[source != Source.PREDICTED] = np.nan
    out: dict[str, Any] = {
        "poses": filled.poses.astype(np.float32),
        "source": source.astype(np.int8),
        "source_names": np.asarray(SOURCE_NAMES),
        "held": filled.held,
        "confidence": confidence.astype(np.float32),
        "estimates": est,
        "keyframes": np.asarray(sorted(frames), dtype=np.int64),
        "frame_count": count,
        "seconds": seconds,
    }
    if filled.variance is not None:
        out["variance"] = filled.variance.astype(np.float32)
    return out


FILL_KEYS = ("poses", "source", "source_names", "held", "variance", "confidence")


def write_npz(path: Path, result: dict[str, Any]) -> None:
    """The contract's fill layout, written to a temporary file and renamed into place."""
    arrays = {k: result[k] for k in FILL_KEYS if k in result}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp.npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
