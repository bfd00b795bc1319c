"""Training and validation material for the gate: rendered videos with ground truth, their
motion fields and the gate's input maps, cached on disk.

A rendered folder (``annotator bench render``: ``manifest.json``, ``NAME.mp4``, ``NAME.npz``)
gives per clip the ground-truth joints, visibility, body size and scene cuts; the video gives
the codec's motion fields (``extract_motion``). One ``.npz`` per clip goes into a cache
folder chosen by the caller (never the repository), keyed by the video's fingerprint and the
inputs' version, so a second training run reads instead of decoding.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Visibility
from annotator.core.fingerprint import video_fingerprint
from annotator.core.metrics import body_size
from annotator.core.progress import Progress, report
from annotator.errors import UsageError
from annotator.propagation.gate import GRID, TRAIN_FPS, frame_maps, normalise

log = logging.getLogger(__name__)

INPUTS_VERSION = 4  # bump when the cached maps or fields change meaning

FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class GateClip:
    """One clip at the training rate: the network's input and what the propagation needs."""

    name: str
    maps: FloatArray  # (F, C, G, G) normalised input maps
    dx: FloatArray  # (F, gh, gw) px, displacement t-1 -> t; invalid cells hold the last valid
    dy: FloatArray
    cell: int
    gt: FloatArray  # (F, J, 2) px; NaN where absent
    visible: NDArray[np.bool_]  # (F, J)
    body: FloatArray  # (F,) px

    @property
    def frame_count(self) -> int:
        return int(self.gt.shape[0])


def _clip_from_arrays(name: str, data: dict[str, NDArray[np.generic]]) -> GateClip:
    return GateClip(
        name=name,
        maps=np.asarray(data["maps"], dtype=np.float32),
        dx=np.asarray(data["dx"], dtype=np.float32),
        dy=np.asarray(data["dy"], dtype=np.float32),
        cell=int(np.asarray(data["cell"])),
        gt=np.asarray(data["gt"], dtype=np.float32),
        visible=np.asarray(data["visible"], dtype=bool),
        body=np.asarray(data["body"], dtype=np.float32),
    )


def hold_last_valid(values: FloatArray, valid: NDArray[np.bool_]) -> FloatArray:
    """(F, gh, gw) with each invalid cell holding that cell's last valid value (0 before the
    first). The residual's warp does the same (docs/motion-vectors.md). Without it an I-frame
    (no vectors at all) stops every joint for a frame, and the gate learns to label I-frames:
    a codec artefact the app's fill never suffers from."""
    f = len(values)
    frames = np.arange(f)[:, None, None]
    last = np.maximum.accumulate(np.where(valid, frames, -1), axis=0)
    held = np.take_along_axis(np.nan_to_num(values), np.maximum(last, 0), axis=0)
    return np.asarray(np.where(last >= 0, held, 0.0), dtype=np.float32)


def prepare_clip(video: Path, labels: Path, cache: Path | None) -> GateClip | None:
    """The clip of a rendered video and its ground truth; None when its rate is not the
    training rate (the propagation's fields would be per another time step)."""
    from annotator.video.motion import extract_motion

    target = None
    if cache is not None:
        key = f"{video.stem}-{video_fingerprint(video)}-g{GRID}-v{INPUTS_VERSION}.npz"
        target = cache / key
        if target.is_file():
            try:
                with np.load(target) as data:
                    return _clip_from_arrays(video.stem, {k: data[k] for k in data.files})
            except (OSError, ValueError, KeyError) as exc:
                log.warning("ignoring unreadable gate cache %s: %s", target, exc)
    truth = np.load(labels)
    fps = float(truth["fps"]) if "fps" in truth.files else TRAIN_FPS
    if abs(fps - TRAIN_FPS) > 0.5:
        log.warning("skipping %s: %.2f fps, training needs %.0f fps", video.name, fps, TRAIN_FPS)
        return None
    poses = np.asarray(truth["poses"], dtype=np.float32)
    boxes = np.asarray(truth["boxes"], dtype=np.float32).reshape(-1, 4)[-len(poses) :]
    fields = extract_motion(video, use_cache=False)
    if len(fields) != len(poses):
        raise UsageError(f"{video.name}: {len(fields)} video frames, {len(poses)} labelled")
    xy = poses[:, :, :2].astype(np.float64)
    arrays: dict[str, NDArray[np.generic]] = {
        "maps": normalise(frame_maps(fields)).astype(np.float16),
        "dx": hold_last_valid(fields.dx, fields.valid).astype(np.float16),
        "dy": hold_last_valid(fields.dy, fields.valid).astype(np.float16),
        "cell": np.asarray(fields.cell),
        "gt": poses[:, :, :2],
        "visible": poses[:, :, 2] == Visibility.VISIBLE,
        "body": body_size(xy, boxes=boxes).astype(np.float32),
    }
    if target is not None:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, target)
    return _clip_from_arrays(video.stem, arrays)


def rendered_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """(video, ground truth) of every clip of a rendered folder, in manifest order."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise UsageError(f"{folder} is not a rendered set (no manifest.json); run bench render")
    entries = json.loads(manifest.read_text())["videos"]
    return [(folder / e["video"], folder / e["labels"]) for e in entries]


def load_clips(
    folders: Sequence[Path],
    cache: Path | None,
    progress: Progress | None = None,
) -> list[GateClip]:
    """Every clip of the rendered ``folders`` (fields extracted once, then cached)."""
    pairs = [p for folder in folders for p in rendered_pairs(folder)]
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    clips = []
    for k, (video, labels) in enumerate(pairs):
        clip = prepare_clip(video, labels, cache)
        if clip is not None:
            clips.append(clip)
        report(progress, k + 1, len(pairs))
    return clips
