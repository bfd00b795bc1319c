"""``annotator frame VIDEO INDEX --out PNG``: write one frame, exactly as the app shows it."""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from annotator.core.safeio import atomic_write_bytes
from annotator.errors import UsageError, VideoError
from annotator.video.base import open_video


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="a video file")
    parser.add_argument("index", type=int, help="0-based frame index (presentation order)")
    parser.add_argument("--out", required=True, help="PNG file to write")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise UsageError(f"--out must name a .png file, not {out.name}")
    if not out.parent.exists():
        raise UsageError(f"the folder {out.parent} does not exist")
    with open_video(args.video, cache_frames=4, decode_ahead=0) as reader:
        reader.wait_for_index()  # exact numbering even where the data is damaged
        rgb = reader.frame(args.index)
        shown = reader.frame_problems.get(args.index) if args.index >= 0 else None
    if shown is not None:  # the reader substituted a neighbour: never write it as this frame
        raise VideoError(
            f"frame {args.index} of {Path(args.video).name} cannot be decoded exactly "
            f"(the data there is damaged; the nearest decodable frame is {shown})"
        )
    ok, png = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise VideoError(f"could not encode frame {args.index} as PNG")
    atomic_write_bytes(out, png.tobytes(), UsageError)
    return 0
