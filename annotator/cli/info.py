"""``annotator info VIDEO [--json]``: the facts of a video file (CONTRACTS.md).

The packet index is built (or read from the cache) before printing, so ``frame_count`` and
``key_frames`` are exact; ``--no-index`` prints at once with the container's estimates and
``key_frames`` null. ``codec`` is the codec's name (``av1``), ``decoder`` the FFmpeg decoder
that reads it (``libdav1d``).
"""

from __future__ import annotations

import argparse
import json

from annotator.video.base import open_video


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="a video file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--no-index", action="store_true", help="do not wait for the packet index (estimates)"
    )


def run(args: argparse.Namespace) -> int:
    with open_video(
        args.video, cache_frames=1, decode_ahead=0, build_index=not args.no_index
    ) as reader:
        if not args.no_index:
            reader.wait_for_index()
        info = reader.info()
    info["decoder"] = info["codec"]
    info["codec"] = codec_name(str(info["codec"]))
    if args.json:
        print(json.dumps(info))
    else:
        print(summary(info))
    return 0


def codec_name(decoder: str) -> str:
    """The codec a decoder reads: ``av1`` for ``libdav1d``, ``vp9`` for ``libvpx-vp9``; the
    native decoders are named after their codec (``h264``)."""
    import av

    try:
        return str(av.codec.Codec(decoder, "r").canonical_name)
    except (ValueError, av.FFmpegError):  # not a decoder this FFmpeg knows: keep the name
        return decoder


def summary(info: dict[str, object]) -> str:
    """A few readable lines for people."""
    keys = info["key_frames"]
    if isinstance(keys, list):
        shown = ", ".join(str(k) for k in keys[:12]) + (" ..." if len(keys) > 12 else "")
        key_text = f"{len(keys)} ({shown}); longest GOP {info.get('max_gop')} frames"
    else:
        key_text = "not indexed yet"
    exact = "" if info.get("frame_count_exact") else " (estimate)"
    vfr = "variable" if info["variable_frame_rate"] else "constant"
    lines = [
        f"path:        {info['path']}",
        f"codec:       {info['codec']} in {info.get('container', '?')}",
        f"size:        {info['width']} x {info['height']} (rotation {info['rotation']} degrees)",
        f"frames:      {info['frame_count']}{exact}",
        f"frame rate:  {float(info['fps']):.3f} fps ({vfr})",  # type: ignore[arg-type]
        f"duration:    {float(info['duration']):.3f} s",  # type: ignore[arg-type]
        f"key frames:  {key_text}",
        f"motion vectors: {'yes' if info['has_motion_vectors'] else 'no'}",
    ]
    if info.get("suggest_proxy"):
        lines.append("seeking is slow (key frames far apart): `annotator proxy` makes a fast copy")
    return "\n".join(lines)
