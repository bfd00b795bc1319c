"""``annotator fill INPUT --keep-frames SPEC --method M [--video V] [--dictionary D] --out X.npz``

Keeps the labels of INPUT on the key frames only, fills every other frame with the chosen
method and writes the contract's fill npz (``poses``, ``source``, ``source_names``, ``held``,
``variance`` when the method has one). INPUT is a project (``.annot.json``) or any file the
import formats read (a Penn Action ``.mat``, an ``.npz`` in the contract layout, COCO, ...).

A project's predicted joints (Prefill's; in a label file, values whose source is ``predicted``,
such as ``annotator estimate``'s output; kept whatever ``--keep-frames`` says: they are the
estimator's, not labels) enter the ``hpim`` and ``hpim+mv`` fills as weighted observations
between two kept labels of their joint and anchor the fill like labels elsewhere, as in the
app (``estimation.prefill.fill_inputs``), and where a joint has a prediction and no kept label
the output is the estimator's value: source ``predicted``, with its ``confidence``.

``mv`` and ``hpim+mv`` fill from the video (``--video``): its motion fields are extracted (or
read from the cache) and the joints propagated along them: by default DIS optical flow
(``propagation.FILL_FIELD``), ``--field mv`` for the codec's vectors (faster to extract, less
accurate). Without a video ``mv`` fails with a one-line message and ``hpim+mv`` says on stderr
that it falls back to ``hpim``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.codes import Source, Visibility
from annotator.core.framespec import parse_keep_frames
from annotator.core.poseset import PoseSet
from annotator.dynamics.fill import (
    DEFAULT_METHOD,
    METHODS,
    FillResult,
    fill_track,
    manual_of,
    save_fill_npz,
)
from annotator.errors import UsageError, VideoError
from annotator.propagation import FILL_FIELD
from annotator.video.motion_store import FIELDS

VIDEO_METHODS = ("mv", "hpim+mv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="project (.annot.json) or label file to fill")
    parser.add_argument(
        "--keep-frames",
        required=True,
        metavar="SPEC",
        help="key frames whose labels are kept: 0,5,9-12 | uniform:0.1 | uniform:N | @proposals.json",
    )
    parser.add_argument(
        "--method",
        choices=METHODS + VIDEO_METHODS,
        help=f"mv and hpim+mv follow the video's motion (need --video); default hpim+mv with "
        f"--video, else {DEFAULT_METHOD}",
    )
    parser.add_argument("--video", help="the video: its frame rate, and its motion for mv fills")
    parser.add_argument(
        "--field",
        choices=FIELDS,
        default=FILL_FIELD,
        help=f"motion the video fills (mv, hpim+mv) walk on (default {FILL_FIELD}): dis is DIS "
        "optical flow on the "
        "decoded frames, about 13 ms of CPU per 720p frame to extract once (cached), and "
        "the more accurate; mv is the codec's motion vectors, about 5 ms a frame; dis-640, "
        "dis-320, dis-fast and farneback are other optical flows to compare",
    )
    parser.add_argument("--fps", type=float, help="frame rate when there is no video")
    parser.add_argument(
        "--dictionary",
        help="model file: eq17/fista dictionary (.npz ours, .mat published layout) or hpim (.npz)",
    )
    parser.add_argument("--instance", type=int, default=0, help="which person (default 0)")
    parser.add_argument("--format", help="input format when it cannot be guessed")
    parser.add_argument("--out", required=True, help="fill file to write (.npz)")


def run(args: argparse.Namespace) -> int:
    ps, cuts, layers = _read(Path(args.input), args.format)
    if not 0 <= args.instance < len(ps.instances):
        raise UsageError(f"{args.input} has {len(ps.instances)} instance(s); no {args.instance}")
    fps = args.fps or _video_fps(args.video) or ps.fps
    keep = parse_keep_frames(args.keep_frames, ps.frame_count)
    manual = manual_of(ps.instances[args.instance])
    dropped = np.ones(ps.frame_count, dtype=bool)
    dropped[keep] = False
    manual[dropped] = np.nan
    manual[dropped, :, 2] = Visibility.UNLABELLED
    layer = layers[args.instance] if layers else None
    labelled = np.flatnonzero((manual[:, :, 2] != Visibility.UNLABELLED).any(axis=1))
    if labelled.size == 0 and layer is None:
        raise UsageError(
            f"nothing to fill from: {args.input} has no labels on the {len(keep)} kept frames "
            f"({args.keep_frames}) and no predicted joints"
        )
    out = Path(args.out)
    if out.suffix != ".npz":
        raise UsageError("--out must name a .npz file")
    if args.method is None:  # the video's motion is the default evidence whenever there is one
        args.method = "hpim+mv" if args.video else DEFAULT_METHOD
    obs = None
    labels = manual
    if layer is not None:
        from annotator.estimation.prefill import fill_inputs, predicted_observations

        # as in the app: predictions with no kept label on one side anchor the fill
        inputs = fill_inputs(manual, layer[0], predicted_observations(*layer), cuts, args.method)
        labels, obs = inputs.labels, inputs.observations
    if args.method in VIDEO_METHODS:
        result = _fill_from_video(labels, args, cuts, fps, obs)
    else:
        result = fill_track(
            labels,
            args.method,
            scene_cuts=cuts,
            fps=fps,
            dictionary=args.dictionary,
            observations=obs if args.method == "hpim" else None,
        )
    if layer is not None:
        from annotator.estimation.prefill import combine

        result = combine(result, manual, *layer)
    save_fill_npz(out, result)
    is_filled = (result.source != Source.MANUAL) & (result.source != Source.NONE)
    used = sorted({Source(int(c)).label for c in np.unique(result.source[is_filled])})
    given = f"{labelled.size} labelled key frames"
    if layer is not None:
        predicted = int((layer[0][:, :, 2] != Visibility.UNLABELLED).any(axis=1).sum())
        given += f" and {predicted} frames of predicted joints"
    print(
        f"filled {int(is_filled.sum())} joint values from {given} of {ps.frame_count} "
        f"with {', '.join(used) or args.method}; wrote {out}"
    )
    return 0


def _fill_from_video(
    manual: Any,
    args: argparse.Namespace,
    cuts: tuple[int, ...],
    fps: float | None,
    predicted: Any = None,
) -> FillResult:
    from annotator.propagation import VideoSource, fill_with

    def as_hpim(why: str) -> FillResult:
        print(f"hpim+mv: {why}; filling with hpim", file=sys.stderr)
        return fill_track(
            manual,
            "hpim",
            scene_cuts=cuts,
            fps=fps,
            dictionary=args.dictionary,
            observations=predicted,
        )

    if not args.video:
        if args.method == "mv":
            raise UsageError("--method mv follows the video's motion: give --video")
        return as_hpim("no --video, so no motion fields")
    from annotator.video.motion_cache import open_motion

    try:
        fields = open_motion(args.video, field=args.field)
    except VideoError as err:  # a damaged file: as the app, which fills without motion
        if args.method == "mv":
            raise
        return as_hpim(f"no motion fields ({err})")
    if len(fields) != manual.shape[0]:
        raise UsageError(
            f"{args.video} has {len(fields)} frames but the labels have {manual.shape[0]}"
        )
    source = VideoSource(video=Path(args.video), fields=fields, cuts=cuts)
    return fill_with(
        manual, source, args.method, fps=fps, dictionary=args.dictionary, predicted=predicted
    )


Layer = tuple[Any, Any]  # a person's predicted joints (F, J, 3) and confidence (F, J)


def _read(path: Path, fmt: str | None) -> tuple[PoseSet, tuple[int, ...], list[Layer | None]]:
    """The labels, the scene cuts and, for a project, each person's predicted layer (None
    where a person has no predicted joint)."""
    if not path.exists():
        raise UsageError(f"input not found: {path}")
    if path.name.endswith(".annot.json"):
        from annotator.core.store import load_project

        doc = load_project(path)
        layers: list[Layer | None] = [
            (np.array(doc.predicted(i)), np.array(doc.confidence(i)))
            if doc.predicted_frames(i).size
            else None
            for i in range(len(doc.instances))
        ]
        return doc.to_pose_set(), tuple(doc.scene_cuts), layers
    from annotator.core.document import predicted_layer
    from annotator.formats import registry

    adaptor = registry.get(fmt) if fmt else registry.guess(path)
    ps = adaptor.read(path)
    # A model's output in a label file (an ``annotator estimate`` npz, DeepLabCut likelihoods,
    # COCO scores) is a predicted layer, as importing the file into a project makes it.
    return ps, (), [predicted_layer(inst) for inst in ps.instances]


def _video_fps(video: str | None) -> float | None:
    if not video:
        return None
    from annotator.video.base import open_video

    v = open_video(video, build_index=False)
    try:
        return float(v.fps)
    finally:
        v.close()
