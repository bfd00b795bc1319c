"""``annotator proxy VIDEO``: make a short-GOP copy in the cache and print its path.

The cache holds one fast-seek proxy per video whatever its settings (``video.proxy``): when
one exists that was made with another ``--gop`` or ``--crf``, it is printed as it is and
stderr says so, pointing to ``--force``.
"""

from __future__ import annotations

import argparse
import sys

from annotator.errors import UsageError
from annotator.video.proxy import (
    DEFAULT_CRF,
    DEFAULT_GOP,
    MAX_CRF,
    existing_proxy,
    make_proxy,
    proxy_settings,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="a video file (never modified)")
    parser.add_argument(
        "--gop", type=int, default=DEFAULT_GOP, help=f"frames between key frames ({DEFAULT_GOP})"
    )
    parser.add_argument(
        "--crf",
        type=int,
        default=DEFAULT_CRF,
        help=f"x264 quality, 0 to {MAX_CRF} (lower is better; default {DEFAULT_CRF})",
    )
    parser.add_argument(
        "--force", action="store_true", help="remake it even if it exists (with other settings)"
    )


def run(args: argparse.Namespace) -> int:
    def progress(fraction: float) -> None:
        if args.verbose:
            print(f"\rproxy: {fraction:4.0%}", end="", file=sys.stderr, flush=True)

    if args.gop < 1:
        raise UsageError(f"--gop must be at least 1 frame, not {args.gop}")
    if not 0 <= args.crf <= MAX_CRF:
        raise UsageError(f"--crf must be 0 to {MAX_CRF} (lower is better), not {args.crf}")
    cached = None if args.force else existing_proxy(args.video)
    path = make_proxy(args.video, gop=args.gop, crf=args.crf, force=args.force, progress=progress)
    if args.verbose:
        print(file=sys.stderr)
    if cached is not None and cached == path:
        made = proxy_settings(path)
        if made is None:
            print(
                "annotator: the proxy in the cache was kept (its settings cannot be read); "
                "pass --force to remake it with these",
                file=sys.stderr,
            )
        elif made != (args.gop, float(args.crf)):
            print(
                f"annotator: the proxy in the cache was made with --gop {made[0]} --crf "
                f"{made[1]:g}, not --gop {args.gop} --crf {args.crf}; pass --force to remake it",
                file=sys.stderr,
            )
    print(path)
    return 0
