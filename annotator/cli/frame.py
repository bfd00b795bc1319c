"""``annotator frame VIDEO INDEX --out PNG``: write one frame, exactly as the app shows it."""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from annotator.errors import UsageError, VideoError
from annotator.video.base import open_video


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="a video file")
    parser.add_argument("index", type=int, help="0-based frame index (decode order)")
    parser.add_argument("--out", required=True, help="PNG file to write")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise UsageError(f"--out must name a .png file, not {out.name}")
    if not out.parent.exists():
        raise UsageError(f"the folder {out.parent} does not exist")
    with open_video(args.video, cache_frames=4, decode_ahead=0) as reader:
        rgb = reader.frame(args.index)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if not cv2.imwrite(str(out), bgr):
        raise VideoError(f"could not write {out}")
    return 0
