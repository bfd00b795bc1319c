"""A stick figure walking across an H.264 video, with its exact joint positions: the video the
GUI tests open and the GUI benchmark drags joints on (no data set needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

# A standing figure in Penn Action joint order, in units of body height, origin at the pelvis.
_BASE = np.array(
    [
        (0.00, -0.82),  # head
        (0.12, -0.62), (-0.12, -0.62),  # shoulders (L, R)
        (0.16, -0.36), (-0.16, -0.36),  # elbows
        (0.18, -0.12), (-0.18, -0.12),  # wrists
        (0.08, 0.00), (-0.08, 0.00),  # hips
        (0.10, 0.42), (-0.10, 0.42),  # knees
        (0.11, 0.84), (-0.11, 0.84),  # ankles
    ],
    dtype=np.float64,
)  # fmt: skip
_EDGES = [(0, 1), (0, 2), (1, 2), (1, 3), (3, 5), (2, 4), (4, 6), (1, 7), (2, 8), (7, 8),
          (7, 9), (9, 11), (8, 10), (10, 12)]  # fmt: skip


def figure_poses(frames: int, width: int, height: int) -> NDArray[np.float64]:
    """(frames, 13, 2) pixel positions of a figure walking across the frame, arms swinging."""
    scale = 0.55 * height
    t = np.arange(frames, dtype=np.float64)
    phase = 2 * np.pi * t / 24.0
    poses = np.repeat(_BASE[None], frames, axis=0) * scale
    swing = np.sin(phase)[:, None]
    # Arms and legs swing in opposite phase; elbows/wrists and knees/ankles swing further.
    for joint, amount in ((3, 0.10), (5, 0.22), (4, -0.10), (6, -0.22),
                          (9, -0.10), (11, -0.18), (10, 0.10), (12, 0.18)):  # fmt: skip
        poses[:, joint, 0] += amount * scale * swing[:, 0]
    cx = width * (0.3 + 0.4 * t / max(1, frames - 1))
    cy = height * 0.52 + 0.02 * height * np.sin(2 * phase)
    poses[:, :, 0] += cx[:, None]
    poses[:, :, 1] += cy[:, None]
    return poses


def render_figure_video(
    path: Path, frames: int = 60, width: int = 320, height: int = 240, fps: int = 25
) -> NDArray[np.float64]:
    """Write an H.264 video of the walking figure; returns its exact joint positions."""
    import av
    import cv2

    poses = figure_poses(frames, width, height)
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"g": "12", "preset": "ultrafast"}
    ramp = np.linspace(40, 90, height, dtype=np.float64)[:, None, None]
    background = np.broadcast_to(ramp * np.array([0.5, 0.6, 0.9]), (height, width, 3))
    background = np.ascontiguousarray(background.astype(np.uint8))
    thick = max(2, width // 80)
    for f in range(frames):
        image = background.copy()
        pts = np.round(poses[f]).astype(np.int32)
        for a, b in _EDGES:
            cv2.line(
                image, tuple(map(int, pts[a])), tuple(map(int, pts[b])), (225, 205, 180), thick
            )
        cv2.circle(image, tuple(map(int, pts[0])), thick * 3, (225, 205, 180), -1)
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return poses
