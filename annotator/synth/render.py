"""Render real human motion labels (Penn Action) into videos with exact per-frame ground truth.

A label sequence drives a person-like figure (``render_body``) placed in a scene with a moving
camera, changing light, motion blur, occluders and the occasional cut (``render_scene``); the
frames are encoded like real footage (``render_encode``). Beside each ``NAME.mp4`` goes
``NAME.npz`` in the contract's fill layout, which the app imports:

- ``poses`` float32 (F, 13, 3): x, y in the rendered frame's pixels and the visibility code.
  ``visible`` (1): the labels say visible, the joint's own body part is on top at its pixel and
  no occluder covers it. ``occluded`` (2): in the frame but not seen (behind the body or an
  occluder, or not visible in the labels). ``absent`` (3, x and y NaN): outside the frame after
  the camera moved, or a joint Penn Action marks as not in the picture (see
  :func:`present_joints`).
- ``source`` int8 (F, 13): all ``manual``; ``source_names``: the source enum's names.
- ``boxes`` float32 (1, F, 4): the labels' person box (x1, y1, x2, y2) moved by the camera and
  clipped to the frame (the contract's body size is its longer side).
- ``track_ids`` ([0]), ``joint_names``, ``skeleton_json`` (Penn Action), ``video_path`` (the
  video's file name): what the ``npz`` import adaptor reads.
- ``scene_cuts`` int64: first frames of new shots (pass them to the fill as scene cuts).
- ``fps``, ``width``, ``height``, ``timestamps``, ``label_file``, ``seed`` and ``encoding``
  (JSON) describe how the video was made.

Output is deterministic for a seed: the same labels and seed give the same bytes. Whole sets
(split, manifest, real-video backgrounds) are in ``render_set``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import SOURCE_NAMES, Source, Visibility
from annotator.core.datasets import PennSequence, load_penn_action
from annotator.core.skeleton import PENN_ACTION
from annotator.errors import UsageError
from annotator.synth.render_body import (
    Outfit,
    draw_figure,
    joint_seen,
    new_layer,
    random_outfit,
)
from annotator.synth.render_encode import Encoding, choose_encoding, encode_video
from annotator.synth.render_scene import (
    Camera,
    Occluder,
    line_blur,
    make_background,
    paste_occluder,
    random_camera,
    random_occluders,
    smooth_noise,
    value_noise,
)

FPS = 30.0  # Penn Action was filmed at about 30 fps
VERSION = 3  # bump when the pictures change, so cached sets are rendered again


@dataclass
class RenderedFrame:
    """One rendered frame with its ground truth (frame pixels)."""

    rgb: NDArray[np.uint8]  # (H, W, 3)
    poses: NDArray[np.float32]  # (13, 3) x, y, visibility code
    box: NDArray[np.float32]  # (4,)
    body: NDArray[np.bool_] | None  # (H, W) pixels of the figure, when asked for
    new_shot: bool = False  # True on the first frame after a scene cut
    occluder: NDArray[np.float32] | None = None  # (H, W) occluders' coverage, with ``body``


@dataclass(frozen=True)
class RenderedVideo:
    """Paths of one rendered video and its ground truth."""

    name: str
    video: Path
    labels: Path
    frame_count: int
    encoding: Encoding


def sequence_rng(seq_name: str, seed: int) -> np.random.Generator:
    """The random stream of one label file under one seed (independent of render order)."""
    return np.random.default_rng([seed, zlib.crc32(seq_name.encode())])


def present_joints(seq: PennSequence) -> NDArray[np.bool_]:
    """(F, 13) False where Penn Action marks a joint as not in the picture: not visible and
    placed at (1, 1) (about 8% of joints, e.g. legs in upper-body shots)."""
    at_corner = (seq.xy[..., 0] <= 1.0) & (seq.xy[..., 1] <= 1.0)
    return np.asarray(~(at_corner & ~seq.visible), dtype=np.bool_)


def _body_scale(seq: PennSequence, present: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Per-frame torso length in label pixels, steadied so limb widths do not flicker."""
    xy = np.where(present[..., None], seq.xy, np.nan)
    torso = np.linalg.norm((xy[:, 1] + xy[:, 2]) / 2 - (xy[:, 7] + xy[:, 8]) / 2, axis=1)
    box = seq.bbox
    long_side = np.nanmax(np.stack([box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]]), axis=0)
    long_side = np.where(np.isfinite(long_side), long_side, 0.0)
    # Shoulder breadth bounds it from below for close-ups whose hips are out of the picture.
    shoulders = np.nan_to_num(np.linalg.norm(xy[:, 1] - xy[:, 2], axis=1), nan=0.0)
    raw = np.fmax(np.nan_to_num(torso, nan=0.0), np.fmax(0.25 * long_side, 1.1 * shoulders))
    typical = float(np.median(raw)) if raw.size else 20.0
    typical = max(typical, 8.0)
    kernel = np.ones(9) / 9
    smooth = np.convolve(np.pad(raw, 4, mode="edge"), kernel, mode="valid")
    return np.clip(smooth, 0.75 * typical, 1.3 * typical)


class _Shot:
    """A stretch of frames between cuts: one background canvas and one light setting."""

    def __init__(self, rng: np.random.Generator, w: int, h: int, real: list[NDArray[np.uint8]]):
        self.canvas = make_background(rng, 2 * h, 2 * w, real)
        self.offset = (w / 2.0, h / 2.0)
        self.tint = rng.uniform(0.9, 1.1, 3).astype(np.float32)
        self.gain = float(rng.uniform(0.8, 1.15))


@dataclass
class _Plan:
    """Everything drawn at random for one video before its first frame is rendered."""

    width: int
    height: int
    frames: int
    outfit: Outfit
    tile: NDArray[np.float32]  # fabric noise
    camera: Camera
    cut: int  # first frame of the second shot (``frames`` when there is no cut)
    shots: list[_Shot]
    occluders: list[Occluder]
    gain: NDArray[np.float64]  # per-frame brightness
    exposure: float  # share of a frame interval the shutter is open (motion blur length)
    sigma: float  # sensor noise
    grain: NDArray[np.float32]  # four noise frames, cycled


def _plan(
    seq: PennSequence, rng: np.random.Generator, real: list[NDArray[np.uint8]], frames: int
) -> _Plan:
    w, h = seq.width - seq.width % 2, seq.height - seq.height % 2
    outfit = random_outfit(rng)
    tile = value_noise(rng, 32, 32, 3)
    camera = random_camera(rng, frames, w, h)
    cut = int(rng.integers(frames * 3 // 10, frames * 7 // 10)) if frames >= 40 else frames
    if rng.random() >= 0.2:
        cut = frames
    shots = [_Shot(rng, w, h, real)]
    if cut < frames:
        shots.append(_Shot(rng, w, h, real))
        # A cut reframes the shot: new zoom and position, the person still in view.
        scale = camera.scale.copy()
        shift = camera.shift.copy()
        scale[cut:] *= rng.uniform(0.85, 1.2)
        shift[cut:] += rng.uniform(-0.1, 0.1, 2) * (w, h)
        camera = Camera(scale, shift, camera.centre)
    placed = seq.xy[:frames][present_joints(seq)[:frames]]
    centre = placed.mean(axis=0) if len(placed) else np.array([w / 2.0, h / 2.0])
    occluders = random_occluders(rng, frames, w, h, camera.apply(0, centre))
    gain = 1.0 + 0.12 * smooth_noise(rng, frames, rng.uniform(0.5, 2))
    if rng.random() < 0.25:  # a light switched or a cloud: a step in brightness
        step_at = int(rng.integers(0, frames))
        gain[step_at:] *= rng.uniform(0.75, 1.25)
    exposure = float(rng.uniform(0.3, 1.0))
    sigma = float(rng.uniform(1.0, 4.0))
    grain = rng.normal(0, 1, (4, h, w, 1)).astype(np.float32)
    return _Plan(
        w, h, frames, outfit, tile, camera, cut, shots, occluders, gain, exposure, sigma, grain
    )


def render_frames(
    seq: PennSequence,
    seed: int,
    real_frames: Sequence[NDArray[np.uint8]] = (),
    max_frames: int | None = None,
    keep_body: bool = False,
) -> Iterator[RenderedFrame]:
    """Render ``seq`` frame by frame (even frame size: an odd last row/column is dropped).

    ``keep_body``: also return the figure's pixels and the occluders' coverage (for checks).
    """
    if min(seq.width, seq.height) < 16:
        raise UsageError(f"{seq.name}: frame size {seq.width}x{seq.height} is too small to render")
    frames = seq.frame_count if max_frames is None else min(seq.frame_count, max_frames)
    plan = _plan(seq, sequence_rng(seq.name, seed), list(real_frames), frames)
    w, h, camera, cut = plan.width, plan.height, plan.camera, plan.cut
    present = present_joints(seq)
    body_scale = _body_scale(seq, present)
    prev_joints: NDArray[np.float64] | None = None
    for i in range(frames):
        shot = plan.shots[1] if i >= cut else plan.shots[0]
        matrix = camera.canvas_matrix(i, shot.offset)
        bg = cv2.warpAffine(
            shot.canvas, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        joints = camera.apply(i, seq.xy[i])
        layer = new_layer(h, w)
        scale = float(camera.scale[i] * body_scale[i])
        draw_figure(layer, joints, seq.visible[i], plan.outfit, scale, plan.tile, present[i])
        seen = joint_seen(layer, joints)
        rgb, alpha = layer.rgb, layer.alpha
        if prev_joints is not None and i != cut:
            moving = present[i] & present[i - 1]
            step = (joints - prev_joints)[moving]
            velocity = step.mean(axis=0) if len(step) else np.zeros(2)
            rgb = line_blur(rgb, velocity, plan.exposure)
            alpha = line_blur(alpha, velocity, plan.exposure)
        img = rgb + bg * (1.0 - alpha[..., None])
        if i > 0 and i != cut:
            c = np.asarray(camera.centre)
            img = line_blur(img, camera.apply(i, c) - camera.apply(i - 1, c), plan.exposure)
        cover = np.zeros((h, w), np.float32)
        for occ in plan.occluders:
            paste_occluder(img, cover, occ, i)
        img = img * (plan.gain[i] * shot.gain) * shot.tint + plan.sigma * plan.grain[i % 4]
        out = np.clip(img, 0, 255).astype(np.uint8)
        truth = _ground_truth(seq.visible[i], present[i], joints, seen, cover)
        moved_box = camera.apply(i, seq.bbox[i].reshape(2, 2))
        box = _box(seq.bbox[i], joints[present[i]], moved_box, w, h)
        extras = (layer.part > 0, cover) if keep_body else (None, None)
        yield RenderedFrame(out, truth, box, extras[0], i == cut, extras[1])
        prev_joints = joints


def _ground_truth(
    label_visible: NDArray[np.bool_],
    present: NDArray[np.bool_],
    joints: NDArray[np.float64],
    seen: NDArray[np.bool_],
    cover: NDArray[np.float32],
) -> NDArray[np.float32]:
    h, w = cover.shape
    out = np.full((len(joints), 3), np.nan, np.float32)
    for j, (x, y) in enumerate(joints):
        inside = 0 <= x <= w - 1 and 0 <= y <= h - 1
        if not (inside and present[j]):
            out[j, 2] = Visibility.ABSENT
            continue
        out[j, :2] = (x, y)
        hidden = cover[round(y), round(x)] >= 0.5
        visible = bool(label_visible[j]) and bool(seen[j]) and not hidden
        out[j, 2] = Visibility.VISIBLE if visible else Visibility.OCCLUDED
    return out


def _box(
    label_box: NDArray[np.float64],
    joints: NDArray[np.float64],
    moved_box: NDArray[np.float64],
    w: int,
    h: int,
) -> NDArray[np.float32]:
    """The labels' box moved by the camera (or the present joints' extent) clipped to the
    frame; NaN when there is neither."""
    if np.all(np.isfinite(label_box)):
        corners: NDArray[np.float64] = moved_box.copy()
    elif len(joints):
        corners = np.stack([joints.min(axis=0), joints.max(axis=0)])
    else:
        return np.full(4, np.nan, np.float32)
    corners[:, 0] = np.clip(corners[:, 0], 0, w - 1)
    corners[:, 1] = np.clip(corners[:, 1], 0, h - 1)
    return corners.reshape(4).astype(np.float32)


def render_video(
    label_file: Path,
    out_dir: Path,
    seed: int,
    profile: str,
    real_frames: Sequence[NDArray[np.uint8]] = (),
    max_frames: int | None = None,
) -> RenderedVideo:
    """Render one Penn Action label file to ``out_dir/NAME.mp4`` and ``out_dir/NAME.npz``."""
    seq = load_penn_action(label_file)
    return render_sequence(seq, out_dir, seed, profile, real_frames, max_frames, label_file.name)


def render_sequence(
    seq: PennSequence,
    out_dir: Path,
    seed: int,
    profile: str,
    real_frames: Sequence[NDArray[np.uint8]] = (),
    max_frames: int | None = None,
    label_name: str = "",
) -> RenderedVideo:
    """Render label arrays (``seq``) to ``out_dir/NAME.mp4`` and ``out_dir/NAME.npz``."""
    enc = choose_encoding(profile, sequence_rng(seq.name + "/encoding", seed))
    w, h = seq.width - seq.width % 2, seq.height - seq.height % 2
    poses: list[NDArray[np.float32]] = []
    boxes: list[NDArray[np.float32]] = []
    cuts: list[int] = []

    def frames() -> Iterator[NDArray[np.uint8]]:
        for f in render_frames(seq, seed, real_frames, max_frames):
            poses.append(f.poses)
            if f.new_shot:
                cuts.append(len(boxes))
            boxes.append(f.box)
            yield f.rgb

    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / f"{seq.name}.mp4"
    count = encode_video(video, frames(), w, h, FPS, enc)
    labels = out_dir / f"{seq.name}.npz"
    save_ground_truth(
        labels, np.stack(poses), np.stack(boxes), cuts, (w, h), video.name,
        {"label_file": label_name, "seed": seed, "encoding": json.dumps(enc.to_dict())},
    )  # fmt: skip
    return RenderedVideo(seq.name, video, labels, count, enc)


def save_ground_truth(
    path: Path,
    poses: NDArray[np.float32],
    boxes: NDArray[np.float32],
    cuts: Sequence[int],
    size: tuple[int, int],
    video_name: str,
    extra: dict[str, str | int],
) -> None:
    """Write the ground truth in the app's ``npz`` layout (one person, track 0)."""
    count, joints = poses.shape[:2]
    arrays: dict[str, NDArray[Any]] = {k: np.array(v) for k, v in extra.items()}
    np.savez_compressed(
        path,
        poses=poses.astype(np.float32),
        source=np.full((count, joints), Source.MANUAL, np.int8),
        source_names=np.array(SOURCE_NAMES),
        track_ids=np.array([0], dtype=np.int64),
        joint_names=np.array(PENN_ACTION.joints),
        skeleton_json=np.array(json.dumps(PENN_ACTION.to_dict())),
        boxes=boxes.astype(np.float32).reshape(1, count, 4),
        scene_cuts=np.asarray(cuts, dtype=np.int64),
        fps=np.float64(FPS),
        width=np.int64(size[0]),
        height=np.int64(size[1]),
        timestamps=np.arange(count, dtype=np.float64) / FPS,
        video_path=np.array(video_name),
        **arrays,  # type: ignore[arg-type]
    )
