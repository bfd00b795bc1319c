"""``annotator fill INPUT --keep-frames SPEC --method M [--video V] [--dictionary D] --out X.npz``

Keeps the labels of INPUT on the key frames only, fills every other frame with the chosen
method and writes the contract's fill npz (``poses``, ``source``, ``source_names``, ``held``,
``variance`` when the method has one). INPUT is a project (``.annot.json``) or any file the
import formats read (a Penn Action ``.mat``, an ``.npz`` in the contract layout, COCO, ...).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from annotator.core.codes import Source, Visibility
from annotator.core.framespec import parse_keep_frames
from annotator.core.poseset import PoseSet
from annotator.dynamics.fill import DEFAULT_METHOD, METHODS, fill_track, manual_of, save_fill_npz
from annotator.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="project (.annot.json) or label file to fill")
    parser.add_argument(
        "--keep-frames",
        required=True,
        metavar="SPEC",
        help="key frames whose labels are kept: 0,5,9-12 | uniform:0.1 | uniform:N | @proposals.json",
    )
    parser.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD)
    parser.add_argument("--video", help="the video, for its frame rate")
    parser.add_argument("--fps", type=float, help="frame rate when there is no video")
    parser.add_argument(
        "--dictionary",
        help="model file: eq17/fista dictionary (.npz ours, .mat published layout) or hpim (.npz)",
    )
    parser.add_argument("--instance", type=int, default=0, help="which person (default 0)")
    parser.add_argument("--format", help="input format when it cannot be guessed")
    parser.add_argument("--out", required=True, help="fill file to write (.npz)")


def run(args: argparse.Namespace) -> int:
    ps, cuts = _read(Path(args.input), args.format)
    if not 0 <= args.instance < len(ps.instances):
        raise UsageError(f"{args.input} has {len(ps.instances)} instance(s); no {args.instance}")
    fps = args.fps or _video_fps(args.video) or ps.fps
    keep = parse_keep_frames(args.keep_frames, ps.frame_count)
    manual = manual_of(ps.instances[args.instance])
    dropped = np.ones(ps.frame_count, dtype=bool)
    dropped[keep] = False
    manual[dropped] = np.nan
    manual[dropped, :, 2] = Visibility.UNLABELLED
    result = fill_track(manual, args.method, scene_cuts=cuts, fps=fps, dictionary=args.dictionary)
    out = Path(args.out)
    if out.suffix != ".npz":
        raise UsageError("--out must name a .npz file")
    save_fill_npz(out, result)
    filled = int((result.source == Source(_source_of(args.method))).sum())
    print(
        f"filled {filled} joint values from {len(keep)} key frames of {ps.frame_count} "
        f"with {args.method}; wrote {out}"
    )
    return 0


def _source_of(method: str) -> int:
    return int(Source.from_label(method))


def _read(path: Path, fmt: str | None) -> tuple[PoseSet, tuple[int, ...]]:
    if not path.exists():
        raise UsageError(f"input not found: {path}")
    if path.name.endswith(".annot.json"):
        from annotator.core.store import load_project

        doc = load_project(path)
        return doc.to_pose_set(), tuple(doc.scene_cuts)
    from annotator.formats import registry

    adaptor = registry.get(fmt) if fmt else registry.guess(path)
    return adaptor.read(path), ()


def _video_fps(video: str | None) -> float | None:
    if not video:
        return None
    from annotator.video.base import open_video

    v = open_video(video, build_index=False)
    try:
        return float(v.fps)
    finally:
        v.close()
