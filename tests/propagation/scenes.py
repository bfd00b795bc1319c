"""Small generated videos whose motion is known exactly, for the propagation tests.

A textured square translating at a constant integer velocity over a static textured background
(``annotator.synth.motion``), and a textured disc turning about its centre by a fixed angle
per frame (rendered by resampling the disc, so the truth is the rotation of each point).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from annotator.synth.motion import MovingObject, Scene, encode, texture

FRAMES = 31
CODECS: dict[str, dict[str, Any]] = {
    "h264": {"codec": "libx264", "options": {"crf": "18"}},
    "mpeg4": {"codec": "mpeg4", "gop": 12, "bit_rate": 4_000_000},
    # no motion vectors FFmpeg exports (HEVC where PyAV's FFmpeg has no VP9 encoder)
    "novectors": {"codec": "libvpx-vp9" if "libvpx-vp9" in av.codecs_available else "libx265"},
}

TRANSLATION = Scene(
    frames=FRAMES,
    objects=(MovingObject(start=(40, 40), velocity=(3, 1), size=(96, 80), seed=2),),
)


def translation_truth(points: NDArray[np.float64], t: int) -> NDArray[np.float64]:
    """Where points of the square at frame 0 are at frame t."""
    v = np.asarray(TRANSLATION.objects[0].velocity, dtype=np.float64)
    return np.asarray(points + v * t, dtype=np.float64)


def encode_translation(path: Path, codec: str) -> Path:
    spec = CODECS[codec]
    return encode(
        TRANSLATION,
        path,
        spec["codec"],
        options=spec.get("options"),
        gop=spec.get("gop"),
        bit_rate=spec.get("bit_rate"),
    )


CENTRE = (128.0, 96.0)
DISC = 80  # radius, px
DEGREES_PER_FRAME = 1.5


def rotation_truth(points: NDArray[np.float64], t: int) -> NDArray[np.float64]:
    """Where points of the disc at frame 0 are at frame t (clockwise on screen, y down)."""
    a = np.deg2rad(DEGREES_PER_FRAME * t)
    c, s = np.cos(a), np.sin(a)
    d = points - np.asarray(CENTRE)
    return np.asarray(
        np.stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]], axis=1) + CENTRE,
        dtype=np.float64,
    )


def encode_rotation(path: Path, codec: str) -> Path:
    spec = CODECS[codec]
    height, width = 192, 256
    background = texture(height, width, seed=1)
    disc = texture(height, width, seed=5, blob=6)
    yy, xx = np.mgrid[0:height, 0:width]
    inside = (xx - CENTRE[0]) ** 2 + (yy - CENTRE[1]) ** 2 <= DISC**2
    with av.open(str(path), "w") as container:
        stream: Any = container.add_stream(spec["codec"], rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if "gop" in spec:
            stream.codec_context.gop_size = spec["gop"]
        if "bit_rate" in spec:
            stream.codec_context.bit_rate = spec["bit_rate"]
        if "options" in spec:
            stream.options = dict(spec["options"])
        for t in range(FRAMES):
            # OpenCV's positive angle turns counter-clockwise on screen: negate for clockwise
            m = cv2.getRotationMatrix2D(CENTRE, -DEGREES_PER_FRAME * t, 1.0)
            turned = cv2.warpAffine(disc, m, (width, height), flags=cv2.INTER_CUBIC)
            grey = np.where(inside, turned, background).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(np.repeat(grey[:, :, None], 3, axis=2), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def labels_at(
    truth: Any, points: NDArray[np.float64], frames: list[int], total: int = FRAMES
) -> NDArray[np.float64]:
    """Manual labels (total, P, 3): ``truth(points, t)`` visible on ``frames``, unlabelled
    elsewhere."""
    man = np.full((total, len(points), 3), np.nan)
    man[:, :, 2] = 0
    for t in frames:
        man[t, :, :2] = truth(points, t)
        man[t, :, 2] = 1
    return man
