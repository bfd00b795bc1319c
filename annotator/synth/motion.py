"""Synthetic videos with exact motion, for the motion-field tests and accuracy figures.

Two textured rectangles move at constant integer velocities in opposite directions over a
static textured background; optionally a third textured patch appears from nothing at a given
frame (new content: intra blocks, large residual). Frames are rendered exactly (integer shifts,
no resampling) and encoded with PyAV, so the true displacement of every cell is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from numpy.typing import NDArray

Rect = tuple[int, int, int, int]
"""x, y, width, height in px."""


def texture(height: int, width: int, seed: int, blob: int = 4) -> NDArray[np.uint8]:
    """Random smooth texture: uniform noise on a coarse grid, cubic-upsampled."""
    coarse = np.random.default_rng(seed).uniform(0, 255, (height // blob + 3, width // blob + 3))
    fine = cv2.resize(
        coarse.astype(np.float32),
        ((width // blob + 3) * blob, (height // blob + 3) * blob),
        interpolation=cv2.INTER_CUBIC,
    )
    return np.clip(fine[:height, :width], 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class MovingObject:
    start: tuple[int, int]
    velocity: tuple[int, int]
    size: tuple[int, int]
    seed: int

    def rect(self, t: int) -> Rect:
        return (
            self.start[0] + self.velocity[0] * t,
            self.start[1] + self.velocity[1] * t,
            self.size[0],
            self.size[1],
        )


@dataclass(frozen=True)
class Scene:
    """The scene's geometry; :meth:`render` draws frame t (grey, uint8)."""

    width: int = 256
    height: int = 192
    frames: int = 36
    objects: tuple[MovingObject, ...] = (
        MovingObject(start=(8, 16), velocity=(3, 1), size=(64, 48), seed=2),
        MovingObject(start=(184, 140), velocity=(-3, -1), size=(64, 48), seed=3),
    )
    appear_at: int | None = None
    appear_rect: Rect = (200, 16, 48, 48)
    seed: int = 1

    def render(self, t: int) -> NDArray[np.uint8]:
        frame: NDArray[np.uint8] = texture(self.height, self.width, self.seed).copy()
        for obj in self.objects:
            x, y, w, h = obj.rect(t)
            _paste(frame, texture(h, w, obj.seed), x, y)
        if self.appear_at is not None and t >= self.appear_at:
            x, y, w, h = self.appear_rect
            _paste(frame, texture(h, w, self.seed + 100, blob=3), x, y)
        return frame

    def cells_inside(self, rect: Rect, cell: int, margin: int = 0) -> NDArray[np.bool_]:
        """Cells lying entirely inside ``rect`` shrunk by ``margin`` px."""
        x, y, w, h = rect
        gh, gw = -(-self.height // cell), -(-self.width // cell)
        cols = np.arange(gw) * cell
        rows = np.arange(gh) * cell
        in_x = (cols >= x + margin) & (cols + cell <= x + w - margin) & (cols + cell <= self.width)
        in_y = (rows >= y + margin) & (rows + cell <= y + h - margin) & (rows + cell <= self.height)
        mask: NDArray[np.bool_] = in_y[:, None] & in_x[None, :]
        return mask

    def background_cells(self, t: int, cell: int, margin: int = 16) -> NDArray[np.bool_]:
        """Static background cells at least ``margin`` px from anything that moves or appears."""
        gh, gw = -(-self.height // cell), -(-self.width // cell)
        near = np.zeros((gh, gw), dtype=bool)
        rects = [obj.rect(s) for obj in self.objects for s in (t - 1, t)]
        if self.appear_at is not None:
            rects.append(self.appear_rect)
        for x, y, w, h in rects:
            grown = (x - margin, y - margin, w + 2 * margin, h + 2 * margin)
            near |= self._touching(grown, cell)
        return ~near

    def _touching(self, rect: Rect, cell: int) -> NDArray[np.bool_]:
        x, y, w, h = rect
        gh, gw = -(-self.height // cell), -(-self.width // cell)
        cols = np.arange(gw) * cell
        rows = np.arange(gh) * cell
        in_x = (cols + cell > x) & (cols < x + w)
        in_y = (rows + cell > y) & (rows < y + h)
        mask: NDArray[np.bool_] = in_y[:, None] & in_x[None, :]
        return mask


def _paste(frame: NDArray[np.uint8], patch: NDArray[np.uint8], x: int, y: int) -> None:
    height, width = frame.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + patch.shape[1], width), min(y + patch.shape[0], height)
    if x1 > x0 and y1 > y0:
        frame[y0:y1, x0:x1] = patch[y0 - y : y1 - y, x0 - x : x1 - x]


def encode(
    scene: Scene,
    path: Path,
    codec: str,
    *,
    options: Mapping[str, str] | None = None,
    gop: int | None = None,
    max_b_frames: int | None = None,
    bit_rate: int | None = None,
    fps: int = 25,
    display_rotation: int | None = None,
) -> Path:
    """Render ``scene`` and encode it to ``path`` with PyAV's ``codec`` (yuv420p).

    ``display_rotation``: a rotation tag (display matrix, PyAV's counter-clockwise degrees:
    -90 is what a phone writes as "rotate=90"); the coded pixels stay as rendered.
    """
    with av.open(str(path), "w") as container:
        stream: Any = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = scene.width, scene.height, "yuv420p"
        if gop is not None:
            stream.codec_context.gop_size = gop
        if max_b_frames is not None:
            stream.codec_context.max_b_frames = max_b_frames
        if bit_rate is not None:
            stream.codec_context.bit_rate = bit_rate
        if options:
            stream.options = dict(options)
        if display_rotation is not None:
            stream.set_display_rotation(display_rotation)
        for t in range(scene.frames):
            grey = scene.render(t)
            frame = av.VideoFrame.from_ndarray(np.repeat(grey[:, :, None], 3, axis=2), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


X264_PYRAMID = {"x264-params": "ref=3:bframes=3:b-pyramid=normal:b-adapt=0:keyint=24:scenecut=0"}
"""x264 with 3 references and B-frames in a pyramid (fixed pattern so tests see every case)."""
