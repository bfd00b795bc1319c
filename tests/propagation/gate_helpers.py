"""Small inputs for the gate tests: synthetic videos with exact motion (PyAV), a rendered-set
folder with joints riding on a moving object, and a tiny trained-from-scratch gate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from annotator.core.codes import SOURCE_NAMES, Visibility
from annotator.synth.motion import MovingObject, Scene, encode


def scene(fps: int, seconds: float = 1.6, speed: float = 4.0, appear: float | None = 0.8) -> Scene:
    """One motion (an object at ``speed`` px per 1/30 s, a patch appearing at ``appear`` s)
    sampled at ``fps``: the same motion at 30 and 60 fps."""
    per_frame = round(speed * 30 / fps)
    return Scene(
        width=192,
        height=128,
        frames=round(seconds * fps),
        objects=(MovingObject(start=(8, 24), velocity=(per_frame, 0), size=(48, 40), seed=2),),
        appear_at=None if appear is None else round(appear * fps),
        appear_rect=(130, 70, 40, 40),
    )


def synth_video(path: Path, fps: int = 30, **kw: float | None) -> Path:
    return encode(scene(fps, **kw), path, "libx264", options={"bframes": "0"}, fps=fps)  # type: ignore[arg-type]


def rendered_set(folder: Path, clips: int = 2, frames: int = 40) -> Path:
    """A folder shaped like ``bench render``'s output: 13 joints on the moving object."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for k in range(clips):
        sc = Scene(
            width=160,
            height=112,
            frames=frames,
            objects=(
                MovingObject(start=(6, 20 + 4 * k), velocity=(3, 1), size=(48, 40), seed=2 + k),
            ),
            appear_at=frames // 2,
            appear_rect=(100, 0, 48, 16),  # off the object's path
        )
        name = f"clip{k}"
        encode(sc, folder / f"{name}.mp4", "libx264", options={"bframes": "0"}, fps=30)
        offsets = np.stack(np.meshgrid(np.linspace(8, 40, 13), [20.0]), -1).reshape(-1, 2)
        poses = np.zeros((frames, 13, 3), np.float32)
        boxes = np.zeros((1, frames, 4), np.float32)
        for t in range(frames):
            x, y, w, h = sc.objects[0].rect(t)
            poses[t, :, :2] = offsets + np.array([x, y])
            poses[t, :, 2] = Visibility.VISIBLE
            boxes[0, t] = (x, y, x + w, y + h)
        np.savez(
            folder / f"{name}.npz",
            poses=poses,
            boxes=boxes,
            fps=np.float64(30.0),
            scene_cuts=np.zeros(0, np.int64),
            source_names=np.array(SOURCE_NAMES),
        )
        entries.append(
            {"name": name, "video": f"{name}.mp4", "labels": f"{name}.npz", "frame_count": frames}
        )
    manifest = {"schema": "annotator.render/1", "split": "train", "seed": 0, "videos": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder
