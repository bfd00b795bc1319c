"""``annotator proxy VIDEO``: make a short-GOP copy in the cache and print its path."""

from __future__ import annotations

import argparse
import sys

from annotator.video.proxy import DEFAULT_GOP, make_proxy


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="a video file (never modified)")
    parser.add_argument("--gop", type=int, default=DEFAULT_GOP, help="frames between key frames")
    parser.add_argument("--crf", type=int, default=18, help="x264 quality (lower is better)")
    parser.add_argument("--force", action="store_true", help="remake it even if it exists")


def run(args: argparse.Namespace) -> int:
    def progress(fraction: float) -> None:
        if args.verbose:
            print(f"\rproxy: {fraction:4.0%}", end="", file=sys.stderr, flush=True)

    path = make_proxy(args.video, gop=args.gop, crf=args.crf, force=args.force, progress=progress)
    if args.verbose:
        print(file=sys.stderr)
    print(path)
    return 0
