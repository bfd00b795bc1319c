"""``annotator fill INPUT --keep-frames SPEC --method M [--video V] [--dictionary D] --out X.npz``

Keeps the labels of INPUT on the key frames only, fills every other frame with the chosen
method and writes the contract's fill npz (``poses``, ``source``, ``source_names``, ``held``,
``variance`` when the method has one). INPUT is a project (``.annot.json``, or any ``.json``
whose schema names a project, as ``import --out P.json`` writes) or any file the import
formats read (a Penn Action ``.mat``, an ``.npz`` in the contract layout, COCO, ...). The
output may not be one of the inputs.

A project's predicted joints (Prefill's; in a label file, values whose source is ``predicted``,
such as ``annotator estimate``'s output; kept whatever ``--keep-frames`` says: they are the
estimator's, not labels) enter the ``hpim`` and ``hpim+mv`` fills as weighted observations
between two kept labels of their joint and anchor the fill like labels elsewhere, as in the
app (``estimation.prefill.fill_inputs``), and where a joint has a prediction and no kept label
the output is the estimator's value: source ``predicted``, with its ``confidence``.

``mv`` and ``hpim+mv`` fill from the video (``--video``): its motion fields are extracted (or
read from the cache) and the joints propagated along them: by default DIS optical flow
(``propagation.FILL_FIELD``), ``--field mv`` for the codec's vectors (faster to extract, less
accurate). A project without ``--video`` fills along its own video, found as ``export
--frames all`` finds it (and by default, with ``hpim+mv``, when it is there). Without a video
``mv`` fails with a one-line message and ``hpim+mv`` says on stderr that it falls back to
``hpim``. A video (its frame rate is the fill's) must have the labels' frame count, and a
``@proposals.json`` must have been proposed for a video of that length (and, with the video at
hand, for that very file: its fingerprint).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.codes import Source, Visibility
from annotator.core.document import Document
from annotator.core.framespec import parse_keep_frames
from annotator.core.poseset import PoseSet
from annotator.core.safeio import refuse_replacing
from annotator.core.schema import EXTENSION, SCHEMA_PREFIX
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
        help=f"mv and hpim+mv follow the video's motion (need a video); default hpim+mv with "
        f"a video, else {DEFAULT_METHOD}",
    )
    parser.add_argument(
        "--video",
        help="the video (as many frames as the labels): its frame rate, and its motion for mv "
        "fills (default for a project: its own video)",
    )
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
    parser.add_argument(
        "--fps", type=float, help="frame rate (positive) when there is no video, or instead of its"
    )
    parser.add_argument(
        "--dictionary",
        help="model file: eq17/fista dictionary (.npz ours, .mat published layout) or hpim (.npz)",
    )
    parser.add_argument("--instance", type=int, default=0, help="which person (default 0)")
    parser.add_argument("--format", help="input format when it cannot be guessed")
    parser.add_argument("--out", required=True, help="fill file to write (.npz)")


def run(args: argparse.Namespace) -> int:
    if args.fps is not None and not (math.isfinite(args.fps) and args.fps > 0):
        raise UsageError(f"--fps must be a positive frame rate, not {args.fps:g}")
    out = Path(args.out)
    if out.suffix != ".npz":
        raise UsageError("--out must name a .npz file")
    proposals = Path(args.keep_frames[1:]) if args.keep_frames.startswith("@") else None
    read = {"labels": args.input, "video": args.video, "dictionary": args.dictionary}
    refuse_replacing(out, {**read, "proposals": proposals}, UsageError)
    ps, cuts, layers, doc = _read(Path(args.input), args.format)
    if not 0 <= args.instance < len(ps.instances):
        raise UsageError(f"{args.input} has {len(ps.instances)} instance(s); no {args.instance}")
    method, video = args.method, args.video
    if video is None and doc is not None:  # a project: its own video, as the app fills it
        method, video = _project_video(doc, args.input, method)
    if method is None:  # the video's motion is the default evidence whenever there is one
        method = "hpim+mv" if video else DEFAULT_METHOD
    video_fps = _video_fps(video, ps.frame_count) if video else None  # checks its length
    fps = args.fps or video_fps or ps.fps
    if proposals is not None:
        _check_proposals(proposals, ps.frame_count, video)
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
    obs = None
    labels = manual
    if layer is not None:
        from annotator.estimation.prefill import fill_inputs, predicted_observations

        # as in the app: predictions with no kept label on one side anchor the fill
        inputs = fill_inputs(manual, layer[0], predicted_observations(*layer), cuts, method)
        labels, obs = inputs.labels, inputs.observations
    if method in VIDEO_METHODS:
        result = _fill_from_video(labels, args, method, video, cuts, fps, obs)
    else:
        result = fill_track(
            labels,
            method,
            scene_cuts=cuts,
            fps=fps,
            dictionary=args.dictionary,
            observations=obs if method == "hpim" else None,
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
        f"with {', '.join(used) or method}; wrote {out}"
    )
    return 0


def _project_video(
    doc: Document, project: str, method: str | None
) -> tuple[str | None, str | None]:
    """The method and video for a project filled without ``--video``: its own video (found
    as ``export --frames all`` finds it) for ``mv`` and ``hpim+mv``, and by default when it is
    there; ``hpim+mv`` without it fills as ``hpim``, said on stderr."""
    if method is None:
        from annotator.core.store import check_video

        found = check_video(doc, project)
        return (None, None) if found.status == "missing" else ("hpim+mv", found.path)
    if method not in VIDEO_METHODS:
        return method, None
    from annotator.cli.export import project_video

    video = project_video(doc, project, method)
    return (method, video) if video is not None else ("hpim", None)


def _fill_from_video(
    manual: Any,
    args: argparse.Namespace,
    method: str,
    video: str | None,
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

    if not video:
        if method == "mv":
            raise UsageError("--method mv follows the video's motion: give --video")
        return as_hpim("no --video, so no motion fields")
    from annotator.video.motion_cache import open_motion

    try:
        fields = open_motion(video, field=args.field)
    except VideoError as err:  # a damaged file: as the app, which fills without motion
        if method == "mv":
            raise
        return as_hpim(f"no motion fields ({err})")
    if len(fields) != manual.shape[0]:
        raise UsageError(f"{video} has {len(fields)} frames but the labels have {manual.shape[0]}")
    source = VideoSource(video=Path(video), fields=fields, cuts=cuts)
    return fill_with(
        manual, source, method, fps=fps, dictionary=args.dictionary, predicted=predicted
    )


Layer = tuple[Any, Any]  # a person's predicted joints (F, J, 3) and confidence (F, J)


def _read(
    path: Path, fmt: str | None
) -> tuple[PoseSet, tuple[int, ...], list[Layer | None], Document | None]:
    """The labels, the scene cuts, each person's predicted layer (None where a person has no
    predicted joint) and, for a project, its document (None for a label file)."""
    if not path.exists():
        raise UsageError(f"input not found: {path}")
    if _is_project(path):
        from annotator.core.store import load_project

        doc = load_project(path)
        layers: list[Layer | None] = [
            (np.array(doc.predicted(i)), np.array(doc.confidence(i)))
            if doc.predicted_frames(i).size
            else None
            for i in range(len(doc.instances))
        ]
        return doc.to_pose_set(), tuple(doc.scene_cuts), layers, doc
    from annotator.core.document import predicted_layer
    from annotator.formats import registry

    adaptor = registry.get(fmt) if fmt else registry.guess(path)
    ps = adaptor.read(path)
    # A model's output in a label file (an ``annotator estimate`` npz, DeepLabCut likelihoods,
    # COCO scores) is a predicted layer, as importing the file into a project makes it.
    return ps, (), [predicted_layer(inst) for inst in ps.instances], None


_PROJECT_SCHEMA = re.compile(rb'"schema"\s*:\s*"' + re.escape(SCHEMA_PREFIX.encode()))


def _is_project(path: Path) -> bool:
    """Whether ``path`` is a project: named ``.annot.json``, or any JSON file whose schema
    field names a project (``import --out P.json`` writes one; the schema comes first)."""
    if path.name.lower().endswith(EXTENSION):
        return True
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return _PROJECT_SCHEMA.search(head) is not None


def _video_fps(video: str, frame_count: int) -> float:
    """The frame rate of ``video``, which must have the labels' ``frame_count`` frames: counted
    by its packet index, as ``import`` checks it, or declared by its container (a download cut
    short is the labels' video, damaged: ``hpim+mv`` then fills as ``hpim``, as the app does).
    Another clip's rate would retime the fill, and its frames are not the labels' frames."""
    from annotator.video.base import open_video
    from annotator.video.opening import check_path, open_container, video_stream

    with contextlib.closing(open_container(check_path(video))) as container:
        declared = int(video_stream(container, Path(video)).frames)  # 0: not declared
    with open_video(video, cache_frames=1, decode_ahead=0) as reader:
        reader.wait_for_index()
        if frame_count not in (reader.frame_count, declared):
            raise UsageError(
                f"{video} has {reader.frame_count} frames but the labels have {frame_count}"
            )
        return float(reader.fps)


def _check_proposals(path: Path, frame_count: int, video: str | None) -> None:
    """Refuse a proposals file (``--keep-frames @P.json``) made for another video: another
    frame count, or (with the video at hand) another fingerprint."""
    from annotator.core.fingerprint import video_fingerprint
    from annotator.core.framespec import MAX_PROPOSALS_BYTES
    from annotator.core.safeio import parse_json, read_bytes

    if not path.exists() and not path.is_symlink():
        raise UsageError(f"proposals file not found: {path}")
    data = parse_json(read_bytes(path, MAX_PROPOSALS_BYTES, UsageError), path.name, UsageError)
    if not isinstance(data, dict):
        return  # parse_keep_frames says what is wrong with it
    count = data.get("frame_count")
    if isinstance(count, int) and not isinstance(count, bool) and count != frame_count:
        raise UsageError(
            f"{path} was proposed for a video of {count} frames but the labels have {frame_count}"
        )
    expected = data.get("video_fingerprint")
    if video and isinstance(expected, str) and expected:
        try:
            actual = video_fingerprint(video)
        except OSError:
            return  # the video's own reading says what is wrong with it
        if actual != expected:
            raise UsageError(
                f"{path} was proposed for another video than {video} (its fingerprint differs)"
            )
