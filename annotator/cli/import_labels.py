"""``annotator import FILE --video VIDEO --out PROJECT``: turn a label file into a project.

The format is guessed from the file unless ``--format`` names it (``formats.importing``, the
code behind the app's File > Import Labels). Labels are checked against the video (they must
not reach past its last frame) and saved as manual labels, an estimator's joints (source
``predicted``) as the predicted layer; fills are left out. A file with no labelled joint is
refused, and the frames reported are those the project holds a label on. Nothing is written
when anything is wrong.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path

from annotator.core.document import Document, VideoRef
from annotator.core.poseset import PoseSet
from annotator.core.safeio import refuse_replacing
from annotator.core.skeleton import Skeleton, builtin
from annotator.core.store import save_project
from annotator.errors import AnnotatorError, FormatError, UsageError
from annotator.formats import registry
from annotator.formats._common import fit_frames
from annotator.formats.importing import read_labels, refuse_empty, summary, video_warnings

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="label file (or DeepLabCut folder)")
    parser.add_argument("--video", required=True, metavar="VIDEO", help="the labelled video")
    parser.add_argument("--out", required=True, metavar="PROJECT", help="project file to write")
    parser.add_argument(
        "--format",
        choices=registry.names("read"),
        help="the file's format (guessed from the file when not given)",
    )
    parser.add_argument(
        "--skeleton",
        metavar="NAME|JSON",
        help="skeleton for files that do not name their joints (built-in name or JSON file)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing project")


def run(args: argparse.Namespace) -> int:
    src, out = Path(args.file), Path(args.out)
    if not src.exists():
        raise FormatError(f"file not found: {src}")
    refuse_replacing(out, {"label file": src, "video": args.video}, UsageError)
    if out.exists() and not args.force:
        raise UsageError(f"{out} already exists; pass --force to overwrite it")
    skeleton = _skeleton(args.skeleton) if args.skeleton else None
    ps, name = read_labels(src, name=args.format, skeleton=skeleton)
    refuse_empty(ps, src.name)
    doc = _document(ps, Path(args.video))
    save_project(doc, out)
    print(f"imported {summary(ps)} from {src.name} ({name}) into {out}")
    return 0


def _skeleton(spec: str) -> Skeleton:
    if spec.lower().endswith(".json"):
        return Skeleton.from_json(spec)
    return builtin(spec)


def _document(ps: PoseSet, video_path: Path) -> Document:
    """A document of ``ps`` on the video; labels are fitted to the video's length."""
    from annotator.video import open_video

    video = open_video(video_path)
    try:
        video.wait_for_index()
        ref = VideoRef(
            path=str(video_path.resolve()),
            fingerprint=video.fingerprint,
            frame_count=video.frame_count,
            fps=float(video.fps),
            width=int(video.width),
            height=int(video.height),
        )
        timestamps = video.timestamps
    finally:
        video.close()
    for warning in video_warnings(ps, ref.frame_count, ref.width, ref.height):
        log.warning("%s", warning)
    ps = fit_frames(ps, ref.frame_count)
    ps = replace(ps, timestamps=timestamps, video_path=ref.path)
    try:
        return Document.from_pose_set(ps, ref)
    except AnnotatorError:
        raise
    except ValueError as err:
        raise FormatError(f"the labels do not fit the video: {err}") from None
