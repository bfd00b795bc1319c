"""Frame images for self-contained exports (COCO with images, DeepLabCut labeled-data).

A frame source is anything with ``frame(index) -> RGB uint8 (H, W, 3)``: the app's video
reader, or a synthetic one in tests. OpenCV is imported only when an image is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from annotator.core.poseset import PoseSet
from annotator.errors import AnnotatorError, FormatError

IMAGE_TYPES = ("jpg", "png")


class FrameSource(Protocol):
    def frame(self, index: int) -> NDArray[np.uint8]: ...


@contextlib.contextmanager
def frame_source(ps: PoseSet, video: Any = None) -> Iterator[FrameSource]:
    """``video`` when given, else the PoseSet's own video opened with the app's reader (and
    closed again on leaving)."""
    if video is not None:
        if not callable(getattr(video, "frame", None)):
            raise FormatError("the video given for frame images cannot read frames")
        yield video
        return
    if not ps.video_path:
        raise FormatError("writing frame images needs the video, and the labels name none")
    from annotator.video import open_video

    try:
        opened = open_video(ps.video_path)
    except AnnotatorError:
        raise
    except Exception as err:
        raise FormatError(f"cannot open the video {ps.video_path}: {err}") from None
    try:
        yield opened
    finally:
        opened.close()


def write_image(path: Path, rgb: NDArray[np.uint8], kind: str) -> None:
    """Write one RGB frame as JPEG or PNG."""
    import cv2

    if kind not in IMAGE_TYPES:
        raise FormatError(f"image type must be one of {', '.join(IMAGE_TYPES)}, not {kind!r}")
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise FormatError(
            f"a video frame has shape {arr.shape} {arr.dtype}, expected (H, W, 3) uint8"
        )
    bgr = np.ascontiguousarray(arr[:, :, ::-1])
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if kind == "jpg" else []
    if not cv2.imwrite(str(path), bgr, params):
        raise FormatError(f"cannot write the image {path.name}")


def read_frame(source: FrameSource, index: int) -> NDArray[np.uint8]:
    try:
        return np.asarray(source.frame(int(index)), dtype=np.uint8)
    except AnnotatorError:
        raise
    except Exception as err:
        raise FormatError(f"cannot read frame {index} of the video: {err}") from None
