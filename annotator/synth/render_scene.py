"""Everything around the rendered person: backgrounds, camera motion, light, occluders, blur.

Backgrounds are procedural (rooms with textured walls and floors, outdoor gradients with
blobs, coloured multi-scale noise) or, when given, frames of real videos. Each is drawn on a
canvas twice the frame size so the camera can pan and zoom over it; the camera is a per-frame
zoom + translation applied to the canvas and to the joints alike, so the ground truth moves
exactly with the picture. A video is split into "shots" at the occasional scene cut; a cut
changes the background, the camera framing and the light.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]


def smooth_noise(rng: np.random.Generator, frames: int, cycles: float) -> NDArray[np.float64]:
    """A smooth zero-mean curve in about [-1, 1]: three sines with random periods and phases."""
    t = np.arange(frames, dtype=np.float64)
    out = np.zeros(frames)
    for _ in range(3):
        freq = rng.uniform(0.2, 1.0) * cycles / max(frames, 1)
        out += np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    return out / 3.0


def value_noise(rng: np.random.Generator, h: int, w: int, octaves: int = 5) -> FloatArray:
    """Multi-scale noise in [0, 1] (bilinear-upsampled random grids)."""
    out = np.zeros((h, w), np.float32)
    total = 0.0
    for k in range(octaves):
        cells = 2 ** (k + 2)
        grid = rng.random((cells * h // max(h, w) + 2, cells * w // max(h, w) + 2))
        amp = 0.55**k
        out += amp * cv2.resize(grid.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
    out /= total
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def _random_colour(rng: np.random.Generator, lo: float = 30, hi: float = 230) -> FloatArray:
    return rng.uniform(lo, hi, 3).astype(np.float32)


def _tint(noise: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    return (a[None, None, :] * (1 - noise[..., None]) + b[None, None, :] * noise[..., None]).astype(
        np.float32
    )


def _room(rng: np.random.Generator, h: int, w: int) -> FloatArray:
    horizon = int(h * rng.uniform(0.45, 0.7))
    wall = _tint(value_noise(rng, h, w), _random_colour(rng, 80, 230), _random_colour(rng))
    kind = rng.integers(3)
    if kind == 0:  # bricks or tiles
        bh, bw = int(rng.integers(8, 24)), int(rng.integers(20, 60))
        mortar = _random_colour(rng, 150, 230)
        for row, y in enumerate(range(0, horizon, bh)):
            cv2.line(wall, (0, y), (w, y), mortar.tolist(), 2)
            for x in range((row % 2) * bw // 2, w, bw):
                cv2.line(wall, (x, y), (x, y + bh), mortar.tolist(), 2)
    elif kind == 1:  # wallpaper stripes
        period = int(rng.integers(10, 40))
        stripe = _random_colour(rng)
        for x in range(0, w, period):
            cv2.rectangle(wall, (x, 0), (x + period // 3, horizon), stripe.tolist(), -1)
    for _ in range(int(rng.integers(1, 5))):  # windows, posters, doors
        x, y = int(rng.integers(0, w)), int(rng.integers(0, max(horizon - 20, 1)))
        ww, hh = int(rng.integers(w // 20, w // 5)), int(rng.integers(h // 12, h // 3))
        cv2.rectangle(wall, (x, y), (x + ww, y + hh), _random_colour(rng).tolist(), -1)
        cv2.rectangle(wall, (x, y), (x + ww, y + hh), _random_colour(rng, 0, 80).tolist(), 3)
    floor = _tint(value_noise(rng, h - horizon, w), _random_colour(rng), _random_colour(rng))
    # Floor boards converging to a vanishing point give depth cues like a real floor.
    vx = int(rng.uniform(0.2, 0.8) * w)
    line = _random_colour(rng, 0, 120).tolist()
    for x in range(-w, 2 * w, int(rng.integers(30, 90))):
        cv2.line(floor, (vx + (x - vx) // 6, 0), (x, h - horizon), line, 1)
    wall[horizon:] = floor
    return wall


def _outdoor(rng: np.random.Generator, h: int, w: int) -> FloatArray:
    horizon = int(h * rng.uniform(0.3, 0.6))
    img = np.zeros((h, w, 3), np.float32)
    top, bottom = _random_colour(rng, 120, 250), _random_colour(rng, 150, 255)
    ramp = np.linspace(0, 1, horizon, dtype=np.float32)[:, None, None]
    img[:horizon] = top * (1 - ramp) + bottom * ramp
    ground = _tint(value_noise(rng, h - horizon, w, 6), _random_colour(rng), _random_colour(rng))
    img[horizon:] = ground
    for _ in range(int(rng.integers(3, 12))):  # trees, bushes, buildings
        cx, cy = int(rng.integers(0, w)), horizon + int(rng.integers(-h // 10, h // 20))
        axes = (int(rng.integers(w // 40, w // 8)), int(rng.integers(h // 20, h // 5)))
        cv2.ellipse(img, (cx, cy), axes, 0, 0, 360, _random_colour(rng, 10, 150).tolist(), -1)
    grain = value_noise(rng, h, w, 7)[..., None]
    return (img * (0.8 + 0.4 * grain)).astype(np.float32)


def _noise(rng: np.random.Generator, h: int, w: int) -> FloatArray:
    layers = [value_noise(rng, h, w, 6) for _ in range(3)]
    base = np.stack(layers, axis=-1) * 200 + 25
    return base.astype(np.float32)


def make_background(
    rng: np.random.Generator, h: int, w: int, real_frames: list[NDArray[np.uint8]]
) -> FloatArray:
    """One RGB float canvas of ``h`` x ``w``; real frames are used a fifth of the time."""
    if real_frames and rng.random() < 0.2:
        frame = real_frames[int(rng.integers(len(real_frames)))]
        if rng.random() < 0.5:
            frame = frame[:, ::-1]
        return cv2.resize(frame, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    kind = int(rng.integers(3))
    maker = (_room, _outdoor, _noise)[kind]
    img = maker(rng, h, w)
    return np.asarray(cv2.GaussianBlur(img, (0, 0), 0.7), dtype=np.float32)


@dataclass(frozen=True)
class Camera:
    """Per-frame zoom ``scale`` about the frame centre and a translation, in frame pixels."""

    scale: NDArray[np.float64]  # (F,)
    shift: NDArray[np.float64]  # (F, 2)
    centre: tuple[float, float]

    def apply(self, frame: int, xy: NDArray[np.float64]) -> NDArray[np.float64]:
        """Label coordinates -> rendered frame coordinates."""
        c = np.asarray(self.centre)
        return np.asarray(self.scale[frame] * (xy - c) + c + self.shift[frame], dtype=np.float64)

    def canvas_matrix(self, frame: int, offset: tuple[float, float]) -> NDArray[np.float64]:
        """2x3 affine taking canvas pixels (labels shifted by ``offset``) to frame pixels."""
        s = float(self.scale[frame])
        cx, cy = self.centre
        tx = -s * offset[0] + (1 - s) * cx + float(self.shift[frame, 0])
        ty = -s * offset[1] + (1 - s) * cy + float(self.shift[frame, 1])
        return np.array([[s, 0.0, tx], [0.0, s, ty]])


def random_camera(rng: np.random.Generator, frames: int, w: int, h: int) -> Camera:
    """Static (30%), gentle (50%) or strong (20%) pan and zoom, plus a little hand shake."""
    style = rng.choice(3, p=[0.3, 0.5, 0.2])
    pan, zoom = ((0.0, 0.0), (0.05, 0.08), (0.15, 0.2))[int(style)]
    cycles = rng.uniform(0.5, 2.0)
    scale = np.exp(zoom * smooth_noise(rng, frames, cycles))
    shift = np.stack(
        [pan * w * smooth_noise(rng, frames, cycles), pan * h * smooth_noise(rng, frames, cycles)],
        axis=1,
    )
    if style > 0:
        shift += rng.normal(0, rng.uniform(0.2, 1.0), (frames, 2))
    return Camera(scale, shift, (w / 2.0, h / 2.0))


@dataclass(frozen=True)
class Occluder:
    """A textured shape moving across the frame in front of the person."""

    texture: FloatArray  # (h, w, 3)
    mask: FloatArray  # (h, w) in [0, 1]
    start: int  # first frame it moves
    path: NDArray[np.float64]  # (2, 2): top-left position at start and after ``duration``
    duration: int

    def position(self, frame: int) -> NDArray[np.float64]:
        t = (frame - self.start) / max(self.duration, 1)
        return np.asarray(self.path[0] + t * (self.path[1] - self.path[0]), dtype=np.float64)


def random_occluders(
    rng: np.random.Generator, frames: int, w: int, h: int, target: NDArray[np.float64]
) -> list[Occluder]:
    """0-2 occluders (poles, boards, blobs) whose paths cross ``target`` (the person's centre)."""
    out: list[Occluder] = []
    for _ in range(int(rng.choice(3, p=[0.35, 0.45, 0.2]))):
        kind = int(rng.integers(3))
        if kind == 0:  # a pole or a passer-by's leg: tall and thin
            ow, oh = int(w * rng.uniform(0.04, 0.1)), int(h * rng.uniform(0.8, 1.3))
        elif kind == 1:  # a board or sign
            ow, oh = int(w * rng.uniform(0.1, 0.25)), int(h * rng.uniform(0.15, 0.4))
        else:  # a round object (ball, balloon, foliage)
            ow = oh = int(min(w, h) * rng.uniform(0.1, 0.3))
        ow, oh = max(ow, 4), max(oh, 4)
        noise = value_noise(rng, oh, ow, 4)
        texture = _tint(noise, _random_colour(rng, 0, 200), _random_colour(rng, 0, 255))
        mask = np.zeros((oh, ow), np.float32)
        if kind == 2:
            cv2.ellipse(mask, (ow // 2, oh // 2), (ow // 2 - 1, oh // 2 - 1), 0, 0, 360, 1.0, -1)
        else:
            mask[:] = 1.0
        direction = 1 if rng.random() < 0.5 else -1
        y = float(target[1] - oh / 2 + rng.uniform(-0.3, 0.3) * h)
        x_start = -ow - 2.0 if direction > 0 else w + 2.0
        x_end = w + 2.0 if direction > 0 else -ow - 2.0
        duration = int(rng.integers(20, 70))
        start = int(rng.integers(-duration // 2, max(frames - duration // 2, 1)))
        path = np.array([[x_start, y], [x_end, y + rng.uniform(-0.1, 0.1) * h]])
        out.append(Occluder(texture, mask, start, path, duration))
    return out


def paste_occluder(frame: FloatArray, cover: FloatArray, occ: Occluder, index: int) -> None:
    """Draw ``occ`` at its position on ``index`` into ``frame``; add its coverage to ``cover``."""
    if not occ.start <= index <= occ.start + occ.duration:
        return
    x, y = (round(float(v)) for v in occ.position(index))
    h, w = cover.shape
    oh, ow = occ.mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + ow, w), min(y + oh, h)
    if x0 >= x1 or y0 >= y1:
        return
    m = occ.mask[y0 - y : y1 - y, x0 - x : x1 - x]
    tex = occ.texture[y0 - y : y1 - y, x0 - x : x1 - x]
    roi = frame[y0:y1, x0:x1]
    roi[...] = tex * m[..., None] + roi * (1 - m[..., None])
    cover[y0:y1, x0:x1] = np.maximum(cover[y0:y1, x0:x1], m)


def line_blur(img: FloatArray, velocity: NDArray[np.float64], exposure: float) -> FloatArray:
    """Blur along ``velocity`` (pixels per frame) over ``exposure`` of a frame interval."""
    length = float(np.linalg.norm(velocity)) * exposure
    if length < 1.5:
        return img
    n = int(min(np.ceil(length), 25)) | 1
    kernel = np.zeros((n, n), np.float32)
    c = n // 2
    dx, dy = velocity / max(float(np.linalg.norm(velocity)), 1e-6) * c
    cv2.line(
        kernel,
        (round(c - dx), round(c - dy)),
        (round(c + dx), round(c + dy)),
        1.0,
        1,
    )
    kernel /= max(float(kernel.sum()), 1e-6)
    blurred = cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT)
    return np.asarray(blurred, dtype=np.float32)
