"""Export for sharing a review: an overlay video and a contact sheet (headless functions).

Both take the video's path, the skeleton and a frozen ``PoseTrack`` (taken on the GUI thread
when the user asks, so later edits do not change an export under way) and run in the
project's progress/cancel vocabulary, so the window runs them in a worker and tests call them
directly. Each opens its own reader and closes it. Outputs are atomic (``safeio``): a cancel or
an error leaves no file, and an existing file is replaced only by a complete one.

- ``export_overlay_video``: every frame (or a span) with the skeleton painted in, manual
  labels distinct from filled values, a caption with the frame number; H.264 (MPEG-4 where
  the PyAV build has no H.264 encoder) at the video's frame rate.
- ``export_contact_sheet``: a PNG grid of frames (by default the labelled frames and the most
  uncertain filled ones, ``review_state.contact_frames``), each captioned.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui

from annotator.core.progress import Progress, ShouldStop, check_stop, part, report
from annotator.core.safeio import atomic_output
from annotator.core.skeleton import Skeleton
from annotator.errors import AnnotatorError
from annotator.gui import review_render
from annotator.gui.review_state import PoseTrack, contact_frames, grid_shape
from annotator.video.base import open_video
from annotator.video.writer import write_video

SHEET_FRAMES = 12  # tiles on a contact sheet unless asked otherwise
TILE_WIDTH = 320  # pixels


def _check_track(track: PoseTrack, frame_count: int) -> None:
    if track.frame_count != frame_count:
        raise AnnotatorError(
            f"the labels cover {track.frame_count} frames but the video has {frame_count}"
        )


def export_overlay_video(
    video: str | Path,
    skeleton: Skeleton,
    track: PoseTrack,
    out: str | Path,
    start: int = 0,
    stop: int | None = None,
    others: Sequence[PoseTrack] = (),
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> int:
    """Write frames ``start..stop`` (half-open; all by default) of ``video`` with the poses
    of ``track`` and of the ``others`` (the other people) painted in to ``out`` (MP4);
    returns the number of frames written. Captions describe ``track``."""
    with open_video(video) as reader:
        reader.wait_for_index()  # the exact frame count
        n = int(reader.frame_count)
        for each in (track, *others):
            _check_track(each, n)
        a, b = max(0, int(start)), n if stop is None else min(n, int(stop))
        if b <= a:
            raise AnnotatorError(f"no frames to export between {start} and {stop}")

        def painted() -> Iterator[NDArray[np.uint8]]:
            for index, rgb in reader.iter_frames(a, b):
                check_stop(should_stop, "the overlay export")
                yield review_render.render_frame(
                    rgb,
                    skeleton,
                    (track, *others),
                    index,
                    review_render.frame_caption(track, index),
                )

        return write_video(out, painted(), reader.fps or 25.0, b - a, progress, should_stop)


def export_contact_sheet(
    video: str | Path,
    skeleton: Skeleton,
    track: PoseTrack,
    out: str | Path,
    frames: Sequence[int] | None = None,
    count: int = SHEET_FRAMES,
    columns: int | None = None,
    tile_width: int = TILE_WIDTH,
    others: Sequence[PoseTrack] = (),
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> tuple[int, int]:
    """Write a PNG contact sheet of ``frames`` (default: ``count`` chosen by
    ``contact_frames`` for ``track``) to ``out``, with the poses of ``track`` and of the
    ``others`` (the other people); returns the sheet's (width, height) in pixels."""
    if tile_width < 16:
        raise AnnotatorError(
            f"a contact sheet tile must be at least 16 pixels wide, not {tile_width}"
        )
    with open_video(video) as reader:
        reader.wait_for_index()  # the exact frame count, and seeks
        n = int(reader.frame_count)
        for each in (track, *others):
            _check_track(each, n)
        chosen = sorted(set(int(f) for f in frames)) if frames is not None else None
        if chosen is None:
            chosen = contact_frames(track, count)
        if not chosen or chosen[0] < 0 or chosen[-1] >= n:
            raise AnnotatorError(f"contact sheet frames must lie in 0..{n - 1}")
        reading = part(progress, 0.0, 0.9)
        pictures: list[tuple[int, NDArray[np.uint8]]] = []
        for k, f in enumerate(chosen):
            check_stop(should_stop, "the contact sheet")
            pictures.append((f, np.asarray(reader.frame(f))))
            report(reading, k + 1, len(chosen))
    _rows, cols = grid_shape(len(pictures), columns)
    sheet = review_render.compose_sheet(pictures, skeleton, (track, *others), cols, tile_width)
    check_stop(should_stop, "the contact sheet")
    with atomic_output(out) as tmp:
        writer = QtGui.QImageWriter(str(tmp))
        writer.setFormat(QtCore.QByteArray(b"png"))  # the temporary name has no extension
        if not writer.write(sheet):
            raise AnnotatorError(f"cannot write the contact sheet {out}: {writer.errorString()}")
    if progress is not None:
        progress(1.0)
    return sheet.width(), sheet.height()
