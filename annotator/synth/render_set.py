"""Render a set of label files: which files, real-video backgrounds, and the set's manifest.

``annotator bench render`` calls :func:`render_set`; the label-efficiency benchmark renders its
default validation set through it too. ``manifest.json`` lists the videos and how they were
encoded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from annotator.core.split import penn_action_split
from annotator.errors import UsageError
from annotator.synth.render import RenderedVideo, render_video
from annotator.synth.render_encode import PROFILES

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


def load_real_frames(folder: Path, per_video: int = 6) -> list[NDArray[np.uint8]]:
    """A few evenly spaced RGB frames of each video in ``folder`` (background material)."""
    out: list[NDArray[np.uint8]] = []
    for path in sorted(folder.glob("*")):
        if path.suffix.lower() not in {".mp4", ".avi", ".mov", ".mkv"}:
            continue
        try:
            out.extend(_spread_frames(path, per_video))
        except (av.FFmpegError, StopIteration) as err:
            log.warning("skipping background video %s: %s", path.name, err)
    return out


def _spread_frames(path: Path, count: int) -> list[NDArray[np.uint8]]:
    """``count`` frames spread over a video, found by seeking (cheap: no full decode)."""
    frames: list[NDArray[np.uint8]] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        duration = float(container.duration or 0) / av.time_base
        for k in range(count):
            when = duration * (k + 0.5) / count
            if stream.time_base is not None and duration > 0:
                container.seek(int(when / stream.time_base), stream=stream)
            f = next(container.decode(stream)).to_ndarray(format="rgb24").astype(np.uint8)
            # Half resolution is plenty for a background and keeps memory small.
            small = cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2))
            frames.append(np.asarray(small, dtype=np.uint8))
    return frames


def select_files(labels_dir: Path, split: str, count: int | None) -> list[Path]:
    """``count`` files spread evenly over the split (all of them when ``count`` is None)."""
    try:
        train, val = penn_action_split(labels_dir)
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    files = {"train": train, "val": val}.get(split)
    if files is None:
        raise UsageError(f"--split must be train or val, not {split!r}")
    if count is None or count >= len(files):
        return files
    if count < 1:
        raise UsageError("--count must be at least 1")
    picks = np.unique(np.linspace(0, len(files) - 1, count).round().astype(int))
    return [files[i] for i in picks]


def render_set(
    labels_dir: Path,
    split: str,
    out_dir: Path,
    seed: int,
    count: int | None = None,
    max_frames: int | None = None,
    backgrounds: Path | None = None,
    profiles: Sequence[str] = PROFILES,
) -> list[RenderedVideo]:
    """Render a set of label files, cycling through ``profiles``; writes ``manifest.json``."""
    files = select_files(labels_dir, split, count)
    real = load_real_frames(backgrounds) if backgrounds is not None else []
    done: list[RenderedVideo] = []
    for k, path in enumerate(files):
        video = render_video(path, out_dir, seed, profiles[k % len(profiles)], real, max_frames)
        log.info("rendered %s (%d frames, %s)", video.name, video.frame_count, video.encoding)
        done.append(video)
    write_manifest(out_dir, done, split, seed, max_frames, backgrounds)
    return done


def write_manifest(
    out_dir: Path,
    videos: Sequence[RenderedVideo],
    split: str,
    seed: int,
    max_frames: int | None = None,
    backgrounds: Path | None = None,
) -> Path:
    """``manifest.json``: what a rendered folder holds and how it was made."""
    manifest = {
        "schema": "annotator.render/1",
        "split": split,
        "seed": seed,
        "max_frames": max_frames,
        "backgrounds": str(backgrounds) if backgrounds else None,
        "videos": [
            {
                "name": v.name,
                "video": v.video.name,
                "labels": v.labels.name,
                "frame_count": v.frame_count,
                **v.encoding.to_dict(),
            }
            for v in videos
        ],
    }
    path = out_dir / MANIFEST
    path.write_text(json.dumps(manifest, indent=1))
    return path
