"""Open a file with PyAV and turn every way it can fail into a ``VideoError`` a user understands.

Kept apart from the reader so the checks (missing path, not a video, audio only, unsupported
codec, truncated file) read as one list and are tested one by one.
"""

from __future__ import annotations

from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from annotator.core.safeio import regular_file
from annotator.errors import VideoError

# Codecs whose decoders export motion vectors (``flags2=+export_mvs``): block-based,
# inter-predicted MPEG-family codecs. HEVC, VP9, AV1 and intra-only codecs do not.
MOTION_VECTOR_CODECS = frozenset(
    {"h264", "mpeg4", "mpeg2video", "mpeg1video", "h263", "h263p", "msmpeg4v2", "msmpeg4v3"}
)


# 8K UHD (7680x4320) and a little more; one such RGB frame is about 100 MB.
MAX_PIXELS = 36_000_000
MAX_SIDE = 16_384


def check_path(path: str | Path) -> Path:
    """The path as a ``Path`` if it names a readable regular file, else ``VideoError``."""
    path = Path(path).expanduser()
    if not path.exists():
        raise VideoError(f"video not found: {path}")
    if path.is_dir():
        raise VideoError(f"{path} is a folder, not a video file")
    if regular_file(path, VideoError) == 0:  # a FIFO or device would block or never end
        raise VideoError(f"{path} is empty (0 bytes)")
    return path


def open_container(path: Path) -> InputContainer:
    """Open ``path`` for reading; a file that is not a media file gives ``VideoError``."""
    try:
        return av.open(str(path), mode="r")
    except av.error.EOFError as err:
        raise VideoError(
            f"{path.name} ends before any video data (no frames, or truncated)"
        ) from err
    except PermissionError as err:
        raise VideoError(f"cannot read {path}: permission denied") from err
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as err:
        raise VideoError(
            f"{path.name} is not a video file that can be read, or it is truncated or corrupt"
        ) from err


def video_stream(container: InputContainer, path: Path) -> VideoStream:
    """The first video stream, with a decoder this build has; else ``VideoError``."""
    streams = [s for s in container.streams.video if not _is_cover_art(s)]
    if not streams:
        kinds = sorted({s.type for s in container.streams})
        what = "audio only" if kinds == ["audio"] else f"streams: {', '.join(kinds) or 'none'}"
        raise VideoError(f"{path.name} has no video stream ({what})")
    stream = streams[0]
    try:
        name = stream.codec_context.name
    except (av.error.FFmpegError, AttributeError) as err:
        raise VideoError(f"{path.name} uses a video codec this program cannot decode") from err
    if not name or name == "none":
        raise VideoError(f"{path.name} uses a video codec this program cannot decode")
    width, height = stream.codec_context.width, stream.codec_context.height
    if not width or not height:
        raise VideoError(f"{path.name}: the video stream has no picture size (corrupt header?)")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise VideoError(
            f"{path.name}: {width}x{height} pictures are larger than this program decodes "
            f"(at most {MAX_PIXELS:,} pixels, {MAX_SIDE} a side)"
        )
    return stream


def _is_cover_art(stream: VideoStream) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def has_motion_vectors(codec: str) -> bool:
    return codec in MOTION_VECTOR_CODECS


def uses_counted_order(container: InputContainer) -> bool:
    """True for containers whose timestamps do not follow display order (AVI).

    AVI stores no presentation times; with packed B-frames the decoder's frame times come out
    permuted, so frames there are identified by counting from a key frame instead.
    """
    return "avi" in container.format.name.split(",")
