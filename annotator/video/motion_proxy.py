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

from annotator.video.motion_extract import ExtractionCancelled, Progress, ShouldStop
from annotator.video.proxy import ProxyCancelled, make_proxy

MOTION_PROXY_GOP = 250
_STEPS = 1000  # progress is reported as (done, total) steps, like the extraction itself


def make_h264_proxy(
    path: str | Path,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> Path:
    """Re-encode ``path`` to an H.264 proxy (reused when it already exists); returns its path.

    Raises :class:`ExtractionCancelled` when ``should_stop()`` turns True (nothing is kept).
    """

    def report(fraction: float) -> None:
        if progress is not None:
            progress(round(fraction * _STEPS), _STEPS)

    try:
        return make_proxy(
            path,
            gop=MOTION_PROXY_GOP,
            single_reference=True,
            progress=report,
            should_stop=should_stop,
        )
    except ProxyCancelled as exc:
        raise ExtractionCancelled("H.264 proxy re-encode was cancelled") from exc
