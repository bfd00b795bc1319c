"""``annotator bench render``: render Penn Action labels into videos with exact ground truth.

Example (the first 1000 files are the training split, the last 258 validation)::

    annotator bench render --labels ../shared/data/penn_action/labels --split val \\
        --out rendered/val --seed 0 --count 24 --max-frames 150
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from annotator.errors import UsageError
from annotator.synth.render_encode import PROFILES
from annotator.synth.render_set import render_set


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", required=True, type=Path, help="Penn Action labels folder")
    parser.add_argument("--split", required=True, choices=("train", "val"))
    parser.add_argument("--out", required=True, type=Path, help="folder for NAME.mp4 + NAME.npz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, help="videos to render, spread over the split")
    parser.add_argument("--max-frames", type=int, help="cut longer label files to this length")
    parser.add_argument(
        "--backgrounds", type=Path, help="folder of real videos to take some backgrounds from"
    )
    parser.add_argument(
        "--contact-sheet", type=Path, metavar="PNG", help="also write a grid of sample frames"
    )
    parser.add_argument(
        "--profiles",
        default=",".join(PROFILES),
        help=f"encodings to cycle through (default: {','.join(PROFILES)})",
    )


def run(args: argparse.Namespace) -> int:
    if not args.labels.is_dir():
        raise UsageError(f"labels folder not found: {args.labels}")
    if args.backgrounds is not None and not args.backgrounds.is_dir():
        raise UsageError(f"backgrounds folder not found: {args.backgrounds}")
    if args.max_frames is not None and args.max_frames < 2:
        raise UsageError("--max-frames must be at least 2")
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    bad = [p for p in profiles if p not in PROFILES]
    if bad or not profiles:
        raise UsageError(
            f"unknown profile {bad[0] if bad else '(none)'}; choose from {', '.join(PROFILES)}"
        )
    start = time.perf_counter()
    videos = render_set(
        args.labels,
        args.split,
        args.out,
        args.seed,
        args.count,
        args.max_frames,
        args.backgrounds,
        profiles,
    )
    if args.contact_sheet is not None:
        from annotator.synth.render_sheet import contact_sheet

        contact_sheet(videos, args.contact_sheet)
    frames = sum(v.frame_count for v in videos)
    seconds = time.perf_counter() - start
    print(f"{'video':<8} {'frames':>6}  {'profile':<15} {'gop':>4} {'bframes':>7}")
    for v in videos:
        e = v.encoding
        print(f"{v.name:<8} {v.frame_count:>6}  {e.profile:<15} {e.gop:>4} {e.bframes:>7}")
    print(
        f"{len(videos)} videos, {frames} frames in {seconds:.1f} s "
        f"({frames / max(seconds, 1e-9):.1f} frames/s) -> {args.out}"
    )
    return 0
