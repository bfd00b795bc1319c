"""A private H.264 copy of a video whose codec stores no exportable motion vectors.

HEVC, VP9 and AV1 streams carry motion vectors, but FFmpeg does not export them. Re-encoding
the decoded frames to H.264 (``annotator.video.proxy`` with one reference frame, no B-frames
and a long GOP) gives codec vectors again, at the cost of one encode: every vector points
exactly one frame back, so no reference distance needs guessing, and key frames (which have
no vectors) stay rare. Frames and timestamps map one to one to the source's; the user's file
is only read.
"""

from __future__ import annotations

from pathlib import Path

from annotator.core.progress import Progress, ShouldStop
from annotator.video.proxy import make_proxy

MOTION_PROXY_GOP = 250


def make_h264_proxy(
    path: str | Path,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> Path:
    """Re-encode ``path`` to an H.264 proxy (reused when it already exists); returns its path.

    Raises :class:`~annotator.core.progress.Cancelled` when ``should_stop()`` turns True
    (nothing is kept).
    """
    return make_proxy(
        path,
        gop=MOTION_PROXY_GOP,
        single_reference=True,
        progress=progress,
        should_stop=should_stop,
    )
