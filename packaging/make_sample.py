"""Make the bundled sample video ``resources/samples/taiji.mp4`` from the HybrIK demo clip.

Re-encodes the first ``--frames`` frames (about 10 s) of ``hybrik_taiji.mp4`` with PyAV to
H.264 at 640x360, a key frame every 48 frames, no audio, keeping the original timestamps.
Run from the repository root:

    python packaging/make_sample.py --source ../shared/data/videos/hybrik_taiji.mp4
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent


def make_sample(
    source: Path, out: Path, frames: int = 240, width: int = 640, height: int = 360
) -> int:
    """Write the sample; returns the number of frames written."""
    written = 0
    with (
        av.open(str(source)) as src,
        av.open(str(out), "w", options={"movflags": "+faststart"}) as dst,
    ):
        in_stream = src.streams.video[0]
        rate = in_stream.average_rate or Fraction(24000, 1001)
        stream = dst.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = in_stream.time_base
        stream.codec_context.time_base = in_stream.time_base
        stream.options = {
            "preset": "slow",
            "crf": "24",
            "g": "48",
            "keyint_min": "48",
            "sc_threshold": "0",
            "bf": "2",
            "profile": "high",
        }
        first_pts: int | None = None
        for frame in src.decode(in_stream):
            if written >= frames:
                break
            small = frame.reformat(width=width, height=height, format="yuv420p")
            first_pts = frame.pts if first_pts is None else first_pts
            small.pts = frame.pts - first_pts  # start at 0
            small.time_base = in_stream.time_base
            # the source's own key frames would be forced into the copy: let x264 choose (GOP 48)
            small.pict_type = av.video.frame.PictureType.NONE
            dst.mux(stream.encode(small))
            written += 1
        dst.mux(stream.encode(None))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "videos" / "hybrik_taiji.mp4",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "samples" / "taiji.mp4")
    parser.add_argument("--frames", type=int, default=240)
    args = parser.parse_args()
    count = make_sample(args.source, args.out, args.frames)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({count} frames, {size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
