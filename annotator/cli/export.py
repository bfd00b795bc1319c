"""``annotator export PROJECT --format F --out PATH``: write a project's labels in format F.

``--frames manual`` (default) exports the manual labels; ``--frames all`` runs the fill
engine first and exports every filled frame with each value's source (and which are held).
COCO (``--images``) and DeepLabCut exports read frame images from the project's video. The
writing goes through ``formats.exporting``, as the app's export dialog does.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from annotator.core.store import load_project
from annotator.errors import FormatError, UsageError
from annotator.formats import registry
from annotator.formats.exporting import write_export


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
    parser.add_argument("--method", help="fill method for --frames all (default: the engine's)")
    parser.add_argument(
        "--images", choices=("jpg", "png"), help="coco: also write the frame images"
    )
    parser.add_argument(
        "--no-images", action="store_true", help="dlc: write the tables without frame images"
    )
    parser.add_argument("--scorer", default="annotator", help="dlc: the scorer name")


def run(args: argparse.Namespace) -> int:
    adaptor = registry.get(args.format)
    if args.images and adaptor.name != "coco":
        raise UsageError("--images applies to --format coco only")
    if args.method and args.frames != "all":
        raise UsageError("--method applies to --frames all only")
    doc = load_project(args.project)
    ps = doc.to_pose_set()
    if args.frames == "all":
        from annotator.dynamics.fill import fill_pose_set

        kw: dict[str, Any] = {"scene_cuts": doc.scene_cuts}
        ps = fill_pose_set(ps, args.method, **kw) if args.method else fill_pose_set(ps, **kw)
    if adaptor.name == "coco":
        images = args.images
    elif adaptor.name == "dlc" and not args.no_images:
        images = "png"
    else:
        images = None
    video = _open(doc.video.path) if images is not None else None
    try:
        write_export(
            ps,
            adaptor.name,
            args.out,
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


def _open(path: str) -> Any:
    from annotator.video import open_video

    if not path or not Path(path).is_file():
        raise FormatError(
            f"frame images need the project's video, which was not found: {path or '(none)'}"
        )
    return open_video(path)
