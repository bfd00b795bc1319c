"""Where the time of a cold K-FPN proposal goes, stage by stage (``annotator bench
proposal-speed``'s first table).

Each stage runs alone, one after the other, on the CPU: decoding with RGB conversion, the
resize to the backbone's input, the backbone (the reference module at 224 px with its batch
norms, the folded one at 224 px, the folded one at the chosen input), then on the whole
video's features the K-FPN windows and the frame search. Decode, resize and backbone run on
the first ``frames`` frames (held in memory), the backbone on the torch threads the app gives
it (``features.backbone_threads``); per-frame figures make them comparable with the
whole-video runs. Wall time is next to CPU time (``time.process_time``: every thread of this
process), which a machine loaded by other jobs inflates less.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BATCH = 16


@dataclass(frozen=True)
class Stage:
    name: str
    wall: float
    cpu: float
    frames: int

    def row(self) -> str:
        n = max(self.frames, 1)
        return (
            f"| {self.name} | {self.frames} | {self.wall:.2f} | {self.cpu:.2f} | "
            f"{1000 * self.wall / n:.1f} | {1000 * self.cpu / n:.1f} |"
        )


HEADER = (
    "| stage | frames | wall s | CPU s | wall ms/frame | CPU ms/frame |\n|---|---|---|---|---|---|"
)


@contextmanager
def _timed(out: list[Stage], name: str, frames: int) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    out.append(Stage(name, time.perf_counter() - wall, time.process_time() - cpu, frames))


def _batched(fn: Callable[[np.ndarray], np.ndarray], frames: np.ndarray) -> np.ndarray:
    return np.concatenate([fn(frames[i : i + BATCH]) for i in range(0, len(frames), BATCH)])


def front_stages(video: Path, input_size: int, frames: int) -> list[Stage]:
    """Decode, resize and backbone on the first ``frames`` frames of ``video``."""
    from annotator.proposal.backbones import DEFAULT_BACKBONE, INPUT_SIZE, Backbone, resize
    from annotator.proposal.features import backbone_threads, torch_threads
    from annotator.video.base import open_video

    out: list[Stage] = []
    decoded: list[np.ndarray] = []
    with open_video(video) as reader:
        n = min(frames, reader.frame_count)
        with _timed(out, "decode with RGB", n):
            for i, frame in reader.iter_frames():
                if i >= n:
                    break
                decoded.append(frame)
    n = len(decoded)
    sizes = [INPUT_SIZE] if input_size == INPUT_SIZE else [INPUT_SIZE, input_size]
    squares: dict[int, np.ndarray] = {}
    for size in sizes:
        with _timed(out, f"resize to {size} px", n):
            squares[size] = np.stack([resize(f, size) for f in decoded])
    runs = [(INPUT_SIZE, False, "reference")] + [(s, True, "batch norm folded") for s in sizes]
    threads = backbone_threads(overlap=True)  # as the app runs it
    for size, fused, how in runs:
        backbone = Backbone(DEFAULT_BACKBONE, input_size=size, fused=fused)
        with torch_threads(threads):
            backbone(squares[size][:2])  # first call: oneDNN picks its kernels
            with _timed(out, f"backbone {size} px, {how}, {threads} torch threads", n):
                _batched(backbone, squares[size])
    return out


def back_stages(feats: np.ndarray, fps: float, budget: int | None) -> list[Stage]:
    """Loading the model, the K-FPN windows and the search on a whole video's features."""
    from annotator.proposal import kfpn
    from annotator.proposal import windows as win

    out: list[Stage] = []
    n = len(feats)
    with _timed(out, "load K-FPN model", n):
        model = kfpn.load_model()
    positions = win.resample_positions(n, fps, model.config.fps)
    with _timed(out, "K-FPN windows", n):
        kfpn.window_scores(model, feats, positions)
    with _timed(out, "K-FPN windows + search", n):
        kfpn.propose_from_features(model, feats, fps, budget)
    return out
