"""``annotator estimate VIDEO --out X.npz [--skeleton S] [--keyframes M|all] [--budget B] [--fill F]``

The seed papers' pipelines, automatic: key frames from any proposal method (K-FPN's paper:
``kfpn`` with ``--fill hpim``), the pose estimator on those frames only, the other frames
filled from them; or ``--keyframes all``, the estimator on every frame (the reference). The
output is the contract's fill layout (``poses``, ``source``, ``source_names``, ``held``,
``variance`` where the fill has one, and ``confidence``), with source ``predicted`` wherever a
value came from the estimator.

``--fill auto`` (the default) is ``hpim+mv`` for every video (its walk needs no codec
vectors: ``propagation.resolve_fill``). The gate's key-frame choice and the carried regions read the codec's motion
store; the fill walks the field ``--fill-field`` names (default ``propagation.FILL_FIELD``, DIS
optical flow: the more accurate walk, and the costliest stage of this command; ``mv`` walks the
codec store the gate already read, so nothing more is extracted). Each store is extracted once
and cached.

``--keyframe-roi carried`` (the default): a key frame far from the last estimated one gets its
ROI from the last pose carried along that same store (``propagation.carry.motion_carry``,
handed to the estimator, which does not import ``propagation``): one landmark call instead
of the detector's one detector and two landmark calls. ``detector`` runs the detector there.
With ``--keyframes gate`` and no ``--budget``, a quarter of the frames (``GATE_BUDGET``).

Key frames are read through the reader's random access with no decode-ahead: it decodes
forward inside a group of pictures and seeks only to a later key frame, so sparse key frames
cost one decoding pass at most, and only the frames the estimator sees are converted to RGB.

The work after choosing the key frames is ``estimation.pipeline.estimate_track``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.cli.methods import install
from annotator.cli.propose import check_device
from annotator.core.progress import Progress, ShouldStop, part
from annotator.core.safeio import refuse_replacing
from annotator.core.skeleton import BUILTIN
from annotator.errors import UsageError
from annotator.propagation import AUTO_FILL, FILL_FIELD
from annotator.video.motion_store import FIELDS
from annotator.video.opening import check_path

if TYPE_CHECKING:
    from annotator.estimation.pipeline import EstimatedTrack

BAR_WIDTH = 30
CARRIED = "carried"
KEYFRAME_ROIS = (CARRIED, "detector")
# With a carried region a key frame costs about one estimator call, so a quarter of the frames
# stays under 30 % of the every-frame run's calls and, with the fill walking the optical flow,
# reached PCK@0.05 >= 0.95 against it on all three real clips (docs/benchmarks-estimation.md,
# "Current figures"; two of three with the fill on codec vectors); the gate's own decisions
# (no budget) open 8 % to 35 % of the frames there, under or over both goals.
GATE_BUDGET = 0.25

install()  # methods composed from sibling packages (the gate) before --keyframes lists them


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from annotator.dynamics.fill import METHODS
    from annotator.propagation import FILL_METHODS
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
        help="key frames: a fraction of the frames (0.1) or a count (12); default for the "
        f"gate {GATE_BUDGET:g} (its own decisions open 8-35 %% of a clip's frames), for the "
        "other methods their own",
    )
    parser.add_argument(
        "--fill",
        default=AUTO_FILL,
        choices=[AUTO_FILL, *METHODS, *FILL_METHODS],
        help="fill method (mv and hpim+mv follow the video's motion); default auto: hpim+mv",
    )
    parser.add_argument(
        "--fill-field",
        default=FILL_FIELD,
        choices=FIELDS,
        help=f"motion the fill walks (default {FILL_FIELD}: optical flow, more accurate, about "
        "13 ms of CPU per 720p frame to extract; mv: the codec's vectors, about 5 ms, the store "
        "the gate reads)",
    )
    parser.add_argument("--estimator", default="blazepose", help="pose estimator (blazepose)")
    parser.add_argument("--threads", type=int, default=1, help="estimator threads (default 1)")
    parser.add_argument(
        "--refine-passes",
        type=int,
        default=1,
        help="extra landmark passes on a key frame the tracker cannot reach (default 1)",
    )
    parser.add_argument(
        "--keyframe-roi",
        default=CARRIED,
        choices=KEYFRAME_ROIS,
        help="where a key frame far from the last one gets its region: carried (default; the "
        "last pose moved along the motion vectors, one landmark call) or detector (the person "
        "detector; also used where the codec has no motion vectors)",
    )
    parser.add_argument(
        "--device", default=None, help="device for K-FPN proposals: cpu, cuda, cuda:N or auto"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


class ProgressBar:
    """One line on stderr, redrawn in place: ``[#####-----]  42 %``; ``stage`` names the
    current step. Redraws only when the bar or the percentage changes. When stderr is not a
    terminal (a log file), a plain line per tenth of the work or new stage instead."""

    def __init__(self, enabled: bool = True, terminal: bool | None = None) -> None:
        self.enabled = enabled
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self.stage = ""
        self._shown = ""

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        if not self.terminal:
            line = f"{100 * fraction:3.0f} % {self.stage}".rstrip()
            step = f"{int(10 * fraction)} {self.stage}"
            if step != self._shown:
                sys.stderr.write(line + "\n")
                self._shown = step
            return
        filled = round(BAR_WIDTH * fraction)
        line = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {100 * fraction:3.0f} % {self.stage}"
        if line != self._shown:
            sys.stderr.write(f"\r{line:<60}")
            sys.stderr.flush()
            self._shown = line

    def done(self) -> None:
        if self.enabled and self.terminal and self._shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    if args.out.suffix != ".npz":
        raise UsageError("--out must name a .npz file")
    check_path(args.video)  # not found, a folder, empty: one line
    refuse_replacing(args.out, {"video": args.video}, UsageError)
    if args.keyframes == "all" and args.budget is not None:
        raise UsageError("--budget chooses key frames; --keyframes all estimates every frame")
    check_device(args.device)
    if args.threads < 1:
        raise UsageError("--threads must be at least 1")
    if not 0 <= args.refine_passes <= 3:
        raise UsageError("--refine-passes must be 0 to 3")
    bar = ProgressBar(not args.no_progress)
    start = time.perf_counter()
    result = estimate_video(
        args.video,
        skeleton=args.skeleton,
        keyframes=args.keyframes,
        budget=args.budget,
        fill=args.fill,
        fill_field=args.fill_field,
        estimator=args.estimator,
        threads=args.threads,
        refine_passes=args.refine_passes,
        keyframe_roi=args.keyframe_roi,
        device=args.device,
        progress=bar,
    )
    bar.done()
    result.write(args.out)
    est = result.estimates
    frames = result.poses.shape[0]
    rest = f"filled the rest with {result.fill}, " if len(est.frames) < frames else ""
    print(
        f"estimated {len(est.frames)} of {frames} frames "
        f"({est.detector_calls} detector and {est.landmark_calls} landmark calls, "
        f"{int(est.carried.sum())} regions carried along the motion), "
        f"{rest}in {time.perf_counter() - start:.1f} s -> {args.out}"
    )
    return 0


def estimate_video(
    video: Path,
    *,
    skeleton: str = "penn_action",
    keyframes: str = "kfpn",
    budget: float | int | None = None,
    fill: str = AUTO_FILL,
    fill_field: str = FILL_FIELD,
    estimator: str = "blazepose",
    threads: int = 1,
    refine_passes: int = 1,
    keyframe_roi: str = CARRIED,
    device: str | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> EstimatedTrack:
    """Key frames from ``keyframes`` (a proposal method, or ``all``), then the estimator on
    them and the fill. ``keyframe_roi``: ``carried`` moves the last pose along the video's
    motion store to a key frame that tracking cannot reach (where the codec has motion
    vectors; the store is the one the gate and the fill read), ``detector`` runs the person
    detector there. Progress: proposals take the first half of the bar when they run."""
    from annotator.estimation.pipeline import estimate_track
    from annotator.propagation import FILL_METHODS, resolve_fill, video_fill
    from annotator.video import open_video

    # no decode-ahead: pictures past a key frame would be decoded and converted for nothing
    reader = open_video(video, build_index=False, decode_ahead=0)
    try:
        method = resolve_fill(fill)
        t0 = time.perf_counter()
        share = 0.0
        if keyframes == "all":
            frames = list(range(reader.frame_count))
        else:
            from annotator.proposal.registry import propose

            share = 0.5
            if budget is None and keyframes == "gate":
                budget = GATE_BUDGET
            _stage(progress, f"proposing key frames ({keyframes})")
            frames = propose(
                reader, keyframes, budget, device, part(progress, 0.0, share), should_stop
            ).frames
        seconds = {"keyframes": time.perf_counter() - t0}
        # a fill along the motion may extract the video's motion store: the bar's last tenth
        moving = method in FILL_METHODS and len(frames) < reader.frame_count
        end = 0.9 if moving else 1.0
        carry = None
        sparse = len(frames) < reader.frame_count
        if keyframe_roi == CARRIED and sparse and reader.has_motion_vectors:
            from annotator.propagation.carry import motion_carry
            from annotator.video.motion_cache import open_motion

            # the motion store is extracted here when the key-frame choice did not read it
            mid = share + 0.3 * (end - share)
            _stage(progress, "motion fields for the key frames")
            t0 = time.perf_counter()
            store = open_motion(video, progress=part(progress, share, mid), should_stop=should_stop)
            carry = motion_carry(store)
            seconds["motion"] = time.perf_counter() - t0
            share = mid
        _stage(progress, f"estimating poses on {len(frames)} frames")
        return estimate_track(
            reader,
            frames,
            skeleton=skeleton,
            fill=video_fill(
                video,
                method,
                float(reader.fps),
                _motion_stage(progress, end),
                should_stop,
                field=fill_field,
            ),
            fill_name=method,
            estimator=estimator,
            threads=threads,
            refine_passes=refine_passes,
            carry=carry,
            progress=part(progress, share, end),
            should_stop=should_stop,
            seconds=seconds,
        )
    finally:
        reader.close()


def _motion_stage(progress: Progress | None, start: float) -> Progress | None:
    """The bar from ``start`` to the end for the fill's motion extraction, named as such."""
    scaled = part(progress, start, 1.0)
    if scaled is None:
        return None

    def motion(fraction: float) -> None:
        _stage(progress, "motion fields for the fill")
        scaled(fraction)

    return motion


def _stage(progress: Progress | None, text: str) -> None:
    if isinstance(progress, ProgressBar):
        progress.stage = text
