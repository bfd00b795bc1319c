"""``annotator export PROJECT --format F --out PATH``: write a project's labels in format F.

``--frames manual`` (default) exports the manual labels; ``--frames all`` runs the fill
engine first and exports every filled frame with each value's source (and which are held).
The fill is the app's: the method chosen in the app and saved with the project, else
``hpim+mv`` along the project's video's motion (DIS optical flow, extracted once and cached;
``hpim`` when the video is not found, said on stderr); ``--method`` picks another. As in the
app, each person's predicted joints (Prefill's) anchor the fill where their joint has
no label on one side, weigh in the ``hpim`` and ``hpim+mv`` fills between labels (anchor it
everywhere for the other methods), and are
exported where there is no label, with source ``predicted`` and their confidence (written by
the formats that hold a per-joint score). An export that would hold no frame is refused
(``formats.exporting.check_not_empty``), naming what would export.
COCO (``--images``) and DeepLabCut exports read frame images from the project's video. The
writing goes through ``formats.exporting``, as the app's export dialog does.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.document import FILL_METHOD_SETTING, Document
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.safeio import refuse_replacing
from annotator.core.store import load_project
from annotator.dynamics.fill import METHODS
from annotator.errors import FormatError, UsageError, VideoError
from annotator.formats import registry
from annotator.formats.exporting import check_not_empty, write_export
from annotator.propagation import FILL_FIELD, VideoSource
from annotator.propagation import FILL_METHODS as VIDEO_METHODS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="PROJECT", help="project file")
    parser.add_argument("--format", required=True, choices=registry.names("write"))
    parser.add_argument("--out", required=True, metavar="PATH", help="file or folder to write")
    parser.add_argument(
        "--frames",
        choices=("manual", "all"),
        default="manual",
        help="manual labels only, or every frame with filled values marked (default: manual)",
    )
    parser.add_argument(
        "--method",
        choices=METHODS + VIDEO_METHODS,
        help="fill method for --frames all (default: the one chosen in the app and saved with "
        "the project, else hpim+mv, which follows the video's motion, as the app fills)",
    )
    parser.add_argument(
        "--images", choices=("jpg", "png"), help="coco: also write the frame images"
    )
    parser.add_argument(
        "--no-images", action="store_true", help="dlc: write the tables without frame images"
    )
    parser.add_argument("--scorer", default="annotator", help="dlc: the scorer name")
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing export file (folders are never replaced; as for import)",
    )


def run(args: argparse.Namespace) -> int:
    adaptor = registry.get(args.format)
    if args.images and adaptor.name != "coco":
        raise UsageError("--images applies to --format coco only")
    if args.method and args.frames != "all":
        raise UsageError("--method applies to --frames all only")
    out = Path(args.out)
    # even with --force: the export must not replace the project or its video
    refuse_replacing(out, {"project": args.project}, UsageError)
    if out.is_file() and not adaptor.is_folder and not args.force:
        raise UsageError(f"{out} already exists; pass --force to overwrite it")
    doc = load_project(args.project)
    refuse_replacing(out, {"video": doc.video.path or None}, UsageError)
    ps = doc.to_pose_set()
    if args.frames == "all":
        method = args.method or project_method(doc)
        ps = filled_with_predictions(doc, ps, method, _motion(doc, args.project, method))
    check_not_empty(ps, args.frames, doc, "--frames all")
    if adaptor.name == "coco":
        images = args.images
    elif adaptor.name == "dlc" and not args.no_images:
        images = "png"
    else:
        images = None
    video = _open(doc, args.project) if images is not None else None
    try:
        write_export(
            ps,
            adaptor.name,
            out,
            frames=args.frames,
            images=images,
            scorer=args.scorer,
            video=video,
        )
    finally:
        if video is not None:
            video.close()
    print(f"exported {args.project} as {adaptor.name} ({args.frames} frames) to {args.out}")
    return 0


def _open(doc: Document, project: str) -> Any:
    """The project's video for frame images (found as the app finds it, also beside the
    project); a video of another length is refused, another encoding only warned of."""
    from annotator.core.store import check_video
    from annotator.video import open_video

    found = check_video(doc, project)
    if found.status == "missing":
        raise FormatError(f"frame images need the project's video: {found.message}")
    video = open_video(found.path)
    expected = doc.video.frame_count
    if video.frame_count != expected:
        video.close()
        raise FormatError(
            f"{Path(found.path).name} is not the video this project was labelled on: it has "
            f"{video.frame_count} frames, the project {expected} (open the project in the app "
            "to locate the right one)"
        )
    if found.status == "mismatch":
        print(f"annotator: warning: {found.message}; frame images come from it", file=sys.stderr)
    return video


def project_method(doc: Document) -> str:
    """The fill the app shows for ``doc``: the method chosen in the app and saved with the
    project, else ``hpim+mv`` (the app's fill once the video's motion is read)."""
    chosen = doc.settings.get(FILL_METHOD_SETTING)
    return chosen if isinstance(chosen, str) and chosen in METHODS + VIDEO_METHODS else "hpim+mv"


def project_video(doc: Document, project: str | Path, method: str) -> str | None:
    """The project's video for a fill along its motion (``method`` ``mv`` or ``hpim+mv``),
    found as the app finds it (also beside the project). When it is missing, ``mv`` fails and
    ``hpim+mv`` returns None after saying on stderr that it fills as ``hpim``; ``export
    --frames all`` and ``fill PROJECT`` share this lookup."""
    from annotator.core.store import check_video

    found = check_video(doc, project)
    if found.status == "missing":
        if method == "mv":
            raise UsageError(f"--method mv follows the video's motion: {found.message}")
        print(f"annotator: {found.message}; filling with hpim", file=sys.stderr)
        return None
    return found.path


def _motion(doc: Document, project: str, method: str) -> VideoSource | None:
    """The project's video and its motion fields for a video fill (None: not one, or
    ``hpim+mv`` without its video, which then fills as ``hpim``, said on stderr)."""
    if method not in VIDEO_METHODS:
        return None
    from annotator.video.motion_cache import open_motion

    video = project_video(doc, project, method)
    if video is None:
        return None
    try:
        fields = open_motion(video, field=FILL_FIELD)
    except VideoError as err:  # a damaged file: the app fills without motion too
        if method == "mv":
            raise
        print(f"annotator: no motion fields ({err}); filling with hpim", file=sys.stderr)
        return None
    if len(fields) != doc.frame_count:
        raise FormatError(
            f"{Path(video).name} has {len(fields)} frames but the project "
            f"{doc.frame_count}: is it the same video?"
        )
    return VideoSource(video=Path(video), fields=fields, cuts=tuple(doc.scene_cuts))


def filled_with_predictions(
    doc: Document, ps: PoseSet, method: str, motion: VideoSource | None = None
) -> PoseSet:
    """``ps`` (the document's labels) filled per person with ``method`` (a video fill along
    ``motion``; ``hpim`` for ``hpim+mv`` without it), each person's predicted layer weighing
    in or anchoring (``fill_inputs``) and laid over the fill where there is no label, as the
    app's export shows them (``estimation.prefill.combine``)."""
    from annotator.dynamics.fill import fill_track, manual_of
    from annotator.estimation.prefill import combine, fill_inputs, predicted_observations

    out = []
    for k, inst in enumerate(ps.instances):
        manual = manual_of(inst)
        pred, conf = np.array(doc.predicted(k)), np.array(doc.confidence(k))
        obs = predicted_observations(pred, conf)
        # as in the app: predictions with no label on one side anchor the fill
        inputs = fill_inputs(manual, pred, obs, doc.scene_cuts, method)
        if method in VIDEO_METHODS and motion is not None:
            from annotator.propagation import fill_with

            result = fill_with(
                inputs.labels, motion, method, fps=ps.fps, predicted=inputs.observations
            )
        else:
            result = fill_track(
                inputs.labels,
                "hpim" if method in VIDEO_METHODS else method,
                scene_cuts=doc.scene_cuts,
                fps=ps.fps,
                observations=inputs.observations,
            )
        if obs is not None:
            result = combine(result, manual, pred, conf)
        out.append(
            PoseInstance(
                inst.track_id,
                result.poses,
                result.source,
                None if inst.boxes is None else inst.boxes.copy(),
                result.held,
                result.confidence,
            )
        )
    return replace(ps, instances=out)
