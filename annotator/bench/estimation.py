"""``annotator bench estimation``: the pose estimator against its golden reference, and the
papers' pipelines (key frames + estimator + fill) against the estimator on every frame.

For each real clip that has a reference in ``DATA/realgt`` (BlazePose run on every frame with
LiteRT, see its README):

1. Golden check: our every-frame run against the reference's 33 landmarks (median and p95
   pixel distance; goal median < 1 px and p95 < 3 px). Two more rows explain the figure:
   *forced*, the landmark model in the reference's own ROI on every frame (the model stage
   alone), and *self*, our run against itself with the first ROI moved by 0.001 px (how much
   the tracking amplifies a rounding-sized difference on that clip).
2. Pipelines: per key-frame selector and budget, estimator calls (detector + landmark model),
   wall time end to end (proposal, estimator, fill; one thread for every row), speed-up over
   the every-frame run, and PCK@0.05 of the Penn Action joints against the every-frame run
   (all frames, and the frames the estimator did not see). ``--keyframe-roi`` as ``estimate``
   (default carried: the rows count the carried key frames, and ``mv s`` the motion store's
   extraction when the key-frame choice did not make it). The fill's own motion store
   (``--fill-field``, default ``propagation.FILL_FIELD``: DIS optical flow) is extracted before
   the estimator and timed apart (``flow s``), so ``fill s`` is the walk alone.

With ``--renders DIR``: the rendered-video rows of ``estimation_renders.py``.
With ``--roi-trace CLIP``: only the frame-by-frame trace of ``estimation_trace.py``.

Figures depend on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from annotator.bench.estimation_renders import print_renders, renders_rows
from annotator.bench.estimation_trace import print_roi_trace, roi_trace
from annotator.core.codes import Visibility
from annotator.core.metrics import body_size, pck
from annotator.errors import UsageError
from annotator.estimation.blazepose import LANDMARK_NAMES, BlazePose, Estimates
from annotator.estimation.pipeline import EstimatedTrack, estimate_track
from annotator.estimation.roi import Roi
from annotator.propagation import (
    AUTO_FILL,
    FILL_FIELD,
    FILL_METHODS,
    resolve_fill,
    video_fill,
)
from annotator.propagation.carry import motion_carry
from annotator.propagation.fuse import as_field
from annotator.proposal.registry import propose
from annotator.video import open_video
from annotator.video.motion_cache import open_motion

CLIPS = ("hybrik_taiji", "mmpose_body3d_demo", "mmhuman3d_single_person_demo")
ALPHA = 0.05


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default = Path(os.environ.get("ANNOTATOR_DATA", "../shared/data"))
    parser.add_argument("--data", type=Path, default=default, help="shared data folder")
    parser.add_argument("--clips", default=",".join(CLIPS), help="comma-separated clip names")
    parser.add_argument("--selectors", default="uniform,kfpn", help="proposal methods to run")
    parser.add_argument("--budgets", default="0.1,0.2", help="key-frame fractions")
    parser.add_argument(
        "--fill", default=AUTO_FILL, help="fill between key frames (auto: as estimate --fill)"
    )
    parser.add_argument("--threads", type=int, default=1, help="estimator threads, every row")
    parser.add_argument("--refine-passes", type=int, default=1, help="see estimate --help")
    parser.add_argument(
        "--keyframe-roi",
        default="carried",
        choices=("carried", "detector"),
        help="a far key frame's region: carried along the motion, or the detector's",
    )
    parser.add_argument(
        "--fill-field",
        default=FILL_FIELD,
        help=f"motion field the video fill walks (default {FILL_FIELD})",
    )
    parser.add_argument("--golden-only", action="store_true", help="only the golden check")
    parser.add_argument(
        "--no-golden", action="store_true", help="skip the forced and self rows (faster)"
    )
    parser.add_argument("--renders", type=Path, help="folder of rendered videos (bench render)")
    parser.add_argument("--renders-count", type=int, default=8, help="rendered videos to use")
    parser.add_argument("--renders-budget", type=float, default=0.1, help="key frames there")
    parser.add_argument("--no-clips", action="store_true", help="skip the real clips")
    parser.add_argument("--sheet", type=Path, help="also draw the landmarks on frames to PNG")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--roi-trace",
        metavar="CLIP",
        help="only print, frame by frame, where CLIP's every-frame run parts from its reference",
    )


def run(args: argparse.Namespace) -> int:
    if args.roi_trace:
        for need in (_video(args.data, args.roi_trace), _reference(args.data, args.roi_trace)):
            if not need.is_file():
                raise UsageError(f"{need} not found (see --data)")
        trace = roi_trace(
            _video(args.data, args.roi_trace), _reference(args.data, args.roi_trace), args.threads
        )
        print_roi_trace(args.roi_trace, trace)
        return 0
    clips = [] if args.no_clips else [c.strip() for c in args.clips.split(",") if c.strip()]
    as_field(args.fill_field)  # a one-line error before any work
    for clip in clips:
        for need in (_video(args.data, clip), args.data / "realgt" / f"{clip}.npz"):
            if not need.is_file():
                raise UsageError(f"{need} not found (see --data)")
    try:
        budgets = [float(b) for b in args.budgets.split(",")]
    except ValueError:
        raise UsageError(
            f"--budgets must be fractions like 0.1,0.2, not {args.budgets!r}"
        ) from None
    selectors = [s.strip() for s in args.selectors.split(",") if s.strip()]
    golden: list[dict[str, Any]] = []
    pipelines: list[dict[str, Any]] = []
    sheet: list[NDArray[np.uint8]] = []
    for clip in clips:
        print(f"# {clip} ...", flush=True)
        video = _video(args.data, clip)
        ref = np.load(args.data / "realgt" / f"{clip}.npz")
        every = _timed_estimate(video, "all", None, args.fill, args.threads)
        est = every.estimates
        golden.append(_golden_row(clip, "ours", est.xy, ref["xy"]))
        if not args.no_golden:
            forced = _forced(video, ref, args.threads)
            golden.append(_golden_row(clip, "forced", forced, ref["xy"]))
            golden.append(_golden_row(clip, "self", _perturbed(video, args.threads), est.xy))
        pipelines.append(_pipeline_row(clip, "all", 1.0, every, every))
        if args.sheet:
            sheet.append(_tile(video, est, 0))
        if args.golden_only:
            continue
        for selector in selectors:
            for budget in budgets:
                result = _timed_estimate(
                    video,
                    selector,
                    budget,
                    args.fill,
                    args.threads,
                    args.refine_passes,
                    args.keyframe_roi == "carried",
                    args.fill_field,
                )
                pipelines.append(_pipeline_row(clip, selector, budget, result, every))
    renders: list[dict[str, Any]] = []
    if args.renders:
        if not args.renders.is_dir():
            raise UsageError(f"--renders {args.renders} is not a folder")
        # the renders compare fills of labels alone (scratch and corrected): a labels fill
        renders_fill = "hpim" if args.fill == AUTO_FILL else args.fill
        renders = renders_rows(
            args.renders, args.renders_count, args.renders_budget, renders_fill, args.threads
        )
    if golden:
        _print_golden(golden)
        _print_pipelines(pipelines, args.fill, args.fill_field)
    if renders:
        print_renders(renders, args.renders_budget, renders_fill)
    if args.sheet:
        _write_sheet(args.sheet, sheet)
    if args.json:
        args.json.write_text(
            json.dumps({"golden": golden, "pipelines": pipelines, "renders": renders}, indent=1)
        )
    return 0


def _video(data: Path, clip: str) -> Path:
    return data / "videos" / f"{clip}.mp4"


def _reference(data: Path, clip: str) -> Path:
    return data / "realgt" / f"{clip}.npz"


def _timed_estimate(
    video: Path,
    selector: str,
    budget: float | None,
    fill: str,
    threads: int,
    passes: int = 1,
    carried: bool = False,
    fill_field: str = FILL_FIELD,
) -> EstimatedTrack:
    cpu = time.process_time()
    track = _estimate(video, selector, budget, fill, threads, passes, carried, fill_field)
    track.seconds["cpu"] = time.process_time() - cpu  # all threads: the work, not the wait
    return track


def _estimate(
    video: Path,
    selector: str,
    budget: float | None,
    fill: str,
    threads: int,
    passes: int,
    carried: bool,
    fill_field: str,
) -> EstimatedTrack:
    # A fresh cache folder: K-FPN's backbone features are computed, not read back.
    saved = os.environ.get("ANNOTATOR_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="annotator-bench-") as tmp:
        os.environ["ANNOTATOR_CACHE_DIR"] = tmp
        # as ``annotator estimate`` reads a video: no decode-ahead past the key frames
        reader = open_video(video, build_index=False, decode_ahead=0)
        try:
            method = resolve_fill(fill)
            t0 = time.perf_counter()
            if selector == "all":
                frames = list(range(reader.frame_count))
            else:
                frames = propose(reader, selector, budget, "cpu").frames
            seconds = {"keyframes": time.perf_counter() - t0}
            carry = None
            if carried and selector != "all" and reader.has_motion_vectors:
                # as ``annotator estimate --keyframe-roi carried``: the store the gate read, or
                # extracted here (the fill then reads it back)
                t0 = time.perf_counter()
                carry = motion_carry(open_motion(video))
                seconds["motion"] = time.perf_counter() - t0
            field = as_field(fill_field)
            if selector != "all" and method in FILL_METHODS:
                # the store the fill walks, extracted here to time it apart (the fill reads
                # it back; with the codec field, the store above)
                t0 = time.perf_counter()
                open_motion(video, field=field)
                seconds["flow"] = time.perf_counter() - t0
            return estimate_track(
                reader,
                frames,
                fill=video_fill(video, method, float(reader.fps), field=field),
                fill_name=method,
                threads=threads,
                refine_passes=passes,
                carry=carry,
                seconds=seconds,
            )
        finally:
            reader.close()
            if saved is None:
                del os.environ["ANNOTATOR_CACHE_DIR"]
            else:
                os.environ["ANNOTATOR_CACHE_DIR"] = saved


def _golden_row(clip: str, kind: str, xy: NDArray[Any], ref: NDArray[Any]) -> dict[str, Any]:
    d = np.linalg.norm(np.asarray(xy, np.float64) - np.asarray(ref, np.float64), axis=-1)
    d = d[np.isfinite(d)]
    return {
        "clip": clip,
        "kind": kind,
        "median_px": float(np.median(d)),
        "p95_px": float(np.percentile(d, 95)),
        "max_px": float(d.max()),
        "pass": bool(np.median(d) < 1.0 and np.percentile(d, 95) < 3.0),
    }


def _forced(video: Path, ref: Any, threads: int) -> NDArray[np.float64]:
    """Landmarks in the reference's ROI on every frame: the model stage alone."""
    est = BlazePose(threads=threads)
    reader = open_video(video, build_index=False)
    try:
        out = np.full(ref["xy"].shape, np.nan)
        for i, roi in enumerate(np.asarray(ref["roi"], dtype=np.float64)):
            out[i] = est.landmarks(reader.frame(i), Roi(*map(float, roi)))[1][: out.shape[1]]
    finally:
        reader.close()
    return out


class _Nudged(BlazePose):
    """BlazePose whose detections move 0.001 px: a rounding-sized change of the first ROI."""

    def detect(self, image: NDArray[np.uint8]) -> Any:
        found = super().detect(image)
        if found is not None:
            found.keypoints[:] += 1e-3
        return found


def _perturbed(video: Path, threads: int) -> NDArray[np.float64]:
    reader = open_video(video, build_index=False)
    try:
        return _Nudged(threads=threads, refine_passes=0).run(reader).xy
    finally:
        reader.close()


def _pipeline_row(
    clip: str, selector: str, budget: float, result: EstimatedTrack, every: EstimatedTrack
) -> dict[str, Any]:
    ref = every.poses
    visible = ref[..., 2] == Visibility.VISIBLE
    body = body_size(ref[..., :2])
    pred = result.poses[..., :2]
    unseen = np.ones(ref.shape[0], dtype=bool)
    unseen[result.keyframes] = False
    est = result.estimates
    seconds = sum(v for k, v in result.seconds.items() if k != "cpu")
    base = sum(v for k, v in every.seconds.items() if k != "cpu")
    cpu, base_cpu = result.seconds["cpu"], every.seconds["cpu"]
    return {
        "clip": clip,
        "selector": selector,
        "budget": budget,
        "frames": int(ref.shape[0]),
        "key_frames": len(result.keyframes),
        "fill": result.fill,
        "detector_calls": est.detector_calls,
        "landmark_calls": est.landmark_calls,
        "calls_share": (est.detector_calls + est.landmark_calls)
        / max(1, every.estimates.detector_calls + every.estimates.landmark_calls),
        "seconds": seconds,
        "proposal_seconds": result.seconds["keyframes"],
        "estimator_seconds": result.seconds["estimate"],
        "fill_seconds": result.seconds["fill"],
        "motion_seconds": result.seconds.get("motion", 0.0),
        "flow_seconds": result.seconds.get("flow", 0.0),
        "carried": int(est.carried.sum()),
        "speedup": base / seconds if seconds > 0 else float("nan"),
        "cpu_seconds": cpu,
        "cpu_speedup": base_cpu / cpu if cpu > 0 else float("nan"),
        "pck": pck(pred, ref[..., :2], visible, body, ALPHA),
        "pck_unseen": pck(pred[unseen], ref[unseen, :, :2], visible[unseen], body[unseen], ALPHA)
        if unseen.any()
        else float("nan"),
    }


def _print_golden(rows: list[dict[str, Any]]) -> None:
    print("\nGolden check: 33 landmarks against realgt/*.npz xy (goal median < 1 px, p95 < 3 px)")
    print(f"{'clip':<30} {'run':<7} {'median px':>9} {'p95 px':>7} {'max px':>7}  goal")
    for r in rows:
        goal = ("met" if r["pass"] else "NOT met") if r["kind"] == "ours" else ""
        print(
            f"{r['clip']:<30} {r['kind']:<7} {r['median_px']:>9.3f} {r['p95_px']:>7.3f} "
            f"{r['max_px']:>7.2f}  {goal}"
        )


def _print_pipelines(rows: list[dict[str, Any]], fill: str, field: str) -> None:
    print(
        f"\nPipelines (fill {fill}, walking {field}), PCK@{ALPHA} against the every-frame run, "
        "Penn joints"
    )
    print(
        f"{'clip':<30} {'keyframes':<9} {'budget':>6} {'fill':<7} {'keys':>5} {'det':>4} "
        f"{'lmk':>5} {'carr':>4} "
        f"{'calls %':>7} {'wall s':>7} {'prop s':>6} {'mv s':>5} {'flow s':>6} {'est s':>6} "
        f"{'fill s':>6} {'speed-up':>8} {'cpu s':>6} "
        f"{'cpu x':>6} {'PCK':>6} {'PCK unseen':>10}"
    )
    for r in rows:
        print(
            f"{r['clip']:<30} {r['selector']:<9} {r['budget']:>6g} {r['fill']:<7} "
            f"{r['key_frames']:>5} "
            f"{r['detector_calls']:>4} {r['landmark_calls']:>5} {r['carried']:>4} "
            f"{100 * r['calls_share']:>7.1f} "
            f"{r['seconds']:>7.1f} {r['proposal_seconds']:>6.1f} {r['motion_seconds']:>5.1f} "
            f"{r['flow_seconds']:>6.1f} {r['estimator_seconds']:>6.1f} "
            f"{r['fill_seconds']:>6.1f} {r['speedup']:>7.2f}x "
            f"{r['cpu_seconds']:>6.1f} {r['cpu_speedup']:>5.2f}x "
            f"{r['pck']:>6.3f} {r['pck_unseen']:>10.3f}"
        )


def _tile(video: Path, est: Estimates, index: int) -> NDArray[np.uint8]:
    """Frame ``index`` with the 33 landmarks: the subject's left blue, right red, midline
    yellow, so a left/right swap shows at a glance."""
    reader = open_video(video, build_index=False)
    try:
        img = np.ascontiguousarray(reader.frame(index))
    finally:
        reader.close()
    scale = 480 / img.shape[0]
    small = cv2.resize(img, (round(img.shape[1] * scale), 480), interpolation=cv2.INTER_AREA)
    img = np.ascontiguousarray(small, dtype=np.uint8)
    row = int(np.searchsorted(est.frames, index))
    for name, (x, y) in zip(LANDMARK_NAMES, est.xy[row], strict=True):
        if not np.isfinite(x):
            continue
        colour = (47, 128, 237) if name.startswith("left") else (235, 87, 87)
        if not name.startswith(("left", "right")):
            colour = (242, 201, 76)
        cv2.circle(img, (round(x * scale), round(y * scale)), 4, colour, -1, cv2.LINE_AA)
    return img


def _write_sheet(path: Path, tiles: list[NDArray[np.uint8]]) -> None:
    sheet = np.concatenate(tiles, axis=1)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"\ncontact sheet: {path}")
