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
import io
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.codes import SOURCE_NAMES, Source
from annotator.core.progress import Progress, ShouldStop, part
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
    """One line on stderr, redrawn in place: ``[#####-----]  42 %``; ``stage`` names the
    current step. Redraws only when the bar or the percentage changes."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.stage = ""
        self._shown = ""

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        filled = round(BAR_WIDTH * fraction)
        line = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {100 * fraction:3.0f} % {self.stage}"
        if line != self._shown:
            sys.stderr.write(f"\r{line:<60}")
            sys.stderr.flush()
            self._shown = line

    def done(self) -> None:
        if self.enabled and self._shown:
            sys.stderr.write("\n")
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
    bar.done()
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
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> dict[str, Any]:
    """The whole pipeline; returns the fill arrays plus ``estimates``, ``keyframes`` and the
    seconds spent in each stage (``seconds``). Progress: proposals take the first half of
    the bar when they run, the estimator the rest."""
    from annotator.dynamics.fill import fill_track
    from annotator.estimation.observations import observations
    from annotator.estimation.registry import create
    from annotator.video import open_video

    seconds: dict[str, float] = {}
    reader = open_video(video, build_index=False)
    try:
        count, fps = reader.frame_count, float(reader.fps)
        t0 = time.perf_counter()
        share = 0.0
        if keyframes == "all":
            frames = list(range(count))
        else:
            from annotator.proposal.registry import propose

            share = 0.5
            _stage(progress, f"proposing key frames ({keyframes})")
            frames = propose(
                reader, keyframes, budget, device, part(progress, 0.0, share), should_stop
            ).frames
        seconds["keyframes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        _stage(progress, f"estimating poses on {len(frames)} frames")
        est = create(estimator, threads=threads).run(
            reader, frames, part(progress, share, 1.0), should_stop
        )
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


def _stage(progress: Progress | None, text: str) -> None:
    if isinstance(progress, ProgressBar):
        progress.stage = text


FILL_KEYS = ("poses", "source", "source_names", "held", "variance", "confidence")


def write_npz(path: Path, result: dict[str, Any]) -> None:
    """The contract's fill layout, written atomically (``core.store.atomic_write``)."""
    from annotator.core.store import atomic_write

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: result[k] for k in FILL_KEYS if k in result})
    atomic_write(path, buffer.getvalue(), keep_backup=False)
