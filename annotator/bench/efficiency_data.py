"""The videos the label-efficiency protocols run on: rendered validation clips with ground truth.

A set is a folder written by ``annotator bench render`` (``manifest.json`` + ``NAME.mp4`` +
``NAME.npz``). The default set (24 validation files, at most 150 frames each, seed 0) is rendered
once into the per-user cache and reused. Labels for a simulated annotator come from the ground
truth: a labelled frame gets every joint as the ground truth has it (visible, occluded with its
position, or absent).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Visibility
from annotator.core.metrics import body_size
from annotator.core.paths import cache_dir
from annotator.dynamics.base import Observations
from annotator.dynamics.fill import FillResult
from annotator.errors import UsageError
from annotator.synth.render import VERSION
from annotator.synth.render_set import MANIFEST, render_set

DEFAULT_COUNT = 24
DEFAULT_MAX_FRAMES = 150
DEFAULT_SEED = 0

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass
class RenderedClip:
    """One rendered video and its ground truth, in the shapes the metrics take."""

    name: str
    video: Path
    poses: NDArray[np.float32]  # (F, J, 3) ground truth, contract layout
    boxes: NDArray[np.float32]  # (F, 4)
    cuts: list[int]
    fps: float
    _frames: NDArray[np.uint8] | None = None
    cache: dict[str, Any] = field(default_factory=dict)  # per-clip results reused across runs

    @property
    def frame_count(self) -> int:
        return int(self.poses.shape[0])

    @property
    def gt_xy(self) -> FloatArray:
        return np.asarray(self.poses[:, :, :2], dtype=np.float64)

    @property
    def visible(self) -> NDArray[np.bool_]:
        return np.asarray(self.poses[:, :, 2] == Visibility.VISIBLE, dtype=np.bool_)

    @property
    def body(self) -> FloatArray:
        return body_size(self.gt_xy, boxes=self.boxes)

    def frames(self) -> NDArray[np.uint8]:
        """Every decoded frame (F, H, W, 3), decoded once."""
        if self._frames is None:
            with av.open(str(self.video)) as container:
                self._frames = np.stack(
                    [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
                )
        return self._frames

    def manual(self, frames: IntArray) -> FloatArray:
        """Manual labels (F, J, 3) holding the ground truth on ``frames``, unlabelled elsewhere."""
        man = np.full(self.poses.shape, np.nan)
        man[:, :, 2] = Visibility.UNLABELLED
        man[frames] = self.poses[frames]
        return man


def load_set(folder: Path) -> list[RenderedClip]:
    """The clips of a rendered folder, in manifest order."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise UsageError(f"{folder} is not a rendered set (no {MANIFEST}); run bench render")
    manifest = json.loads(manifest_path.read_text())
    clips = []
    for entry in manifest["videos"]:
        gt = np.load(folder / entry["labels"])
        clips.append(
            RenderedClip(
                name=str(entry["name"]),
                video=folder / entry["video"],
                poses=gt["poses"],
                boxes=gt["boxes"].reshape(-1, 4)[-len(gt["poses"]) :],
                cuts=[int(c) for c in gt["scene_cuts"]] if "scene_cuts" in gt.files else [],
                fps=float(gt["fps"]),
            )
        )
    return clips


def set_split(folder: Path) -> str:
    """The split a rendered folder was made from ("train" or "val"; "" when unknown)."""
    try:
        return str(json.loads((folder / MANIFEST).read_text()).get("split", ""))
    except (OSError, ValueError):
        return ""


def default_set(labels_dir: Path, backgrounds: Path | None = None) -> Path:
    """The default validation set's folder, rendered into the cache the first time."""
    folder = cache_dir(
        "render",
        f"val-n{DEFAULT_COUNT}-f{DEFAULT_MAX_FRAMES}-s{DEFAULT_SEED}-v{VERSION}"
        + ("-real" if backgrounds else ""),
    )
    if not (folder / MANIFEST).is_file():
        render_set(
            labels_dir, "val", folder, DEFAULT_SEED, DEFAULT_COUNT, DEFAULT_MAX_FRAMES, backgrounds
        )
    return folder


FillFn = Callable[[IntArray], FloatArray]


@functools.cache
def _filler(method: str, fps: float) -> Any:
    """One configured fill per (method, rate): dictionary fills load their model once."""
    from annotator.dynamics.fill import make_filler

    return make_filler(method, fps=fps)


VIDEO_FILLS = ("mv", "hpim+mv")  # fills that read the clip's motion fields


def clip_motion(clip: RenderedClip) -> Any:
    """The clip's motion fields (extracted once, cached by the video's fingerprint)."""
    from annotator.video.motion import extract_motion

    if "motion" not in clip.cache:
        clip.cache["motion"] = extract_motion(clip.video)
    return clip.cache["motion"]


def clip_walk_fields(clip: RenderedClip, field: str = "mv") -> Any:
    """The fields the walks for the ranking follow: ``mv``, the codec's (``clip_motion``, what
    the bench's video fills walk), or an optical flow store (``motion_store.FIELDS``, e.g.
    ``dis``, what the app's video fill walks once ready), extracted once and cached."""
    if field == "mv":
        return clip_motion(clip)
    from annotator.propagation.fuse import as_field
    from annotator.video.motion_cache import open_motion

    key = f"motion:{field}"
    if key not in clip.cache:
        clip.cache[key] = open_motion(clip.video, field=as_field(field))
    return clip.cache[key]


def make_observe(clip: RenderedClip, field: str = "mv") -> Callable[[IntArray], Observations]:
    """``observe(frames) -> Observations``: the motion walks from ground-truth labels on
    ``frames`` (the ``mv`` propagation along ``clip_walk_fields(clip, field)``), what the
    ranking compares the fill with (``dynamics.ranking.video_disagreement``)."""
    from annotator.propagation import VideoSource
    from annotator.propagation.registry import get

    source = VideoSource(fields=clip_walk_fields(clip, field), cuts=tuple(clip.cuts))

    def observe(frames: IntArray) -> Observations:
        return get("mv").propagate(clip.manual(frames), source)

    return observe


def make_fill_result(clip: RenderedClip, method: str) -> Callable[[IntArray], FillResult]:
    """``fill(frames) -> FillResult`` from ground-truth labels on ``frames``, honouring the
    clip's scene cuts; the video fills (``VIDEO_FILLS``) read the clip's motion fields
    (extracted once, cached by the video's fingerprint)."""
    from annotator.dynamics.fill import fill_track

    if method in VIDEO_FILLS:
        from annotator.propagation import VideoSource, fill_with

        source = VideoSource(fields=clip_motion(clip), cuts=tuple(clip.cuts))

        def fill_video(frames: IntArray) -> FillResult:
            return fill_with(clip.manual(frames), source, method, fps=clip.fps)

        return fill_video
    filler = _filler(method, clip.fps)

    def fill_labels(frames: IntArray) -> FillResult:
        return fill_track(clip.manual(frames), filler, scene_cuts=clip.cuts)

    return fill_labels


def make_fill(
    clip: RenderedClip, method: str
) -> Callable[[IntArray], tuple[FloatArray, FloatArray | None]]:
    """``fill(frames) -> (pred_xy (F, J, 2), variance (F, J) or None)`` from ground-truth labels
    on ``frames``, honouring the clip's scene cuts."""
    fill_result = make_fill_result(clip, method)

    def fill(frames: IntArray) -> tuple[FloatArray, FloatArray | None]:
        res = fill_result(frames)
        var = None if res.variance is None else np.asarray(res.variance, dtype=np.float64)
        return np.asarray(res.poses[:, :, :2], dtype=np.float64), var

    return fill
