"""Frame images for self-contained exports (COCO with images, DeepLabCut labeled-data).

A frame source is anything with ``frame(index) -> RGB uint8 (H, W, 3)``: the app's video
reader (opened by the caller), or a synthetic one in tests. OpenCV is imported only when an image is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, cast

import numpy as np
from numpy.typing import NDArray

from annotator.errors import AnnotatorError, FormatError

IMAGE_TYPES = ("jpg", "png")


class FrameSource(Protocol):
    def frame(self, index: int) -> NDArray[np.uint8]: ...


def frame_source(video: object) -> FrameSource:
    """``video``, checked to read frames. The caller opens (and closes) it: formats never open
    a video themselves, so they do not depend on the video package."""
    if video is None:
        raise FormatError("writing frame images needs the video; none was given")
    if not callable(getattr(video, "frame", None)):
        raise FormatError("the video given for frame images cannot read frames")
    return cast(FrameSource, video)


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
    ok, data = cv2.imencode(f".{kind}", bgr, params)
    if not ok:
        raise FormatError(f"cannot encode the image {path.name}")
    try:
        path.write_bytes(data.tobytes())  # inside the export's temporary folder, fsynced later
    except OSError as err:
        raise FormatError(f"cannot write the image {path.name}: {err.strerror}") from None


def read_frame(source: FrameSource, index: int) -> NDArray[np.uint8]:
    """Frame ``index``, exactly: a reader that substituted a neighbour for a damaged frame
    (its ``frame_problems``) gives an error, never another frame's picture."""
    try:
        rgb = np.asarray(source.frame(int(index)), dtype=np.uint8)
    except AnnotatorError:
        raise
    except Exception as err:
        raise FormatError(f"cannot read frame {index} of the video: {err}") from None
    problems = getattr(source, "frame_problems", None)
    if isinstance(problems, dict) and int(index) in problems:
        raise FormatError(
            f"frame {index} of the video cannot be decoded exactly (damaged data); "
            "no image was written for another frame"
        )
    return rgb
