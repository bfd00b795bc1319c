"""A contact sheet of rendered videos: decoded sample frames in a grid, ground truth on some.

Frames are decoded from the encoded files (so the sheet shows what a reader sees, compression
included). On every other tile the ground-truth joints are drawn: green visible, orange
occluded (absent joints have no position and are not drawn).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Visibility
from annotator.core.skeleton import PENN_ACTION
from annotator.synth.render import RenderedVideo

TILE = (320, 200)  # width, height of one tile


def _frame_at(path: Path, index: int) -> NDArray[np.uint8]:
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
    raise IndexError(f"{path.name} has no frame {index}")


def _draw_truth(img: NDArray[np.uint8], poses: NDArray[np.float32]) -> None:
    has = np.isin(poses[:, 2], [Visibility.VISIBLE, Visibility.OCCLUDED])
    for a, b in PENN_ACTION.edges:
        if has[a] and has[b]:
            pa = (round(float(poses[a, 0])), round(float(poses[a, 1])))
            pb = (round(float(poses[b, 0])), round(float(poses[b, 1])))
            cv2.line(img, pa, pb, (255, 255, 255), 1, cv2.LINE_AA)
    for x, y, code in poses:
        if code in (Visibility.VISIBLE, Visibility.OCCLUDED):
            colour = (40, 220, 40) if code == Visibility.VISIBLE else (255, 150, 0)
            cv2.circle(img, (round(float(x)), round(float(y))), 3, colour, -1, cv2.LINE_AA)


def contact_sheet(videos: Sequence[RenderedVideo], out_png: Path, tiles: int = 12) -> Path:
    """Write a grid of ``tiles`` frames (4 per row) taken from ``videos`` in turn."""
    if not videos:
        raise ValueError("no videos for a contact sheet")
    cells: list[NDArray[np.uint8]] = []
    for k in range(tiles):
        video = videos[k % len(videos)]
        rounds = k // len(videos)
        index = min(video.frame_count - 1, (video.frame_count * (1 + 2 * rounds)) // 4)
        img = _frame_at(video.video, index).copy()
        if k % 2 == 1:
            _draw_truth(img, np.load(video.labels)["poses"][index])
        scale = min(TILE[0] / img.shape[1], TILE[1] / img.shape[0])
        small = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)))
        cell = np.full((TILE[1], TILE[0], 3), 255, np.uint8)
        cell[: small.shape[0], : small.shape[1]] = small
        label = f"{video.name} f{index} {video.encoding.profile}"
        cv2.putText(cell, label, (4, TILE[1] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 2)
        cv2.putText(cell, label, (4, TILE[1] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255,) * 3, 1)
        cells.append(cell)
    while len(cells) % 4:
        cells.append(np.full_like(cells[0], 255))
    rows = [np.hstack(cells[i : i + 4]) for i in range(0, len(cells), 4)]
    out_png.parent.mkdir(parents=True, exist_ok=True)
    sheet = cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(out_png), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return out_png
